"""Schema → :class:`~corral.grammars.json_schema.algebra.Lang`: the keyword semantics.

One pass over the schema graph, memoised per conjunction of subschemas (so that recursive
schemas terminate: member values stay lazy). ``$ref`` and ``allOf`` are flattened into one
conjunction (JSON Schema Core 2020-12 §10.2.1.1, §8.2.3.1); ``anyOf`` is a union, ``oneOf`` an
exactly-one combination, ``not`` a complement and ``if``/``then``/``else`` the union
(if ∧ then) ∨ (¬if ∧ else) — all on :class:`Lang` values, exact where
:mod:`corral.grammars.json_schema.algebra` says so, refused otherwise. Where ``enum``/``const`` make
the language finite, each candidate is validated against the whole conjunction with
``jsonschema`` (so every keyword beside them is enforced exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from corral.automata.cache import AutomataCache
from corral.automata.dfa import ByteDFA
from corral.automata.ops import finite_strings, is_empty
from corral.errors import (
    CompileLimitExceeded,
    CompileTimeout,
    DeadlineExceeded,
    GrammarError,
    SchemaIssue,
)
from corral.grammars.json_schema import scalars
from corral.grammars.json_schema.algebra import ArraySpec, Conj, Lang, ObjectSpec, Refuse
from corral.grammars.json_schema.arrays import (
    MAX_UNIQUE,
    array_spec,
    merge_arrays,
    negate_arrays,
)
from corral.grammars.json_schema.combinators import apply_combinators
from corral.grammars.json_schema.complements import negate_objects
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.finite import finite_lang
from corral.grammars.json_schema.guard import check_document
from corral.grammars.json_schema.keywords import (
    ANNOTATIONS,
    ASSERTIONS,
    KNOWN_META,
    NOT_IN_DRAFT,
    check_shapes,
    draft_of,
)
from corral.grammars.json_schema.objects import merge_objects, object_specs
from corral.grammars.json_schema.refs import RefError, Resolver, join_pointer
from corral.grammars.json_schema.scalars import flat_long_strings
from corral.grammars.json_schema.unique_items import (
    item_dfa,
    item_refusal,
    items_lang,
    positions,
)
from corral.grammars.json_schema.values import has_integral_float
from corral.limits import DEFAULT_LIMITS, Budget, Limits

__all__ = ["LangBuilder"]

MAX_SPECS = 256
"""Object or array specifications of one language (the alternatives an intersection or a
complement multiplies out); more is refused."""
_TYPES = ("null", "boolean", "object", "array", "number", "string", "integer")


class LangBuilder:
    """Builds the :class:`Lang` of subschema conjunctions of one root schema.

    Parameters
    ----------
    root:
        The root schema.
    time_limit:
        Seconds of CPU time (of the compiling thread) after which compilation stops with
        :class:`~corral.errors.CompileTimeout` (``None``: ``limits.compile_seconds``).
    limits:
        Bounds (default :data:`~corral.limits.DEFAULT_LIMITS`).
    cache:
        An :class:`~corral.automata.cache.AutomataCache` shared between compilations (default:
        a private one).

    Attributes
    ----------
    ctx:
        The :class:`~corral.grammars.json_schema.context.SchemaContext` of this compilation.
    """

    def __init__(
        self,
        root: Any,
        *,
        time_limit: float | None = None,
        limits: Limits | None = None,
        cache: AutomataCache | None = None,
    ) -> None:
        if not isinstance(root, (dict, bool)):
            raise GrammarError(
                f"a JSON Schema is an object or a boolean, not {type(root).__name__}"
            )
        self.draft = draft_of(root)
        base = limits if limits is not None else DEFAULT_LIMITS
        if time_limit is not None:
            base = base.with_time(time_limit)
        budget = Budget.start(base)
        check_document(root, base, budget)
        try:
            self.resolver = Resolver(root, id_keyword="id" if self.draft <= 4 else "$id",
                                     max_nodes=base.max_schema_nodes,
                                     max_depth=base.max_schema_depth)  # fmt: skip
        except RefError as exc:
            raise GrammarError(str(exc)) from exc
        self.root = root
        self.ctx = SchemaContext(draft=self.draft, limits=base, budget=budget, cache=cache)
        self.memo: dict[Conj, Lang] = {}
        self.active: set[Conj] = set()
        self.synth: list[Lang] = []
        self._negated: list[tuple[Conj, tuple[str, str]]] = []  # with the (pointer, keyword)
        self._negations: dict[Conj, Conj] = {}
        self._sites: list[tuple[str, str]] = []
        self.report: dict[tuple[str, str], str] = {}
        self.issues: list[SchemaIssue] = []
        self.inexact: set[Conj] = set()  # conjunctions built with some keyword refused
        self._dropped: list[bool] = []  # per open lang_of/tracking: was something refused?
        self._validator: Any = None
        meta = root.get("$schema") if isinstance(root, dict) else None
        if isinstance(meta, str) and not KNOWN_META.match(meta):
            self.refuse("", "$schema", f"unknown meta-schema {meta!r}: what its keywords mean "
                        "(its vocabularies) cannot be known")  # fmt: skip

    # ------------------------------------------------------------------ reporting
    def refuse(self, ptr: str, keyword: str, reason: str) -> None:
        """Record that ``keyword`` at ``ptr`` is not enforced."""
        ptr = self.origin(ptr)
        if self._dropped:
            self._dropped[-1] = True
        if (ptr, keyword) not in self.report or not self.report[(ptr, keyword)].startswith("ref"):
            self.report[(ptr, keyword)] = f"refused: {reason}"
            self.issues.append(SchemaIssue(ptr, keyword, reason))

    def note(self, ptr: str, keyword: str, status: str) -> None:
        """Record what happens to ``keyword`` at ``ptr`` (a refusal is never overwritten)."""
        old = self.report.get((ptr, keyword))
        if old is None or (old == "enforced" and status != "enforced"):
            self.report[(ptr, keyword)] = status

    def note_all(self, node: dict[str, Any], ptr: str, how: str = "enforced") -> None:
        """Record every keyword of ``node``: assertions as ``how``, the others as ignored."""
        for kw in node:
            if kw in ASSERTIONS:
                self.report.setdefault((ptr, kw), how)
            elif kw in ANNOTATIONS or kw.startswith("x-"):
                self.note(ptr, kw, "ignored: annotation")
            else:
                self.note(ptr, kw, "ignored: not a JSON Schema 2020-12 assertion keyword")

    @contextmanager
    def tracking(self) -> Iterator[list[bool]]:
        """A scope whose one-element list says, on exit, whether a keyword was refused while
        computing the languages inside it (then they are larger than the schema's: sound under
        ``anyOf``/``allOf``, not under a complement)."""
        flag = [False]
        self._dropped.append(False)
        try:
            yield flag
        finally:
            flag[0] = self._dropped.pop()
            if flag[0] and self._dropped:
                self._dropped[-1] = True

    # ------------------------------------------------------------------ synthesized values
    def synthesize(self, lang: Lang) -> Conj:
        """A conjunction naming a computed language."""
        self.synth.append(lang)
        return (f"@{len(self.synth) - 1}",)

    def negate(self, conj: Conj) -> Conj:
        """A conjunction for the complement of ``conj``'s language, built lazily: the name
        ``@~k`` (one per ``conj``) stands for it until :meth:`lang_of` needs its language, so
        that complements of recursive schemas (a member value that is the schema itself) are
        finite rules, as references are."""
        got = self._negations.get(conj)
        if got is None:
            got = self._negations[conj] = (f"@~{len(self._negated)}",)
            site = self._sites[-1] if self._sites else (conj[0] if conj else "", "not")
            self._negated.append((conj, site))
        return got

    @contextmanager
    def complementing(self, ptr: str, keyword: str) -> Iterator[None]:
        """A scope in which complements are taken for ``keyword`` at ``ptr`` (``not``,
        ``oneOf``, ``if``): a complement that turns out inexact when its language is built is
        refused there."""
        self._sites.append((ptr, keyword))
        try:
            yield
        finally:
            self._sites.pop()

    def synth_lang(self, ptr: str) -> Lang:
        """The language of a synthesized name: ``@n`` (:meth:`synthesize`) or ``@~k``
        (:meth:`negate`; :class:`Refuse` when the negated schema has a keyword that is not
        enforced, since its complement would then be smaller than the schema says)."""
        if not ptr.startswith("@~"):
            return self.synth[int(ptr[1:])]
        negated, (_, keyword) = self._negated[int(ptr[2:])]
        with self.tracking() as dropped:
            lang = self.lang_of(negated)
        if dropped[0]:
            raise Refuse(keyword, "a complement is needed of a schema with keywords corral does "
                         "not enforce")  # fmt: skip
        return self.not_(lang)

    def origin(self, ptr: str) -> str:
        """The JSON pointer of the keyword that took a synthesized complement (``@~k``)."""
        while ptr.startswith("@~"):
            ptr = self._negated[int(ptr[2:])][1][0]
        return ptr

    # ------------------------------------------------------------------ algebra
    def and_(self, a: Lang, b: Lang) -> Lang:
        """Intersection."""
        objs: list[ObjectSpec] = []
        for x in a.objects:
            for y in b.objects:
                m = merge_objects(self.ctx, x, y)
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
        longs = self._and_long(a, b)
        if longs is None:  # strings counted in blocks against other string constraints
            flat_a, flat_b = flat_long_strings(self.ctx, a), flat_long_strings(self.ctx, b)
            if flat_a is None or flat_b is None:
                raise Refuse("maxLength", "a very long string bound combined with other string "
                             "constraints")  # fmt: skip
            a, b, longs = flat_a, flat_b, ()
        return Lang(self.ctx.dfa_and(a.scalar, b.scalar), objs, arrs, longs)

    def _and_long(self, a: Lang, b: Lang) -> tuple[tuple[int, int | None], ...] | None:
        """Long-string ranges of an intersection: kept against a side that allows every
        string, intersected with the other side's ranges; ``None`` against partial string
        constraints."""
        if not a.long_strings and not b.long_strings:
            return ()
        out: list[tuple[int, int | None]] = []
        for x, y in ((a, b), (b, a)):
            if not x.long_strings:
                continue
            if _all_strings(self.ctx, y.scalar):
                out.extend(x.long_strings)
            elif not _no_strings(self.ctx, y.scalar):
                return None
        for lo1, hi1 in a.long_strings:
            for lo2, hi2 in b.long_strings:
                lo = max(lo1, lo2)
                hi = hi1 if hi2 is None else hi2 if hi1 is None else min(hi1, hi2)
                if hi is None or lo <= hi:
                    out.append((lo, hi))
        return tuple(dict.fromkeys(out))

    def not_(self, a: Lang) -> Lang:
        """Complement."""
        flat = flat_long_strings(self.ctx, a)
        if flat is None:
            raise Refuse("maxLength", "cannot negate a very long string bound")
        a = flat
        return Lang(
            self.ctx.dfa_minus(self.ctx.all_scalars(), a.scalar),
            negate_objects(self.ctx, a.objects, self.negate),
            negate_arrays(a.arrays, self.negate),
        )

    # ------------------------------------------------------------------ main entry
    def lang_of(self, conj: Conj) -> Lang:
        """The language of a conjunction of subschemas (memoised)."""
        got = self.memo.get(conj)
        if got is not None:
            if conj in self.inexact and self._dropped:
                self._dropped[-1] = True
            return got
        if conj in self.active:
            raise Refuse("$ref", "reference cycle that does not go through an object or array")
        if self.ctx.budget.expired():
            raise CompileTimeout("JSON Schema compilation exceeded its time bound")
        self.active.add(conj)
        try:
            with self.tracking() as dropped:
                lang = self._build(conj)
        finally:
            self.active.discard(conj)
        if dropped[0]:
            self.inexact.add(conj)
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
        dropped = NOT_IN_DRAFT.get(self.draft, frozenset()).intersection(node)
        if dropped:
            for kw in dropped:
                self.note(ptr, kw, f"ignored: not a keyword of draft {self.draft}")
            node = {k: v for k, v in node.items() if k not in dropped}
        check_shapes(node, ptr)
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
            return finite_lang(self, nodes, self.ctx.budget)
        result = self.ctx.any_lang()
        for node, ptr in nodes:
            part = self.synth_lang(ptr) if node is None else self.plain(node, ptr)
            result = self.and_at(result, part, ptr, "allOf")
        for node, ptr in nodes:
            if node is not None and not result.is_empty():
                result = apply_combinators(self, node, ptr, result)
        return result

    def and_at(self, a: Lang, b: Lang, ptr: str, kw: str) -> Lang:
        """``a ∧ b`` for keyword ``kw`` at ``ptr``; on a refusal ``a`` (recorded under ``kw``
        unless the refusal names a more specific keyword than the intersection itself)."""
        try:
            return self.and_(a, b)
        except Refuse as exc:
            self.refuse(ptr, kw if exc.keyword in ("", "allOf") else exc.keyword, exc.reason)
        except DeadlineExceeded:
            raise
        except GrammarError as exc:
            self.refuse(ptr, kw, f"automaton too large: {exc}")
        return a

    # ------------------------------------------------------------------ combinators
    def plain(self, node: dict[str, Any], ptr: str) -> Lang:
        """The language of one schema object's non-combinator keywords."""
        self.note_all(node, ptr)
        types = self._types(node, ptr)
        scalar, longs = scalars.scalar_dfa(self.ctx, node, ptr, types, self.draft, self)
        objects: list[ObjectSpec] = []
        if "object" in types:
            try:
                objects = object_specs(
                    self.ctx, node, ptr, self.draft, self._pattern_keys, self._names_lang,
                    self._dependent, self.refuse,
                )  # fmt: skip
            except (Refuse, GrammarError) as exc:
                if isinstance(exc, (DeadlineExceeded, CompileLimitExceeded)):
                    raise
                kw = exc.keyword if isinstance(exc, Refuse) else "patternProperties"
                self.refuse(ptr, kw, exc.reason if isinstance(exc, Refuse) else str(exc))
                objects = object_specs(
                    self.ctx, {k: v for k, v in node.items() if k not in ("patternProperties",
                     "dependentRequired", "dependentSchemas", "dependencies")},
                    ptr, self.draft, self._pattern_keys, self._names_lang,
                    self._dependent, self.refuse,
                )  # fmt: skip
        arrays: list[ArraySpec] = []
        if "array" in types:
            spec = array_spec(node, ptr, self.draft)
            arrays = [] if spec is None else [self._check_array(spec, ptr)]
        return Lang(scalar, objects, arrays, longs)

    def _unique_refusal(self, spec: ArraySpec) -> str | None:
        """Why ``uniqueItems`` cannot be enforced exactly on ``spec`` (``None`` if it can); the
        emitter's choice (:func:`~.unique_emit.unique_items`), made ahead."""
        if spec.contains or (spec.items is None and not spec.prefix):
            return "enforced only without contains"
        conjs = [*spec.prefix, *([spec.items] if spec.items is not None else [])]
        try:
            langs = [items_lang(self, c) for c in conjs]
            canonical = all(item_refusal(self, c, 2020) is None for c in conjs)
            if canonical and not (spec.prefix and any(lang.objects for lang in langs)):
                finite = [
                    finite_strings(item_dfa(self, c) if lang.objects else lang.scalar, MAX_UNIQUE)
                    for c, lang in zip(conjs, langs, strict=True)
                ]
                small = all(texts is not None for texts in finite) and (
                    len({t for texts in finite if texts is not None for t in texts}) <= MAX_UNIQUE
                )
                if small:
                    return None
                if not spec.prefix:
                    if langs[0].objects:
                        return item_refusal(self, conjs[0], self.draft)
                    if self.draft <= 4 and has_integral_float(langs[0].scalar):
                        return "draft 4 writes 5 and 5.0 differently although they are equal"
                    return None
            positions(self, spec, self.draft)
        except Refuse as exc:
            return exc.reason
        return None

    def _check_array(self, spec: ArraySpec, ptr: str) -> ArraySpec:
        """Refuse (with the pointer) what the emitter could not build exactly."""
        if spec.unique and not (spec.max_items is not None and spec.max_items <= 1):
            why = self._unique_refusal(spec)
            if why is not None:
                self.refuse(ptr, "uniqueItems", why)
                spec = replace(spec, unique=False)
        contains = []
        for c, mn, mx in spec.contains:
            if mx is not None:
                try:
                    with self.tracking() as dropped, self.complementing(ptr, "maxContains"):
                        self.lang_of(self.negate(c))
                    if dropped[0]:
                        raise Refuse("maxContains", "contains has keywords corral does not enforce")
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
        if total > self.ctx.limits.max_count_states:
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

    def _pattern_keys(self, pattern: str) -> ByteDFA:
        return scalars.pattern_keys(self.ctx, pattern)

    def _names_lang(self, ptr: str) -> Any:
        flat = flat_long_strings(self.ctx, self.lang_of((ptr,)))
        if flat is None:
            raise Refuse("propertyNames", "a very long string bound on keys")
        return flat.scalar

    def _dependent(self, ptr: str) -> list[ObjectSpec]:
        return self.lang_of((ptr,)).objects

    # ------------------------------------------------------------------ enum / const
    def validator(self) -> Any:
        """The ``jsonschema`` validator of the root schema (with its format checker)."""
        if self._validator is None:
            import jsonschema

            cls = jsonschema.validators.validator_for(
                self.root, default=jsonschema.Draft202012Validator
            )
            self._validator = cls(self.root, format_checker=cls.FORMAT_CHECKER)
        return self._validator


def _all_strings(ctx: SchemaContext, scalar: ByteDFA) -> bool:
    return is_empty(ctx.dfa_minus(ctx.json_string_any(), scalar))


def _no_strings(ctx: SchemaContext, scalar: ByteDFA) -> bool:
    return is_empty(ctx.dfa_and(ctx.json_string_any(), scalar))
