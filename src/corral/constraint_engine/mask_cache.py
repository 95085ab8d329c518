"""The run-time cache of a compiled grammar: lexer automata and trie walks built on demand.

What a mask needs beyond the frozen tables of
:class:`~corral.constraint_engine.compiler.CompiledGrammar` — product automata of the terminals
an Earley set expects (:mod:`corral.constraint_engine.lexer_dfa`), walks of the whole token trie
from an automaton state (:func:`corral.constraint_engine.trie_walk.walk_root`), the shortest
yields used by completion — depends only on the grammar and the tokenizer, never on a
generation's state. It is built the first time a mask needs it and kept here, so every matcher
of the compiled grammar shares it: that sharing is where the speed of warm masks comes from.

The cache is an explicit object, bounded by an estimate of the memory its entries hold, and
evicts least recently used entries past that bound (an evicted entry is simply rebuilt when
needed again). It is safe to use from several threads: values are built outside the lock and
then published under it — when two threads build the same entry at once, the first one
published wins and both use it — so lookups never wait on a build.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["DEFAULT_MAX_BYTES", "MaskCache"]

DEFAULT_MAX_BYTES = 256 * 1024 * 1024

T = TypeVar("T")


class MaskCache:
    """A bounded, thread-safe, least-recently-used cache of values built on demand.

    Parameters
    ----------
    max_bytes:
        Bound on the estimated memory of the entries (each entry's size is estimated by the
        caller of :meth:`get_or_build`). The most recent entry is always kept, even alone above
        the bound.

    Attributes
    ----------
    hits, misses, evictions : int
        Counters, for reports and tests.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be non-negative, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Estimated memory held by the entries."""
        return self._nbytes

    def get_or_build(self, key: Hashable, build: Callable[[], T], size: Callable[[T], int]) -> T:
        """The value cached under ``key``, built by ``build()`` (outside the lock) if absent.

        ``size(value)`` estimates the value's memory in bytes, for the bound.
        """
        with self._lock:
            got = self._entries.get(key)
            if got is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                value: T = got[0]
                return value
            self.misses += 1
        value = build()
        nbytes = int(size(value))
        with self._lock:
            got = self._entries.get(key)
            if got is not None:  # another thread published it first
                self._entries.move_to_end(key)
                first: T = got[0]
                return first
            self._entries[key] = (value, nbytes)
            self._nbytes += nbytes
            while self._nbytes > self.max_bytes and len(self._entries) > 1:
                _, (_, old) = self._entries.popitem(last=False)
                self._nbytes -= old
                self.evictions += 1
        return value

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._nbytes = 0
