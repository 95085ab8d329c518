"""Exceptions raised by corral."""

from __future__ import annotations

__all__ = ["CorralError", "GrammarError", "TokenizerError"]


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
    """

    def __init__(self, message: str, *, rule: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.line = line


class TokenizerError(CorralError, ValueError):
    """A tokenizer file is malformed or of an unsupported kind."""
