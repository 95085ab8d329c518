"""Exceptions raised by corral."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CompileLimitExceeded",
    "CompileTimeout",
    "CorralError",
    "DeadlineExceeded",
    "GrammarError",
    "LimitExceeded",
    "SchemaIssue",
    "TokenizerError",
    "UnsupportedRegexError",
    "UnsupportedSchemaError",
]


class CorralError(Exception):
    """Base class of corral's exceptions."""


class GrammarError(CorralError, ValueError):
    """A grammar is malformed or uses a construct corral does not support.

    Attributes
    ----------
    rule:
        The rule (or terminal) concerned, when there is one.
    line:
        The source line, when known.
    column:
        The source column (1-based), when known.
    pointer:
        The JSON pointer of the schema location concerned, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.line = line
        self.column = column
        self.pointer = pointer


class DeadlineExceeded(GrammarError):
    """A compilation ran past its time bound."""


class CompileTimeout(DeadlineExceeded):
    """A JSON Schema compilation ran past its time bound."""


class CompileLimitExceeded(GrammarError):
    """A compilation passed a size bound of :class:`corral.limits.Limits` (the message names
    the field)."""


class LimitExceeded(CorralError, ValueError):
    """An explicit matcher call (``accept_bytes``, ``valid_prefix_length``) went past a run-time
    bound of :class:`corral.limits.Limits`; the matcher's state is left unchanged.

    Attributes
    ----------
    limit:
        The name of the :class:`~corral.limits.Limits` field, e.g. ``"max_input_bytes"``.
    value:
        Its value.
    """

    def __init__(self, message: str, *, limit: str, value: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class UnsupportedRegexError(CorralError, ValueError):
    """A regex uses a construct that has no regular (automaton) equivalent or that corral's
    regex dialects do not support (look-around, back-references, possessive quantifiers, ...)."""


class TokenizerError(CorralError, ValueError):
    """A tokenizer file is malformed or of an unsupported kind."""


@dataclass(frozen=True)
class SchemaIssue:
    """One JSON Schema keyword occurrence that corral does not enforce exactly.

    Attributes
    ----------
    pointer:
        JSON pointer (RFC 6901) of the schema object holding the keyword, e.g. ``"/properties/a"``.
    keyword:
        The keyword, e.g. ``"uniqueItems"``.
    reason:
        Why it is not enforced.
    """

    pointer: str
    keyword: str
    reason: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.keyword}: {self.reason}"


class UnsupportedSchemaError(GrammarError):
    """A JSON Schema uses keywords that corral cannot enforce exactly (it fails closed).

    Attributes
    ----------
    issues:
        Every keyword occurrence not enforced, with its JSON pointer and the reason.
    """

    def __init__(self, issues: list[SchemaIssue], message: str | None = None) -> None:
        self.issues = list(issues)
        if message is None:
            shown = "; ".join(str(i) for i in self.issues[:20])
            more = f" (and {len(self.issues) - 20} more)" if len(self.issues) > 20 else ""
            message = f"JSON Schema not enforceable exactly: {shown}{more}"
        super().__init__(message)
