"""Live: a webcam (or a shared video-call gallery) analysed as it happens; saved to Reports when stopped."""

from datetime import datetime

import cv2
import pandas as pd
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from fer.app import access, charts, resources
from fer.app.clock import clock
from fer.app.live_stream import keep_stream_while_shown
from fer.app.markdown import plain
from fer.engine.live import RECENT_S
from fer.sessions.store import MAX_NAME

resources.use_app_navigation()
st.title("Live class view")
st.caption(
    "Start the camera. To analyse a video-call gallery, show the call window through a virtual camera (for "
    "example OBS Virtual Camera) and pick it with SELECT DEVICE. Frames are analysed on this server and never "
    "stored; when you stop, the session's numbers are saved and appear in Reports."
)

processor = resources.live_processor()
name = st.text_input(
    "Session name",
    value=st.session_state.setdefault("live_name", f"Live {datetime.now():%d %b %H:%M}"),
    max_chars=MAX_NAME,
)
processor.session_name = name
processor.owner = access.current().owner
outcome = st.empty()  # "saved" lands here, above the video, where the teacher looks when pressing STOP
video_column, panel_column = st.columns([3, 2])


async def analyse_frames(frames: list) -> list:
    """Runs in streamlit-webrtc's worker thread: no st.* here; results leave through the processor's lock."""
    return [processor.process_newest(frames)]


with video_column:
    keep_stream_while_shown(st.session_state, "live", shown_marker="live_paused")
    context = webrtc_streamer(
        key="live",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=resources.rtc_configuration(),
        media_stream_constraints={"video": True, "audio": False},
        queued_video_frames_callback=analyse_frames,
        async_processing=True,
    )
    controls = st.columns(3)
    processor.paused = controls[0].toggle("Pause analysis", value=processor.paused, key="live_paused")
    if controls[1].button("Reset statistics"):
        processor.reset()
    blur_snapshot = controls[2].checkbox("Blur snapshots", value=True, help="every face in a snapshot is blurred")
    if st.button("Snapshot of the current frame"):
        snapshot = processor.snapshot(blur=blur_snapshot)
        if snapshot is None:
            st.info("No frame has been analysed yet: start the camera first.")
        else:
            st.image(snapshot, channels="BGR", caption="Snapshot (not stored)")
            png = cv2.imencode(".png", snapshot)[1].tobytes()
            st.download_button("Download the snapshot", png, file_name="snapshot.png", mime="image/png")

playing = context.state.playing
if playing:
    if not st.session_state.get("live_was_playing"):
        processor.reset()  # the session's clock and statistics start with the stream
    st.session_state["live_was_playing"] = True
elif st.session_state.pop("live_was_playing", False):
    session_id = processor.save()
    processor.reset()
    st.session_state.pop("live_name", None)
    if session_id is None:
        outcome.info("The stream stopped before any frame was analysed; nothing was saved.")
    else:
        outcome.success(f"Live session “{plain(name)}” is saved; it is listed in Reports.")


@st.fragment(run_every=1.0)
def live_panel() -> None:
    stats = processor.stats()
    left, middle, right = st.columns(3)
    left.metric("Faces now", stats.faces, help="grey boxes: faces whose expression can't be read right now")
    middle.metric("Processed fps", f"{stats.processed_fps:.1f}")
    right.metric("Running", clock(stats.seconds) if playing else "–", help="minutes:seconds since the stream started")
    if stats.paused:
        st.caption("Analysis paused.")
    read = "" if stats.read_share is None else f" (read on {stats.read_share:.0%} of the face time)"
    st.markdown(f"**Expressions, last {RECENT_S} s**{read}")
    if stats.read_share is None:
        st.caption(f"No face in the last {RECENT_S} s.")
    elif stats.read_share == 0:
        st.caption("No face could be read: too small, turned away, blurred or too uncertain.")
    else:
        now = pd.DataFrame({"expression": list(stats.shares), "share": list(stats.shares.values())})
        st.altair_chart(charts.overall_distribution(now, height=240, title="Share of faces read"), width="stretch")
    st.markdown("**The last minute**")
    if stats.trend.empty:
        st.caption("The trend appears once faces are seen.")
    else:
        st.altair_chart(charts.live_trend(stats.trend), width="stretch")


with panel_column:
    live_panel()
