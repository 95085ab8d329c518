"""Bring terminal regexes into the subset of Python ``re`` syntax that :mod:`interegular` parses.

corral compiles every terminal to a finite automaton with :mod:`interegular` (v0.3), which parses
most of Python's ``re`` syntax but not all of it. The helpers here are shared by the front-ends:

* :func:`prepare_regex` rewrites what can be rewritten exactly and refuses what cannot:

  - ``\\uHHHH``, ``\\UHHHHHHHH``, ``\\xHH``, octal (``\\0``, ``\\101``) and ``\\N{NAME}`` escapes
    become the literal character (backslash-escaped where it is a metacharacter, inside or
    outside a character class);
  - a ``]`` that opens a class (``[]a]``) is escaped, since interegular misreads it;
  - ``(?#...)`` comments are removed and the no-op ``u`` flag is dropped from inline flags;
  - leading global flags become a scoped group (``(?i)a|b`` becomes ``(?i:a|b)``), so that the
    regex can be wrapped or concatenated;
  - look-around, back-references, conditionals, atomic groups and possessive quantifiers, and
    the inline flags ``m``, ``x``, ``a`` and ``L``, raise :class:`UnsupportedRegexError`.

* :func:`regex_fsm` parses the result (with corral's ``"i"``/``"s"`` flags) with interegular and
  Python's :mod:`re`, raising :class:`UnsupportedRegexError` when either refuses it.

Departure from Python ``re``: interegular's ``\\w``, ``\\d`` and ``\\s`` (and their negations) are
ASCII-only, so a grammar using them (Lark's ``common.lark`` does not, but user grammars may)
matches only ASCII letters, digits and whitespace there, where Python would match any Unicode one.
"""

from __future__ import annotations

import re
import unicodedata

from corral.automata.dfa import ByteDFA
from corral.automata.nesting import REGEX_TOKENS, check_nesting
from corral.automata.regex import compile_regex
from corral.errors import DeadlineExceeded, GrammarError, UnsupportedRegexError
from corral.limits import Budget, limits_of

__all__ = [
    "matches_empty",
    "matches_nonempty",
    "prepare_regex",
    "regex_fsm",
]

_META = frozenset(".^$*+?{}[]\\|()#")
_CLASS_META = frozenset("\\]^-[&~|")
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")
_INLINE_FLAG_RE = re.compile(r"\(\?([aiLmsux]*)(?:-([imsx]*))?([:)])")
_GLOBAL_FLAGS_RE = re.compile(r"(?:\(\?[is]*\))+")
_COUNTED_RE = re.compile(r"\{(?:\d+(?:,\d*)?|,\d*)\}")


def _literal(ch: str, in_class: bool) -> str:
    """Spell the character ``ch`` for a regex, escaped if it is special where it stands."""
    if ch in (_CLASS_META if in_class else _META):
        return "\\" + ch
    return ch


def _decode_escape(pattern: str, i: int) -> tuple[str, int] | None:
    """Decode the escape at ``pattern[i]`` (a backslash) into a character.

    Returns ``(character, length of the escape)`` for the escapes that name one code point, or
    ``None`` for any other escape (``\\d``, ``\\n``, ``\\.``...), which is kept as written.
    """
    kind = pattern[i + 1]
    widths = {"x": 2, "u": 4, "U": 8}
    if kind in widths:
        digits = pattern[i + 2 : i + 2 + widths[kind]]
        if len(digits) != widths[kind] or not set(digits) <= _HEX:
            raise UnsupportedRegexError(f"malformed escape \\{kind} at offset {i}")
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise UnsupportedRegexError(f"escape \\{kind}{digits} is beyond U+10FFFF")
        return chr(code), 2 + len(digits)
    if kind == "N":
        end = pattern.find("}", i)
        if not pattern.startswith("{", i + 2) or end < 0:
            raise UnsupportedRegexError(f"malformed \\N{{...}} escape at offset {i}")
        try:
            return unicodedata.lookup(pattern[i + 3 : end]), end + 1 - i
        except KeyError:
            raise UnsupportedRegexError(
                f"unknown character name in {pattern[i : end + 1]}"
            ) from None
    if kind == "0":
        j = i + 2
        while j < min(i + 4, len(pattern)) and pattern[j] in _OCT:
            j += 1
        return chr(int(pattern[i + 1 : j], 8)), j - i
    three = pattern[i + 1 : i + 4]
    if len(three) == 3 and set(three) <= _OCT:
        if int(three, 8) > 0o377:
            raise UnsupportedRegexError(f"octal escape \\{three} is beyond \\377")
        return chr(int(three, 8)), 4
    return None


