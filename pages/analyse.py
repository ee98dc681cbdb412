"""Analyse a video: upload a recording, follow the progress, watch the annotated result, keep the session."""

import time
from pathlib import Path

import streamlit as st

from fer.app import access, resources, session_view
from fer.app.markdown import plain
from fer.engine.analyze import Progress
from fer.engine.outputs import OutputError
from fer.engine.pipeline import AnalysisSettings
from fer.engine.video_io import VIDEO_TYPES, VideoError
from fer.sessions.store import MAX_NAME, data_dir
from fer.sessions.workflow import SaveFailedError, analyse_and_store, analysis_claim, save_upload

resources.use_app_navigation()
viewer = access.current()
st.title("Analyse a video")
st.caption(
    "Upload a lecture recording. It is analysed on this server: faces are found, their expressions "
    "classified and followed over time. The session database keeps numbers only, never a face image; the "
    "upload and the annotated video (which show faces, unless you blur them below) are files deleted after the "
    "retention period (see Home)."
)

uploaded = st.file_uploader(
    "Recording",
    type=list(VIDEO_TYPES),
    help="mp4, mov, avi, mkv or webm",
    key=f"recording{st.session_state.get('uploads_done', 0)}",  # a new key once stored: the upload leaves memory
)
name = st.text_input("Session name", value=Path(uploaded.name).stem if uploaded else "", max_chars=MAX_NAME)
with st.expander("Options"):
    every = st.number_input("Analyse every N-th frame", min_value=1, max_value=30, value=1)
    threshold = st.slider("Face detection threshold", min_value=0.1, max_value=0.9, value=0.3, step=0.05)
    detect_every = st.number_input(
        "Run the face detector on every K-th analysed frame (faces are tracked in between)",
        min_value=1,
        max_value=12,
        value=3,
    )
    blur = st.checkbox("Blur every face in the exported video")

if st.button("Analyse", type="primary", disabled=uploaded is None):
    store = resources.store()
    try:
        video_path, sha256 = save_upload(uploaded, uploaded.name, data_dir() / "uploads")
    except OSError as error:  # a full or read-only disk: nothing was kept, nothing is lost
        st.error(
            f"The recording could not be saved on the server ({error.strerror or error}). Check the free disk "
            "space and that the data folder is writable, then try again."
        )
        st.stop()
    with analysis_claim(f"{viewer.owner}:{sha256}") as first:
        if not first:
            st.warning("This file is being analysed right now (in another tab); it will be in Reports when done.")
            st.stop()
        earlier = store.find_by_hash(sha256, owner=viewer.owner)
        if earlier is not None and st.session_state.get("confirmed_duplicate") != sha256:
            st.session_state["pending_duplicate"] = sha256
            st.warning(
                f"This file was already analysed: session “{plain(earlier.name)}” of "
                f"{earlier.created:%d %b %Y %H:%M}. Open it in Reports, or analyse it again."
            )
        else:
            settings = AnalysisSettings(
                every=int(every), threshold=threshold, detect_every=int(detect_every), blur=blur
            )
            bar = st.progress(0.0, text="Loading the model…")
            st.button("Cancel", help="Stops the analysis; nothing is stored.")
            last_update = [0.0]

            def show(progress: Progress) -> None:
                if time.monotonic() - last_update[0] < 0.25:
                    return
                last_update[0] = time.monotonic()
                left = f", about {progress.eta_s:.0f} s left" if progress.eta_s is not None else ""
                bar.progress(progress.fraction, text=f"{progress.video_time_s:.0f} s of video analysed{left}")

            try:
                session_id, _result = analyse_and_store(
                    video_path,
                    name=name or Path(uploaded.name).stem,
                    store=store,
                    data_folder=data_dir(),
                    settings=settings,
                    classifier=resources.classifier(),
                    source_name=uploaded.name,
                    source_sha256=sha256,
                    on_progress=show,
                    owner=viewer.owner,
                )
            except VideoError as error:
                video_path.unlink(missing_ok=True)
                reason = str(error).replace(video_path.name, plain(uploaded.name))  # the teacher's file, not our copy
                st.error(f"This file could not be analysed: {reason}. Check that it plays in a video player.")
            except OutputError as error:  # e.g. the disk filled up midway: its partial results are gone already
                if not store.shares_source(sha256):  # and the upload too, to give the room back (a retry re-uploads)
                    video_path.unlink(missing_ok=True)
                st.error(f"The results could not be written: {error}. Check the free disk space.")
            except SaveFailedError as error:  # the analysis is done: keep it for another try
                st.session_state["unsaved"] = error.unsaved
            except Exception as error:  # shown in the page, never as a traceback; nothing was stored
                st.error(
                    f"The analysis failed ({type(error).__name__}: {error}). Nothing was stored; please try again."
                )
            else:
                st.session_state["analysed_session"] = session_id
                st.session_state.pop("pending_duplicate", None)
                # the copy on disk is what is kept: a fresh uploader drops the upload Streamlit holds in memory,
                # and the rerun clears the finished progress bar and the Cancel button
                st.session_state["uploads_done"] = st.session_state.get("uploads_done", 0) + 1
                st.rerun()

unsaved = st.session_state.get("unsaved")
if unsaved is not None:
    st.error(
        "The analysis is done, but it could not be stored: the session database did not answer (busy, "
        "unreachable or full). Its results are kept; store it again once the database is back."
    )
    if st.button("Store it again", type="primary"):
        try:
            st.session_state["analysed_session"] = unsaved.store_in(resources.store())
        except Exception as error:  # still not reachable: the results stay kept for the next try
            st.error(f"Still not stored ({type(error).__name__}). Please try again in a moment.")
        else:
            st.session_state.pop("unsaved")
            st.rerun()

if st.session_state.get("pending_duplicate") and uploaded is not None and st.button("Analyse it again anyway"):
    st.session_state["confirmed_duplicate"] = st.session_state.pop("pending_duplicate")
    st.info("Press Analyse to start.")

session_id = st.session_state.get("analysed_session")
stored = resources.store().get(session_id, viewer.scope) if session_id is not None else None
if stored is not None:
    st.success(
        f"Session “{plain(stored.name)}” is saved. [Open its full report](reports?session={stored.id}) for the "
        "notable moments, lesson markers and a printable report; it stays listed in Reports."
    )
    st.markdown(plain(session_view.summary_paragraph(stored)))
    session_view.headline(stored)
    session_view.annotated_video(stored)
    session_view.main_charts(stored, grouped=False, markers=resources.store().markers(stored.id), key="analyse")
    st.markdown("**Downloads**")
    session_view.downloads(stored)
