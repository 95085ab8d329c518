"""A process pool with a hard per-task timeout and worker replacement.

``concurrent.futures`` cannot stop a task once started, so each worker here is a
:class:`multiprocessing.Process` owning one end of a pipe; the parent hands out one task at a
time, waits on all pipes at once (:func:`multiprocessing.connection.wait`, i.e. ``select``/
``poll``), kills a worker whose task passes its deadline (SIGKILL) or notices one that died, and
starts a fresh worker in its place. Workers use the ``spawn`` start method, so none inherits
threads or locks of the parent, and warm up (load tokenizers) before taking tasks, so task
times exclude start-up.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

__all__ = ["PoolStartError", "run_pool"]

T = TypeVar("T")
R = TypeVar("R")

_CTX = multiprocessing.get_context("spawn")


class PoolStartError(RuntimeError):
    """A worker failed to start (its warm-up raised, it died, or it took too long)."""


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb is None:
        return
    import resource

    limit = memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(
    conn: Connection,
    func: Callable[..., Any],
    warmup: Callable[[], Any] | None,
    memory_mb: int | None,
) -> None:
    try:
        _limit_memory(memory_mb)
        resources = warmup() if warmup is not None else None
    except BaseException as e:
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        index, task = message
        conn.send((index, func(task) if warmup is None else func(task, resources)))


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    index: int | None = None
    deadline: float = 0.0
    done: int = 0


class _Pool(Generic[T, R]):
    def __init__(
        self,
        func: Callable[..., R],
        warmup: Callable[[], Any] | None,
        memory_mb: int | None,
        start_timeout: float,
    ) -> None:
        self.func = func
        self.warmup = warmup
        self.memory_mb = memory_mb
        self.start_timeout = start_timeout

    def start(self) -> _Worker:
        parent, child = _CTX.Pipe()
        process = _CTX.Process(
            target=_worker_main,
            args=(child, self.func, self.warmup, self.memory_mb),
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process, parent, deadline=time.monotonic() + self.start_timeout)

    @staticmethod
    def stop(worker: _Worker, *, kill: bool) -> None:
        if kill:
            worker.process.kill()
        else:
            try:
                worker.conn.send(None)
            except OSError:
                worker.process.kill()
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()


def run_pool(
    func: Callable[..., R],
    tasks: Sequence[T],
    *,
    jobs: int,
    timeout: float,
    on_lost: Callable[[T, str, str], R],
    warmup: Callable[[], Any] | None = None,
    memory_mb: int | None = None,
    start_timeout: float = 300.0,
    recycle: Callable[[R], bool] | None = None,
    max_tasks: int | None = None,
    progress: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Run ``func`` on every task in worker processes; return the results in task order.

    A worker that dies, or whose result ``recycle`` flags (e.g. it ran out of memory), is
    replaced; if it had run other tasks before, the state they left may be to blame, so the
    task is run once more in a fresh worker and that second result is kept.

    Parameters
    ----------
    func:
        A picklable (module-level) function; it should catch its own exceptions. Called as
        ``func(task)``, or ``func(task, resources)`` when ``warmup`` is given.
    tasks:
        Picklable task objects.
    jobs:
        Number of worker processes (at least 1).
    timeout:
        Seconds one task may run; then its worker is killed and replaced.
    on_lost:
        ``on_lost(task, status, message)`` makes the result of a task whose worker was lost:
        status ``"timeout"`` (killed at the deadline) or ``"error"`` (the worker died).
    warmup:
        A picklable callable each worker runs once before taking tasks; what it returns (the
        worker's resources: tokenizers, caches) is handed to every call of ``func`` in that
        worker, so nothing is kept in module globals.
    memory_mb:
        Address-space limit of each worker (``RLIMIT_AS``), or ``None``.
    start_timeout:
        Seconds a worker may take to start and warm up.
    recycle:
        Flags results after which the worker is replaced (see above).
    max_tasks:
        Replace each worker after this many tasks (bounds the growth of its caches).
    progress:
        Called with ``(task index, result)`` as each result arrives.

    Raises
    ------
    PoolStartError
        If a worker fails to start.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, not {timeout}")
    pool: _Pool[T, R] = _Pool(func, warmup, memory_mb, start_timeout)
    results: dict[int, R] = {}
    pending = deque(range(len(tasks)))
    retried: set[int] = set()
    workers = [pool.start() for _ in range(min(jobs, len(tasks)))]

    def finish(index: int, result: R) -> None:
        results[index] = result
        if progress is not None:
            progress(index, result)

    def replace(k: int) -> None:
        pool.stop(workers[k], kill=True)
        workers[k] = pool.start()

    def retry(w: _Worker, index: int) -> bool:
        if w.done == 0 or index in retried:
            return False
        retried.add(index)
        pending.appendleft(index)
        return True

    try:
        while len(results) < len(tasks):
            for k, w in enumerate(workers):
                if w.ready and w.index is None and pending:
                    index = pending.popleft()
                    try:
                        w.conn.send((index, tasks[index]))
                    except OSError:
                        pending.appendleft(index)
                        replace(k)
                        continue
                    w.index = index
                    w.deadline = time.monotonic() + timeout
            deadline = min(w.deadline for w in workers if w.index is not None or not w.ready)
            wait_for = max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait([w.conn for w in workers], timeout=wait_for)
            for k, w in enumerate(workers):
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):
                        message = None
                    if message is None:
                        w.process.join(timeout=10)
                        code = w.process.exitcode
                        if w.index is None:
                            pool.stop(w, kill=True)
                            raise PoolStartError(f"worker died while idle (exit code {code})")
                        if not retry(w, w.index):
                            finish(
                                w.index, on_lost(tasks[w.index], "error", f"worker died ({code})")
                            )
                        replace(k)
                    elif message[0] == "ready":
                        w.ready = True
                    elif message[0] == "failed":
                        pool.stop(w, kill=True)
                        raise PoolStartError(f"worker warm-up failed: {message[1]}")
                    else:
                        index, result = message
                        w.index = None
                        flagged = recycle is not None and recycle(result)
                        if not (flagged and retry(w, index)):
                            finish(index, result)
                        w.done += 1
                        if flagged or (max_tasks is not None and w.done >= max_tasks):
                            replace(k)
                elif time.monotonic() >= w.deadline and (w.index is not None or not w.ready):
                    if w.index is None:
                        pool.stop(w, kill=True)
                        raise PoolStartError(f"worker did not start within {start_timeout} s")
                    finish(w.index, on_lost(tasks[w.index], "timeout", f"over {timeout} s"))
                    replace(k)
    finally:
        for w in workers:
            pool.stop(w, kill=not w.ready or w.index is not None)
    return [results[i] for i in range(len(tasks))]
