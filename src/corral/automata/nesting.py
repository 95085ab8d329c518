"""Bracket nesting depth of a text, measured before a recursive parser sees it.

The parsers corral relies on (interegular's and Python's regex parsers, Lark's grammar loader,
corral's own GBNF parser and the lowering passes) descend recursively, so a text nested a few
thousand levels deep would end in :class:`RecursionError`. :func:`check_nesting` scans the text
once (a regular expression finds the brackets, skipping quoted strings, comments and character
classes as the dialect says) and refuses, with line and column, any text nested deeper than the
bound (:attr:`corral.limits.Limits.max_nesting_depth`).
"""

from __future__ import annotations

import re

from corral.errors import GrammarError
from corral.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "GBNF_TOKENS",
    "LARK_TOKENS",
    "REGEX_TOKENS",
    "check_nesting",
    "check_text",
    "deepest_point",
    "line_column",
]

REGEX_TOKENS = re.compile(r"\\.|\[\^?\]?(?:[^\]\\]|\\.?)*(?:\]|\Z)|[()]", re.S)
"""Tokens of a Python/ECMA regex for :func:`check_nesting`: escapes and character classes
(skipped) and parentheses (counted)."""

GBNF_TOKENS = re.compile(
    r'"(?:[^"\\]|\\.?)*(?:"|\Z)|\[(?:[^\]\\]|\\.?)*(?:\]|\Z)|#[^\n]*|[()]', re.S
)
"""Tokens of GBNF text: literals, character classes and comments (skipped), parentheses."""

LARK_TOKENS = re.compile(
    r'"(?:[^"\\\n]|\\.?)*(?P<q>"|$)|/(?!/)(?:[^/\\\n]|\\.?)*(?P<r>/|$)|//[^\n]*|[()\[\]{}]',
    re.M,
)
"""Tokens of Lark text: literals, regexes and comments (skipped), brackets of all kinds. The
groups ``q`` and ``r`` hold the closing quote or slash of a literal or regex (empty: unclosed
on its line)."""

# Every skipped span is escape-first with disjoint alternatives and may also end at the end of
# its line (or text): the first attempt at a span always succeeds, so the scan never backtracks
# and takes linear time. (The former lazy ``(?:\\/|\\\\|[^/\n])*?/`` parsed a run of
# backslashes in exponentially many ways when no closing slash followed on the line: found by
# the front-end fuzz run.) An unclosed string, class or regex, which its parser rejects anyway,
# then hides the rest of its line or text.

_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")


def line_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def deepest_point(text: str, tokens: re.Pattern[str], limit: int) -> int | None:
    """The index of the first bracket nested deeper than ``limit``, or ``None``.

    Parameters
    ----------
    text:
        The text to scan.
    tokens:
        A pattern whose matches are either one bracket character (``([{`` opens, ``)]}``
        closes) or a longer span (string, comment, character class) that is skipped.
    limit:
        The deepest nesting allowed.
    """
    if sum(text.count(c) for c in _OPEN) <= limit:
        return None
    depth = 0
    for m in tokens.finditer(text):
        tok = m.group()
        if len(tok) != 1:
            continue
        if tok in _OPEN:
            depth += 1
            if depth > limit:
                return m.start()
        elif tok in _CLOSE and depth:
            depth -= 1
    return None


def check_nesting(
    text: str, tokens: re.Pattern[str], limit: int, what: str, offset: tuple[int, int] = (0, 0)
) -> None:
    """Raise :class:`~corral.errors.GrammarError` if ``text`` nests deeper than ``limit``.

    Parameters
    ----------
    text, tokens, limit:
        As for :func:`deepest_point`.
    what:
        What the text is (``"<lark>"``, ``"regex"``...), the message's prefix.
    offset:
        Line and column offsets added to the reported position (for a text embedded in a larger
        one; ``(0, 0)`` otherwise).
    """
    where = deepest_point(text, tokens, limit)
    if where is None:
        return
    line, col = line_column(text, where)
    col += offset[1] if line == 1 else 0
    line += offset[0]
    raise GrammarError(
        f"{what}: nested deeper than {limit} (Limits.max_nesting_depth) at line {line} "
        f"column {col}",
        line=line,
        column=col,
    )


def check_text(text: str, tokens: re.Pattern[str], limits: Limits | None, what: str) -> None:
    """Refuse a grammar text longer than ``limits.max_grammar_bytes`` or nested deeper than
    ``limits.max_nesting_depth`` (``None``: :data:`~corral.limits.DEFAULT_LIMITS`)."""
    lim = limits if limits is not None else DEFAULT_LIMITS
    if len(text) > lim.max_grammar_bytes:
        raise GrammarError(
            f"{what}: grammar larger than {lim.max_grammar_bytes} characters "
            "(Limits.max_grammar_bytes)"
        )
    check_nesting(text, tokens, lim.max_nesting_depth, what)
