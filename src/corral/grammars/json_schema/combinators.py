"""Combinators: ``anyOf``, ``oneOf``, ``not``, ``if``/``then``/``else``.

JSON Schema Core 2020-12 §10.2.1. ``anyOf`` is a union of languages; ``not`` a complement
(:meth:`LangBuilder.not_`); ``if``/``then``/``else`` the union (if ∧ then) ∨ (¬if ∧ else);
``oneOf`` is computed exactly: on scalars as "in exactly one branch" with automaton products,
on objects and arrays as a plain union when the branches are provably disjoint (a required
property with disjoint value languages, disjoint size ranges, a name one branch requires and the
other forbids), else as the union over i of (branch i ∧ ¬ every other branch) when those
complements are expressible — otherwise refused, never treated as ``anyOf``.
"""

from __future__ import annotations

from typing import Any

from corral.automata.ops import empty_dfa, is_empty
from corral.errors import DeadlineExceeded, GrammarError
from corral.grammars.json_schema.algebra import (
    ArraySpec,
    Conj,
    Lang,
    ObjectSpec,
    Prop,
    Refuse,
)
from corral.grammars.json_schema.arrays import merge_arrays
from corral.grammars.json_schema.objects import merge_objects
from corral.grammars.json_schema.protocols import LangSource
from corral.grammars.json_schema.refs import join_pointer
from corral.grammars.json_schema.scalars import flat_long_strings
from corral.grammars.json_schema.values import json_text

__all__ = ["apply_combinators"]


def _branches(b: LangSource, node: dict[str, Any], ptr: str, kw: str) -> list[Lang] | None:
    items = node.get(kw)
    if not isinstance(items, list) or not items:
        return None
    return [b.lang_of((join_pointer(ptr, kw, i),)) for i in range(len(items))]


def apply_combinators(b: LangSource, node: dict[str, Any], ptr: str, result: Lang) -> Lang:
    for kw in ("anyOf", "oneOf", "not", "if"):
        if kw not in node:
            continue
        try:
            with b.complementing(ptr, kw):
                part = _combinator(b, node, ptr, kw)
        except Refuse as exc:
            b.refuse(ptr, kw, exc.reason)
            continue
        except DeadlineExceeded:
            raise
        except GrammarError as exc:
            b.refuse(ptr, kw, f"automaton too large: {exc}")
            continue
        if part is not None:
            b.note(ptr, kw, "enforced")
            result = b.and_at(result, part, ptr, kw)
    return result


def _combinator(b: LangSource, node: dict[str, Any], ptr: str, kw: str) -> Lang | None:
    if kw == "anyOf":
        langs = _branches(b, node, ptr, kw)
        if langs is None:
            return None
        out = Lang.empty()
        for lang in langs:
            out = b.ctx.lang_or(out, lang)
        return out
    if kw == "oneOf":
        with b.tracking() as dropped:
            langs = _branches(b, node, ptr, kw)
            one = None if langs is None else _one_of(b, langs)
        _check_exact(dropped, "oneOf", "a branch")
        return one
    if kw == "not":
        with b.tracking() as dropped:
            out = b.not_(b.lang_of((join_pointer(ptr, "not"),)))
        _check_exact(dropped, "not", "the negated schema")
        return out
    if "then" not in node and "else" not in node:
        b.note(ptr, "if", "ignored: no then/else")
        return None
    with b.tracking() as dropped:
        cond = b.lang_of((join_pointer(ptr, "if"),))
        not_cond = b.not_(cond)
    _check_exact(dropped, "if", "the condition")
    then = b.lang_of((join_pointer(ptr, "then"),)) if "then" in node else b.ctx.any_lang()
    other = b.lang_of((join_pointer(ptr, "else"),)) if "else" in node else b.ctx.any_lang()
    for k in ("then", "else"):
        if k in node:
            b.note(ptr, k, "enforced")
    return b.ctx.lang_or(b.and_(cond, then), b.and_(not_cond, other))


def _check_exact(dropped: list[bool], kw: str, what: str) -> None:
    """Refuse ``kw`` when a keyword under it was refused: dropping it would make ``what``
    larger, and the complement (or "exactly one") smaller than the schema says."""
    if dropped[0]:
        raise Refuse(kw, f"{what} has keywords corral does not enforce, so {kw} cannot be "
                     "computed exactly")  # fmt: skip


