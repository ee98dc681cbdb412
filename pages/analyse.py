"""Analyse a video: upload a recording; it is analysed in the background (a job), followed here and in every
page's sidebar, and its report opens from the list when it is done."""

from pathlib import Path

import streamlit as st

from fer.app import access, job_list, resources, uploads
from fer.app.markdown import plain
from fer.engine.pipeline import DEFAULT_RATE, AnalysisSettings
from fer.engine.video_io import VIDEO_TYPES
from fer.sessions.store import MAX_NAME, data_dir
from fer.sessions.workflow import analysis_claim, save_upload

resources.use_app_navigation()
viewer = access.current()
st.title("Analyse a video")
st.caption(
    "Upload a lecture recording. It is analysed on this server, in the background: faces are found, their "
    "expressions classified and followed over time. The session database keeps numbers only, never a face image; the "
    "upload (the report plays it, with the faces marked) and an annotated video if you ask for one show faces, unless "
    "you blur them below; both are files deleted after the retention period (see Home)."
)

# what the teacher picks -> AnalysisSettings.rate (None: every frame)
RATES = {
    f"{DEFAULT_RATE:g} a second (recommended: a whole lesson in minutes)": DEFAULT_RATE,
    "4 a second (faster)": 4.0,
    "15 a second": 15.0,
    "Every frame (slowest)": None,
}
uploaded = st.file_uploader(
    "Recording",
    type=list(VIDEO_TYPES),
    help="mp4, mov, avi, mkv or webm, up to 1 GB (the server holds an upload in memory while it arrives). A longer "
    "lesson: export it at a lower quality (720p is plenty), or analyse it with `fer analyze` (README).",
    key=f"recording{st.session_state.get('uploads_done', 0)}",  # a new key once stored: the upload leaves memory
)
name = st.text_input("Session name", value=Path(uploaded.name).stem if uploaded else "", max_chars=MAX_NAME)
with st.expander("Options"):
    rate = RATES[
        st.selectbox(
            "Readings per second",
            list(RATES),
            help="How many frames of each second are analysed. A lesson report needs a few readings a second per "
            "face; more take longer and change its numbers little.",
        )
    ]
    threshold = st.slider("Face detection threshold", min_value=0.1, max_value=0.9, value=0.3, step=0.05)
    detect_every = st.number_input(
        "Run the face detector on every K-th analysed frame (faces are tracked in between)",
        min_value=1,
        max_value=12,
        value=3,
    )
    profile = st.radio(
        "Expression classifier",
        ["accurate", "fast"],
        format_func={"accurate": "Accurate: each face is also read mirrored (1.2 points more accurate on the "
                     "benchmark; the analysis takes 2-5 % longer)", "fast": "Fast (as live video)"}.get,
    )  # fmt: skip
    blur = st.checkbox("Blur every face (in the report's video and in exported videos)")

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
    with analysis_claim(f"{viewer.owner}:{sha256}") as first:  # two tabs pressing Analyse at once queue it once
        earlier = store.find_by_hash(sha256, owner=viewer.owner)
        if not first or job_list.queue().active_for_file(viewer.owner, sha256) is not None:
            st.warning("This file is being analysed already; it is in the list below.")
        elif earlier is not None and st.session_state.get("confirmed_duplicate") != sha256:
            st.session_state["pending_duplicate"] = sha256
            st.warning(
                f"This file was already analysed: session “{plain(earlier.name)}” of "
                f"{earlier.created:%d %b %Y %H:%M}. Open it in Reports, or analyse it again."
            )
        else:
            settings = AnalysisSettings(
                rate=rate, threshold=threshold, detect_every=int(detect_every), blur=blur, profile=profile
            )
            job_id = job_list.queue().enqueue(
                owner=viewer.owner,
                name=name or Path(uploaded.name).stem,
                upload=str(video_path.relative_to(data_dir())),
                settings=settings.to_dict(),
                source_name=uploaded.name,
                source_sha256=sha256,
            )
            resources.store().record(viewer.owner, "upload", detail=f"job {job_id}: {uploaded.name}")
            job_list.ensure_worker()
            st.session_state.pop("pending_duplicate", None)
            # the copy on disk is what is kept: Streamlit's in-memory copy goes, and a fresh uploader shows
            uploads.release(uploaded)
            st.session_state["uploads_done"] = st.session_state.get("uploads_done", 0) + 1
            st.session_state["queued"] = name or Path(uploaded.name).stem
            st.rerun()

if st.session_state.get("pending_duplicate") and uploaded is not None and st.button("Analyse it again anyway"):
    st.session_state["confirmed_duplicate"] = st.session_state.pop("pending_duplicate")
    st.info("Press Analyse to start.")

if queued := st.session_state.pop("queued", None):
    st.success(
        f"“{plain(queued)}” is being analysed on the server. You can close this tab or open other pages: the "
        "analysis goes on, and its report appears in Reports when it is done."
    )
job_list.show(viewer, key="analyse")
