"""Overlap video decoding and encoding with analysis, each in its own thread.

FFmpeg (through PyAV) and onnxruntime release the GIL, so on two cores the
decoder can fetch the next frame and the encoder can write the last one while
the detector works on this one. Queues are bounded: memory stays flat and a
slow stage slows the rest instead of piling frames up.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _put(items: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put unless ``stop`` is set first; False when stopped."""
    while not stop.is_set():
        try:
            items.put(item, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False


def prefetch(source: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Iterate ``source`` in a background thread, at most ``depth`` items ahead; its errors re-raise here."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                if not _put(items, item, stop):
                    return
            _put(items, _DONE, stop)
        except BaseException as error:  # handed to the consumer, which re-raises it
            _put(items, _Failure(error), stop)

    worker = threading.Thread(target=produce, name="fer-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


def timed(source: Iterator[T], seconds: dict[str, float], key: str = "decode") -> Iterator[T]:
    """``source``'s items, adding the time spent producing them to ``seconds[key]`` (in whichever thread runs it)."""
    while True:
        started = time.perf_counter()
        try:
            item = next(source)
        except StopIteration:
            return
        finally:
            seconds[key] += time.perf_counter() - started
        yield item


class BackgroundConsumer(Generic[T]):
    """``with BackgroundConsumer(fn) as submit: submit(item)`` calls ``fn(item)`` in order in a worker thread.

    Leaving the block waits for every submitted item; an error in ``fn`` is
    raised from the next ``submit`` or from the exit.
    """

    def __init__(self, consume: Callable[[T], None], depth: int = 4) -> None:
        self._consume = consume
        self._items: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._run, name="fer-consumer", daemon=True)

    def _run(self) -> None:
        while True:
            item = self._items.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as error:  # re-raised in the submitting thread
                    self._error = error
                    self._stop.set()

    def submit(self, item: T) -> None:
        if self._error is not None:
            raise self._error
        if not _put(self._items, item, self._stop) and self._error is not None:
            raise self._error

    def __enter__(self) -> Callable[[T], None]:
        self._worker.start()
        return self.submit

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self._items.put(_DONE)
        self._worker.join()
        if exc_type is None and self._error is not None:
            raise self._error
