"""Schema → :class:`~corral.grammars.json_schema.lang.Lang`: the keyword semantics.

One pass over the schema graph, memoised per conjunction of subschemas (so that recursive
schemas terminate: member values stay lazy). ``$ref`` and ``allOf`` are flattened into one
conjunction (JSON Schema Core 2020-12 §10.2.1.1, §8.2.3.1); ``anyOf`` is a union, ``oneOf`` an
exactly-one combination, ``not`` a complement and ``if``/``then``/``else`` the union
(if ∧ then) ∨ (¬if ∧ else) — all on :class:`Lang` values, exact where
:mod:`corral.grammars.json_schema.lang` says so, refused otherwise. Where ``enum``/``const`` make
the language finite, each candidate is validated against the whole conjunction with
``jsonschema`` (so every keyword beside them is enforced exactly).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import replace
from typing import Any

from corral.constraint_engine.byte_dfa import DeadlineExceeded
from corral.constraint_engine.dfa_ops import empty_dfa, finite_strings
from corral.errors import GrammarError, SchemaIssue
from corral.grammars.json_schema import scalars
from corral.grammars.json_schema.arrays import array_spec, merge_arrays, negate_arrays
from corral.grammars.json_schema.keywords import ANNOTATIONS, ASSERTIONS, draft_of
from corral.grammars.json_schema.lang import (
    MAX_COUNT_STATES,
    ArraySpec,
    Conj,
    Lang,
    ObjectSpec,
    Prop,
    Refuse,
    all_scalars,
    dfa_and,
    dfa_minus,
    dfa_or,
    use_draft,
)
from corral.grammars.json_schema.objects import merge_objects, negate_objects, object_specs
from corral.grammars.json_schema.refs import RefError, Resolver, join_pointer

__all__ = ["CompileTimeout", "LangBuilder"]

MAX_SPECS = 64
MAX_UNIQUE = 8
_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


class CompileTimeout(DeadlineExceeded):
    """Compilation ran past its time bound."""


class LangBuilder:
    """Builds the :class:`Lang` of subschema conjunctions of one root schema.

    Parameters
    ----------
    root:
        The root schema.
    time_limit:
        Seconds after which compilation stops with :class:`~corral.errors.GrammarError`.
    """

    def __init__(self, root: Any, *, time_limit: float = 8.0) -> None:
        if not isinstance(root, (dict, bool)):
            raise GrammarError(
                f"a JSON Schema is an object or a boolean, not {type(root).__name__}"
            )
        self.draft = draft_of(root)
        try:
            self.resolver = Resolver(root, id_keyword="id" if self.draft <= 4 else "$id")
        except RefError as exc:
            raise GrammarError(str(exc)) from exc
        self.root = root
        meta = root.get("$schema") if isinstance(root, dict) else None
        if isinstance(meta, str) and not _KNOWN_META.match(meta):
            self.refuse("", "$schema", f"unknown meta-schema {meta!r}: its vocabularies "
                        "(what its keywords mean) cannot be known")  # fmt: skip
        self.deadline = time.monotonic() + time_limit
        self.memo: dict[Conj, Lang] = {}
        self.active: set[Conj] = set()
        self.synth: list[Lang] = []
        self.report: dict[tuple[str, str], str] = {}
        self.issues: list[SchemaIssue] = []
        self._validator: Any = None

    # ------------------------------------------------------------------ reporting
    def refuse(self, ptr: str, keyword: str, reason: str) -> None:
        """Record that ``keyword`` at ``ptr`` is not enforced."""
        if (ptr, keyword) not in self.report or not self.report[(ptr, keyword)].startswith("ref"):
            self.report[(ptr, keyword)] = f"refused: {reason}"
            self.issues.append(SchemaIssue(ptr, keyword, reason))

    def note(self, ptr: str, keyword: str, status: str) -> None:
        """Record what happens to ``keyword`` at ``ptr`` (a refusal is never overwritten)."""
        old = self.report.get((ptr, keyword))
        if old is None or (old == "enforced" and status != "enforced"):
            self.report[(ptr, keyword)] = status

    def _note_all(self, node: dict[str, Any], ptr: str, how: str = "enforced") -> None:
        for kw in node:
            if kw in ASSERTIONS:
                self.report.setdefault((ptr, kw), how)
            elif kw in ANNOTATIONS or kw.startswith("x-"):
                self.note(ptr, kw, "ignored: annotation")
            else:
                self.note(ptr, kw, "ignored: not a JSON Schema 2020-12 assertion keyword")

    # ------------------------------------------------------------------ synthesized values
    def synthesize(self, lang: Lang) -> Conj:
        """A conjunction naming a computed language."""
        self.synth.append(lang)
        return (f"@{len(self.synth) - 1}",)

    def negate(self, conj: Conj) -> Conj:
        """A conjunction for the complement of ``conj``'s language."""
        return self.synthesize(self.not_(self.lang_of(conj)))

    # ------------------------------------------------------------------ algebra
    def and_(self, a: Lang, b: Lang) -> Lang:
        """Intersection."""
        objs: list[ObjectSpec] = []
        for x in a.objects:
            for y in b.objects:
                m = merge_objects(x, y)
                if m is not None and m not in objs:
                    objs.append(m)
        arrs: list[ArraySpec] = []
        for u in a.arrays:
            for v in b.arrays:
                w = merge_arrays(u, v)
                if w is not None and w not in arrs:
                    arrs.append(w)
        if len(objs) > MAX_SPECS or len(arrs) > MAX_SPECS:
            raise Refuse("allOf", "too many combinations of alternatives")
        return Lang(dfa_and(a.scalar, b.scalar), objs, arrs)

    def not_(self, a: Lang) -> Lang:
        """Complement."""
        return Lang(
            dfa_minus(all_scalars(), a.scalar),
            negate_objects(a.objects, self.negate),
            negate_arrays(a.arrays, self.negate),
        )

    # ------------------------------------------------------------------ main entry
    def lang_of(self, conj: Conj) -> Lang:
        """The language of a conjunction of subschemas (memoised)."""
        got = self.memo.get(conj)
        if got is not None:
            return got
        if conj in self.active:
            raise Refuse("$ref", "reference cycle that does not go through an object or array")
        use_draft(self.draft)
        if time.monotonic() > self.deadline:
            raise CompileTimeout("JSON Schema compilation exceeded its time bound")
        self.active.add(conj)
        try:
            lang = self._build(conj)
        finally:
            self.active.discard(conj)
        self.memo[conj] = lang
        return lang

    def _expand(self, conj: Conj) -> list[tuple[Any, str]] | None:
        """Flatten ``$ref`` and ``allOf``; ``None`` if a ``false`` schema is among them."""
        out: list[tuple[Any, str]] = []
        seen: set[str] = set()
        for ptr in conj:
            if not self._expand_one(ptr, out, seen, set()):
                return None
        return out

    def _expand_one(self, ptr: str, out: list[tuple[Any, str]], seen: set[str],
                    path: set[str]) -> bool:  # fmt: skip
        if ptr in path:
            raise GrammarError(f"{ptr or '/'}: $ref/allOf cycle that consumes no input")
        if ptr in seen:
            return True
        seen.add(ptr)
        if ptr == "@F":
            return False
        if ptr.startswith("@"):
            out.append((None, ptr))
            return True
        node = self.resolver.get(ptr)
        if node is False:
            return False
        if not isinstance(node, dict):
            if node is not True:
                raise GrammarError(f"{ptr or '/'}: a schema must be an object or a boolean")
            return True
        dropped = _NOT_IN_DRAFT.get(self.draft, frozenset()).intersection(node)
        if dropped:
            for kw in dropped:
                self.note(ptr, kw, f"ignored: not a keyword of draft {self.draft}")
            node = {k: v for k, v in node.items() if k not in dropped}
        _check_shapes(node, ptr)
        more: list[str] = []
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                more.append(self.resolver.resolve(ref, ptr))
                self.note(ptr, "$ref", "enforced")
            except RefError as exc:
                self.refuse(ptr, "$ref", str(exc))
        if isinstance(ref, str) and self.draft <= 7:
            for kw in node:
                if kw != "$ref":
                    self.note(ptr, kw, "ignored: beside $ref (draft 7 and earlier)")
        else:
            for kw in ("$dynamicRef", "$recursiveRef", "unevaluatedProperties",
                       "unevaluatedItems"):  # fmt: skip
                if kw in node:
                    self.refuse(ptr, kw, "not supported")
            out.append((node, ptr))
            all_of = node.get("allOf")
            if isinstance(all_of, list):
                more.extend(join_pointer(ptr, "allOf", i) for i in range(len(all_of)))
                self.note(ptr, "allOf", "enforced")
        path.add(ptr)
        try:
            for m in more:
                if not self._expand_one(m, out, seen, path):
                    return False
        finally:
            path.discard(ptr)
        return True

    def _build(self, conj: Conj) -> Lang:
        nodes = self._expand(conj)
        if nodes is None:
            return Lang.empty()
        finite = [n for n, p in nodes if n is not None and ("enum" in n or "const" in n)]
        if finite:
            return self._finite(nodes)
        result = Lang.any()
        for node, ptr in nodes:
            part = self.synth[int(ptr[1:])] if node is None else self.plain(node, ptr)
            result = self._and_at(result, part, ptr, "allOf")
        for node, ptr in nodes:
            if node is not None and not result.is_empty():
                result = self._combinators(node, ptr, result)
        return result

    def _and_at(self, a: Lang, b: Lang, ptr: str, kw: str) -> Lang:
        try:
            return self.and_(a, b)
        except Refuse as exc:
            self.refuse(ptr, exc.keyword or kw, exc.reason)
        except DeadlineExceeded:
            raise
        except GrammarError as exc:
            self.refuse(ptr, kw, f"automaton too large: {exc}")
        return a

    # ------------------------------------------------------------------ combinators
    def _branches(self, node: dict[str, Any], ptr: str, kw: str) -> list[Lang] | None:
        items = node.get(kw)
        if not isinstance(items, list) or not items:
            return None
        return [self.lang_of((join_pointer(ptr, kw, i),)) for i in range(len(items))]

    def _combinators(self, node: dict[str, Any], ptr: str, result: Lang) -> Lang:
        for kw in ("anyOf", "oneOf", "not", "if"):
            if kw not in node:
                continue
            try:
                part = self._combinator(node, ptr, kw)
            except Refuse as exc:
                self.refuse(ptr, kw, exc.reason)
                continue
            except DeadlineExceeded:
                raise
            except GrammarError as exc:
                self.refuse(ptr, kw, f"automaton too large: {exc}")
                continue
            if part is not None:
                self.note(ptr, kw, "enforced")
                result = self._and_at(result, part, ptr, kw)
        return result

    def _combinator(self, node: dict[str, Any], ptr: str, kw: str) -> Lang | None:
        if kw == "anyOf":
            langs = self._branches(node, ptr, kw)
            if langs is None:
                return None
            out = Lang.empty()
            for lang in langs:
                out = out.or_(lang)
            return out
        if kw == "oneOf":
            langs = self._branches(node, ptr, kw)
            return None if langs is None else self._one_of(langs)
        if kw == "not":
            return self.not_(self.lang_of((join_pointer(ptr, "not"),)))
        if "then" not in node and "else" not in node:
            self.note(ptr, "if", "ignored: no then/else")
            return None
        cond = self.lang_of((join_pointer(ptr, "if"),))
        then = self.lang_of((join_pointer(ptr, "then"),)) if "then" in node else Lang.any()
        other = self.lang_of((join_pointer(ptr, "else"),)) if "else" in node else Lang.any()
        for k in ("then", "else"):
            if k in node:
                self.note(ptr, k, "enforced")
        return self.and_(cond, then).or_(self.and_(self.not_(cond), other))

    def _one_of(self, langs: list[Lang]) -> Lang:
        once = langs[0].scalar
        twice = None
        for lang in langs[1:]:
            both = dfa_and(once, lang.scalar)
            twice = both if twice is None else dfa_or(twice, both)
            once = dfa_or(once, lang.scalar)
        scalar = once if twice is None else dfa_minus(once, twice)
        disjoint = all(
            self._disjoint_structured(a, b) for i, a in enumerate(langs) for b in langs[i + 1 :]
        )
        if not disjoint:
            return Lang(scalar).or_(self._exactly_one_structured(langs))
        out = Lang(scalar)
        for lang in langs:
            out = out.or_(Lang(out.scalar, lang.objects, lang.arrays))
        return out

    def _exactly_one_structured(self, langs: list[Lang]) -> Lang:
        """Objects/arrays in exactly one branch: the union over i of branch i minus the others
        (needs their complements; :class:`Refuse` when one is not expressible)."""
        structured = [Lang(empty_dfa(), lang.objects, lang.arrays) for lang in langs]
        try:
            negs = [self.not_(lang) for lang in structured]
        except Refuse as exc:
            raise Refuse("oneOf", f"branches overlap and {exc.reason}") from exc
        out = Lang.empty()
        for i, lang in enumerate(structured):
            part = lang
            for j, neg in enumerate(negs):
                if j != i and not part.is_empty():
                    part = self.and_(part, neg)
            out = out.or_(part)
        return out

    def _disjoint_structured(self, a: Lang, b: Lang) -> bool:
        for x in a.objects:
            for y in b.objects:
                if not self._objects_disjoint(x, y):
                    return False
        for u in a.arrays:
            for v in b.arrays:
                if not self._arrays_disjoint(u, v):
                    return False
        return True

    def _values_disjoint(self, p: Conj, q: Conj) -> bool:
        try:
            both = self.and_(self.lang_of(p), self.lang_of(q))
        except Refuse:
            return False
        return both.is_empty()

    def _objects_disjoint(self, x: ObjectSpec, y: ObjectSpec) -> bool:
        if x.max_props is not None and y.min_props > x.max_props:
            return True
        if y.max_props is not None and x.min_props > y.max_props:
            return True
        return (
            merge_objects(x, y) is None
            or any(self._prop_disjoint(p, y) for p in x.props if p.required)
            or any(self._prop_disjoint(q, x) for q in y.props if q.required)
        )

    def _prop_disjoint(self, p: Prop, other: ObjectSpec) -> bool:
        for q in other.props:
            if q.name == p.name:
                return self._values_disjoint(p.value, q.value)
        return not any(r.keys.matches(json.dumps(p.name, ensure_ascii=False).encode())
                       for r in other.regions)  # fmt: skip

    def _arrays_disjoint(self, u: ArraySpec, v: ArraySpec) -> bool:
        if u.max_items is not None and v.min_items > u.max_items:
            return True
        if v.max_items is not None and u.min_items > v.max_items:
            return True
        if merge_arrays(u, v) is None:
            return True
        n = min(len(u.prefix), len(v.prefix), max(u.min_items, v.min_items))
        return any(self._values_disjoint(u.prefix[i], v.prefix[i]) for i in range(n))

    # ------------------------------------------------------------------ plain keywords
    def plain(self, node: dict[str, Any], ptr: str) -> Lang:
        """The language of one schema object's non-combinator keywords."""
        self._note_all(node, ptr)
        types = self._types(node, ptr)
        scalar = scalars.scalar_dfa(node, ptr, types, self.draft, self)
        objects: list[ObjectSpec] = []
        if "object" in types:
            try:
                objects = object_specs(
                    node, ptr, self.draft, scalars.pattern_keys, self._names_lang,
                    self._dependent, self.refuse,
                )  # fmt: skip
            except (Refuse, GrammarError) as exc:
                if isinstance(exc, DeadlineExceeded):
                    raise
                kw = exc.keyword if isinstance(exc, Refuse) else "patternProperties"
                self.refuse(ptr, kw, exc.reason if isinstance(exc, Refuse) else str(exc))
                objects = object_specs(
                    {k: v for k, v in node.items() if k not in ("patternProperties",
                     "dependentRequired", "dependentSchemas", "dependencies")},
                    ptr, self.draft, scalars.pattern_keys, self._names_lang,
                    self._dependent, self.refuse,
                )  # fmt: skip
        arrays: list[ArraySpec] = []
        if "array" in types:
            spec = array_spec(node, ptr, self.draft)
            arrays = [] if spec is None else [self._check_array(spec, ptr)]
        return Lang(scalar, objects, arrays)

    def _check_array(self, spec: ArraySpec, ptr: str) -> ArraySpec:
        """Refuse (with the pointer) what the emitter could not build exactly."""
        if spec.unique and not (spec.max_items is not None and spec.max_items <= 1):
            ok = not spec.prefix and not spec.contains and spec.items is not None
            if ok and spec.items is not None:
                try:
                    lang = self.lang_of(spec.items)
                    ok = not lang.objects and not lang.arrays and finite_strings(
                        lang.scalar, MAX_UNIQUE) is not None  # fmt: skip
                except Refuse:
                    ok = False
            if not ok:
                self.refuse(
                    ptr,
                    "uniqueItems",
                    "enforced only over a small finite set of "
                    f"scalars (at most {MAX_UNIQUE}) without prefixItems/contains",
                )
                spec = replace(spec, unique=False)
        contains = []
        for c, mn, mx in spec.contains:
            if mx is not None:
                try:
                    self.negate(c)
                except Refuse as exc:
                    self.refuse(ptr, "maxContains", f"needs the complement of contains: "
                                f"{exc.reason}")  # fmt: skip
                    mx = None
            contains.append((c, mn, mx))
        spec = replace(spec, contains=tuple(contains))
        if len(spec.contains) > 3:
            self.refuse(ptr, "contains", "more than three contains constraints on one array")
            spec = replace(spec, contains=spec.contains[:3])
        k = spec.max_items if spec.max_items is not None else max(
            len(spec.prefix), spec.min_items, 1)  # fmt: skip
        total = k + 1
        for _, mn, mx in spec.contains:
            total *= mx + 2 if mx is not None else mn + 1
        if total > MAX_COUNT_STATES:
            kw = "maxItems" if spec.max_items is not None else "minItems"
            self.refuse(ptr, kw, "array length too large to track exactly")
            spec = replace(spec, min_items=0, max_items=None)
        return spec

    def _types(self, node: dict[str, Any], ptr: str) -> set[str]:
        t = node.get("type")
        if t is None:
            return set(_TYPES)
        names = [t] if isinstance(t, str) else t if isinstance(t, list) else None
        if names is None or not all(isinstance(n, str) and n in _TYPES for n in names):
            raise GrammarError(f"{ptr or '/'}: invalid 'type' value {t!r}")
        out = set(names)
        if "number" in out:
            out.add("integer")
        return out

    def _names_lang(self, ptr: str) -> Any:
        return self.lang_of((ptr,)).scalar

    def _dependent(self, ptr: str) -> list[ObjectSpec]:
        return self.lang_of((ptr,)).objects

    # ------------------------------------------------------------------ enum / const
    def _finite(self, nodes: list[tuple[Any, str]]) -> Lang:
        from corral.grammars.json_schema.values import candidates_lang

        cands: list[Any] | None = None
        for node, ptr in nodes:
            if node is None:
                continue
            vals: list[Any] | None = None
            if "const" in node:
                vals = [node["const"]]
            if "enum" in node:
                enum = node["enum"]
                if not isinstance(enum, list):
                    raise GrammarError(f"{ptr or '/'}: 'enum' must be an array")
                vals = enum if vals is None else [v for v in vals if _in(v, enum)]
            if vals is not None:
                cands = vals if cands is None else [v for v in cands if _in(v, vals)]
        assert cands is not None
        if self.draft <= 4:  # 5 and 5.0 are equal but of different types: try both
            cands = [w for v in cands for w in (
                [int(v), float(v)] if isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) and v == int(v) else [v])]  # fmt: skip
        validator = self._get_validator()
        kept = []
        for v in cands:
            if all(node is None or validator.evolve(schema=node).is_valid(v)
                   for node, _ in nodes):  # fmt: skip
                kept.append(v)
        for node, ptr in nodes:
            if node is not None:
                self._note_all(node, ptr, "enforced: finite enum/const validated with jsonschema")
        lang = candidates_lang(kept, self.synthesize, self.draft <= 4)
        for node, ptr in nodes:
            if node is None:
                lang = self.and_(lang, self.synth[int(ptr[1:])])
        return lang

    def _get_validator(self) -> Any:
        if self._validator is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(
                self.root, default=jsonschema.Draft202012Validator
            )
            self._validator = cls(self.root, format_checker=cls.FORMAT_CHECKER)
        return self._validator


