"""Small front-ends: a grammar from one regular expression, or from a list of strings.

Both build a start rule ``start`` over one or more terminals. Because IR terminals match only
non-empty strings, the empty string, when it belongs to the language, is expressed as an empty
alternative of ``start``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from corral.errors import CompileLimitExceeded, GrammarError, UnsupportedRegexError
from corral.grammars.ir import Grammar, Rule, Terminal, make_grammar
from corral.grammars.regex_compat import (
    matches_empty,
    matches_nonempty,
    prepare_regex,
    regex_fsm,
)
from corral.limits import DEFAULT_LIMITS, Limits

__all__ = ["grammar_from_choices", "grammar_from_regex"]

_START = "start"


def grammar_from_regex(pattern: str, *, flags: str = "", limits: Limits | None = None) -> Grammar:
    """Build a grammar whose language is exactly the strings that ``pattern`` fully matches.

    Parameters
    ----------
    pattern:
        A regex in Python ``re`` syntax, within what interegular supports (see
        :mod:`corral.grammars.regex_compat`; ``\\uHHHH``-style escapes are translated, and
        ``\\w``, ``\\d``, ``\\s`` are ASCII-only).
    flags:
        ``"i"`` (case-insensitive) and/or ``"s"`` (``.`` matches a newline).
    limits:
        Bounds (:class:`~corral.limits.Limits`: ``max_grammar_bytes``, ``max_nesting_depth``,
        automaton states, ``compile_seconds``); default :data:`~corral.limits.DEFAULT_LIMITS`.

    Returns
    -------
    Grammar
        A validated grammar with one terminal ``PATTERN`` and start rule ``start``; the rule
        has an empty alternative when the regex matches the empty string.

    Raises
    ------
    GrammarError
        On unknown flags, a regex that Python or interegular cannot parse, or a non-regular
        construct (look-around, back-references), a regex that matches no string, or one beyond
        a bound of ``limits``.
    """
    lim = limits if limits is not None else DEFAULT_LIMITS
    if len(pattern) > lim.max_grammar_bytes:
        raise GrammarError(f"<regex>: pattern longer than {lim.max_grammar_bytes} characters "
                           "(Limits.max_grammar_bytes)")  # fmt: skip
    bad = sorted(set(flags) - {"i", "s"})
    if bad:
        raise GrammarError(f"<regex>: unsupported regex flag {bad[0]!r} (expected 'i' and/or 's')")
    flags = "".join(sorted(set(flags)))
    try:
        prepared = prepare_regex(pattern)
        fsm = regex_fsm(prepared, flags, budget=lim.budget())
    except UnsupportedRegexError as exc:
        raise GrammarError(f"<regex>: pattern {_short(pattern)} is not supported: {exc}") from None
    alternatives: list[tuple[str, ...]] = []
    terminals: list[Terminal] = []
    if matches_nonempty(fsm):
        terminals.append(Terminal("PATTERN", prepared, flags=flags))
        alternatives.append(("PATTERN",))
    if matches_empty(fsm):
        alternatives.append(())
    if not alternatives:
        raise GrammarError(f"<regex>: pattern {_short(pattern)} matches no string")
    return make_grammar(terminals, [Rule(_START, tuple(alternatives))], _START, source="<regex>")


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


def grammar_from_choices(choices: Iterable[str], *, limits: Limits | None = None) -> Grammar:
    """Build a grammar whose language is exactly the given strings.

    Parameters
    ----------
    choices:
        The strings; duplicates are dropped, and ``""`` makes the empty string part of the
        language.
    limits:
        Bounds: ``max_grammar_bytes`` (all choices together) and ``max_alternatives``
        (distinct choices); default :data:`~corral.limits.DEFAULT_LIMITS`.

    Returns
    -------
    Grammar
        A validated grammar with one literal terminal ``CHOICE_<n>`` per distinct non-empty
        string (in first-seen order) and start rule ``start`` with one alternative per string.

    Raises
    ------
    GrammarError
        When ``choices`` is empty, holds something other than strings, or is larger than
        ``limits.max_grammar_bytes``; a :class:`~corral.errors.CompileLimitExceeded` when it
        holds more than ``limits.max_alternatives`` distinct strings.
    """
    lim = limits if limits is not None else DEFAULT_LIMITS
    most = lim.max_grammar_bytes
    distinct: list[str] = []
    seen: set[str] = set()
    total = 0
    for choice in choices:
        if not isinstance(choice, str):
            raise GrammarError(f"<choices>: choices must be strings, got {type(choice).__name__}")
        total += len(choice) + 1
        if total > most:
            raise GrammarError(f"<choices>: the choices hold more than {most} characters "
                               "(Limits.max_grammar_bytes)")  # fmt: skip
        if choice not in seen:
            if len(distinct) >= lim.max_alternatives:
                raise CompileLimitExceeded(
                    f"<choices>: more than {lim.max_alternatives} distinct choices "
                    "(Limits.max_alternatives)"
                )
            seen.add(choice)
            distinct.append(choice)
    if not distinct:
        raise GrammarError("<choices>: at least one choice is needed (the language is empty)")
    # An escaped literal is a concatenation of escaped characters: checking each distinct
    # character once checks every terminal.
    for ch in sorted(set("".join(distinct))):
        try:
            regex_fsm(re.escape(ch))
        except UnsupportedRegexError as exc:
            raise GrammarError(f"<choices>: unsupported character {ch!r}: {exc}") from None
    terminals: list[Terminal] = []
    alternatives: list[tuple[str, ...]] = []
    for choice in distinct:
        if choice == "":
            alternatives.append(())
            continue
        name = f"CHOICE_{len(terminals)}"
        terminals.append(Terminal(name, choice, literal=True))
        alternatives.append((name,))
    return make_grammar(terminals, [Rule(_START, tuple(alternatives))], _START, source="<choices>")
