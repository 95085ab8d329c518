"""Progress of long compilations on stderr.

A compilation (front-end, tokenizer, tables) that takes more than a second is reported on stderr
when it ends: ``compiling NAME... done in 2.3 s``. When stderr is a terminal, the first half of
that line appears live after one second, so that a slow compile does not look like a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

__all__ = ["LIVE_AFTER_S", "with_progress"]

T = TypeVar("T")

LIVE_AFTER_S = 1.0
"""Seconds after which a compilation is reported."""


class _Note:
    """The live ``compiling NAME...`` note of one compilation (printed at most once)."""

    def __init__(self, err: TextIO, label: str) -> None:
        self._err = err
        self._label = label
        self._lock = threading.Lock()
        self._closed = False
        self.shown = False

    def show(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._err.write(f"compiling {self._label}...")
            self._err.flush()
            self.shown = True

    def close(self) -> None:
        with self._lock:
            self._closed = True


def _is_tty(err: TextIO) -> bool:
    try:
        return err.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def with_progress(
    label: str, build: Callable[[], T], err: TextIO, *, after: float = LIVE_AFTER_S
) -> T:
    """Run ``build()``; report on ``err`` if it takes more than ``after`` seconds.

    Parameters
    ----------
    label:
        What is compiled (a file name, ``--regex``...).
    build:
        The compilation.
    err:
        The diagnostics stream (stderr); the live note only when it is a terminal.
    after:
        Seconds after which the compilation is reported (default :data:`LIVE_AFTER_S`).
    """
    note = _Note(err, label)
    timer: threading.Timer | None = None
    if _is_tty(err):
        timer = threading.Timer(after, note.show)
        timer.daemon = True
        timer.start()
    start = time.perf_counter()
    try:
        result = build()
    except BaseException as exc:
        note.close()
        if note.shown:
            err.write(" interrupted\n" if isinstance(exc, KeyboardInterrupt) else " failed\n")
        raise
    finally:
        if timer is not None:
            timer.cancel()
    note.close()
    elapsed = time.perf_counter() - start
    if note.shown:
        err.write(f" done in {elapsed:.1f} s\n")
    elif elapsed > after:
        err.write(f"compiling {label}... done in {elapsed:.1f} s\n")
    return result