_KNOWN_META = re.compile(
    r"^https?://json-schema\.org/(draft-0[3467]/schema|draft/(2019-09|2020-12)/schema)#?$"
)
_LATER = frozenset({"dependentRequired", "dependentSchemas", "prefixItems", "minContains",
                    "maxContains", "unevaluatedItems", "unevaluatedProperties",
                    "$dynamicRef", "$recursiveRef"})  # fmt: skip
_NOT_IN_DRAFT: dict[int, frozenset[str]] = {
    3: _LATER | {"const", "contains", "propertyNames", "if", "then", "else"},
    4: _LATER | {"const", "contains", "propertyNames", "if", "then", "else"},
    6: _LATER | {"if", "then", "else"},
    7: _LATER,
    2019: frozenset({"prefixItems", "$dynamicRef"}),
}
"""Keywords a validator of the declared draft does not know, hence ignores (as jsonschema's)."""

_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMAS = ("not", "if", "then", "else", "additionalProperties", "propertyNames", "contains",
            "additionalItems", "unevaluatedItems", "unevaluatedProperties")  # fmt: skip


def _check_shapes(node: dict[str, Any], ptr: str) -> None:
    """Malformed keyword values raise :class:`GrammarError` (a schema, not a guess)."""

    def bad(kw: str, what: str) -> GrammarError:
        return GrammarError(f"{ptr or '/'}: '{kw}' must be {what}, not {node[kw]!r:.60}")

    for kw in _SCHEMA_LISTS:
        v = node.get(kw)
        if kw in node and not (isinstance(v, list) and v and
                               all(isinstance(x, (dict, bool)) for x in v)):  # fmt: skip
            raise bad(kw, "a non-empty array of schemas")
    for kw in _SCHEMA_MAPS:
        v = node.get(kw)
        if kw in node and not (isinstance(v, dict) and
                               all(isinstance(x, (dict, bool)) for x in v.values())):  # fmt: skip
            raise bad(kw, "an object of schemas")
    for kw in _SCHEMAS:
        if kw in node and not isinstance(node[kw], (dict, bool)):
            raise bad(kw, "a schema")
    items = node.get("items")
    if "items" in node and not isinstance(items, (dict, bool, list)):
        raise bad("items", "a schema")
    req = node.get("required")
    if "required" in node and not isinstance(req, (list, bool)):
        raise bad("required", "an array of strings")
    if "enum" in node and not isinstance(node["enum"], list):
        raise bad("enum", "an array")


def _in(value: Any, pool: list[Any]) -> bool:
    from corral.grammars.json_schema.values import json_equal

    return any(json_equal(value, p) for p in pool)
