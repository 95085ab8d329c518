"""Scalar keywords (strings, numbers, booleans, null) as one automaton over canonical texts.

String keywords (Validation 2020-12 §6.3, §7) become a content automaton (length ∩ pattern ∩
format) encoded as canonical JSON strings; numeric keywords (§6.2) become digit-string automata
(:mod:`corral.grammars.json_schema.numbers`) restricted to canonical number texts. The parts for
the allowed types are united. Results are cached by the keyword values, refusals included, so
that the thousands of ``{"type": "string"}`` in a benchmark cost one automaton.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Protocol

from corral.automata.dfa import ByteDFA
from corral.automata.ops import empty_dfa, union
from corral.automata.regex import literal_dfa
from corral.errors import DeadlineExceeded, GrammarError
from corral.grammars.json_schema.algebra import Refuse, canon_integer, canon_number, dfa_and
from corral.grammars.json_schema.ecma_regex import PatternUnsupported
from corral.grammars.json_schema.formats import KNOWN_FORMATS, format_content_dfa
from corral.grammars.json_schema.numbers import NumberUnsupported, number_dfa
from corral.grammars.json_schema.strings import json_string_any, json_string_dfa

__all__ = ["pattern_keys", "scalar_dfa"]

SPEC_FORMATS = frozenset(
    {"date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname",
     "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference", "uuid", "uri-template",
     "json-pointer", "relative-json-pointer", "regex"}
)  # fmt: skip
"""Formats the specification defines (drafts 4 to 2020-12): refused when corral lacks them."""

LONG_STRING = 1024
"""Above this many characters, a string with only length bounds is counted in blocks by grammar
rules instead of by one automaton (whose size grows with the bound)."""

_STRING_KWS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_KWS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


class _Reporter(Protocol):
    def refuse(self, ptr: str, keyword: str, reason: str) -> None: ...
    def note(self, ptr: str, keyword: str, status: str) -> None: ...


Notes = tuple[tuple[str, str, str], ...]  # (keyword, "refused"/"note", text)


@lru_cache(maxsize=1)
def _booleans() -> ByteDFA:
    return union(literal_dfa("true"), literal_dfa("false"))


def pattern_keys(pattern: str) -> ByteDFA:
    """Canonical quoted keys whose decoded text contains a match of ECMA ``pattern``."""
    try:
        return _pattern_keys(pattern)
    except PatternUnsupported as exc:
        raise Refuse("patternProperties", str(exc)) from exc
    except DeadlineExceeded:
        raise
    except GrammarError as exc:
        raise Refuse("patternProperties", str(exc)) from exc


@lru_cache(maxsize=4096)
def _pattern_keys(pattern: str) -> ByteDFA:
    return json_string_dfa(patterns=(pattern,))


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if value == int(value) and value >= 0 else None


@lru_cache(maxsize=512)
def _string_part(key: str) -> tuple[ByteDFA, Notes]:
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
            dfa = format_content_dfa(fmt)
            if dfa is not None:
                extra.append(dfa)
        elif fmt in SPEC_FORMATS:
            notes.append(("format", "refused", f"format {fmt!r} (defined by the JSON Schema "
                          "specification) is not enforced by corral"))  # fmt: skip
        else:
            notes.append(("format", "note", f"ignored: unknown format {fmt!r} (an annotation)"))
    if lo == 0 and hi is None and not patterns and not extra:
        return json_string_any(), tuple(notes)
    if not patterns and not extra and max(lo, hi or 0) > LONG_STRING:
        return empty_dfa(), (*notes, ("long", "long", json.dumps([lo, hi])))
    for _ in range(3):
        try:
            return json_string_dfa(min_length=lo, max_length=hi, patterns=tuple(patterns),
                                   extra=tuple(extra)), tuple(notes)  # fmt: skip
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
    return json_string_any(), tuple(notes)


@lru_cache(maxsize=4096)
def _number_part(key: str, integer: bool, draft: int) -> tuple[ByteDFA, Notes]:
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
    canon = canon_integer() if integer else canon_number(draft <= 4)
    if not args:
        return canon, ()
    for _ in range(len(names) + 1):
        try:
            return dfa_and(number_dfa(integer=integer, **args), canon), tuple(notes)
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


def scalar_dfa(node: dict[str, Any], ptr: str, types: set[str], draft: int,
               rep: _Reporter) -> tuple[ByteDFA, tuple[tuple[int, int | None], ...]]:  # fmt: skip
    """The canonical texts of the scalar values one schema object allows, and the length ranges
    of strings too long for one automaton (only length-constrained; see
    :meth:`corral.grammars.json_schema.emit.Emitter.long_string`)."""
    parts: list[ByteDFA] = []
    long: tuple[tuple[int, int | None], ...] = ()
    notes: Notes = ()
    if "null" in types:
        parts.append(literal_dfa("null"))
    if "boolean" in types:
        parts.append(_booleans())
    if "string" in types:
        key = json.dumps({k: node[k] for k in _STRING_KWS if k in node}, sort_keys=True)
        dfa, notes = _string_part(key)
        parts.append(dfa)
    if "integer" in types:
        key = json.dumps({k: node[k] for k in _NUMBER_KWS if k in node}, sort_keys=True)
        dfa, more = _number_part(key, "number" not in types, draft)
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
    return _union_all(tuple(parts)), long


@lru_cache(maxsize=512)
def _union_all(parts: tuple[ByteDFA, ...]) -> ByteDFA:
    if not parts:
        return empty_dfa()
    out = parts[0]
    for p in parts[1:]:
        out = union(out, p)
    return out
