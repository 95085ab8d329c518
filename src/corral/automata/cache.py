"""An explicit, bounded, thread-safe memo table for automata (no module-level caches).

Automaton constructions are pure functions of their arguments, so their results may be shared:
within one compilation, between compilations, between threads. :class:`AutomataCache` is the one
place where that sharing happens, and it is an object the caller creates and passes in, never a
module global. Eviction is least-recently-used (an ``OrderedDict`` moved to the end on every
hit), bounded both in entries and in the bytes of the arrays that keys and values hold
(automata tables, found inside tuples, lists and sets), so that a long-running server's cache
stays within a known size. Keys must be hashable; :class:`~corral.automata.dfa.ByteDFA` keys
hash by identity and are kept alive by the table, so an identity never gets reused while it is
a key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

from corral.automata.dfa import ByteDFA

__all__ = ["DEFAULT_CACHE_BYTES", "AutomataCache", "held_bytes"]

T = TypeVar("T")

DEFAULT_CACHE_BYTES = 256 * 2**20
"""Default bound on the bytes an :class:`AutomataCache` holds between compilations (256 MiB)."""

_ENTRY_OVERHEAD = 256  # bytes counted per entry beyond its arrays (dict slot, small objects)


def held_bytes(obj: object, depth: int = 0) -> int:
    """Bytes of the NumPy arrays ``obj`` holds: an array, an automaton
    (:attr:`ByteDFA.nbytes`: its table over byte classes, and the full table once made), or
    such things inside tuples, lists, sets and frozensets (four levels
    deep); 0 for anything else."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, ByteDFA):
        return obj.nbytes
    if depth < 4 and isinstance(obj, (tuple, list, set, frozenset)):
        return sum(held_bytes(item, depth + 1) for item in obj)
    return 0


def _shrink(obj: object, depth: int = 0) -> None:
    """Let the automata ``obj`` holds (as :func:`held_bytes` finds them) keep only their
    tables over byte classes while cached."""
    if isinstance(obj, ByteDFA):
        obj.shrink()
    elif depth < 4 and isinstance(obj, (tuple, list, set, frozenset)):
        for item in obj:
            _shrink(item, depth + 1)


class AutomataCache:
    """A bounded least-recently-used memo table, safe to share between threads.

    Parameters
    ----------
    maxsize:
        Most entries kept; the least recently used are dropped beyond it.
    max_bytes:
        Most bytes kept between compilations, as :func:`held_bytes` counts the keys and values
        (plus a small overhead per entry): :meth:`trim`, called when a compilation ends, drops
        the least recently used entries beyond it.

    Notes
    -----
    A value is built outside the lock, so two threads may build the same entry at once; the
    first one stored wins and both get it. A build that raises stores nothing. The automata a
    stored value holds keep only their tables over byte classes (:meth:`ByteDFA.shrink`).
    """

    def __init__(self, maxsize: int = 8192, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be positive")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
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
            _shrink(built)
            size = _ENTRY_OVERHEAD + held_bytes(key) + held_bytes(built)
            self._data[key] = built
            self._sizes[key] = size
            self.nbytes += size
            while len(self._data) > self.maxsize:
                self._drop_oldest()
        return built

    def trim(self) -> None:
        """Drop least recently used entries until at most ``max_bytes`` are held (the most
        recent entry is always kept). Compilers call this when a compilation ends, not while
        it runs: entries a compilation is still using stay shared within it."""
        with self._lock:
            while len(self._data) > 1 and self.nbytes > self.max_bytes:
                self._drop_oldest()

    def _drop_oldest(self) -> None:
        old, _ = self._data.popitem(last=False)
        self.nbytes -= self._sizes.pop(old)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()
            self._sizes.clear()
            self.nbytes = 0
