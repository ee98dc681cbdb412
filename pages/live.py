"""Live: a webcam or a shared video-call window analysed as it happens; saved to Reports when stopped.

Two modes. In this browser (the default without a TURN server): the teacher's browser analyses the camera or a
shared window and sends only numbers (``fer.app.browser_live``). On this server: the video goes to the server over
WebRTC (streamlit-webrtc), which needs a TURN server on most school networks.
"""

import secrets
from datetime import datetime

import cv2
import pandas as pd
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from fer.app import access, charts, resources
from fer.app.browser_live import browser_live
from fer.app.clock import clock
from fer.app.live_stream import keep_stream_while_shown
from fer.app.markdown import plain
from fer.engine.live import RECENT_S
from fer.engine.observations import ObservationError, parse_batch, refused_until
from fer.sessions.store import MAX_NAME

BROWSER, SERVER = "In this browser", "On this server"
WHERE = {
    BROWSER: "Pick the camera, or share the video call's window, tab or screen to analyse its gallery. Faces are "
    "found and read in this browser: only numbers reach the server (per face: its box, pose, image signals and "
    "expression probabilities), never a picture. When you stop, the session's numbers are saved and appear in Reports.",
    SERVER: "Start the camera. The video goes to this server, is analysed there and never stored (a video call's "
    "gallery can be picked through a virtual camera, for example OBS Virtual Camera). When you stop, the session's "
    "numbers are saved and appear in Reports.",
}

resources.use_app_navigation()
st.title("Live class view")
processor = resources.live_processor()
name = st.text_input(
    "Session name",
    value=st.session_state.setdefault("live_name", f"Live {datetime.now():%d %b %H:%M}"),
    max_chars=MAX_NAME,
)
processor.session_name = name
processor.owner = access.current().owner
turn_configured = bool(resources.rtc_configuration()["iceServers"])
mode = st.radio(
    "Where the video is analysed",
    [BROWSER, SERVER],
    index=1 if turn_configured else 0,
    horizontal=True,
    key="live_mode",
    help="The server mode needs a TURN server on most networks (README, 'Deploying'); the browser mode needs none.",
)
st.caption(WHERE[mode])
outcome = st.empty()  # "saved" lands here, above the video, where the teacher looks when pressing stop
video_column, panel_column = st.columns([3, 2])


def report_saved(where: object) -> None:
    """Save the session that just stopped and say so in ``where``; the next one starts afresh."""
    session_id = processor.save()
    processor.reset()
    st.session_state.pop("live_name", None)
    if session_id is None:
        where.info("The stream stopped before any frame was analysed; nothing was saved.")
    else:
        where.success(f"Live session “{plain(name)}” is saved; it is listed in Reports.")


@st.fragment
def browser_stream() -> None:
    """The browser mode's component; runs again on each batch of numbers it sends, not the whole page."""
    batch_key = st.session_state.setdefault("live_batch_key", secrets.token_urlsafe(16))
    message = browser_live(
        batch_key=batch_key,
        ack=st.session_state.get("live_ack"),
        classifier=resources.classifier(),
        settings=processor.settings,
        readability=processor.analyzer.readability.config,
        key="live_browser",
    )
    seq = message.get("seq") if isinstance(message, dict) else None
    if message is None or seq == st.session_state.get("live_seq"):
        return  # nothing new: a rerun for another reason
    st.session_state["live_seq"] = seq
    try:
        batch = parse_batch(message, batch_key)
    except ObservationError as error:
        st.warning(f"Numbers from the browser were refused ({error}); nothing of them was analysed or stored.")
        st.session_state["live_ack"] = refused_until(message)  # the component drops them instead of resending
        return
    if not st.session_state.get("live_streaming"):
        processor.reset()  # the session's clock and statistics start with the stream
        st.session_state["live_streaming"] = True
    processor.process_observed(batch)
    if batch.frames:
        st.session_state["live_ack"] = batch.frames[-1].t
    if batch.ended:
        st.session_state["live_streaming"] = False
        report_saved(st)


async def analyse_frames(frames: list) -> list:
    """Runs in streamlit-webrtc's worker thread: no st.* here; results leave through the processor's lock."""
    return [processor.process_newest(frames)]


def server_stream() -> bool:
    """The server mode's WebRTC stream; whether it plays."""
    keep_stream_while_shown(st.session_state, "live", shown_marker="live_paused")
    context = webrtc_streamer(
        key="live",
        mode=WebRtcMode.SENDRECV,
        rtc_configuration=resources.rtc_configuration(),
        media_stream_constraints={"video": True, "audio": False},
        queued_video_frames_callback=analyse_frames,
        async_processing=True,
    )
    return context.state.playing


def snapshot_button() -> None:
    blur_snapshot = st.checkbox("Blur snapshots", value=True, help="every face in a snapshot is blurred")
    if st.button("Snapshot of the current frame"):
        snapshot = processor.snapshot(blur=blur_snapshot)
        if snapshot is None:
            st.info("No frame has been analysed yet: start the camera first.")
        else:
            st.image(snapshot, channels="BGR", caption="Snapshot (not stored)")
            png = cv2.imencode(".png", snapshot)[1].tobytes()
            st.download_button("Download the snapshot", png, file_name="snapshot.png", mime="image/png")


with video_column:
    playing = False
    if mode == BROWSER:
        browser_stream()
    else:
        playing = server_stream()
    controls = st.columns(2)
    processor.paused = controls[0].toggle("Pause analysis", value=processor.paused, key="live_paused")
    if controls[1].button("Reset statistics"):
        processor.reset()
    if mode == SERVER:
        snapshot_button()

if mode == SERVER:
    if playing:
        if not st.session_state.get("live_was_playing"):
            processor.reset()  # the session's clock and statistics start with the stream
        st.session_state["live_was_playing"] = True
    elif st.session_state.pop("live_was_playing", False):
        report_saved(outcome)


@st.fragment(run_every=1.0)
def live_panel() -> None:
    stats = processor.stats()
    running = stats.streaming if mode == BROWSER else playing  # a browser stream may end unseen: the numbers tell
    left, middle, right = st.columns(3)
    left.metric("Faces now", stats.faces, help="grey boxes: faces whose expression can't be read right now")
    middle.metric("Processed fps", f"{stats.processed_fps:.1f}")
    right.metric("Running", clock(stats.seconds) if running else "–", help="minutes:seconds since the stream started")
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
