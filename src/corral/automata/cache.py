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
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.limits import Limits

__all__ = ["ADMIT_BYTES", "DEFAULT_CACHE_BYTES", "AutomataCache", "held_bytes"]

T = TypeVar("T")

DEFAULT_CACHE_BYTES = 32 * 2**20
"""Default bound on the bytes an :class:`AutomataCache` holds between compilations (32 MiB:
on the benchmark's 300 schemas, compile times as with 256 MiB, the process growing by about
as much as the cache holds)."""

ADMIT_BYTES = 64 * 2**10
"""Default size above which a value enters an :class:`AutomataCache` on its second build."""

_GONE = object()

_ENTRY_OVERHEAD = 256  # bytes counted per entry beyond its arrays (dict slot, small objects)


def held_bytes(obj: object, depth: int = 0) -> int:
    """Bytes of the NumPy arrays ``obj`` holds: an array, an automaton
    (:attr:`ByteDFA.nbytes`: its table over byte classes, and the full table once made), or
    such things inside tuples, lists, sets and frozensets (four levels
    deep); 0 for anything else."""
    kind = type(obj)
    if kind in _ATOMS:  # most of a key: names, numbers, limits
        return 0
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, ByteDFA):
        return obj.nbytes
    if depth < 4 and isinstance(obj, (tuple, list, set, frozenset)):
        total = 0
        for item in obj:
            if type(item) not in _ATOMS:
                total += held_bytes(item, depth + 1)
        return total
    return 0


_ATOMS = frozenset({str, bytes, int, float, bool, type(None), Limits})


class _Owner:
    """What a cached automaton reports what it later derives to (:meth:`ByteDFA.derived`):
    the bytes join its entry's size, so that they count against the cache's bound. Holds the
    cache weakly and the entry by a number, not its key (the automaton may outlive the entry,
    and a key may hold other automata)."""

    __slots__ = ("cache", "entry")

    def __init__(self, cache: weakref.ref[AutomataCache], entry: int) -> None:
        self.cache = cache
        self.entry = entry

    def __call__(self, nbytes: int) -> None:
        cache = self.cache()
        if cache is not None:
            cache._grew(self.entry, nbytes)


def _shrink(obj: object, owner: _Owner, depth: int = 0) -> None:
    """Let the automata ``obj`` holds (as :func:`held_bytes` finds them) keep only their
    tables over byte classes while cached, and report what they derive to ``owner`` (the
    first entry that holds them)."""
    if isinstance(obj, ByteDFA):
        obj.shrink()
        if obj.on_derived is None:
            obj.on_derived = owner
    elif depth < 4 and isinstance(obj, (tuple, list, set, frozenset)):
        for item in obj:
            _shrink(item, owner, depth + 1)


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
    admit_bytes:
        Values counted larger than this are kept only from the second build of their key: a
        large automaton one schema alone needs (a long length counter, a one-off pattern) is
        built, used and dropped, while one that two compilations ask for stays (the admission
        filter of TinyLFU, Einziger et al. 2017, with a doorkeeper of key hashes).

    Notes
    -----
    A value is built outside the lock, so two threads may build the same entry at once; the
    first one stored wins and both get it. A build that raises stores nothing. The automata a
    stored value holds keep only their tables over byte classes (:meth:`ByteDFA.shrink`).
    A compilation works through a :meth:`session`, which keeps what it got for as long as it
    runs, so that a value not admitted here is still built once per compilation.
    """

    def __init__(
        self,
        maxsize: int = 8192,
        max_bytes: int = DEFAULT_CACHE_BYTES,
        admit_bytes: int = ADMIT_BYTES,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be positive")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if admit_bytes < 0:
            raise ValueError("admit_bytes must not be negative")
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self.admit_bytes = admit_bytes
        self.nbytes = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._asked: set[int] = set()  # hashes of keys built once and not kept
        self._entries = 0  # entries numbered as stored, for what their automata derive later
        self._key_of: dict[int, Hashable] = {}
        self._entry_of: dict[Hashable, int] = {}
        self._parent: AutomataCache | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def session(self) -> AutomataCache:
        """A cache for one compilation, in front of this one: it keeps every value it hands
        out until it is dropped (unbounded: one compilation's automata, bounded by its
        :class:`~corral.limits.Limits`), and asks this cache for the others. Not shared
        between threads."""
        front = AutomataCache(self.maxsize, self.max_bytes, self.admit_bytes)
        front._parent = self
        return front

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value stored under ``key``, built by ``build()`` on a miss and stored (a large
        one from its second build: ``admit_bytes``)."""
        parent = self._parent
        if parent is not None:  # a session: its own values first
            mine = self._data.get(key, _GONE)
            if mine is not _GONE:
                return cast("T", mine)
            got = parent.get_or_build(key, build)
            self._data[key] = got
            return got
        with self._lock:
            value = self._data.get(key, _GONE)
            if value is not _GONE:
                self._data.move_to_end(key)
                self.hits += 1
                return cast("T", value)
            self.misses += 1
        built = build()
        with self._lock:
            if key in self._data:
                stored: T = self._data[key]
                return stored
            key_bytes = held_bytes(key)
            size = _ENTRY_OVERHEAD + key_bytes + held_bytes(built)
            if size > self.admit_bytes:
                mark = hash(key)
                if mark not in self._asked:  # the first build: not kept (yet)
                    if len(self._asked) >= self.maxsize:
                        self._asked.clear()
                    self._asked.add(mark)
                    return built
                self._asked.discard(mark)
            self._entries += 1
            self._key_of[self._entries] = key
            self._entry_of[key] = self._entries
            _shrink(built, _Owner(weakref.ref(self), self._entries))
            size = _ENTRY_OVERHEAD + key_bytes + held_bytes(built)
            self._data[key] = built
            self._sizes[key] = size
            self.nbytes += size
            while len(self._data) > self.maxsize:
                self._drop_oldest()
        return built

    def _grew(self, entry: int, nbytes: int) -> None:
        """An automaton of the entry numbered ``entry`` kept ``nbytes`` more
        (:class:`_Owner`); nothing if the entry is gone."""
        with self._lock:
            key = self._key_of.get(entry, _GONE)
            if key is not _GONE:
                self._sizes[key] += nbytes
                self.nbytes += nbytes

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
        self._key_of.pop(self._entry_of.pop(old), None)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._data.clear()
            self._sizes.clear()
            self._asked.clear()
            self._key_of.clear()
            self._entry_of.clear()
            self.nbytes = 0
