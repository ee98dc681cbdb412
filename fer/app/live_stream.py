"""The Live page's stream (streamlit-webrtc) kept alive on a busy server.

streamlit-webrtc stops a stream it takes for stale: one whose page was not shown in a finished run
in between (the teacher went to another page and back, and the browser's player started afresh).
It tells that from the server's count of finished runs, which the server's event loop raises when it
sends a run's end to the browser, possibly after the next run has started. The WebRTC handshake runs
on that same loop: while it is busy, the count can jump by two between two runs that both showed the
page, and the stream being set up was stopped as stale. The browser then never got a frame (the live
browser test failed that way on a loaded 2-core machine). Whether the page was shown in the last
finished run is known exactly from a widget the page always shows after the stream: Streamlit drops a
widget's state only when a finished run did not show it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

# below any run count: streamlit-webrtc then surely takes the stream for stale and resets it
_STALE = -2


def keep_stream_while_shown(state: MutableMapping[str, Any], stream_key: str, shown_marker: str) -> None:
    """Call with ``st.session_state`` before ``webrtc_streamer(key=stream_key)``. ``shown_marker`` is the key of a
    widget the page shows in every run that gets past the stream.

    A stream shown in the last finished run is never taken for stale; one that was not (the page was left
    and opened again) always is, so its old connection is closed before the browser's new one starts.
    """
    context = state.get(stream_key)
    if context is None or not hasattr(context, "_last_rendered_run_count"):  # none yet, or another version
        return
    context._last_rendered_run_count = None if shown_marker in state else _STALE
