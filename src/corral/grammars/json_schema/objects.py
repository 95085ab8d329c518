"""Object keywords as :class:`~corral.grammars.json_schema.algebra.ObjectSpec` values.

Validation 2020-12 §10.3.2 (``properties``, ``patternProperties``, ``additionalProperties``,
``propertyNames``) and §6.5 (``required``, ``min``/``maxProperties``, ``dependentRequired``),
Core §10.2.2.4 (``dependentSchemas``). The undeclared key space is partitioned into regions by
which ``patternProperties`` patterns match (one automaton product per pattern), so that a key
that matches several patterns obeys all their schemas. ``dependentRequired`` and
``dependentSchemas`` split a specification in two disjoint cases (the key absent / present), an
exact rewriting. Intersection merges specifications; complements are in :mod:`.complements`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from corral.automata.dfa import ByteDFA
from corral.automata.minimize import texts_complement_native
from corral.automata.ops import is_empty
from corral.grammars.json_schema.algebra import (
    FALSE,
    Conj,
    ObjectSpec,
    Prop,
    Refuse,
    Region,
    conj_and,
)
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.refs import join_pointer
from corral.grammars.json_schema.values import json_text, texts_dfa

__all__ = [
    "encode_key",
    "forbid",
    "key_in",
    "keys_except",
    "merge_objects",
    "names_dfa",
    "object_specs",
    "require",
    "set_bits",
    "witness_value",
]

MAX_REGIONS = 32
MAX_SPLITS = 256
"""Specifications of one dependency split or one complement of a union; more is refused."""
MAX_EXISTS = 8
"""Existential constraints (:class:`~.algebra.Exists`) on one specification: the emitter tracks
which are met, 2 ** n states per member count."""


def encode_key(name: str) -> bytes:
    """The canonical quoted JSON text of a key."""
    return json_text(name).encode("utf-8", "surrogatepass")


def key_in(dfa: ByteDFA, name: str) -> bool:
    """Whether the key ``name`` is in the (quoted-text) language of ``dfa``."""
    return dfa.matches(encode_key(name))


def names_dfa(ctx: SchemaContext, names: frozenset[str]) -> ByteDFA:
    """The automaton of exactly the quoted texts of ``names`` (memoised in ``ctx``)."""
    return ctx.memo(
        ("names", names),
        lambda: texts_dfa([encode_key(n) for n in sorted(names)], ctx.budget, "properties"),
    )


def witness_value(base: Conj, spec: ObjectSpec, met: int) -> Conj:
    """The value conjunction of a member that witnesses the constraints of ``spec.exists``
    whose indices are the set bits of ``met``: ``base`` and each of their values, lowest index
    first (the emitter and the serializer must build the same conjunction)."""
    out = base
    for j in set_bits(met):
        out = conj_and(out, spec.exists[j].value)
    return out


def set_bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of ``mask``, lowest first."""
    j = 0
    while mask >> j:
        if mask >> j & 1:
            yield j
        j += 1


def _by_name(props: tuple[Prop, ...]) -> dict[str, Prop]:
    """Properties by name, in order (the first of a name, as a scan finds it)."""
    out: dict[str, Prop] = {}
    for p in props:
        out.setdefault(p.name, p)
    return out


def _region_of(ctx: SchemaContext, spec: ObjectSpec, name: str) -> Region | None:
    for r in spec.regions:
        if ctx.key_in(r.keys, name):
            return r
    return None


def _value_of(
    ctx: SchemaContext, spec: ObjectSpec, name: str, declared: dict[str, Prop] | None = None
) -> tuple[Conj, bool] | None:
    """(value conjunction, required) of ``name`` in ``spec``; ``None`` if forbidden.
    ``declared``: ``spec``'s properties by name, when the caller has them."""
    if declared is None:
        declared = _by_name(spec.props)
    p = declared.get(name)
    if p is not None:
        return p.value, p.required
    r = _region_of(ctx, spec, name)
    return None if r is None else (r.value, False)


def _subtract(
    ctx: SchemaContext, regions: Iterable[Region], names: Iterable[str]
) -> tuple[Region, ...]:
    names = frozenset(names)
    if not names:
        return tuple(regions)
    out = []
    for r in regions:
        if r.keys is ctx.any_key():  # every key but the declared ones: the common case
            keys = keys_except(ctx, names)
        elif any(ctx.key_in(r.keys, n) for n in names):
            keys = ctx.dfa_minus(r.keys, names_dfa(ctx, names))
        else:
            keys = r.keys
        if not is_empty(keys):
            out.append(Region(keys, r.value))
    return tuple(out)


