"""prefetch and BackgroundConsumer: order kept, errors surface in the caller, no hangs on early exit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from fer.engine.background import BackgroundConsumer, prefetch


def _numbers(count: int, fail_at: int | None = None) -> Iterator[int]:
    for i in range(count):
        if i == fail_at:
            raise RuntimeError(f"broken at {i}")
        yield i


def test_prefetch_yields_everything_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def source() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetch(source(), depth=3)) == list(range(50))
    assert threads == {"fer-prefetch"}


def test_prefetch_reraises_the_source_error_after_the_good_items() -> None:
    seen = []
    with pytest.raises(RuntimeError, match="broken at 5"):
        for item in prefetch(_numbers(10, fail_at=5)):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_prefetch_stops_its_thread_when_the_consumer_leaves_early() -> None:
    produced = []

    def endless() -> Iterator[int]:
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for item in prefetch(endless(), depth=2):
        if item == 3:
            break
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 3 + 2 + 2  # bounded read-ahead, then nothing more
    assert not any(t.name == "fer-prefetch" for t in threading.enumerate())


def test_consumer_processes_every_item_in_order_before_the_block_ends() -> None:
    done = []
    with BackgroundConsumer(lambda item: (time.sleep(0.001), done.append(item)), depth=2) as submit:
        for i in range(20):
            submit(i)
    assert done == list(range(20))


def test_consumer_error_is_raised_in_the_submitting_thread() -> None:
    def explode(item: int) -> None:
        if item == 3:
            raise ValueError("cannot encode")

    with pytest.raises(ValueError, match="cannot encode"), BackgroundConsumer(explode, depth=1) as submit:
        for i in range(100):
            submit(i)
            time.sleep(0.005)
