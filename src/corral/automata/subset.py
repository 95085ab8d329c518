"""The subset construction (Rabin & Scott 1959): a byte DFA from a Thompson NFA.

The NFA (:class:`corral.automata.regex._Builder`) has ε-edges and byte-range edges. The bytes
are cut into intervals that no edge range splits, so the work is per interval, not per byte.
DFA state 0 is the empty set (dead), 1 the ε-closure of the initial state; the others are
numbered as a breadth-first search meets them, each state's intervals taken in increasing
order, so the Python specification (:func:`determinize_py`) and the C kernel
(``_native.subset_construct``, :func:`determinize_native`) give the same table, state for state.
"""

from __future__ import annotations

import itertools

import numpy as np

from corral.automata.native import native_function
from corral.errors import DeadlineExceeded, GrammarError
from corral.limits import Budget, limits_of

__all__ = ["determinize", "determinize_native", "determinize_py"]

Edges = list[list[tuple[int, int, int]]]
"""Per NFA state, its byte edges ``(lo, hi, target)`` (bytes ``lo..hi`` inclusive)."""

_NATIVE = native_function("subset_construct")
_TOO_LARGE, _DEADLINE = -2, -3


def _intervals(edges: Edges) -> tuple[list[int], list[list[tuple[int, int, int]]]]:
    """The interval cuts (0, 256 and every edge's bounds) and each state's edges over them:
    ``(k0, k1, target)``, the edge reading intervals ``k0 .. k1 - 1``."""
    cuts = sorted({0, 256} | {x for out in edges for lo, hi, _ in out for x in (lo, hi + 1)})
    first = {c: k for k, c in enumerate(cuts)}
    return cuts, [[(first[lo], first[hi + 1], t) for lo, hi, t in out] for out in edges]


def _closure(eps: list[list[int]], states: set[int]) -> frozenset[int]:
    todo = list(states)
    seen = set(states)
    while todo:
        for t in eps[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return frozenset(seen)


def _too_large(what: str, max_states: int) -> GrammarError:
    return GrammarError(f"{what}: regex automaton exceeds {max_states} states")


def determinize_py(
    eps: list[list[int]], edges: Edges, initial: int, final: int, what: str,
    budget: Budget | None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The DFA's ``(n, 256)`` int32 table and accepting flags (module docstring).

    Raises
    ------
    GrammarError
        Past ``limits.max_dfa_states`` states.
    DeadlineExceeded
        Past ``budget``'s deadline (checked every 64 states).
    """
    max_states = limits_of(budget).max_dfa_states
    start = _closure(eps, {initial})
    ids: dict[frozenset[int], int] = {frozenset(): 0, start: 1}
    order: list[frozenset[int]] = [frozenset(), start]
    rows: list[list[int]] = [[0] * 256]
    cuts, edge_spans = _intervals(edges)
    spans = list(itertools.pairwise(cuts))
    i = 1
    while i < len(order):
        if i & 63 == 0 and budget is not None:
            budget.check()
        targets: dict[int, set[int]] = {}
        for s in order[i]:
            for k0, k1, t in edge_spans[s]:
                for k in range(k0, k1):
                    targets.setdefault(k, set()).add(t)
        row = [0] * 256
        cache: dict[frozenset[int], int] = {}
        for k in sorted(targets):
            raw = frozenset(targets[k])
            sid = cache.get(raw)
            if sid is None:
                key = _closure(eps, targets[k])
                sid = ids.get(key)
                if sid is None:
                    sid = len(order)
                    if sid > max_states:
                        raise _too_large(what, max_states)
                    ids[key] = sid
                    order.append(key)
                cache[raw] = sid
            lo, hi = spans[k]
            row[lo:hi] = [sid] * (hi - lo)
        rows.append(row)
        i += 1
    return np.array(rows, dtype=np.int32), np.array([final in st for st in order], dtype=bool)


def determinize_native(
    eps: list[list[int]], edges: Edges, initial: int, final: int, what: str,
    budget: Budget | None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """:func:`determinize_py` in C (the GIL released); the same table and flags.

    Raises
    ------
    ImportError
        When the native extension is not built.
    GrammarError, DeadlineExceeded
        As :func:`determinize_py`.
    """
    if _NATIVE is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    cuts, edge_spans = _intervals(edges)
    flat = np.array([e for out in edge_spans for e in out], dtype=np.int32).reshape(-1, 3)
    k0, k1, tgt = (np.ascontiguousarray(flat[:, j]) for j in range(3))
    eps_ptr = np.zeros(len(eps) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in eps], out=eps_ptr[1:])
    edge_ptr = np.zeros(len(edges) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in edges], out=edge_ptr[1:])
    count = int(eps_ptr[-1])
    eps_ids = np.fromiter(itertools.chain.from_iterable(eps), dtype=np.int32, count=count)
    max_states = limits_of(budget).max_dfa_states
    deadline = budget.deadline if budget is not None and budget.deadline is not None else -1.0
    got = _NATIVE(eps_ptr, eps_ids, edge_ptr, k0, k1, tgt, np.array(cuts, dtype=np.int32),
                  initial, final, max_states, deadline)  # fmt: skip
    if got == _TOO_LARGE:
        raise _too_large(what, max_states)
    if got == _DEADLINE:
        if budget is not None:
            budget.check()
        raise DeadlineExceeded(f"{what}: the regex automaton took past the deadline")
    table_b, acc_b, n = got
    table = np.frombuffer(table_b, dtype=np.int32).reshape(n, 256)
    return table, np.frombuffer(acc_b, dtype=bool)


def determinize(
    eps: list[list[int]], edges: Edges, initial: int, final: int, what: str,
    budget: Budget | None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The subset construction: native when the extension is built, else
    :func:`determinize_py`."""
    if _NATIVE is None:  # pragma: no cover - depends on the build
        return determinize_py(eps, edges, initial, final, what, budget)
    return determinize_native(eps, edges, initial, final, what, budget)