def keys_except(ctx: SchemaContext, names: frozenset[str]) -> ByteDFA:
    """Every key but ``names`` (memoised in ``ctx``): built in one native call, any key's
    product with the names' trie (:func:`~corral.automata.minimize.texts_complement_native`),
    else as any key minus :func:`names_dfa`; the same automaton either way."""

    def build() -> ByteDFA:
        anyk = ctx.any_key()
        _, classes, table = anyk.class_table()
        texts = [encode_key(n) for n in sorted(names)]
        if sum(len(t) for t in texts) + anyk.n_states + 2 <= ctx.budget.limits.max_dfa_states:
            ctx.budget.check()
            got = texts_complement_native(table, classes, anyk.accepting, texts)
            if got is not None:
                return ByteDFA.from_canonical(*got)
        return ctx.dfa_minus(anyk, names_dfa(ctx, names))

    return ctx.memo(("keys_except", names), build)


def forbid(ctx: SchemaContext, spec: ObjectSpec, name: str) -> ObjectSpec | None:
    """``spec`` restricted to objects without ``name``; ``None`` if that is empty."""
    props = []
    for p in spec.props:
        if p.name == name:
            if p.required:
                return None
            continue
        props.append(p)
    regions = _subtract(ctx, spec.regions, [name])
    return replace(spec, props=tuple(props), regions=regions)


def require(ctx: SchemaContext, spec: ObjectSpec, name: str) -> ObjectSpec | None:
    """``spec`` restricted to objects with ``name``; ``None`` if that is empty."""
    got = _value_of(ctx, spec, name)
    if got is None:
        return None
    if any(p.name == name for p in spec.props):
        props = tuple(replace(p, required=True) if p.name == name else p for p in spec.props)
        return replace(spec, props=props)
    props = (*spec.props, Prop(name, got[0], True))
    return replace(spec, props=props, regions=_subtract(ctx, spec.regions, [name]))


def merge_objects(ctx: SchemaContext, a: ObjectSpec, b: ObjectSpec) -> ObjectSpec | None:
    """The intersection of two specifications (``None`` when provably empty)."""
    if a.is_any(ctx.any_key()):
        return b
    if b.is_any(ctx.any_key()):
        return a
    in_a, in_b = _by_name(a.props), _by_name(b.props)
    names = [*in_a, *(n for n in in_b if n not in in_a)]
    props: list[Prop] = []
    for n in names:
        va, vb = _value_of(ctx, a, n, in_a), _value_of(ctx, b, n, in_b)
        if va is None or vb is None:
            if (va is not None and va[1]) or (vb is not None and vb[1]):
                return None
            continue
        props.append(Prop(n, conj_and(va[0], vb[0]), va[1] or vb[1]))
    regions: list[Region] = []
    declared = frozenset(names)
    for ra in a.regions:
        for rb in b.regions:
            keys = ctx.dfa_and(ra.keys, rb.keys)
            if is_empty(keys):
                continue
            regions.extend(_subtract(ctx, [Region(keys, conj_and(ra.value, rb.value))], declared))
            if len(regions) > MAX_REGIONS:
                raise Refuse("patternProperties", "too many overlapping key regions to merge")
    lo = max(a.min_props, b.min_props)
    hi = b.max_props if a.max_props is None else a.max_props
    if b.max_props is not None and hi is not None:
        hi = min(hi, b.max_props)
    if hi is not None and (hi < lo or sum(p.required for p in props) > hi):
        return None
    exists = tuple(dict.fromkeys(a.exists + b.exists))
    if len(exists) > MAX_EXISTS:
        raise Refuse("not", "too many members required by complements on one object")
    return ObjectSpec(tuple(props), tuple(regions), lo, hi, exists)


Lookup = Callable[[str], Any]
LangOf = Callable[[Conj], Any]