def _group_extension(pattern: str, i: int, out: list[str]) -> int:
    """Handle ``(?`` at ``pattern[i]``; append the rewritten text and return the next offset."""
    rest = pattern[i + 2 : i + 4]
    if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
        raise UnsupportedRegexError(f"look-around at offset {i} is not regular")
    if pattern.startswith("P=", i + 2):
        raise UnsupportedRegexError(f"back-reference at offset {i} is not regular")
    if rest[:1] == "(":
        raise UnsupportedRegexError(f"conditional group at offset {i} is not regular")
    if rest[:1] == ">":
        raise UnsupportedRegexError(f"atomic group at offset {i} is not supported")
    if rest[:1] == "#":
        end = pattern.find(")", i)
        if end < 0:
            raise UnsupportedRegexError(f"unterminated comment at offset {i}")
        return end + 1
    m = _INLINE_FLAG_RE.match(pattern, i)
    if m is None:
        out.append("(?")
        return i + 2
    on, off, closer = m.group(1), m.group(2), m.group(3)
    bad = sorted(set(on + (off or "")) & set("mxaL"))
    if bad:
        raise UnsupportedRegexError(
            f"inline flag {bad[0]!r} at offset {i} is not supported (only 'i' and 's')"
        )
    on = on.replace("u", "")
    if not on and not off and closer == ")":
        return m.end()
    out.append("(?" + on + (f"-{off}" if off is not None else "") + closer)
    return m.end()


def prepare_regex(pattern: str) -> str:
    """Rewrite ``pattern`` into interegular's dialect of Python ``re`` syntax (same language).

    Parameters
    ----------
    pattern:
        A regex in Python ``re`` syntax.

    Returns
    -------
    str
        An equivalent regex without code-point escapes, comments, ``u`` flags or global flags.

    Raises
    ------
    UnsupportedRegexError
        For non-regular or unsupported constructs (see the module docstring).
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = class_first = after_quantifier = False
    while i < n:
        ch = pattern[i]
        quantifier = False
        if ch == "\\":
            if i + 1 >= n:
                raise UnsupportedRegexError("the pattern ends with a lone backslash")
            decoded = _decode_escape(pattern, i)
            if decoded is not None:
                out.append(_literal(decoded[0], in_class))
                i += decoded[1]
            else:
                if not in_class and pattern[i + 1] in "123456789":
                    raise UnsupportedRegexError(f"back-reference at offset {i} is not regular")
                out.append(pattern[i : i + 2])
                i += 2
            class_first = False
        elif in_class:
            out.append("\\]" if ch == "]" and class_first else ch)
            in_class = class_first or ch != "]"
            class_first = False
            i += 1
        elif ch == "[":
            in_class = class_first = True
            caret = pattern.startswith("^", i + 1)
            out.append("[^" if caret else "[")
            i += 2 if caret else 1
        elif ch == "(" and pattern.startswith("?", i + 1):
            i = _group_extension(pattern, i, out)
        elif ch == "+" and after_quantifier:
            raise UnsupportedRegexError(f"possessive quantifier at offset {i} is not supported")
        else:
            counted = _COUNTED_RE.match(pattern, i) if ch == "{" else None
            piece = counted.group() if counted is not None else ch
            quantifier = counted is not None or ch in "*+?"
            out.append(piece)
            i += len(piece)
        after_quantifier = quantifier
    if in_class:
        raise UnsupportedRegexError("unterminated character class")
    result = "".join(out)
    leading = _GLOBAL_FLAGS_RE.match(result)
    if leading is None:
        return result
    flags = "".join(sorted(set(re.sub(r"[()?]", "", leading.group()))))
    rest = result[leading.end() :]
    return f"(?{flags}:{rest})" if flags else rest


def regex_fsm(pattern: str, flags: str = "", *, budget: Budget | None = None) -> ByteDFA:
    """Compile an already prepared regex with corral flags to a byte automaton.

    The automaton is corral's own (:func:`corral.automata.dfa.compile_regex`),
    whose construction is bounded, so a hostile regex fails fast instead of hanging.

    Parameters
    ----------
    pattern:
        Output of :func:`prepare_regex` (or any regex in interegular's dialect).
    flags:
        corral flags: ``"i"`` and/or ``"s"``.
    budget:
        Deadline and bounds (``None``: no deadline, default bounds); the nesting depth
        (:attr:`~corral.limits.Limits.max_nesting_depth`) is checked before any parser runs.

    Returns
    -------
    ByteDFA
        The automaton of the regex's (full-match) language.

    Raises
    ------
    UnsupportedRegexError
        When Python's :mod:`re` or interegular rejects the regex, or it is too large.
    """
    body = f"(?{''.join(sorted(flags))}:{pattern})" if flags else pattern
    try:
        check_nesting(body, REGEX_TOKENS, limits_of(budget).max_nesting_depth, "regex")
        re.compile(body)
    except (re.error, OverflowError) as exc:  # OverflowError: a repetition count past 2**32
        raise UnsupportedRegexError(f"invalid regex: {exc}") from None
    except (GrammarError, RecursionError) as exc:
        raise UnsupportedRegexError(
            str(exc).removeprefix("regex: ") or "nested too deeply"
        ) from None
    try:
        return compile_regex(body, "regex", budget=budget)
    except DeadlineExceeded:
        raise
    except GrammarError as exc:
        raise UnsupportedRegexError(str(exc).removeprefix("regex: ")) from None


def matches_empty(fsm: ByteDFA) -> bool:
    """Whether the automaton accepts the empty string."""
    return bool(fsm.accepting[1])


def matches_nonempty(fsm: ByteDFA) -> bool:
    """Whether the automaton accepts at least one non-empty string."""
    return bool((fsm.row(1) != 0).any())
