"""Times as people read them: lesson time as m:ss or h:mm:ss, and back from what a teacher types."""

from __future__ import annotations

import math
import re

_NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
_TYPED = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2})\s*$|^\s*(\d+)\s*$")


def clock(seconds: float, long: bool | None = None) -> str:
    """``75`` -> ``"1:15"``; ``3725`` -> ``"1:02:05"``. ``long`` forces (or avoids) the hour field, so every label
    of one session has the same shape; by default hours appear only when needed."""
    total = max(0, math.floor(seconds + 1e-6))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if long or (long is None and hours):
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes + 60 * hours}:{secs:02d}"


def parse_clock(text: str) -> float:
    """``"12:30"``, ``"1:02:05"`` or plain seconds ``"90"`` -> seconds; a ValueError names the expected form."""
    match = _TYPED.match(text)
    if not match:
        raise ValueError(f"“{text.strip()}” is not a time: write minutes:seconds, like 12:30 (or 1:02:05)")
    hours, minutes, secs, plain_seconds = match.groups()
    if plain_seconds is not None:
        return float(plain_seconds)
    if int(secs) >= 60 or (hours is not None and int(minutes) >= 60):
        raise ValueError(f"“{text.strip()}” is not a time: seconds and minutes go up to 59")
    return float(int(hours or 0) * 3600 + int(minutes) * 60 + int(secs))


def tick_step(duration_s: float, most_ticks: int = 10) -> int:
    """The smallest round step (5 s, 30 s, 5 min…) that puts at most ``most_ticks`` ticks on the axis."""
    return next((step for step in _NICE_STEPS_S if duration_s / step <= most_ticks), _NICE_STEPS_S[-1])


def ticks(duration_s: float, most_ticks: int = 10) -> list[int]:
    """Axis tick positions in seconds, on round clock times from 0 to the end."""
    step = tick_step(duration_s, most_ticks)
    return list(range(0, int(duration_s) + 1, step))
