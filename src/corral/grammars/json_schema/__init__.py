"""JSON Schema → grammar: exact enforcement, failing closed.

``compile_json_schema`` lowers a JSON Schema (draft 2020-12 semantics; draft 4/6/7 and 2019-09
spellings accepted) to corral's grammar IR. Every keyword is either enforced exactly, ignored by
design (annotations, unknown formats) or refused: a refused keyword raises
:class:`~corral.errors.UnsupportedSchemaError` naming each keyword and its JSON pointer, unless
``lenient=True``, in which case the grammar is built without it and the list is returned on the
grammar (``Grammar.unenforced``). The modules, one concern each: :mod:`.refs` (``$ref``,
``$id``, ``$anchor``), :mod:`.strings`/:mod:`.ecma_regex`/:mod:`.formats` (string keywords),
:mod:`.numbers`, :mod:`.objects`, :mod:`.arrays`, :mod:`.combinators`, :mod:`.keywords`,
:mod:`.builder` (``$ref``/``allOf``, types, ``enum``),
:mod:`.emit` (to the IR), :mod:`.serializer` (the output shape as a serialiser). Design notes and
every departure from the specification: ``docs/design/json_schema.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from corral.automata.cache import AutomataCache
from corral.errors import GrammarError, SchemaIssue, UnsupportedSchemaError
from corral.grammars.ir import Grammar
from corral.grammars.json_schema.builder import LangBuilder
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.emit import Emitter
from corral.grammars.json_schema.serializer import Serializer
from corral.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "AutomataCache",
    "KeywordStatus",
    "SchemaContext",
    "compile_json_schema",
    "explain",
    "serialize_instance",
]

MAX_SCHEMA_BYTES = DEFAULT_LIMITS.max_schema_bytes
"""Default bound on a schema given as text (:attr:`corral.limits.Limits.max_schema_bytes`)."""


@dataclass(frozen=True)
class KeywordStatus:
    """What corral does with one keyword occurrence.

    Attributes
    ----------
    pointer:
        JSON pointer of the schema object holding the keyword.
    keyword:
        The keyword.
    status:
        ``"enforced"``, ``"ignored: <why>"`` or ``"refused: <why>"``.
    """

    pointer: str
    keyword: str
    status: str

    @property
    def enforced(self) -> bool:
        """Whether the keyword is not refused."""
        return not self.status.startswith("refused")


def _load(schema: Any, limits: Limits | None = None) -> Any:
    if isinstance(schema, (str, bytes)):
        most = (limits or DEFAULT_LIMITS).max_schema_bytes
        if len(schema) > most:
            raise GrammarError(f"JSON Schema larger than {most} bytes")
        try:
            return json.loads(schema)
        except json.JSONDecodeError as exc:
            raise GrammarError(f"JSON Schema is not valid JSON: {exc}") from exc
    return schema


def _compile(
    schema: Any, whitespace: str, max_whitespace: int, time_limit: float | None,
    limits: Limits | None, cache: AutomataCache | None,
) -> tuple[Grammar, LangBuilder]:  # fmt: skip
    builder = LangBuilder(_load(schema, limits), time_limit=time_limit, limits=limits, cache=cache)
    emitter = Emitter(builder, whitespace, max_whitespace)
    try:
        grammar = emitter.build(("",), "<json-schema>")
    except RecursionError as exc:
        raise GrammarError("JSON Schema nested too deeply") from exc
    return grammar, builder


def compile_json_schema(
    schema: Any,
    *,
    lenient: bool = False,
    whitespace: str = "compact",
    max_whitespace: int = 16,
    time_limit: float | None = None,
    limits: Limits | None = None,
    cache: AutomataCache | None = None,
) -> Grammar:
    """Compile a JSON Schema to a grammar whose language is exactly the valid instances.

    Parameters
    ----------
    schema:
        The schema: a dict, a boolean, or its JSON text.
    lenient:
        Compile even when some keywords cannot be enforced exactly; they are listed in the
        returned grammar's ``unenforced`` attribute (and the language is then larger).
    whitespace:
        ``"compact"`` (default: no whitespace) or ``"flexible"`` (bounded runs of whitespace
        around structural characters and the whole value).
    max_whitespace:
        Longest whitespace run in flexible mode.
    time_limit:
        Seconds of compilation (CPU time of the compiling thread) after which
        :class:`~corral.errors.CompileTimeout` (a :class:`~corral.errors.GrammarError`) is
        raised; overrides ``limits.compile_seconds`` (``None``: keep it, 8.0 by default).
    limits:
        Bounds on the compilation (:class:`~corral.limits.Limits`; default
        :data:`~corral.limits.DEFAULT_LIMITS`).
    cache:
        An :class:`~corral.automata.cache.AutomataCache` to share automata (formats, patterns,
        numbers, canonical automata) between compilations; thread-safe. ``None``: a private
        one for this call. Every call has its own deadline and number model either way.

    Returns
    -------
    Grammar
        The grammar (start symbol ``start``).

    Raises
    ------
    UnsupportedSchemaError
        Some keyword cannot be enforced exactly (and ``lenient`` is false); ``.issues`` lists
        every one with its JSON pointer.
    GrammarError
        The schema is malformed, admits no value, or exceeds a size, depth or time bound.
    """
    grammar, builder = _compile(schema, whitespace, max_whitespace, time_limit, limits, cache)
    if builder.issues and not lenient:
        raise UnsupportedSchemaError(_dedupe(builder.issues))
    grammar.unenforced = list(_dedupe(builder.issues))
    return grammar


def _dedupe(issues: list[SchemaIssue]) -> list[SchemaIssue]:
    return list(dict.fromkeys(issues))


def explain(
    schema: Any,
    *,
    time_limit: float | None = None,
    limits: Limits | None = None,
    cache: AutomataCache | None = None,
) -> list[KeywordStatus]:
    """Every keyword occurrence met while compiling ``schema``, with what corral does with it
    (parameters as for :func:`compile_json_schema`)."""
    _, builder = _compile(schema, "compact", 16, time_limit, limits, cache)
    return [KeywordStatus(p, k, s) for (p, k), s in sorted(builder.report.items())]


def serialize_instance(
    instance: Any, schema: Any, *, whitespace: str = "compact", cache: AutomataCache | None = None
) -> str:
    """Serialise ``instance`` the way the grammar of ``schema`` writes it.

    Object members follow the grammar's property order; numbers and strings use corral's
    canonical texts. Raises ``ValueError`` for values without a JSON text (NaN, infinities,
    lone surrogates).
    """
    builder = LangBuilder(_load(schema), cache=cache)
    return Serializer(builder, whitespace).dumps(instance)
