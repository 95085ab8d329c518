"""Results of the conformance checks: a report per engine, grammar and check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["ConformanceReport", "Counterexample", "Status"]

Status = Literal["pass", "fail", "unsupported", "error"]


def show(data: bytes, limit: int = 160) -> str:
    """``data`` as a readable quoted string, cut in the middle past ``limit`` characters."""
    text = repr(data)[1:]
    if len(text) > limit:
        text = text[: limit // 2] + " ... " + text[-limit // 2 :]
    return text


@dataclass(frozen=True)
class Counterexample:
    """The first failure a check found, shrunk by hypothesis.

    Attributes
    ----------
    check:
        ``"soundness"``, ``"compliance"`` or ``"forced_bytes"``.
    description:
        What went wrong, readable.
    text:
        The string (soundness) or the walk's output (compliance) up to the failure.
    tokens:
        The token ids fed before the failure (the failing token last, where there is one).
    """

    check: str
    description: str
    text: bytes
    tokens: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``text`` decoded with replacement characters)."""
        return {
            "check": self.check,
            "description": self.description,
            "text": self.text.decode("utf-8", "replace"),
            "tokens": list(self.tokens),
        }


@dataclass(frozen=True)
class ConformanceReport:
    """The result of one check of one engine on one grammar.

    Attributes
    ----------
    engine:
        The engine's name.
    grammar:
        The grammar's name.
    check:
        The check run.
    examples:
        Examples run (derivations or walks), shrinking included.
    status:
        ``"pass"``, ``"fail"`` (see :attr:`counterexample`), ``"unsupported"`` (the engine does
        not take the grammar) or ``"error"`` (the engine crashed; see :attr:`reason`).
    counterexample:
        The shrunk counterexample when the status is ``"fail"``.
    reason:
        Why the grammar is unsupported, or the error.
    notes:
        Remarks (e.g. walks that could not be finished and were not judged).
    """

    engine: str
    grammar: str
    check: str
    examples: int
    status: Status
    counterexample: Counterexample | None = None
    reason: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Whether the check passed."""
        return self.status == "pass"

    def describe(self) -> str:
        """One line (two with a counterexample) for people."""
        head = f"{self.status.upper():11} {self.engine:10} {self.grammar:28} {self.check:12}"
        if self.status == "pass":
            line = f"{head} {self.examples} examples"
        elif self.counterexample is not None:
            line = f"{head}\n    {self.counterexample.description}"
        else:
            line = f"{head} {self.reason}"
        for note in self.notes:
            line += f"\n    note: {note}"
        return line

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "engine": self.engine,
            "grammar": self.grammar,
            "check": self.check,
            "examples": self.examples,
            "status": self.status,
            "counterexample": self.counterexample.to_json() if self.counterexample else None,
            "reason": self.reason,
            "notes": list(self.notes),
        }
