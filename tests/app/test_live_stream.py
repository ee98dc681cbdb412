"""The Live page's stream is stopped as stale exactly when the page was left, never because the server's count of
finished runs lagged (fer.app.live_stream), checked against streamlit-webrtc's own reconciliation."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import streamlit as st
import streamlit_webrtc.component as webrtc_component

from fer.app import resources
from fer.app.live_stream import keep_stream_while_shown


class _Worker:
    """Stands in for streamlit-webrtc's WebRTC worker: records being stopped."""

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def finished_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The server's count of finished runs, as streamlit-webrtc reads it (set ``[0]``); a clean session state."""
    count = [0]
    monkeypatch.setattr(webrtc_component, "get_this_session_info", lambda: SimpleNamespace(script_run_count=count[0]))
    st.session_state.clear()
    yield count
    st.session_state.clear()


def _run_live_page(count: list[int], runs: int, *, kept: bool, shown_before: bool = True) -> object:
    """What pages/live.py does before and in ``webrtc_streamer`` on a run whose count reads ``runs``."""
    count[0] = runs
    if not shown_before:
        st.session_state.pop("live_paused", None)  # a finished run without the page dropped the widget's state
    if kept:
        keep_stream_while_shown(st.session_state, "live", shown_marker="live_paused")
    context = webrtc_component._get_or_create_context("live")
    st.session_state["live_paused"] = False  # the page shows its Pause toggle after the stream
    return context


def _streaming(count: list[int], *, kept: bool) -> tuple[object, _Worker]:
    context = _run_live_page(count, 3, kept=kept)
    worker = _Worker()
    context._set_worker(worker)  # the stream being set up
    return context, worker


@pytest.mark.parametrize("kept", [False, True], ids=["streamlit-webrtc alone", "kept"])
def test_a_count_that_jumps_while_the_page_is_shown_stops_the_stream_only_without_the_fix(
    finished_runs: list[int], kept: bool
) -> None:
    """The count jumps by two when one finished run's end is sent late, after the next run started."""
    context, worker = _streaming(finished_runs, kept=kept)
    _run_live_page(finished_runs, 5, kept=kept)
    assert worker.stopped is not kept  # alone, streamlit-webrtc stopped a stream the page was showing
    assert (context._get_worker() is worker) is kept


def test_a_page_left_and_opened_again_stops_the_old_stream(finished_runs: list[int]) -> None:
    """The browser's player starts afresh there: its old connection must go, even if the count moved by one."""
    context, worker = _streaming(finished_runs, kept=True)
    _run_live_page(finished_runs, 4, kept=True, shown_before=False)
    assert worker.stopped and context._get_worker() is None


def test_no_address_outside_is_asked_for_a_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without configured ICE servers the stream uses none: not the Google STUN server aiortc would use by default,
    nor TURN servers streamlit-webrtc would look up; on a closed network those only delay the connection."""
    monkeypatch.setattr(st, "secrets", {})
    configuration = resources.rtc_configuration()
    assert configuration == {"iceServers": []}
    assert webrtc_component.enhance_frontend_rtc_configuration(configuration)["iceServers"] == []
    assert webrtc_component._resolve_server_rtc_configuration(configuration).iceServers == []
