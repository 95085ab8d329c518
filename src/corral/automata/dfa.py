"""Deterministic automata over bytes: the :class:`ByteDFA` every terminal, lexer and JSON Schema
value set is compiled to.

Conventions: state ``0`` is the dead (absorbing) state, state ``1`` the initial state; the full
table is a ``numpy.int32`` array of shape ``(n_states, 256)``. Automata are trimmed (states that
cannot reach an accepting state are merged into the dead state), so that *alive* means *can still
complete a lexeme*. Because matching is per byte, a UTF-8 character split across two tokens is
handled like any other byte sequence.

A :class:`ByteDFA` holds its table over its byte classes (bytes whose columns are equal): an
``(n_states, classes)`` table and the class of each byte, the full table made only when asked
for. JSON Schema automata have ten to thirty classes, so this is 10-25 times less memory
(the 3,137 automata a 300-schema Qwen run leaves in its cache: 26 MB over classes, 317 MB as
full tables), and the operations on them (products, minimisation, restriction) work on the
narrow table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import numpy as np

from corral.automata.minimize import row_classes
from corral.automata.native import native_function
from corral.limits import DEFAULT_LIMITS

__all__ = [
    "KEEP_FULL_UP_TO",
    "LAZY_ROWS_ABOVE",
    "MAX_DFA_STATES",
    "ByteDFA",
    "LazyRows",
    "column_classes",
    "column_classes_native",
    "column_classes_of",
    "column_classes_py",
    "row_lists",
]

T = TypeVar("T")
_MISSING = object()
_HASH_SEED = 0x5EED
_NATIVE_BYTE_CLASSES = native_function("byte_classes")
_NATIVE_COLUMN_CLASSES = native_function("column_classes")


def column_classes(table: np.ndarray) -> np.ndarray:
    """Classes of equal columns of an ``(n, 256)`` table, numbered by first column, exactly:
    ``int64`` array ``(256,)``. Native when the extension is built
    (:func:`column_classes_native`), else :func:`column_classes_py`."""
    if _NATIVE_BYTE_CLASSES is None:  # pragma: no cover - depends on the build
        return column_classes_py(table)
    return column_classes_native(table)


def column_classes_native(table: np.ndarray) -> np.ndarray:
    """:func:`column_classes_py` in C (the GIL released): one row-major pass hashes all 256
    columns, then each byte joins the first earlier byte whose hash and column are equal.

    Raises
    ------
    ImportError
        When the native extension is not built.
    ValueError
        For a table without rows or not of shape ``(n, 256)``.
    """
    if _NATIVE_BYTE_CLASSES is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    if table.ndim != 2 or table.shape[1] != 256:
        raise ValueError(f"table must have shape (n_states, 256), got {table.shape}")
    flat = np.ascontiguousarray(table, dtype=np.int32)
    out = _NATIVE_BYTE_CLASSES(flat, int(table.shape[0]))
    return np.frombuffer(out, dtype=np.uint8).astype(np.int64)


def column_classes_of(table: np.ndarray) -> np.ndarray:
    """:func:`column_classes` of a table of any width ``(n, width)``, ``1 <= width <= 256``:
    ``int64`` array ``(width,)``."""
    if _NATIVE_COLUMN_CLASSES is None:  # pragma: no cover - depends on the build
        return column_classes_py(table)
    n, width = (int(x) for x in table.shape)
    flat = np.ascontiguousarray(table, dtype=np.int32)
    out = _NATIVE_COLUMN_CLASSES(flat, n, width)
    return np.frombuffer(out, dtype=np.uint8).astype(np.int64)


def column_classes_py(table: np.ndarray) -> np.ndarray:
    """Classes of equal columns of an ``(n, 256)`` table, numbered by first column, exactly
    (the specification of :func:`column_classes`).

    Each column is hashed (a dot product with fixed pseudo-random 64-bit weights, wrapping),
    columns are grouped by hash, and every column is then compared with its group's first one;
    a collision (never seen) falls back to sorting the packed columns
    (:func:`corral.automata.minimize.row_classes`). O(n × 256), against O(n × 256 × log) and a
    large constant for ``np.unique(axis=...)`` on columns thousands of states long.
    """
    n = table.shape[0]
    weights = np.random.default_rng(_HASH_SEED).integers(1, 2**62, size=n, dtype=np.int64)
    with np.errstate(over="ignore"):
        hashes = weights @ table.astype(np.int64)
    _, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    reps = first[inverse.reshape(-1)]
    if not np.array_equal(table, table[:, reps]):  # pragma: no cover - a 64-bit collision
        classes = row_classes(table.T, n)
        _, first, inverse = np.unique(classes, return_index=True, return_inverse=True)
        reps = first[inverse.reshape(-1)]
    # renumber by first byte: class k is the k-th distinct representative in byte order
    uniq_reps, numbered = np.unique(reps, return_inverse=True)
    del uniq_reps
    out: np.ndarray = numbered.reshape(-1).astype(np.int64)
    return out


LAZY_ROWS_ABOVE = 4096

KEEP_FULL_UP_TO = 64
"""A :class:`ByteDFA` built from a full table of at most this many states keeps it (64 KiB at
most) and makes its class table on first use: most such automata (literals, small patterns)
are read whole and never compiled; larger ones are compressed at once and the full table
dropped."""


class LazyRows:
    """Row lists of a large table, converted on first use (a sequence of rows)."""

    def __init__(self, table: np.ndarray) -> None:
        self._table = table
        self._cache: dict[int, list[int]] = {}

    def __getitem__(self, state: int) -> list[int]:
        row = self._cache.get(state)
        if row is None:
            row = self._table[state].tolist()
            self._cache[state] = row
        return row

    def __len__(self) -> int:
        return int(self._table.shape[0])


def row_lists(table: np.ndarray) -> list[list[int]]:
    """``table`` as nested Python lists, or for more than :data:`LAZY_ROWS_ABOVE` states a
    :class:`LazyRows` that converts each row when first used."""
    if table.shape[0] > LAZY_ROWS_ABOVE:
        return LazyRows(table)  # type: ignore[return-value]
    rows: list[list[int]] = table.tolist()
    return rows


class _LazyClassRows(LazyRows):
    """Row lists of a table held over byte classes, each row widened when first used."""

    def __init__(self, small: np.ndarray, classes: np.ndarray) -> None:
        super().__init__(small)
        self._byte_class = classes

    def __getitem__(self, state: int) -> list[int]:
        row = self._cache.get(state)
        if row is None:
            row = self._table[state][self._byte_class].tolist()
            self._cache[state] = row
        return row


MAX_DFA_STATES = DEFAULT_LIMITS.max_dfa_states
"""Default bound on the states of a constructed automaton
(:attr:`corral.limits.Limits.max_dfa_states`)."""


def _canonical(small: np.ndarray, byte_col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, table)`` of a table given over columns (``byte_col``: each byte's column):
    equal columns merged, classes numbered by their first byte, the ``uint8`` class of each
    byte and the C-contiguous ``int32`` table over the classes."""
    col_cls = column_classes_of(small)
    key = col_cls[byte_col]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # classes by first byte
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    classes = rank[np.asarray(inverse).reshape(-1)].astype(np.uint8)
    reps = np.sort(first)  # the first byte of each class, in class order
    table = np.ascontiguousarray(small[:, byte_col[reps]], dtype=np.int32)
    return classes, table


