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

from dataclasses import dataclass
from typing import Any

from corral.automata.cache import AutomataCache
from corral.errors import GrammarError, SchemaIssue, UnsupportedSchemaError
from corral.grammars.ir import Grammar
from corral.grammars.json_schema.builder import LangBuilder
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.emit import Emitter
from corral.grammars.json_schema.guard import load_schema
from corral.grammars.json_schema.refs import join_pointer
from corral.grammars.json_schema.serializer import Serializer
from corral.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "AutomataCache",
    "Explanation",
    "KeywordStatus",
    "SchemaContext",
    "compile_json_schema",
    "explain",
    "serialize_instance",
]

MAX_SCHEMA_BYTES = DEFAULT_LIMITS.max_schema_bytes
"""Default bound on a schema given as text (:attr:`corral.limits.Limits.max_schema_bytes`)."""

_DATA = frozenset({"enum", "const", "default", "examples", "example"})


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


def _compile(
    schema: Any, whitespace: str, max_whitespace: int, time_limit: float | None,
    limits: Limits | None, cache: AutomataCache | None,
) -> tuple[Grammar, LangBuilder]:  # fmt: skip
    builder = _builder(schema, time_limit, limits, cache)
    return _emit(builder, whitespace, max_whitespace), builder


def _builder(
    schema: Any, time_limit: float | None, limits: Limits | None, cache: AutomataCache | None
) -> LangBuilder:
    try:
        return LangBuilder(load_schema(schema, limits), time_limit=time_limit, limits=limits,
                           cache=cache)  # fmt: skip
    except RecursionError as exc:
        raise GrammarError("JSON Schema nested too deeply") from exc


def _emit(builder: LangBuilder, whitespace: str, max_whitespace: int) -> Grammar:
    emitter = Emitter(builder, whitespace, max_whitespace)
    try:
        return emitter.build(("",), "<json-schema>")
    except RecursionError as exc:
        raise GrammarError("JSON Schema nested too deeply") from exc


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
        The schema is malformed, or exceeds a size, depth or time bound. A schema that admits
        no value gives the grammar of the empty language (``Grammar.is_empty``): matchers reject
        everything, generation refuses to start.
    """
    builder = _builder(schema, time_limit, limits, cache)
    try:
        grammar = _emit(builder, whitespace, max_whitespace)
    except GrammarError as exc:
        if builder.issues and not lenient and not isinstance(exc, UnsupportedSchemaError):
            # the refusals come first: what failed may be a consequence of a dropped keyword
            raise UnsupportedSchemaError(_dedupe(builder.issues)) from exc
        raise
    finally:
        if cache is not None:
            cache.trim()  # back within its byte bound once this compilation is done
    if builder.issues and not lenient:
        raise UnsupportedSchemaError(_dedupe(builder.issues))
    grammar.unenforced = list(_dedupe(builder.issues))
    return grammar


def _dedupe(issues: list[SchemaIssue]) -> list[SchemaIssue]:
    return list(dict.fromkeys(issues))


class Explanation(list[KeywordStatus]):
    """The list :func:`explain` returns: every keyword occurrence, plus the compile error.

    Attributes
    ----------
    error:
        The :class:`~corral.errors.GrammarError` that stopped compilation after the keywords
        were read (e.g. an empty language or a time bound), or ``None``.
    """

    error: GrammarError | None = None
    empty_reason: str | None = None
    """Why the schema admits no value, when it admits none (``Grammar.empty_reason``)."""


def explain(
    schema: Any,
    *,
    time_limit: float | None = None,
    limits: Limits | None = None,
    cache: AutomataCache | None = None,
) -> Explanation:
    """Every keyword occurrence of ``schema``, with what corral does with it (parameters as for
    :func:`compile_json_schema`).

    Keywords are listed even when compilation fails after the schema was read: the error is
    then the result's ``error`` attribute, and keywords compilation did not reach are listed
    as ``"not reached: ..."``. A schema that cannot be read at all (not JSON, beyond a size or
    depth bound) raises :class:`~corral.errors.GrammarError`.
    """
    builder = _builder(schema, time_limit, limits, cache)
    error: GrammarError | None = None
    empty: str | None = None
    try:
        empty = _emit(builder, "compact", 16).empty_reason
    except GrammarError as exc:
        error = exc
    report = dict(builder.report)
    if error is not None:
        for ptr, node in _schema_objects(builder.resolver.root):
            for kw in node:
                report.setdefault((ptr, kw), f"not reached: compilation stopped: {error}")
    out = Explanation(KeywordStatus(p, k, s) for (p, k), s in sorted(report.items()))
    out.error = error
    out.empty_reason = empty
    return out


def _schema_objects(root: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every schema object of the document with its pointer (data keywords not entered)."""
    out: list[tuple[str, dict[str, Any]]] = []
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, dict):
            out.append((ptr, node))
            kids = [(v, join_pointer(ptr, k)) for k, v in node.items() if k not in _DATA]
        elif isinstance(node, list):
            kids = [(v, join_pointer(ptr, i)) for i, v in enumerate(node)]
        else:
            continue
        stack.extend(kid for kid in reversed(kids) if isinstance(kid[0], (dict, list)))
    return out


def serialize_instance(
    instance: Any, schema: Any, *, whitespace: str = "compact", cache: AutomataCache | None = None
) -> str:
    """Serialise ``instance`` the way the grammar of ``schema`` writes it.

    Object members follow the grammar's property order; numbers and strings use corral's
    canonical texts. Raises ``ValueError`` for values without a JSON text (NaN, infinities,
    lone surrogates).
    """
    builder = LangBuilder(load_schema(schema), cache=cache)
    return Serializer(builder, whitespace).dumps(instance)
