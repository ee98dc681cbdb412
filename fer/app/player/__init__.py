"""The report's player: the teacher's own recording with the faces the analysis read drawn over it, in the browser.

A Streamlit component in plain JavaScript (``frontend/``: nothing to build, nothing fetched from elsewhere). It
plays the recording and reads the boxes from the server's routes (``fer.app.media_routes``), so the page only
sends links and seek requests, and no second copy of the lesson is ever encoded to show the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import streamlit.components.v1 as components

from fer.engine.annotate import CLASS_COLORS, UNREAD_COLOR

_component = components.declare_component("fer_player", path=str(Path(__file__).parent / "frontend"))


@dataclass(frozen=True)
class Seek:
    time_s: float
    nonce: int  # a new number for each request, so the same moment clicked twice seeks twice
    play: bool = True


def _hex(bgr: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*bgr[::-1])


COLORS = {name: _hex(color) for name, color in CLASS_COLORS.items()}  # the exported video's colours
UNREAD_HEX = _hex(UNREAD_COLOR)


def player(
    recording_url: str, overlay_url: str | None, *, seek: Seek | None, blur: bool, key: str, note: str = ""
) -> None:
    """The recording at ``recording_url`` with the boxes from ``overlay_url`` (None: a video with the faces drawn
    in it already), every face blurred if ``blur``; ``seek`` moves it to a moment (and plays it) when its nonce is
    new."""
    _component(
        recording=recording_url,
        overlay=overlay_url,
        seek=asdict(seek) if seek is not None else None,
        blur=blur,
        colors=COLORS,
        unread_color=UNREAD_HEX,
        note=note,
        key=key,
        default=None,
    )
