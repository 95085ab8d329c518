"""The front-end constructors of :class:`~corral.grammars.ir.Grammar` (``Grammar.from_lark`` ...).

The IR module knows no front-end; every front-end imports the IR. The constructors, which need
both, live here, above them, and :func:`install` makes them class methods of
:class:`~corral.grammars.ir.Grammar` when the package :mod:`corral.grammars` is imported (which
happens before any of its modules is). The import graph stays acyclic: IR ← front-ends ← this
module ← the package.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from corral.automata.cache import AutomataCache
from corral.automata.nesting import GBNF_TOKENS, check_text
from corral.errors import GrammarError
from corral.grammars.gbnf import grammar_from_gbnf
from corral.grammars.ir import Grammar
from corral.grammars.json_schema import compile_json_schema
from corral.grammars.lark_frontend import grammar_from_lark
from corral.grammars.regex_choices import grammar_from_choices, grammar_from_regex
from corral.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "from_choices",
    "from_file",
    "from_gbnf",
    "from_json_schema",
    "from_lark",
    "from_pydantic",
    "from_regex",
    "install",
]


def from_lark(
    cls: type[Grammar], text: str, *, start: str = "start", source: str = "<lark>",
    limits: Limits | None = None,
) -> Grammar:  # fmt: skip
    """Lower a Lark grammar (EBNF dialect of the lark library) to the IR (``limits``: size and
    nesting bounds, default :data:`~corral.limits.DEFAULT_LIMITS`)."""
    return grammar_from_lark(text, start=start, source=source, limits=limits)


def from_gbnf(
    cls: type[Grammar], text: str, *, start: str = "root", source: str = "<gbnf>",
    limits: Limits | None = None,
) -> Grammar:  # fmt: skip
    """Lower a llama.cpp GBNF grammar to the IR (``limits``: size and nesting bounds)."""
    check_text(text, GBNF_TOKENS, limits, source)  # the GBNF parser recurses
    try:
        return grammar_from_gbnf(text, start=start, source=source, limits=limits)
    except RecursionError:
        raise GrammarError(f"{source}: grammar nested too deeply") from None


def from_regex(
    cls: type[Grammar], pattern: str, *, flags: str = "", limits: Limits | None = None
) -> Grammar:
    """A grammar whose language is exactly the strings fully matched by ``pattern``."""
    try:
        return grammar_from_regex(pattern, flags=flags, limits=limits)
    except RecursionError:
        raise GrammarError("<regex>: pattern nested too deeply") from None


def from_choices(
    cls: type[Grammar], choices: Iterable[str], *, limits: Limits | None = None
) -> Grammar:
    """A grammar whose language is exactly the given strings."""
    return grammar_from_choices(choices, limits=limits)


def from_json_schema(
    cls: type[Grammar],
    schema: object,
    *,
    lenient: bool = False,
    whitespace: str = "compact",
    max_whitespace: int = 16,
    time_limit: float | None = None,
    limits: Limits | None = None,
    cache: AutomataCache | None = None,
) -> Grammar:
    """A grammar of exactly the instances valid against a JSON Schema.

    See :func:`corral.grammars.json_schema.compile_json_schema` (parameters, the fail-closed
    behaviour and ``lenient``) and ``docs/design/json_schema.md``.
    """
    return compile_json_schema(
        schema,
        lenient=lenient,
        whitespace=whitespace,
        max_whitespace=max_whitespace,
        time_limit=time_limit,
        limits=limits,
        cache=cache,
    )


def from_pydantic(cls: type[Grammar], model_or_type: object, **options: Any) -> Grammar:
    """A grammar of the JSON a Pydantic model (or any type Pydantic can adapt) validates.

    The JSON Schema comes from ``pydantic.TypeAdapter(model_or_type).json_schema()``;
    ``options`` are those of :meth:`~corral.grammars.ir.Grammar.from_json_schema`. Pydantic is
    an optional dependency, imported on use.
    """
    try:
        import pydantic
    except ImportError as exc:
        raise GrammarError("Grammar.from_pydantic needs the 'pydantic' package") from exc
    schema = pydantic.TypeAdapter(model_or_type).json_schema()  # type: ignore[call-overload,arg-type,unused-ignore]
    return from_json_schema(cls, schema, **options)


def from_file(cls: type[Grammar], path: str, *, limits: Limits | None = None) -> Grammar:
    """Load a ``.lark`` or ``.gbnf`` file, choosing the front-end by extension (files larger
    than ``limits.max_grammar_bytes`` are refused unread)."""
    most = (limits if limits is not None else DEFAULT_LIMITS).max_grammar_bytes
    with open(path, encoding="utf-8") as fh:
        text = fh.read(most + 1)
    if len(text) > most:
        raise GrammarError(f"{path}: grammar larger than {most} characters "
                           "(Limits.max_grammar_bytes)")  # fmt: skip
    if path.endswith(".gbnf"):
        return from_gbnf(cls, text, source=path, limits=limits)
    if path.endswith(".lark"):
        return from_lark(cls, text, source=path, limits=limits)
    raise GrammarError(f"{path}: unknown grammar file type (expected .lark or .gbnf)")


_CONSTRUCTORS: dict[str, Callable[..., Grammar]] = {
    "from_lark": from_lark,
    "from_gbnf": from_gbnf,
    "from_regex": from_regex,
    "from_choices": from_choices,
    "from_json_schema": from_json_schema,
    "from_pydantic": from_pydantic,
    "from_file": from_file,
}


def install(target: type[Grammar]) -> None:
    """Make the constructors class methods of ``target`` (idempotent)."""
    for name, fn in _CONSTRUCTORS.items():
        setattr(target, name, classmethod(fn))
