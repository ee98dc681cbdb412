"""Expired files go while the server runs, not only when it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer.app import resources


def test_expired_files_are_purged_at_start_and_then_hourly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[float] = []
    clock = [1000.0]
    monkeypatch.setattr(resources.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(resources, "purge_expired", lambda *args, **kwargs: calls.append(clock[0]))
    resources._last_purge.clear()
    for minutes in (0, 10, 59, 61, 90, 125):
        clock[0] = 1000.0 + minutes * 60
        resources._purge_when_due(None, tmp_path, 7.0)
    assert calls == [1000.0, 1000.0 + 61 * 60, 1000.0 + 125 * 60]
    resources._last_purge.clear()