def _held_apart(value: object, skip: ByteDFA, depth: int = 0) -> int:
    """Bytes of the automata in ``value`` (inside tuples and lists, two levels deep) other
    than ``skip``."""
    if isinstance(value, ByteDFA):
        return 0 if value is skip else value.nbytes
    if depth < 2 and isinstance(value, (tuple, list)):
        return sum(_held_apart(v, skip, depth + 1) for v in value if not isinstance(v, int))
    return 0


class ByteDFA:
    """A minimal, trimmed DFA over bytes (state 0 dead, state 1 initial), held over its byte
    classes.

    Parameters
    ----------
    table:
        ``int32`` array ``(n_states, 256)`` of next states. It is kept over its byte classes;
        a table of at most :data:`KEEP_FULL_UP_TO` states is also kept whole until
        :meth:`shrink` (:meth:`from_classes` builds from a class table directly).
    accepting:
        ``bool`` array ``(n_states,)``.

    Attributes
    ----------
    accepting:
        ``bool`` array ``(n_states,)``.
    rows:
        The full table as nested Python lists (fast scalar stepping).
    accept_list:
        ``accepting`` as a Python list.
    shared:
        Whether a cache keeps this automaton between compilations (:meth:`shrink`): results
        computed from shared automata alone may be kept there too.
    """

    _table: np.ndarray | None
    _small: np.ndarray | None
    _byte_class: np.ndarray | None

    def __init__(self, table: np.ndarray, accepting: np.ndarray) -> None:
        full = np.ascontiguousarray(table, dtype=np.int32)
        if full.ndim != 2 or full.shape[1] != 256:
            raise ValueError(f"table must have shape (n_states, 256), got {full.shape}")
        self._init(None, None, accepting, full.shape[0], full)
        if full.shape[0] > KEEP_FULL_UP_TO:
            self._compact()
            self._table = None

    def _init(
        self,
        classes: np.ndarray | None,
        small: np.ndarray | None,
        accepting: np.ndarray,
        n_states: int,
        full: np.ndarray | None = None,
    ) -> None:
        self._byte_class = classes
        self._small = small
        self._n = int(n_states)
        self.accepting: np.ndarray = np.asarray(accepting, dtype=bool)
        self._rows: list[list[int]] | None = None
        self._acc: list[bool] | None = None
        self._empty: bool | None = None
        self._used: int | None = None
        self._classes: np.ndarray | None = None
        self._out: list[tuple[int, ...]] | None = None
        self._table = full
        self._derived: dict[object, object] = {}
        self.shared = False
        self.on_derived: Callable[[int], None] | None = None

    def _compact(self) -> tuple[np.ndarray, np.ndarray]:
        """The class of each byte and the table over the classes (made from the full table on
        first use for a small automaton built from one)."""
        classes, small = self._byte_class, self._small
        if small is None or classes is None:
            full = self._table  # read once: another thread may shrink this automaton meanwhile
            assert full is not None
            got = column_classes(full)
            reps = np.unique(got, return_index=True)[1]  # the first byte of each class
            classes, small = got.astype(np.uint8), np.ascontiguousarray(full[:, reps])
            self._byte_class = classes  # set before the table: readers test the table first
            self._small = small
        return classes, small

    def shrink(self) -> None:
        """Hold only the table over byte classes (drop the full table, made again if asked
        for) and mark the automaton :attr:`shared`: what a cache that keeps automata between
        compilations does with those it stores."""
        self._compact()
        self._table = None
        self._rows = None
        self.shared = True

    @classmethod
    def from_classes(
        cls, table: np.ndarray, byte_col: np.ndarray, accepting: np.ndarray
    ) -> ByteDFA:
        """The automaton of an ``(n_states, width)`` table whose column ``byte_col[b]`` is
        byte ``b``'s (columns may repeat; they are merged, and classes numbered by first
        byte, so that equal tables give equal class tables)."""
        classes, small = _canonical(np.asarray(table), np.asarray(byte_col, dtype=np.int64))
        out = cls.__new__(cls)
        out._init(classes, small, accepting, small.shape[0])
        return out

    @classmethod
    def from_canonical(
        cls, table: np.ndarray, classes: np.ndarray, accepting: np.ndarray
    ) -> ByteDFA:
        """The automaton of a table over byte classes that are already those of equal columns,
        numbered by first byte (as the native minimisation returns them): nothing is checked
        or merged."""
        small = np.ascontiguousarray(table)
        out = cls.__new__(cls)
        out._init(np.asarray(classes, dtype=np.uint8), small, accepting, small.shape[0])
        return out

    @property
    def table(self) -> np.ndarray:
        """The full ``int32`` table ``(n_states, 256)``, made on first use and kept (the
        reference engine and infilling step it byte by byte); compilation works on
        :meth:`class_table` and never makes it."""
        full = self._table  # read once: another thread may shrink this automaton meanwhile
        if full is None:
            classes, small = self._compact()
            full = self._table = np.take(small, classes, axis=1)  # C order
        return full

    def row(self, state: int) -> np.ndarray:
        """The full ``(256,)`` row of ``state`` (without making the full table)."""
        full = self._table
        if full is not None:
            out: np.ndarray = full[state]
            return out
        classes, small = self._compact()
        out = small[state][classes]
        return out

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held (the table over classes, and the full table while held)."""
        held = self.accepting.nbytes
        small, full = self._small, self._table
        if small is not None:
            held += small.nbytes + 256
        return int(held + (full.nbytes if full is not None else 0))

    def derived(self, key: object, build: Callable[[], T]) -> T:
        """``build()``, computed once per ``key`` and kept with this automaton: things made
        from it alone (its restriction to a tokenizer's bytes), shared by every compilation
        that meets this same automaton (the JSON Schema compiler's cache hands out one object
        per content). Two threads may build at once; the first one kept wins. The bytes of the
        automata a new value holds (this one aside) are reported to :attr:`on_derived`, which
        the cache holding this automaton sets, so that they count against its bound."""
        got = self._derived.get(key, _MISSING)
        if got is _MISSING:
            built = build()
            got = self._derived.setdefault(key, built)
            report = self.on_derived
            if got is built and report is not None:
                report(_held_apart(built, self))
        return cast("T", got)

    @property
    def out_bytes(self) -> list[tuple[int, ...]]:
        """Per state, the bytes that do not lead to the dead state (computed once)."""
        if self._out is None:
            classes, small = self._compact()
            by_class = [np.flatnonzero(classes == c) for c in range(small.shape[1])]
            out: list[tuple[int, ...]] = []
            for row in small != 0:
                hit = np.flatnonzero(row).tolist()
                if not hit:
                    out.append(())
                elif len(hit) == 1:
                    out.append(tuple(by_class[hit[0]].tolist()))
                else:
                    out.append(tuple(sorted(np.concatenate([by_class[c] for c in hit]).tolist())))
            self._out = out
        return self._out

    def byte_classes(self) -> np.ndarray:
        """``int64`` array ``(256,)``: bytes with equal class act alike in every state;
        classes are numbered by their first byte (the classes of equal columns)."""
        if self._classes is None:
            self._classes = self._compact()[0].astype(np.int64)
        return self._classes

    def class_table(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(width, classes, table)``: the number of byte classes, the ``uint8`` class of each
        byte and the C-contiguous ``int32`` ``(n_states, width)`` table over the classes (one
        column per class, its first byte's), as the native engine takes them."""
        classes, small = self._compact()
        return int(small.shape[1]), classes, small

    @property
    def rows(self) -> list[list[int]]:
        """The full table as nested Python lists, for fast scalar stepping (computed once; for
        large automata each row is widened when first used)."""
        got = self._rows  # read once: another thread may shrink this automaton meanwhile
        if got is not None:
            return got
        rows: list[list[int]]
        if self._n > LAZY_ROWS_ABOVE:
            classes, small = self._compact()
            rows = _LazyClassRows(small, classes)  # type: ignore[assignment]
        else:
            rows = self.row_lists_now()
        self._rows = rows
        return rows

    def row_lists_now(self) -> list[list[int]]:
        """The full table as nested lists, made now (without keeping the full table)."""
        full = self._table
        if full is not None:
            got: list[list[int]] = full.tolist()
            return got
        classes, small = self._compact()
        wide: list[list[int]] = small[:, classes].tolist()
        return wide

    @property
    def accept_list(self) -> list[bool]:
        """``accepting`` as a Python list (computed once)."""
        if self._acc is None:
            self._acc = [bool(a) for a in self.accepting]
        return self._acc

    @property
    def used_bytes(self) -> int:
        """The bytes on which some state has a transition, as the bits of an ``int`` (bit
        ``b`` for byte ``b``; computed once)."""
        got = self._used
        if got is None:
            classes, small = self._compact()
            live: np.ndarray = np.asarray(small.any(axis=0))
            bits = np.packbits(live[classes], bitorder="little").tobytes()
            got = self._used = int.from_bytes(bits, "little")
        return got

    @property
    def accepts_nothing(self) -> bool:
        """Whether no string is accepted, the empty one included (computed once)."""
        got = self._empty
        if got is None:
            got = self._empty = not bool(self.accepting.any())
        return got

    @property
    def n_states(self) -> int:
        """Number of states, the dead state included."""
        return self._n

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` (non-empty) is a complete lexeme. Stepped on the row lists where
        they are made already, else on the table over byte classes, which makes none: the
        JSON Schema compiler asks this of shared automata, which would keep them."""
        rows = self._rows  # read once: another thread may shrink this automaton meanwhile
        s = 1
        if rows is not None:
            for b in data:
                s = rows[s][b]
                if s == 0:
                    return False
        else:
            classes, small = self._compact()
            step, cls = small.item, classes.tobytes()
            for b in data:
                s = step(s, cls[b])
                if s == 0:
                    return False
        return bool(data) and self.accept_list[s]
