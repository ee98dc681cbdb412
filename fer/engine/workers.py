"""Where parallel work runs: local processes (the embedded default) or a Ray cluster.

Both give the same small interface, so the segment analysis does not care which: ``submit`` a batch of calls,
``wait`` for it while reading the workers' progress, ``close`` (which stops whatever still runs: a cancelled
analysis stops at once). Ray is imported only when asked for: the app and the tests run without it.

``FER_RAY_ADDRESS`` (or ``--ray ADDRESS``) names a running Ray cluster; ``local`` starts one on this machine for
the run. The workers read the recording and write their spill files by path, so on a real cluster the data
folder must be on storage every node mounts at the same path (README, "Ray").
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import queue
from collections.abc import Callable
from typing import Any, Protocol

RAY_ADDRESS_ENV = "FER_RAY_ADDRESS"
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, a request there fails at once


class Pending(Protocol):
    def ready(self) -> bool: ...

    def wait(self, seconds: float) -> None: ...

    def results(self) -> list: ...


class Workers(Protocol):
    """A pool of worker processes, local or on a cluster."""

    name: str
    progress: Any  # a queue the workers ``put`` progress on; ``drain`` reads it

    def submit(self, function: Callable, calls: list[tuple]) -> Pending: ...

    def drain(self) -> list: ...

    def close(self) -> None: ...


def local_cores() -> int:
    return len(os.sched_getaffinity(0))


class LocalWorkers:
    """Spawned processes on this machine (spawn: a clean interpreter, safe with onnxruntime's threads)."""

    name = "local processes"

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._manager = context.Manager()
        self.progress = self._manager.Queue()
        self._pool = context.Pool(processes)

    def submit(self, function: Callable, calls: list[tuple]) -> _LocalPending:
        return _LocalPending(self._pool.starmap_async(function, calls))

    def drain(self) -> list:
        return _drained(self.progress, queue.Empty)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
        self._manager.shutdown()


class _LocalPending:
    def __init__(self, pending: multiprocessing.pool.AsyncResult) -> None:
        self._pending = pending

    def ready(self) -> bool:
        return self._pending.ready()

    def wait(self, seconds: float) -> None:
        self._pending.wait(seconds)

    def results(self) -> list:
        return self._pending.get()


class _RayPending:
    def __init__(self, ray: Any, refs: list) -> None:
        self._ray = ray
        self._refs = refs

    def ready(self) -> bool:
        done, _ = self._ray.wait(self._refs, num_returns=len(self._refs), timeout=0)
        return len(done) == len(self._refs)

    def wait(self, seconds: float) -> None:
        self._ray.wait(self._refs, num_returns=len(self._refs), timeout=seconds)

    def results(self) -> list:
        return self._ray.get(self._refs)


class RayWorkers:
    """Ray tasks, one CPU each, on the cluster at ``address`` (``local``: a Ray started here for this run)."""

    name = "Ray"

    def __init__(self, address: str, cpus: int | None = None) -> None:
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # Ray reports usage to its makers by default: nothing leaves
        import ray
        from ray.util.queue import Queue

        if address == "local":  # on loopback only, no dashboard
            # Ray's dashboard asks cloud metadata servers which cloud it is on, usage stats or not: its HTTP goes
            # to a closed port on this machine instead, so the question never leaves it
            os.environ.update(HTTP_PROXY=DEAD_PROXY, HTTPS_PROXY=DEAD_PROXY, NO_PROXY="127.0.0.1,localhost")
            ray.init(
                num_cpus=cpus or local_cores(),
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
        else:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        self._ray = ray
        self.progress = Queue()
        self._refs: list = []

    def submit(self, function: Callable, calls: list[tuple]) -> _RayPending:
        remote = self._ray.remote(num_cpus=1)(function)
        refs = [remote.remote(*call) for call in calls]
        self._refs += refs
        return _RayPending(self._ray, refs)

    def drain(self) -> list:
        from ray.util.queue import Empty

        return _drained(self.progress, Empty)

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self.progress.shutdown()
        self._ray.shutdown()


def ray_address(given: str | None = None) -> str | None:
    """The Ray cluster to use: the address given, else ``$FER_RAY_ADDRESS``; None: local processes."""
    return given or os.environ.get(RAY_ADDRESS_ENV) or None


def open_workers(processes: int, address: str | None = None) -> Workers:
    """Ray tasks at ``address`` (see ``ray_address``), else ``processes`` local processes."""
    return RayWorkers(address, processes) if address else LocalWorkers(processes)


def _drained(progress: Any, empty: type[Exception]) -> list:
    """What the workers reported since the last call."""
    items = []
    while True:
        try:
            items.append(progress.get_nowait())
        except empty:
            return items