def object_specs(
    ctx: SchemaContext, node: dict[str, Any], ptr: str, draft: int,
    pattern_keys: Callable[[str], ByteDFA],
    names_lang: Callable[[str], ByteDFA], dependent: Callable[[str], list[ObjectSpec]],
    refuse: Callable[[str, str, str], None],
) -> list[ObjectSpec]:  # fmt: skip
    """The object specifications of one schema object's object keywords.

    ``pattern_keys(pattern)`` gives the key automaton of a pattern, ``names_lang(pointer)`` the
    key automaton of a ``propertyNames`` subschema, ``dependent(pointer)`` the object specs of a
    dependent schema; ``refuse(pointer, keyword, reason)`` records what cannot be enforced.
    """
    props_kw = node.get("properties", {})
    props_kw = props_kw if isinstance(props_kw, dict) else {}
    patterns: list[tuple[ByteDFA, str]] = []
    for pat in node.get("patternProperties", {}) or {}:
        try:
            patterns.append((pattern_keys(pat), join_pointer(ptr, "patternProperties", pat)))
        except Refuse as exc:
            refuse(ptr, "patternProperties", f"{pat!r}: {exc.reason}")
    addl = node.get("additionalProperties", True)
    addl_conj: Conj | None = None if addl is False else (
        () if addl is True else (join_pointer(ptr, "additionalProperties"),))  # fmt: skip
    required = [r for r in node.get("required", []) or [] if isinstance(r, str)]

    def value_for(name: str, base: Conj | None) -> Conj | None:
        extra = tuple(p for dfa, p in patterns if key_in(dfa, name))
        if base is None:
            if not extra:
                return addl_conj
            return extra
        return conj_and(base, extra)

    props: list[Prop] = []
    for name in props_kw:
        v = value_for(name, (join_pointer(ptr, "properties", name),))
        props.append(Prop(name, v if v is not None else FALSE, name in required))
    for name in dict.fromkeys(required):
        if name not in props_kw:
            v = value_for(name, None)
            if v is None:
                return []
            props.append(Prop(name, v, True))
    declared = [p.name for p in props]
    regions = list(_subtract(ctx, [Region(ctx.any_key(), ())], declared))
    for dfa, pp in patterns:
        nxt: list[Region] = []
        for r in regions:
            inside, outside = ctx.dfa_and(r.keys, dfa), ctx.dfa_minus(r.keys, dfa)
            if not is_empty(inside):
                nxt.append(Region(inside, (*r.value, pp)))
            if not is_empty(outside):
                nxt.append(Region(outside, r.value if r.value != () else ("@free",)))
        regions = nxt
        if len(regions) > MAX_REGIONS:
            raise Refuse("patternProperties", "too many overlapping patterns")
    final: list[Region] = []
    for r in regions:
        if r.value in ((), ("@free",)):
            if addl_conj is not None:
                final.append(Region(r.keys, addl_conj))
        else:
            final.append(Region(r.keys, tuple(v for v in r.value if v != "@free")))
    if "propertyNames" in node:
        pn = names_lang(join_pointer(ptr, "propertyNames"))
        final = [Region(k, r.value) for r in final
                 if not is_empty(k := ctx.dfa_and(r.keys, pn))]  # fmt: skip
        kept = []
        for p in props:
            if key_in(pn, p.name):
                kept.append(p)
            elif p.required:
                return []
        props = kept
    lo = node.get("minProperties", 0)
    hi = node.get("maxProperties")
    lo = int(lo) if isinstance(lo, (int, float)) and not isinstance(lo, bool) else 0
    hi = int(hi) if isinstance(hi, (int, float)) and not isinstance(hi, bool) else None
    if hi is not None and (hi < lo or sum(p.required for p in props) > hi):
        return []
    specs: list[ObjectSpec] = [ObjectSpec(tuple(props), tuple(final), lo, hi)]
    dep_req: dict[str, list[str]] = {}
    dep_sch: dict[str, str] = {}
    for kw in ("dependentRequired", "dependentSchemas", "dependencies"):
        deps = node.get(kw)
        if not isinstance(deps, dict):
            continue
        for key, val in deps.items():
            if isinstance(val, list):
                dep_req.setdefault(key, []).extend(v for v in val if isinstance(v, str))
            else:
                dep_sch[key] = join_pointer(ptr, kw, key)
    for key, names in dep_req.items():
        specs = _split(ctx, specs, key, _RequireAll(ctx, names))
    for key, sub in dep_sch.items():
        specs = _split(ctx, specs, key, _MergeWith(ctx, dependent, sub))
    return specs


class _RequireAll:
    def __init__(self, ctx: SchemaContext, names: list[str]) -> None:
        self.ctx = ctx
        self.names = names

    def __call__(self, spec: ObjectSpec) -> list[ObjectSpec]:
        return _require_all(self.ctx, spec, self.names)


class _MergeWith:
    def __init__(
        self, ctx: SchemaContext, dependent: Callable[[str], list[ObjectSpec]], ptr: str
    ) -> None:
        self.ctx = ctx
        self.dependent = dependent
        self.ptr = ptr

    def __call__(self, spec: ObjectSpec) -> list[ObjectSpec]:
        return _merge_all(self.ctx, spec, self.dependent(self.ptr))


def _require_all(ctx: SchemaContext, spec: ObjectSpec, names: list[str]) -> list[ObjectSpec]:
    cur: ObjectSpec | None = spec
    for n in names:
        if cur is None:
            return []
        cur = require(ctx, cur, n)
    return [] if cur is None else [cur]


def _merge_all(ctx: SchemaContext, spec: ObjectSpec, others: list[ObjectSpec]) -> list[ObjectSpec]:
    out = []
    for o in others:
        m = merge_objects(ctx, spec, o)
        if m is not None:
            out.append(m)
    return out


def _split(
    ctx: SchemaContext, specs: list[ObjectSpec], key: str,
    present: Callable[[ObjectSpec], list[ObjectSpec]],
) -> list[ObjectSpec]:  # fmt: skip
    out: list[ObjectSpec] = []
    for s in specs:
        absent = forbid(ctx, s, key)
        if absent is not None:
            out.append(absent)
        with_key = require(ctx, s, key)
        if with_key is not None:
            out.extend(present(with_key))
    if len(out) > MAX_SPLITS:
        raise Refuse("dependentRequired", "too many dependency combinations")
    return out
