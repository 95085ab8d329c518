"""Deterministic automata over bytes: the :class:`ByteDFA` every terminal, lexer and JSON Schema
value set is compiled to.

Conventions: state ``0`` is the dead (absorbing) state, state ``1`` the initial state; tables are
``numpy.int32`` arrays of shape ``(n_states, 256)``. Automata are trimmed (states that cannot reach
an accepting state are merged into the dead state), so that *alive* means *can still complete a
lexeme*. Because matching is per byte, a UTF-8 character split across two tokens is handled like
any other byte sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np

from corral.automata.minimize import row_classes
from corral.automata.native import native_function
from corral.limits import DEFAULT_LIMITS

__all__ = [
    "LAZY_ROWS_ABOVE",
    "MAX_DFA_STATES",
    "ByteDFA",
    "LazyRows",
    "column_classes",
    "column_classes_native",
    "column_classes_py",
    "row_lists",
]

T = TypeVar("T")
_MISSING = object()
_HASH_SEED = 0x5EED
_NATIVE_BYTE_CLASSES = native_function("byte_classes")


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


MAX_DFA_STATES = DEFAULT_LIMITS.max_dfa_states
"""Default bound on the states of a constructed automaton
(:attr:`corral.limits.Limits.max_dfa_states`)."""


@dataclass(eq=False)
class ByteDFA:
    """A minimal, trimmed DFA over bytes (state 0 dead, state 1 initial).

    Attributes
    ----------
    table:
        ``int32`` array ``(n_states, 256)`` of next states.
    accepting:
        ``bool`` array ``(n_states,)``.
    rows:
        ``table`` as nested Python lists (fast scalar stepping).
    accept_list:
        ``accepting`` as a Python list.
    """

    table: np.ndarray
    accepting: np.ndarray
    _rows: list[list[int]] | None = field(default=None, init=False, repr=False)
    _acc: list[bool] | None = field(default=None, init=False, repr=False)
    _classes: np.ndarray | None = field(default=None, init=False, repr=False)
    _out: list[tuple[int, ...]] | None = field(default=None, init=False, repr=False)
    _class_table: tuple[int, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )
    _derived: dict[object, object] = field(default_factory=dict, init=False, repr=False)

    def derived(self, key: object, build: Callable[[], T]) -> T:
        """``build()``, computed once per ``key`` and kept with this automaton: things made
        from it alone (its restriction to a tokenizer's bytes), shared by every compilation
        that meets this same automaton (the JSON Schema compiler's cache hands out one object
        per content). Two threads may build at once; the first one kept wins."""
        got = self._derived.get(key, _MISSING)
        if got is _MISSING:
            got = self._derived.setdefault(key, build())
        return cast("T", got)

    @property
    def out_bytes(self) -> list[tuple[int, ...]]:
        """Per state, the bytes that do not lead to the dead state (computed once)."""
        if self._out is None:
            src, col = np.nonzero(self.table)
            bounds = np.searchsorted(src, np.arange(self.n_states + 1)).tolist()
            cols = col.tolist()
            self._out = [tuple(cols[bounds[i] : bounds[i + 1]]) for i in range(self.n_states)]
        return self._out

    def byte_classes(self) -> np.ndarray:
        """``int64`` array ``(256,)``: bytes with equal class act alike in every state (cached);
        classes are numbered by their first byte."""
        if self._classes is None:
            self._classes = column_classes(self.table)
        return self._classes

    def class_table(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(width, classes, table)``: the number of byte classes, the ``uint8`` class of each
        byte and the C-contiguous ``int32`` ``(n_states, width)`` table over the classes (one
        column per class, its first byte's), as the native engine takes them (cached)."""
        if self._class_table is None:
            cls = self.byte_classes()
            reps = np.unique(cls, return_index=True)[1]  # the first byte of each class
            table = np.ascontiguousarray(self.table[:, reps], dtype=np.int32)
            self._class_table = (len(reps), cls.astype(np.uint8), table)
        return self._class_table

    @property
    def rows(self) -> list[list[int]]:
        """``table`` as nested Python lists, for fast scalar stepping (computed once; for large
        automata each row is converted when first used)."""
        if self._rows is None:
            rows = row_lists(self.table)
            self._rows = rows
            return rows
        return self._rows

    @property
    def accept_list(self) -> list[bool]:
        """``accepting`` as a Python list (computed once)."""
        if self._acc is None:
            self._acc = [bool(a) for a in self.accepting]
        return self._acc

    @property
    def n_states(self) -> int:
        """Number of states, the dead state included."""
        return int(self.table.shape[0])

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` (non-empty) is a complete lexeme."""
        s = 1
        for b in data:
            s = self.rows[s][b]
            if s == 0:
                return False
        return bool(data) and self.accept_list[s]
