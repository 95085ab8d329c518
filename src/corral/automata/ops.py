"""Boolean operations on byte automata: product construction, complement, concatenation.

The product construction of Rabin & Scott (1959) gives intersection, union and difference of two
:class:`~corral.automata.ByteDFA` (:mod:`corral.automata.product`); the result is trimmed and
minimised (:mod:`corral.automata.minimize`) like every automaton corral builds. Bytes are
grouped into classes that act alike in both operands, so the work per product state is
proportional to the number of classes, not to 256.
Products are bounded by :attr:`corral.limits.Limits.max_dfa_states` of the ``budget`` argument,
which also carries the deadline (``None``: none, default bounds).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.minimize import (
    minimize_classes_native,
    native_minimize_available,
    trim_and_minimize,
)
from corral.automata.product import product_table
from corral.automata.regex import compile_regex
from corral.errors import GrammarError
from corral.limits import Budget, limits_of

__all__ = [
    "concat",
    "difference",
    "empty_dfa",
    "finite_strings",
    "intersect",
    "is_empty",
    "minimize",
    "minimize_over",
    "union",
    "utf8_strings",
]


def minimize(table: np.ndarray, accepting: np.ndarray) -> ByteDFA:
    """Trim and minimise a raw table (state 0 dead, state 1 initial) into a :class:`ByteDFA`."""
    return minimize_over(table, None, accepting)


def minimize_over(table: np.ndarray, byte_col: np.ndarray | None, accepting: np.ndarray) -> ByteDFA:
    """Trim and minimise a raw table given over columns (``byte_col[b]``: byte ``b``'s column;
    ``None``: a full ``(n, 256)`` table) into a :class:`ByteDFA`. Natively the table is never
    widened to 256 columns (:func:`corral.automata.minimize.minimize_classes_native`)."""
    table = np.asarray(table, dtype=np.int32)
    accepting = np.asarray(accepting, dtype=bool)
    if native_minimize_available() and table.shape[0] >= 2:
        small, classes, acc = minimize_classes_native(table, byte_col, accepting)
        return ByteDFA.from_canonical(small, classes, acc)
    full = table if byte_col is None else table[:, np.asarray(byte_col, dtype=np.int64)]
    t, a = trim_and_minimize(full, accepting)  # pragma: no cover - depends on the build
    return ByteDFA(t, a)  # pragma: no cover - depends on the build


def empty_dfa() -> ByteDFA:
    """The automaton of the empty language."""
    return ByteDFA(np.zeros((2, 256), dtype=np.int32), np.zeros(2, dtype=bool))


def is_empty(dfa: ByteDFA) -> bool:
    """Whether ``dfa`` accepts nothing (not even the empty string)."""
    return dfa.accepts_nothing


def utf8_strings(budget: Budget | None = None) -> ByteDFA:
    """All well-formed UTF-8 strings, the empty string included."""
    return compile_regex("(?s:.*)", "utf8", budget=budget)


def _joint(a: ByteDFA, b: ByteDFA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The classes of bytes that act alike in both automata: each operand's table over them
    (``(n, C)``, one column per joint class) and the joint class of each byte."""
    _, ca, ta = a.class_table()
    _, cb, tb = b.class_table()
    joint = ca.astype(np.int64) * (int(cb.max()) + 1) + cb
    _, first, inverse = np.unique(joint, return_index=True, return_inverse=True)
    return (np.ascontiguousarray(ta[:, ca[first]]), np.ascontiguousarray(tb[:, cb[first]]),
            np.asarray(inverse).reshape(-1))  # fmt: skip


def _product(a: ByteDFA, b: ByteDFA, mode: str, budget: Budget | None) -> ByteDFA:
    """Reachable part of the product automaton (:mod:`corral.automata.product`) over the
    classes of bytes that act alike in both operands (``mode``: ``"and"``, ``"or"`` or
    ``"minus"``), trimmed and minimised."""
    ta, tb, byte_col = _joint(a, b)
    small, xs, ys = product_table(ta, tb, mode, limits_of(budget).max_dfa_states, budget)
    pa = a.accepting[xs]
    pb = b.accepting[ys]
    if mode == "and":
        accepting = pa & pb
    elif mode == "or":
        accepting = pa | pb
    else:
        accepting = pa & ~pb
    accepting[0] = False
    return minimize_over(small, byte_col, accepting)


def _first_bytes_overlap(a: ByteDFA, b: ByteDFA) -> bool:
    """Whether some byte leaves the initial state of both automata alive."""
    return bool(((a.row(1) != 0) & (b.row(1) != 0)).any())


