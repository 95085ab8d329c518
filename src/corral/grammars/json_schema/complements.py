"""Complements of object specifications (De Morgan's laws over their conjuncts).

An :class:`~corral.grammars.json_schema.algebra.ObjectSpec` is a conjunction: every required
property present, every declared property and every undeclared member (by region) with a value
in its language, no key outside the declared names and regions, a member count in range, a
witness for every :class:`~corral.grammars.json_schema.algebra.Exists`. Its complement is the
union of one specification per violated conjunct; a member "whose key is in a set and whose
value is outside a language" is an ``Exists``, and the complement of an ``Exists`` ("every
member with a key in the set has a value outside the language") is a region. The complement of
a union is the intersection (:func:`~corral.grammars.json_schema.objects.merge_objects`) of the
complements, multiplied out. Member values are negated through the builder's lazy complements
(:meth:`~corral.grammars.json_schema.builder.LangBuilder.negate`), so recursive schemas give
finite grammars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from corral.automata.ops import is_empty
from corral.grammars.json_schema.algebra import Conj, Exists, ObjectSpec, Prop, Refuse, Region
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.objects import (
    MAX_SPLITS,
    forbid,
    merge_objects,
    names_dfa,
    require,
)

__all__ = ["negate_objects"]


def negate_objects(
    ctx: SchemaContext, specs: list[ObjectSpec], negate: Callable[[Conj], Conj]
) -> list[ObjectSpec]:
    """Objects in none of ``specs`` (De Morgan), or :class:`Refuse` when not expressible."""
    if not specs:
        return [ctx.any_object()]
    if any(s.is_any(ctx.any_key()) for s in specs):
        return []
    result: list[ObjectSpec] | None = None
    for s in specs:
        neg = _negate_one(ctx, s, negate)
        if result is None:
            result = neg
            continue
        nxt = []
        for x in result:
            for y in neg:
                m = merge_objects(ctx, x, y)
                if m is not None:
                    nxt.append(m)
        if len(nxt) > MAX_SPLITS:
            raise Refuse("not", "negated object schema too large")
        result = nxt
    return result or []


def _negate_one(
    ctx: SchemaContext, s: ObjectSpec, negate: Callable[[Conj], Conj]
) -> list[ObjectSpec]:
    """The complement of one specification as a union (De Morgan over its conjuncts): a
    required property missing; a declared property with a value outside its language; a member
    count out of range; an undeclared member whose key is in a region and whose value is outside
    the region's language, or whose key is in no region (an :class:`Exists`); an existential
    constraint without witness, i.e. every member with a key in its set has a value outside its
    language (regions)."""
    base = ctx.any_object()
    any_key = ctx.any_key()
    out: list[ObjectSpec] = []
    for p in s.props:
        if p.required:
            f = forbid(ctx, base, p.name)
            if f is not None:
                out.append(f)
        if p.value != ():
            req = require(ctx, base, p.name)
            if req is not None:
                out.append(replace(req, props=(Prop(p.name, negate(p.value), True),)))
    if s.min_props > 0:
        out.append(replace(base, max_props=s.min_props - 1))
    if s.max_props is not None:
        out.append(replace(base, min_props=s.max_props + 1))
    covered = names_dfa(ctx, frozenset(p.name for p in s.props)) if s.props else None
    for region in s.regions:
        if region.value != ():
            out.append(replace(base, exists=(Exists(region.keys, negate(region.value)),)))
        covered = region.keys if covered is None else ctx.dfa_or(covered, region.keys)
    stray = any_key if covered is None else ctx.dfa_minus(any_key, covered)
    if not is_empty(stray):
        out.append(replace(base, exists=(Exists(stray, ()),)))
    for e in s.exists:
        inside, outside = ctx.dfa_and(any_key, e.keys), ctx.dfa_minus(any_key, e.keys)
        regions = [Region(inside, negate(e.value))] if not is_empty(inside) else []
        if not is_empty(outside):
            regions.append(Region(outside, ()))
        out.append(ObjectSpec(regions=tuple(regions)))
    return out
