"""Exit codes of the command line, and how each error becomes one ``error:`` line.

Every failure ends in one line ``error: ...`` on stderr (a refused JSON Schema adds one line per
refused keyword) and one of the exit codes below; never a traceback (``CORRAL_DEBUG=1`` re-raises
for developers).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from corral.errors import (
    CorralError,
    GrammarError,
    TokenizerError,
    UnsupportedRegexError,
    UnsupportedSchemaError,
)

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_REJECTED",
    "EXIT_USAGE",
    "Failure",
    "UsageError",
    "debug_enabled",
    "describe",
    "printable",
]

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_ERROR = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

EXIT_CODES_HELP = """\
exit codes:
  0    success (mask, check, explain: all enforced; match: accepted)
  1    rejected: the text (match) or prefix (mask) is not in the language
  2    usage: bad or inapplicable options, missing files, unknown tokenizer, input too large
  3    refused: a JSON Schema uses keywords corral cannot enforce exactly (see --lenient)
  4    grammar or schema error (syntax, encoding, limits), or an unexpected failure
  130  interrupted (Ctrl-C)"""


class UsageError(CorralError):
    """A command-line problem: bad or inapplicable options, a file that cannot be read, an
    unknown tokenizer, an input past ``--max-bytes`` (exit 2)."""


@dataclass(frozen=True)
class Failure:
    """What to print for an error, and the exit code.

    Attributes
    ----------
    code:
        The exit code.
    message:
        The text after ``error: `` (one line).
    details:
        Further lines (the refused keywords of a JSON Schema).
    """

    code: int
    message: str
    details: tuple[str, ...] = ()


def debug_enabled() -> bool:
    """Whether ``CORRAL_DEBUG`` asks for tracebacks instead of ``error:`` lines."""
    return os.environ.get("CORRAL_DEBUG", "") not in ("", "0")


def printable(text: str) -> str:
    """``text`` on one line: newlines become ``" | "``; other controls (not tabs) and lone
    surrogates are escaped."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append(" | ")
        elif ch == "\t" or (ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)


def _with_subject(subject: str | None, message: str) -> str:
    if subject and subject not in message:
        return f"{subject}: {message}"
    return message


def _location(exc: GrammarError) -> str:
    message = str(exc)
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    pointer = getattr(exc, "pointer", None)
    where = []
    if line is not None and f"line {line}" not in message:
        where.append(f"line {line}" + (f", column {column}" if column is not None else ""))
    if pointer is not None and pointer not in message and " at /" not in message:
        shown = pointer if len(pointer) <= 120 else pointer[:60] + "/.../" + pointer[-55:]
        where.append(f"at {shown or '/'}")
    return f" ({'; '.join(where)})" if where else ""


def describe(exc: BaseException, subject: str | None) -> Failure:
    """The :class:`Failure` for ``exc``; ``subject`` names the grammar or schema concerned."""
    if isinstance(exc, KeyboardInterrupt):
        return Failure(EXIT_INTERRUPTED, "interrupted")
    if isinstance(exc, UsageError):
        return Failure(EXIT_USAGE, printable(str(exc)))
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else subject
        reason = exc.strerror or str(exc)
        return Failure(EXIT_USAGE, printable(f"{name}: {reason}" if name else reason))
    if isinstance(exc, TokenizerError):
        return Failure(EXIT_USAGE, printable(f"tokenizer: {exc}"))
    if isinstance(exc, UnsupportedSchemaError):
        n = len(exc.issues)
        head = (
            f"JSON Schema not enforceable exactly: {n} keyword{'s' if n != 1 else ''} refused "
            "(--lenient compiles without them)"
        )
        details = tuple(printable(f"refused: {issue}") for issue in exc.issues)
        return Failure(EXIT_REFUSED, printable(_with_subject(subject, head)), details)
    if isinstance(exc, GrammarError):
        text = str(exc) + _location(exc)
        return Failure(EXIT_ERROR, printable(_with_subject(subject, text)))
    if isinstance(exc, (UnsupportedRegexError, CorralError)):
        return Failure(EXIT_ERROR, printable(_with_subject(subject, str(exc))))
    if isinstance(exc, RecursionError):
        text = "nested too deeply (recursion limit reached)"
        return Failure(EXIT_ERROR, printable(_with_subject(subject, text)))
    if isinstance(exc, MemoryError):
        return Failure(EXIT_ERROR, printable(_with_subject(subject, "out of memory")))
    text = f"unexpected {type(exc).__name__}: {exc} (CORRAL_DEBUG=1 shows a traceback)"
    return Failure(EXIT_ERROR, printable(_with_subject(subject, text)))
