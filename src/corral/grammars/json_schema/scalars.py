"""Scalar keywords (strings, numbers, booleans, null) as one automaton over canonical texts.

String keywords (Validation 2020-12 §6.3, §7) become a content automaton (length ∩ pattern ∩
format) encoded as canonical JSON strings; numeric keywords (§6.2) become digit-string automata
(:mod:`corral.grammars.json_schema.numbers`) restricted to canonical number texts. The parts for
the allowed types are united. Results are cached by the keyword values, refusals included, in the
compile context's :class:`~corral.automata.cache.AutomataCache` (shared between compilations when
the caller passes one), so that the thousands of ``{"type": "string"}`` in a benchmark cost one
automaton.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from corral.automata.dfa import ByteDFA
from corral.automata.ops import empty_dfa, union
from corral.errors import DeadlineExceeded, GrammarError
from corral.grammars.json_schema.algebra import Lang, Refuse
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.ecma_regex import PatternUnsupported
from corral.grammars.json_schema.formats import KNOWN_FORMATS, format_content_dfa
from corral.grammars.json_schema.numbers import NumberUnsupported, number_dfa
from corral.grammars.json_schema.strings import json_string_dfa

__all__ = ["FLAT_STRING", "LONG_STRING", "flat_long_strings", "pattern_keys", "scalar_dfa"]

SPEC_FORMATS = frozenset(
    {"date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
     "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template",
     "json-pointer", "relative-json-pointer", "regex"}
)  # fmt: skip
"""Formats the specification defines (drafts 4 to 2020-12): refused when corral lacks them."""

LONG_STRING = 256
"""Above this many characters, a string with only length bounds is counted in blocks of
:data:`~.long_strings.BLOCK` characters by grammar rules instead of by one automaton: that
automaton has about 15 states per character (escapes, UTF-8), a few megabytes at a thousand,
built again for every other bound, where the automata of blocks are shared by all bounds."""

FLAT_STRING = 1024
"""Where such a string must meet other string constraints (an intersection with a pattern, a
complement, ``oneOf`` beside other strings, ``propertyNames``, ``uniqueItems``), bounds up to
this many characters are counted by one automaton after all (:func:`flat_long_strings`); past
it, that is refused."""

_STRING_KWS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KWS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


class _Reporter(Protocol):
    def refuse(self, ptr: str, keyword: str, reason: str) -> None: ...
    def note(self, ptr: str, keyword: str, status: str) -> None: ...


Notes = tuple[tuple[str, str, str], ...]  # (keyword, "refused"/"note", text)


def pattern_keys(ctx: SchemaContext, pattern: str) -> ByteDFA:
    """Canonical quoted keys whose decoded text contains a match of ECMA ``pattern``."""
    try:
        return ctx.memo(("pattern_keys", pattern), lambda: json_string_dfa(
            patterns=(pattern,), budget=ctx.budget, cache=ctx.cache))  # fmt: skip
    except PatternUnsupported as exc:
        raise Refuse("patternProperties", str(exc)) from exc
    except DeadlineExceeded:
        raise
    except GrammarError as exc:
        raise Refuse("patternProperties", str(exc)) from exc


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value == int(value) and value >= 0 else None


def _string_part(ctx: SchemaContext, key: str) -> tuple[ByteDFA, Notes]:
    kws: dict[str, Any] = json.loads(key)
    notes: list[tuple[str, str, str]] = []
    lo = _count(kws.get("minLength", 0)) or 0
    hi = _count(kws["maxLength"]) if "maxLength" in kws else None
    patterns: list[str] = []
    pat = kws.get("pattern")
    if isinstance(pat, str):
        patterns.append(pat)
    extra: list[ByteDFA] = []
    fmt = kws.get("format")
    if isinstance(fmt, str):
        if fmt in KNOWN_FORMATS:
            dfa = format_content_dfa(fmt, budget=ctx.budget, cache=ctx.cache)
            if dfa is not None:
                extra.append(dfa)
        elif fmt in SPEC_FORMATS:
            notes.append(("format", "refused", f"format {fmt!r} (defined by the JSON Schema "
                          "specification) is not enforced by corral"))  # fmt: skip
        else:
            notes.append(("format", "note", f"ignored: unknown format {fmt!r} (an annotation)"))
    if lo == 0 and hi is None and not patterns and not extra:
        return ctx.json_string_any(), tuple(notes)
    if not patterns and not extra and max(lo, hi or 0) > LONG_STRING:
        return empty_dfa(), (*notes, ("long", "long", json.dumps([lo, hi])))
    for _ in range(3):
        try:
            return json_string_dfa(min_length=lo, max_length=hi, patterns=tuple(patterns),
                                   extra=tuple(extra), budget=ctx.budget,
                                   cache=ctx.cache), tuple(notes)  # fmt: skip
        except PatternUnsupported as exc:
            notes.append(("pattern", "refused", str(exc)))
            patterns = []
        except DeadlineExceeded:
            raise
        except GrammarError as exc:
            if not patterns and not extra:
                return empty_dfa(), (*notes, ("long", "long", json.dumps([lo, hi])))
            if patterns:
                notes.append(("pattern", "refused", f"automaton too large: {exc}"))
                patterns = []
            elif hi is not None:
                notes.append(("maxLength", "refused", f"automaton too large: {exc}"))
                hi = None
            else:
                notes.append(("format", "refused", f"automaton too large: {exc}"))
                extra = []
    return ctx.json_string_any(), tuple(notes)


def _number_part(ctx: SchemaContext, key: str, integer: bool, draft: int) -> tuple[ByteDFA, Notes]:
    kws: dict[str, Any] = json.loads(key)
    notes: list[tuple[str, str, str]] = []
    args: dict[str, Any] = {}
    names = {"minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum",
             "exclusiveMaximum": "exclusive_maximum", "multipleOf": "multiple_of"}  # fmt: skip
    for kw, arg in names.items():
        v = kws.get(kw)
        if v is None:
            continue
        if isinstance(v, bool) and kw.startswith("exclusive"):
            continue  # draft 4 flag, applied with its bound below
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            notes.append((kw, "refused", f"malformed value {v!r}"))
            continue
        if kw in ("minimum", "maximum"):
            flag = kws.get("exclusiveMinimum" if kw == "minimum" else "exclusiveMaximum")
            if flag is True:
                arg = "exclusive_minimum" if kw == "minimum" else "exclusive_maximum"
        args[arg] = v
    canon = ctx.canon_integer() if integer else ctx.canon_number(draft <= 4)
    if not args:
        return canon, ()
    for _ in range(len(names) + 1):
        try:
            num = number_dfa(integer=integer, budget=ctx.budget, cache=ctx.cache, **args)
            return ctx.dfa_and(num, canon), tuple(notes)
        except NumberUnsupported as exc:
            kw = exc.keyword
            notes.append((kw, "refused", str(exc)))
            arg = names.get(kw, kw)
            if arg not in args:
                args.clear()
            args.pop(arg, None)
        except DeadlineExceeded:
            raise
        except GrammarError as exc:
            kw = "multipleOf" if "multiple_of" in args else "minimum"
            notes.append((kw, "refused", f"automaton too large: {exc}"))
            if "multiple_of" in args:
                del args["multiple_of"]
            else:
                args.clear()
    return canon, tuple(notes)


def _keywords_key(node: dict[str, Any], keywords: Iterable[str]) -> str:
    """The JSON text (keys sorted) of the members of ``node`` among ``keywords``: the cache key
    of a scalar part (most nodes have none, and need no encoder)."""
    chosen = {k: node[k] for k in keywords if k in node}
    return json.dumps(chosen, sort_keys=True) if chosen else "{}"


def scalar_dfa(ctx: SchemaContext, node: dict[str, Any], ptr: str, types: set[str], draft: int,
               rep: _Reporter) -> tuple[ByteDFA, tuple[tuple[int, int | None], ...]]:  # fmt: skip
    """The canonical texts of the scalar values one schema object allows, and the length ranges
    of strings too long for one automaton (only length-constrained; see
    :meth:`corral.grammars.json_schema.emit.Emitter.long_string`)."""
    parts: list[ByteDFA] = []
    long: tuple[tuple[int, int | None], ...] = ()
    notes: Notes = ()
    if "null" in types:
        parts.append(ctx.null())
    if "boolean" in types:
        parts.append(ctx.booleans())
    if "string" in types:
        key = _keywords_key(node, _STRING_KWS)
        dfa, notes = ctx.memo(("string_part", key), lambda: _string_part(ctx, key))
        parts.append(dfa)
    if "integer" in types:
        key = _keywords_key(node, _NUMBER_KWS)
        integer = "number" not in types
        dfa, more = ctx.memo(("number_part", key, integer, draft),
                             lambda: _number_part(ctx, key, integer, draft))  # fmt: skip
        parts.append(dfa)
        notes = notes + more
    for kw, kind, text in notes:
        if kind == "long":
            lo, hi = json.loads(text)
            long = ((int(lo), None if hi is None else int(hi)),)
        elif kind == "refused":
            rep.refuse(ptr, kw, text)
        else:
            rep.note(ptr, kw, text)
    united = tuple(parts)
    return ctx.memo(("union", united), lambda: _union_all(ctx, united)), long


def _union_all(ctx: SchemaContext, parts: tuple[ByteDFA, ...]) -> ByteDFA:
    if not parts:
        return empty_dfa()
    out = parts[0]
    for p in parts[1:]:
        out = union(out, p, ctx.budget)
    return out


def flat_long_strings(ctx: SchemaContext, lang: Lang) -> Lang | None:
    """``lang`` with its strings counted in blocks (:attr:`Lang.long_strings`) made part of its
    scalar automaton, when every bound is at most :data:`FLAT_STRING` (``lang`` itself when it
    has none); ``None`` otherwise, or when the automaton passes the state bounds."""
    if not lang.long_strings:
        return lang
    if any(max(lo, hi or 0) > FLAT_STRING for lo, hi in lang.long_strings):
        return None
    scalar = lang.scalar
    for lo, hi in lang.long_strings:

        def build(lo: int = lo, hi: int | None = hi) -> ByteDFA:
            return json_string_dfa(min_length=lo, max_length=hi, budget=ctx.budget,
                                   cache=ctx.cache)  # fmt: skip

        try:
            scalar = ctx.dfa_or(scalar, ctx.memo(("flat_string", lo, hi), build))
        except DeadlineExceeded:
            raise
        except GrammarError:
            return None
    return Lang(scalar, lang.objects, lang.arrays)
