"""Trimming and minimisation of byte automata.

States that cannot reach an accepting state (a search on the reversed edges) or that the
initial state cannot reach are merged into the dead state, then equivalent states are merged:
the coarsest partition of dead / live non-accepting / live accepting states that the
transitions respect. Bytes that act alike in every state form one column first (byte
equivalence classes), so the refinement works on a narrow table.

:func:`trim_and_minimize_py`, the specification, refines round by round (Moore 1956) to the
fixpoint; the C implementation (``corral._native.minimize``), which :func:`trim_and_minimize`
runs when the extension is built, reaches the same partition with Hopcroft's (1971) algorithm
in O(n · classes · log n), where Moore needs one round per link of a long chain (a counted
repetition). Both return the same table (``tests/unit/test_native_minimize.py``). Without the
extension, :func:`trim_and_minimize` stops Moore's rounds after :data:`MAX_MOORE_ROUNDS` on a
large automaton and keeps its live states unmerged: exact, not minimal, bounded in time.

:func:`bounded_classes` stops Moore's refinement after a given number of rounds: the states no
string of at most that many bytes tells apart (the native engine keys its cache of trie walks
by these classes). :func:`bounded_classes_py` runs the rounds as written; the C kernel
(``corral._native.bounded_classes``) looks only at the predecessors of the states that changed
block in the round before, as Hopcroft does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from corral.automata.native import native_function

__all__ = [
    "MAX_MOORE_ROUNDS",
    "bounded_classes",
    "bounded_classes_native",
    "bounded_classes_py",
    "co_reachable",
    "minimize_classes_native",
    "native_minimize_available",
    "reachable",
    "row_classes",
    "texts_complement_native",
    "texts_dfa_native",
    "trim_and_minimize",
    "trim_and_minimize_native",
    "trim_and_minimize_py",
]

MAX_MOORE_ROUNDS = 48
"""Rounds after which the pure-Python fallback stops refining a large automaton."""


def co_reachable(table: np.ndarray, accepting: np.ndarray) -> np.ndarray:
    """States from which an accepting state is reachable (search on the reversed edges)."""
    n = table.shape[0]
    src, col = np.nonzero(table)
    pairs = np.unique(src.astype(np.int64) * n + table[src, col])
    srcs, dsts = pairs // n, pairs % n
    order = np.argsort(dsts, kind="stable")
    preds = srcs[order].tolist()
    starts = np.searchsorted(dsts[order], np.arange(n + 1)).tolist()
    live = accepting.copy()
    live[0] = False
    todo = np.nonzero(live)[0].tolist()
    seen = live.tolist()
    while todo:
        t = todo.pop()
        for p in preds[starts[t] : starts[t + 1]]:
            if not seen[p] and p != 0:
                seen[p] = True
                todo.append(p)
    return np.array(seen, dtype=bool)


def row_classes(sig: np.ndarray, n_cls: int) -> np.ndarray:
    """Class ids of equal rows of ``sig`` (non-negative ints below ``n_cls``), exactly.

    Rows are packed losslessly into a few ``int64`` words and sorted with ``lexsort``, which is
    much faster than ``np.unique(axis=0)`` on wide rows.
    """
    bits = max(1, int(n_cls).bit_length())
    per = max(1, 63 // bits)
    words = []
    for start in range(0, sig.shape[1], per):
        w = np.zeros(sig.shape[0], dtype=np.int64)
        for col in range(start, min(start + per, sig.shape[1])):
            w = (w << bits) | sig[:, col].astype(np.int64)
        words.append(w)
    order = np.lexsort(words[::-1])
    packed = np.stack(words, axis=1)[order]
    change = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        change[1:] = (packed[1:] != packed[:-1]).any(axis=1)
    ranks = np.cumsum(change) - 1
    out = np.empty(len(order), dtype=np.int64)
    out[order] = ranks
    return out


_NATIVE_MINIMIZE = native_function("minimize")
_NATIVE_BOUNDED = native_function("bounded_classes")


def bounded_classes(table: np.ndarray, accepting: np.ndarray, rounds: int) -> np.ndarray:
    """Blocks of the states of a trimmed DFA after ``rounds`` rounds of Moore's refinement
    from dead / accepting / other (or at its fixpoint if sooner): states share a block when
    no string of at most ``rounds`` symbols tells them apart.

    Parameters
    ----------
    table:
        ``(n, width)`` next states in ``[0, n)``, state 0 dead (columns: bytes or byte
        classes).
    accepting:
        ``bool`` ``(n,)``.
    rounds:
        Non-negative round count.

    Returns
    -------
    numpy.ndarray
        ``int64`` ``(n,)`` block numbers, equal exactly for states in one block (the numbers
        themselves differ between the native kernel and :func:`bounded_classes_py`).
    """
    if _NATIVE_BOUNDED is None or table.shape[0] < 2:  # pragma: no cover - depends on the build
        return bounded_classes_py(table, accepting, rounds)
    return bounded_classes_native(table, accepting, rounds)


def bounded_classes_native(table: np.ndarray, accepting: np.ndarray, rounds: int) -> np.ndarray:
    """:func:`bounded_classes_py` in C (the GIL released): the same blocks, other numbers.

    Raises
    ------
    ImportError
        When the native extension is not built.
    ValueError
        For a table of fewer than two states, more than 256 columns, or an entry outside
        ``[0, n)``; a negative ``rounds``.
    """
    if _NATIVE_BOUNDED is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    n, width = (int(x) for x in table.shape)
    flat = np.ascontiguousarray(table, dtype=np.int32)
    acc = np.ascontiguousarray(accepting, dtype=np.uint8)
    out = _NATIVE_BOUNDED(flat, n, width, acc, int(rounds))
    return np.frombuffer(out, dtype=np.int32).astype(np.int64)


def bounded_classes_py(table: np.ndarray, accepting: np.ndarray, rounds: int) -> np.ndarray:
    """The specification of :func:`bounded_classes`: Moore's rounds as written, each one
    splitting blocks by (own block, successors' blocks), until ``rounds`` rounds or a round
    that splits nothing."""
    cls = np.where(np.asarray(accepting, dtype=bool), 1, 2).astype(np.int64)
    cls[0] = 0
    _, cls = np.unique(cls, return_inverse=True)
    cls = cls.reshape(-1)
    n_cls = int(cls.max()) + 1
    for _ in range(rounds):
        sig = np.concatenate([cls[:, None], cls[table]], axis=1)
        new_cls = row_classes(sig, n_cls)
        new_n = int(new_cls.max()) + 1
        cls = new_cls
        if new_n == n_cls:
            break
        n_cls = new_n
    return cls


def native_minimize_available() -> bool:
    """Whether :func:`trim_and_minimize_native` can run (the extension is built)."""
    return _NATIVE_MINIMIZE is not None


def reachable(table: np.ndarray) -> np.ndarray:
    """``bool`` ``(n,)``: the states other than 0 reachable from state 1 (a depth-first search
    over the distinct edges)."""
    n = table.shape[0]
    src, col = np.nonzero(table)
    pairs = np.unique(src.astype(np.int64) * n + table[src, col])
    starts = np.searchsorted(pairs // n, np.arange(n + 1)).tolist()
    succs = (pairs % n).tolist()
    seen = [False] * n
    todo = [1] if n > 1 else []
    for s in todo:
        seen[s] = True
    while todo:
        s = todo.pop()
        for t in succs[starts[s] : starts[s + 1]]:
            if not seen[t]:
                seen[t] = True
                todo.append(t)
    return np.array(seen, dtype=bool)


def trim_and_minimize(table: np.ndarray, accepting: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trim (dead-end states to 0) and minimise a raw table; state 0 dead, 1 initial. Native
    when the extension is built (:func:`trim_and_minimize_native`)."""
    if _NATIVE_MINIMIZE is None or table.shape[0] < 2:  # pragma: no cover - depends on the build
        return trim_and_minimize_py(table, accepting, MAX_MOORE_ROUNDS)
    return trim_and_minimize_native(table, accepting)


def trim_and_minimize_native(
    table: np.ndarray, accepting: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`trim_and_minimize_py` in C (the GIL released); the same table and flags.

    Raises
    ------
    ImportError
        When the native extension is not built.
    ValueError
        For a table with fewer than 2 states or a next state out of range.
    """
    if _NATIVE_MINIMIZE is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    t, a, n = _NATIVE_MINIMIZE(
        np.ascontiguousarray(table, dtype=np.int32),
        np.ascontiguousarray(accepting, dtype=bool),
    )
    new_table = np.frombuffer(t, dtype=np.int32).reshape(n, 256)  # a bytearray: writable
    new_acc = np.frombuffer(a, dtype=bool).copy()
    return new_table, new_acc


_NATIVE_MINIMIZE_CLASSES = native_function("minimize_classes")


def _unpack(
    got: tuple[bytearray, bytes, int, bytes, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A native minimisation's ``(table, classes, width, accepting, n_states)`` as arrays:
    the ``(n_states, width)`` int32 table (over the returned bytearray, writable), the
    ``uint8`` class of each byte and the ``bool`` acceptance flags."""
    t, c, w, a, m = got
    table = np.frombuffer(t, dtype=np.int32).reshape(m, w)
    return table, np.frombuffer(c, dtype=np.uint8).copy(), np.frombuffer(a, dtype=bool).copy()


_NATIVE_TEXTS = native_function("texts_dfa")


def texts_dfa_native(
    texts: Sequence[bytes],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The minimal automaton of exactly ``texts`` (at least one), in C: their trie over the
    bytes they use, minimised (an acyclic automaton: Revuz's linear pass), as
    :func:`minimize_classes_native` returns it; ``None`` when the extension is not built.

    The twin is :func:`corral.grammars.json_schema.values.texts_dfa_py`.
    """
    if _NATIVE_TEXTS is None:  # pragma: no cover - depends on the build
        return None
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    return _unpack(_NATIVE_TEXTS(b"".join(texts), ends))


def minimize_classes_native(
    table: np.ndarray, byte_col: np.ndarray | None, accepting: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`trim_and_minimize` of a table given over columns (``byte_col[b]``: byte ``b``'s
    column; ``None``: a full ``(n, 256)`` table), in C, without widening it to 256 columns.

    Returns
    -------
    table, classes, accepting:
        The minimised ``int32`` table over its own byte classes ``(n_states, width)``, the
        ``uint8`` class of each byte (classes of equal columns of the full minimised table,
        numbered by first byte) and the acceptance flags: the full table is
        ``table[:, classes]``, equal to :func:`trim_and_minimize_py`'s.

    Raises
    ------
    ImportError
        When the native extension is not built.
    ValueError
        For fewer than two states, more than 256 columns, an entry outside ``[0, n)`` or a
        column outside ``[0, width)``.
    """
    if _NATIVE_MINIMIZE_CLASSES is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    n, width = (int(x) for x in table.shape)
    colmap = None
    if byte_col is not None:
        cols = np.asarray(byte_col)
        if cols.shape != (256,) or cols.min() < 0 or cols.max() >= width:
            raise ValueError(f"byte_col must give 256 columns in [0, {width})")
        colmap = cols.astype(np.uint8).tobytes()
    return _unpack(_NATIVE_MINIMIZE_CLASSES(
        np.ascontiguousarray(table, dtype=np.int32), n, width, colmap,
        np.ascontiguousarray(accepting, dtype=np.uint8),
    ))  # fmt: skip


_NATIVE_TEXTS_COMPLEMENT = native_function("texts_complement")


def texts_complement_native(
    table: np.ndarray, classes: np.ndarray, accepting: np.ndarray, texts: Sequence[bytes]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The minimal automaton of the language of K (an ``(n, width)`` int32 table over its
    byte classes, the ``uint8`` class of each byte, the acceptance flags) minus ``texts`` (at
    least one), in C: K's product with the texts' trie built directly and minimised, as
    :func:`minimize_classes_native` returns it; ``None`` when the extension is not built.

    The twin is ``difference(K, texts_dfa(texts))`` (:mod:`corral.automata.ops`).
    """
    if _NATIVE_TEXTS_COMPLEMENT is None:  # pragma: no cover - depends on the build
        return None
    n, width = (int(x) for x in table.shape)
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    return _unpack(_NATIVE_TEXTS_COMPLEMENT(
        np.ascontiguousarray(table, dtype=np.int32), n, width,
        np.ascontiguousarray(classes, dtype=np.uint8).tobytes(),
        np.ascontiguousarray(accepting, dtype=np.uint8).tobytes(), b"".join(texts), ends,
    ))  # fmt: skip


def trim_and_minimize_py(
    table: np.ndarray, accepting: np.ndarray, max_rounds: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Trim (dead-end states to 0) and minimise a raw table; state 0 dead, 1 initial (the
    specification of :func:`trim_and_minimize`). With ``max_rounds``, an automaton of more
    than ``2 * max_rounds`` states still splitting after that many rounds keeps every live
    state on its own (the fallback without the extension)."""
    n = table.shape[0]
    live = co_reachable(table, accepting) & reachable(table)
    table = np.where(live[table], table, 0)
    table[~live] = 0
    # Moore partition refinement: dead, then accepting / non-accepting
    cls = np.where(live, np.where(accepting, 2, 1), 0).astype(np.int64)
    cls[0] = 0
    _, cls = np.unique(cls, return_inverse=True)
    cls = cls.reshape(-1)
    n_cls = int(cls.max()) + 1
    # bytes that act alike in every state form one column (byte equivalence classes)
    col_cls = row_classes(table.T, n)
    _, col_idx = np.unique(col_cls, return_index=True)
    reduced = table[:, np.sort(col_idx)]
    rounds = 0
    while True:
        sig = np.concatenate([cls[:, None], cls[reduced]], axis=1)
        new_cls = row_classes(sig, n_cls)
        new_n = int(new_cls.max()) + 1
        if new_n == n_cls:
            break
        cls, n_cls = new_cls, new_n
        rounds += 1
        if max_rounds is not None and rounds > max_rounds and n > 2 * max_rounds:
            # Long chains (counted repetitions) need one round per link: keep the trimmed
            # automaton unminimised instead (every live state its own class); still exact.
            _, cls = np.unique(np.where(live, np.arange(n), 0), return_inverse=True)
            cls = cls.reshape(-1)
            n_cls = int(cls.max()) + 1
            break
    # renumber: dead -> 0, initial -> 1, others in order of first appearance
    remap = np.full(n_cls, -1, dtype=np.int64)
    remap[cls[0]] = 0
    nxt = 1
    if remap[cls[1]] < 0:
        remap[cls[1]] = 1
        nxt = 2
    for s in range(n):
        c = cls[s]
        if remap[c] < 0:
            remap[c] = nxt
            nxt += 1
    new_table = np.zeros((nxt, 256), dtype=np.int32)
    new_acc = np.zeros(nxt, dtype=bool)
    for s in range(n):
        r = remap[cls[s]]
        new_table[r] = remap[cls[table[s]]]
        new_acc[r] = accepting[s] and live[s]
    if remap[cls[1]] == 0:  # the initial state is dead: empty language
        new_table = np.zeros((2, 256), dtype=np.int32)
        new_acc = np.zeros(2, dtype=bool)
    return new_table, new_acc