def _one_of(b: LangSource, langs: list[Lang]) -> Lang:
    longs = [i for i, lang in enumerate(langs) if lang.long_strings]
    if not longs:
        return _one_of_bounded(b, langs)
    strings = b.ctx.json_string_any()
    if len(longs) > 1 or any(
        lang.long_strings or not is_empty(b.ctx.dfa_and(strings, lang.scalar))
        for i, lang in enumerate(langs) if i != longs[0]
    ):  # fmt: skip
        flats = [flat_long_strings(b.ctx, lang) for lang in langs]
        if any(flat is None for flat in flats):
            raise Refuse("oneOf", "a branch has a very long string bound and another branch "
                         "allows strings")  # fmt: skip
        return _one_of_bounded(b, [flat for flat in flats if flat is not None])
    # no other branch has a string: the long strings are in exactly that one branch
    rest = _one_of_bounded(b, langs)
    return b.ctx.lang_or(rest, Lang(empty_dfa(), long_strings=langs[longs[0]].long_strings))


def _one_of_bounded(b: LangSource, langs: list[Lang]) -> Lang:
    once = langs[0].scalar
    twice = None
    for lang in langs[1:]:
        both = b.ctx.dfa_and(once, lang.scalar)
        twice = both if twice is None else b.ctx.dfa_or(twice, both)
        once = b.ctx.dfa_or(once, lang.scalar)
    scalar = once if twice is None else b.ctx.dfa_minus(once, twice)
    disjoint = all(
        _disjoint_structured(b, x, y) for i, x in enumerate(langs) for y in langs[i + 1 :]
    )
    if not disjoint:
        return b.ctx.lang_or(Lang(scalar), _exactly_one_structured(b, langs))
    out = Lang(scalar)
    for lang in langs:
        out = b.ctx.lang_or(out, Lang(out.scalar, lang.objects, lang.arrays))
    return out


def _exactly_one_structured(b: LangSource, langs: list[Lang]) -> Lang:
    """Objects/arrays in exactly one branch: the union over i of branch i minus the others
    (needs their complements; :class:`Refuse` when one is not expressible)."""
    structured = [Lang(empty_dfa(), lang.objects, lang.arrays) for lang in langs]
    try:
        negs = [b.not_(lang) for lang in structured]
    except Refuse as exc:
        raise Refuse("oneOf", f"branches overlap and {exc.reason}") from exc
    out = Lang.empty()
    for i, lang in enumerate(structured):
        part = lang
        for j, neg in enumerate(negs):
            if j != i and not part.is_empty():
                part = b.and_(part, neg)
        out = b.ctx.lang_or(out, part)
    return out


def _disjoint_structured(b: LangSource, first: Lang, second: Lang) -> bool:
    for x in first.objects:
        for y in second.objects:
            if not _objects_disjoint(b, x, y):
                return False
    for u in first.arrays:
        for v in second.arrays:
            if not _arrays_disjoint(b, u, v):
                return False
    return True


def _values_disjoint(b: LangSource, p: Conj, q: Conj) -> bool:
    try:
        both = b.and_(b.lang_of(p), b.lang_of(q))
    except Refuse:
        return False
    return both.is_empty()


def _objects_disjoint(b: LangSource, x: ObjectSpec, y: ObjectSpec) -> bool:
    if x.max_props is not None and y.min_props > x.max_props:
        return True
    if y.max_props is not None and x.min_props > y.max_props:
        return True
    return (
        merge_objects(b.ctx, x, y) is None
        or any(_prop_disjoint(b, p, y) for p in x.props if p.required)
        or any(_prop_disjoint(b, q, x) for q in y.props if q.required)
    )


def _prop_disjoint(b: LangSource, p: Prop, other: ObjectSpec) -> bool:
    for q in other.props:
        if q.name == p.name:
            return _values_disjoint(b, p.value, q.value)
    return not any(r.keys.matches(json_text(p.name).encode())
                   for r in other.regions)  # fmt: skip


def _arrays_disjoint(b: LangSource, u: ArraySpec, v: ArraySpec) -> bool:
    if u.max_items is not None and v.min_items > u.max_items:
        return True
    if v.max_items is not None and u.min_items > v.max_items:
        return True
    if merge_arrays(u, v) is None:
        return True
    n = min(len(u.prefix), len(v.prefix), max(u.min_items, v.min_items))
    return any(_values_disjoint(b, u.prefix[i], v.prefix[i]) for i in range(n))


# ------------------------------------------------------------------ plain keywords
