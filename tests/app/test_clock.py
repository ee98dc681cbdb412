"""Lesson time as people read it (fer.app.clock)."""

from __future__ import annotations

import pytest

from fer.app.clock import clock, parse_clock, tick_step, ticks


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (9.9, "0:09"), (75, "1:15"), (599, "9:59"), (3725, "1:02:05"), (-3, "0:00")]
)
def test_clock_is_minutes_and_seconds_with_hours_only_past_an_hour(seconds: float, text: str) -> None:
    assert clock(seconds) == text


def test_one_session_can_ask_for_the_hour_field_on_every_label() -> None:
    assert clock(75, long=True) == "0:01:15" and clock(3725, long=False) == "62:05"


@pytest.mark.parametrize(("text", "seconds"), [("12:30", 750), (" 1:02:05 ", 3725), ("90", 90), ("0:05", 5)])
def test_typed_times_are_understood(text: str, seconds: float) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize("text", ["", "quiz", "12:60", "1:75:00", "12.5", "-1:00"])
def test_a_typed_time_that_is_no_time_says_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match=r"minutes:seconds|up to 59"):
        parse_clock(text)


@pytest.mark.parametrize(("duration", "step"), [(40, 5), (300, 30), (3600, 600), (6 * 3600, 3600)])
def test_ticks_fall_on_round_times_and_stay_few(duration: float, step: int) -> None:
    assert tick_step(duration) == step
    positions = ticks(duration)
    assert positions[0] == 0 and len(positions) <= 11 and all(p % step == 0 for p in positions)
