"""Python types as constraints: the grammar of a return annotation, and its parser.

A type becomes the JSON Schema Pydantic derives for it (``TypeAdapter(tp).json_schema()``:
models, dataclasses, ``TypedDict``, ``Literal``, ``Enum``, ``int``/``float``/``bool``/``str``,
``list[...]`` and their nestings), compiled by corral's JSON Schema compiler; the output is
validated back into the type by the same adapter. ``Annotated[str, Regex("...")]`` is the one
exception: the output is the raw text of a regular expression, not JSON.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from corral.errors import CorralError
from corral.grammars.ir import Grammar

__all__ = ["Regex", "TypeConstraint", "constraint_for_type"]


@dataclass(frozen=True)
class Regex:
    """Marks a ``str`` annotation as text matching a regular expression.

    >>> from typing import Annotated
    >>> Phone = Annotated[str, Regex(r"[0-9]{3}-[0-9]{4}")]
    """

    pattern: str


@dataclass(frozen=True)
class TypeConstraint:
    """The grammar of a type and the function that turns an output into a value of it."""

    annotation: Any
    grammar: Grammar
    parse: Callable[[str], Any]


def _regex_of(annotation: Any) -> str | None:
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    base, *extras = typing.get_args(annotation)
    regexes = [e for e in extras if isinstance(e, Regex)]
    if not regexes:
        return None
    if base is not str or len(regexes) > 1:
        raise TypeError(f"Regex(...) annotates exactly one str, got {annotation!r}")
    return regexes[0].pattern


def constraint_for_type(annotation: Any) -> TypeConstraint:
    """Compile-ready grammar and parser of ``annotation``.

    Raises
    ------
    TypeError
        For ``None``/missing annotations and types Pydantic cannot describe as JSON Schema.
    ImportError
        Without Pydantic (needed for every type but ``Annotated[str, Regex(...)]``).
    """
    if annotation is None or annotation is type(None) or annotation is Any:
        raise TypeError(
            f"cannot constrain output to {annotation!r}: annotate the return type with a "
            "model, dataclass, TypedDict, Literal, Enum, scalar, list or Annotated[str, Regex]"
        )
    pattern = _regex_of(annotation)
    if pattern is not None:
        try:
            grammar = Grammar.from_regex(pattern)
        except CorralError as exc:
            raise TypeError(f"bad Regex in {annotation!r}: {exc}") from exc
        return TypeConstraint(annotation, grammar, str)
    try:
        import pydantic
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("typed constraints need the 'pydantic' package") from exc
    try:
        adapter: Any = pydantic.TypeAdapter(annotation)
        schema = adapter.json_schema()
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as exc:
        raise TypeError(f"cannot describe {annotation!r} as JSON: {exc}") from exc
    try:
        grammar = Grammar.from_json_schema(schema)
    except CorralError as exc:
        raise TypeError(f"cannot constrain output to {annotation!r}: {exc}") from exc
    return TypeConstraint(annotation, grammar, adapter.validate_json)
