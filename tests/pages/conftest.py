"""What the browser tests share: Debian's chromium (never a browser Playwright downloads) and one Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    """One Playwright per module: a second sync instance cannot start while the first one runs."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as instance:
        yield instance
