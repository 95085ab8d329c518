"""An explicit, bounded, thread-safe memo table for automata (no module-level caches).

Automaton constructions are pure functions of their arguments, so their results may be shared:
within one compilation, between compilations, between threads. :class:`AutomataCache` is the one
place where that sharing happens, and it is an object the caller creates and passes in, never a
module global. Eviction is least-recently-used (an ``OrderedDict`` moved to the end on every hit).
Keys must be hashable; :class:`~corral.automata.dfa.ByteDFA` keys hash by identity and are kept
alive by the table, so an identity never gets reused while it is a key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["AutomataCache"]

T = TypeVar("T")


class AutomataCache:
    """A bounded least-recently-used memo table, safe to share between threads.

    Parameters
    ----------
    maxsize:
        Most entries kept; the least recently used are dropped beyond it.

    Notes
    -----
    A value is built outside the lock, so two threads may build the same entry at once; the
    first one stored wins and both get it. A build that raises stores nothing.
    """

    def __init__(self, maxsize: int = 8192) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value stored under ``key``, built by ``build()`` and stored on a miss."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                value: T = self._data[key]
                return value
            self.misses += 1
        built = build()
        with self._lock:
            if key in self._data:
                stored: T = self._data[key]
                return stored
            self._data[key] = built
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return built

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()
