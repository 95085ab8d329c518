"""Array keywords as :class:`~corral.grammars.json_schema.algebra.ArraySpec` values.

Validation 2020-12 §10.3.1 (``prefixItems``, ``items``, ``contains``) and §6.4 (``minItems``,
``maxItems``, ``minContains``, ``maxContains``, ``uniqueItems``), with the draft 4–2019-09 array
form of ``items`` and ``additionalItems``. Specifications intersect position by position;
negation follows De Morgan's laws (an array fails ``items: S`` exactly when some element is in
the complement of S, i.e. it satisfies ``contains: not S``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from corral.grammars.json_schema.algebra import ArraySpec, Conj, Refuse, conj_and
from corral.grammars.json_schema.refs import join_pointer

__all__ = ["MAX_UNIQUE", "array_spec", "merge_arrays", "negate_arrays"]

MAX_UNIQUE = 8
"""``uniqueItems`` over at most this many scalar texts is tracked by subsets in the grammar;
over more, by the matcher's run-time check (``docs/design/unique_items.md``)."""

MAX_SPECS = 64


def _count(node: dict[str, Any], key: str) -> int | None:
    v = node.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return int(v) if v == int(v) else None


def array_spec(node: dict[str, Any], ptr: str, draft: int) -> ArraySpec | None:
    """The specification of one schema object's array keywords (``None``: no array fits)."""
    prefix: list[Conj] = []
    items: Conj | None = ()
    raw_items = node.get("items")
    if isinstance(raw_items, list):  # draft 4-2019-09 tuple form
        prefix = [(join_pointer(ptr, "items", i),) for i in range(len(raw_items))]
        extra = node.get("additionalItems", True)
        items = None if extra is False else ((join_pointer(ptr, "additionalItems"),)
                                             if extra is not True else ())  # fmt: skip
    else:
        pi = node.get("prefixItems")
        if isinstance(pi, list) and draft >= 2020:
            prefix = [(join_pointer(ptr, "prefixItems", i),) for i in range(len(pi))]
        if raw_items is False:
            items = None
        elif isinstance(raw_items, dict):
            items = (join_pointer(ptr, "items"),)
    lo = _count(node, "minItems") or 0
    hi = _count(node, "maxItems")
    contains: tuple[tuple[Conj, int, int | None], ...] = ()
    if "contains" in node:
        cmin = _count(node, "minContains") if draft >= 2019 else None
        cmax = _count(node, "maxContains") if draft >= 2019 else None
        contains = (((join_pointer(ptr, "contains"),), 1 if cmin is None else cmin, cmax),)
    unique = node.get("uniqueItems") is True
    if items is None:
        hi = len(prefix) if hi is None else min(hi, len(prefix))
    if hi is not None and hi < lo:
        return None
    return ArraySpec(tuple(prefix), items, lo, hi, contains, unique)


def merge_arrays(a: ArraySpec, b: ArraySpec) -> ArraySpec | None:
    """The intersection of two specifications (``None`` when provably empty)."""
    if a.is_any():
        return b
    if b.is_any():
        return a
    n = max(len(a.prefix), len(b.prefix))
    prefix: list[Conj] = []
    hi = a.max_items if b.max_items is None else (
        b.max_items if a.max_items is None else min(a.max_items, b.max_items))  # fmt: skip
    for i in range(n):
        ea = a.prefix[i] if i < len(a.prefix) else a.items
        eb = b.prefix[i] if i < len(b.prefix) else b.items
        if ea is None or eb is None:
            hi = i if hi is None else min(hi, i)
            break
        prefix.append(conj_and(ea, eb))
    items = None if a.items is None or b.items is None else conj_and(a.items, b.items)
    if items is None:
        hi = len(prefix) if hi is None else min(hi, len(prefix))
    lo = max(a.min_items, b.min_items)
    if hi is not None and hi < lo:
        return None
    return ArraySpec(tuple(prefix), items, lo, hi, a.contains + b.contains, a.unique or b.unique)


def negate_arrays(specs: list[ArraySpec], negate: Callable[[Conj], Conj]) -> list[ArraySpec]:
    """Arrays in none of ``specs`` (De Morgan), or :class:`Refuse` when not expressible."""
    if not specs:
        return [ArraySpec()]
    if any(s.is_any() for s in specs):
        return []
    result: list[ArraySpec] | None = None
    for s in specs:
        neg = _negate_one(s, negate)
        if result is None:
            result = neg
            continue
        nxt = [m for x in result for y in neg if (m := merge_arrays(x, y)) is not None]
        if len(nxt) > MAX_SPECS:
            raise Refuse("not", "negated array schema too large")
        result = nxt
    return result or []


def _negate_one(s: ArraySpec, negate: Callable[[Conj], Conj]) -> list[ArraySpec]:
    if s.unique:
        raise Refuse("not", "cannot negate uniqueItems")
    out: list[ArraySpec] = []
    for i, p in enumerate(s.prefix):
        if p != ():
            out.append(ArraySpec(prefix=((),) * i + (negate(p),), min_items=i + 1))
    if s.items is None:
        out.append(ArraySpec(min_items=len(s.prefix) + 1))
    elif s.items != ():
        out.append(ArraySpec(contains=((negate(s.items), 1, None),), min_items=len(s.prefix) + 1,
                             prefix=((),) * len(s.prefix)))  # fmt: skip
    if s.min_items > 0:
        out.append(ArraySpec(max_items=s.min_items - 1))
    if s.max_items is not None:
        out.append(ArraySpec(min_items=s.max_items + 1))
    for c, cmin, cmax in s.contains:
        if cmax is not None:
            raise Refuse("not", "cannot negate maxContains")
        if cmin == 1:
            out.append(ArraySpec(items=negate(c)))
        elif cmin > 1:
            raise Refuse("not", "cannot negate minContains above 1")
    return [replace(x) for x in out]