def intersect(a: ByteDFA, b: ByteDFA, budget: Budget | None = None) -> ByteDFA:
    """Strings accepted by both ``a`` and ``b``."""
    if not (a.accept_list[1] and b.accept_list[1]) and not _first_bytes_overlap(a, b):
        return empty_dfa()
    return _product(a, b, "and", budget)


def _disjoint_union(a: ByteDFA, b: ByteDFA) -> ByteDFA:
    """Union of automata whose non-empty strings start with different bytes: the two state
    sets side by side under a new initial state (no product needed)."""
    na, nb = a.n_states, b.n_states
    sa, sb, byte_col = _joint(a, b)
    table = np.zeros((na + nb, sa.shape[1]), dtype=np.int32)
    ta = np.where(sa > 0, sa + 1, 0)
    tb = np.where(sb > 0, sb + na, 0)
    table[1] = ta[1] + tb[1]
    table[2 : na + 1] = ta[1:]
    table[na + 1 :] = tb[1:]
    accepting = np.zeros(na + nb, dtype=bool)
    accepting[1] = a.accepting[1] or b.accepting[1]
    accepting[2 : na + 1] = a.accepting[1:]
    accepting[na + 1 :] = b.accepting[1:]
    return ByteDFA.from_classes(table, byte_col, accepting)


def union(a: ByteDFA, b: ByteDFA, budget: Budget | None = None) -> ByteDFA:
    """Strings accepted by ``a`` or ``b``."""
    if not _first_bytes_overlap(a, b):
        return _disjoint_union(a, b)
    return _product(a, b, "or", budget)


def difference(a: ByteDFA, b: ByteDFA, budget: Budget | None = None) -> ByteDFA:
    """Strings accepted by ``a`` and not by ``b`` (complement of ``b`` relative to ``a``)."""
    return _product(a, b, "minus", budget)


def concat(parts: Iterable[ByteDFA], budget: Budget | None = None) -> ByteDFA:
    """The concatenation of the languages of ``parts``, by subset construction over their union."""
    dfas = list(parts)
    if not dfas:
        raise ValueError("concat of no automata")
    max_states = limits_of(budget).max_dfa_states

    # NFA states are (part index, state); epsilon from an accepting state of part k to the start
    # of part k+1.
    def close(states: frozenset[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        out = set(states)
        todo = list(states)
        while todo:
            k, s = todo.pop()
            if k + 1 < len(dfas) and dfas[k].accept_list[s] and (k + 1, 1) not in out:
                out.add((k + 1, 1))
                todo.append((k + 1, 1))
        return frozenset(out)

    start = close(frozenset({(0, 1)}))
    ids: dict[frozenset[tuple[int, int]], int] = {frozenset(): 0, start: 1}
    order = [frozenset(), start]
    rows: list[list[int]] = [[0] * 256]
    i = 1
    while i < len(order):
        if i & 63 == 0 and budget is not None:
            budget.check()
        cur = order[i]
        row = [0] * 256
        for byte in range(256):
            nxt = frozenset((k, t) for k, s in cur if (t := dfas[k].rows[s][byte]) != 0)
            if not nxt:
                continue
            key = close(nxt)
            sid = ids.get(key)
            if sid is None:
                sid = len(order)
                if sid > max_states:
                    raise GrammarError(f"automaton concatenation exceeds {max_states} states")
                ids[key] = sid
                order.append(key)
            row[byte] = sid
        rows.append(row)
        i += 1
    last = len(dfas) - 1
    accepting = np.array(
        [any(k == last and dfas[k].accept_list[s] for k, s in st) for st in order], dtype=bool
    )
    return minimize(np.array(rows, dtype=np.int32), accepting)


def finite_strings(dfa: ByteDFA, limit: int) -> list[bytes] | None:
    """All strings of ``dfa`` when its language is finite with at most ``limit`` strings.

    Returns ``None`` when the language is infinite or larger than ``limit``.
    """
    rows, acc = dfa.rows, dfa.accept_list
    out: list[bytes] = []
    on_path: set[int] = set()

    def walk(s: int, prefix: bytes) -> bool:
        if s in on_path:
            return False  # a cycle among live states: infinite language
        if acc[s]:
            out.append(prefix)
            if len(out) > limit:
                return False
        on_path.add(s)
        for byte in dfa.out_bytes[s]:
            if not walk(rows[s][byte], prefix + bytes([byte])):
                return False
        on_path.discard(s)
        return True

    if dfa.n_states <= 1 or is_empty(dfa):
        return []
    return out if walk(1, b"") else None
