"""The reachable product of two byte automata over their joint byte classes.

The product construction of Rabin & Scott (1959), restricted to the pairs of states reachable
from the pair of initial states and explored breadth-first one level at a time. Both operands
are given over the same byte classes (columns), so the work per pair is proportional to the
number of classes. Pairs found in a level are numbered in increasing order of their code
``x * nb + y``; state ``0`` is the dead pair, state ``1`` the initial pair. A transition is kept
when both sides live (``"and"``), either lives (``"or"``) or the first lives (``"minus"``).

:func:`product_table_py` is the specification; :func:`product_table_native` is the same in C
(``csrc/dfa_product.c``); :func:`product_table` picks the native one where it is built.
"""

from __future__ import annotations

import numpy as np

from corral.automata.native import native_function
from corral.errors import GrammarError
from corral.limits import Budget

__all__ = ["MODES", "product_table", "product_table_native", "product_table_py"]

MODES = {"and": 0, "or": 1, "minus": 2}
"""The modes of a product and their codes in the native kernel."""

_NATIVE_PRODUCT = native_function("dfa_product")

Product = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(table, xs, ys)``: the product's ``int32`` table over the classes and, per product state,
its state in each operand (``int64``)."""


def product_table(
    ta: np.ndarray, tb: np.ndarray, mode: str, max_states: int, budget: Budget | None
) -> Product:
    """The reachable product of class tables ``ta`` ``(na, C)`` and ``tb`` ``(nb, C)``.

    Raises
    ------
    GrammarError
        When a state id would exceed ``max_states``.
    """
    if _NATIVE_PRODUCT is None:  # pragma: no cover - depends on the build
        return product_table_py(ta, tb, mode, max_states, budget)
    if budget is not None:
        budget.check()
    return product_table_native(ta, tb, mode, max_states)


def product_table_native(ta: np.ndarray, tb: np.ndarray, mode: str, max_states: int) -> Product:
    """:func:`product_table_py` in C (the GIL released): the same table and pairs. The state
    bound stands in for the budget's deadline while it runs.

    Raises
    ------
    ImportError
        When the native extension is not built.
    GrammarError
        When a state id would exceed ``max_states``.
    ValueError
        For tables of other shapes, or with next states out of range.
    """
    if _NATIVE_PRODUCT is None:  # pragma: no cover - depends on the build
        raise ImportError("corral's native extension is not built")
    a = np.ascontiguousarray(ta, dtype=np.int32)
    b = np.ascontiguousarray(tb, dtype=np.int32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"tables must be (n, C) with the same C, got {a.shape} and {b.shape}")
    got = _NATIVE_PRODUCT(a, a.shape[0], b, b.shape[0], a.shape[1], MODES[mode], max_states)
    if got is None:
        raise GrammarError(f"automaton product exceeds {max_states} states")
    table, xs, ys, n = got
    return (
        np.frombuffer(table, dtype=np.int32).reshape(n, a.shape[1]).copy(),
        np.frombuffer(xs, dtype=np.int32).astype(np.int64),
        np.frombuffer(ys, dtype=np.int32).astype(np.int64),
    )


def product_table_py(
    ta: np.ndarray, tb: np.ndarray, mode: str, max_states: int, budget: Budget | None = None
) -> Product:
    """The reachable product (module docstring), level by level with array operations: the
    specification of :func:`product_table`."""
    ta = ta.astype(np.int64)
    tb = tb.astype(np.int64)
    nb = tb.shape[0]
    ids: dict[int, int] = {0: 0, nb + 1: 1}  # code x * nb + y -> product state
    xs: list[int] = [0, 1]
    ys: list[int] = [0, 1]
    rows: list[np.ndarray] = [np.zeros(ta.shape[1], dtype=np.int64)]
    frontier = np.array([1], dtype=np.int64)
    while len(frontier):
        if budget is not None:
            budget.check()
        fx = np.asarray(xs, dtype=np.int64)[frontier]
        fy = np.asarray(ys, dtype=np.int64)[frontier]
        nx, ny = ta[fx], tb[fy]  # (F, C)
        if mode == "and":
            keep = (nx != 0) & (ny != 0)
        elif mode == "or":
            keep = (nx != 0) | (ny != 0)
        else:
            keep = nx != 0
        codes = np.where(keep, nx * nb + ny, 0)
        uniq, inv = np.unique(codes, return_inverse=True)
        mapped = np.empty(len(uniq), dtype=np.int64)
        new: list[int] = []
        for k, code in enumerate(uniq.tolist()):
            sid = ids.get(code)
            if sid is None:
                sid = len(xs)
                if sid > max_states:
                    raise GrammarError(f"automaton product exceeds {max_states} states")
                ids[code] = sid
                xs.append(code // nb)
                ys.append(code % nb)
                new.append(sid)
            mapped[k] = sid
        block = mapped[inv.reshape(codes.shape)]
        rows.extend(block)
        frontier = np.asarray(new, dtype=np.int64)
    table = np.stack(rows).astype(np.int32)
    return table, np.asarray(xs, dtype=np.int64), np.asarray(ys, dtype=np.int64)
