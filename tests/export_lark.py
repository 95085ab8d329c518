"""Export corral's grammar IR as Lark grammar text, for use as an independent test oracle.

Lark's Earley parser with ``lexer="dynamic_complete"`` tries, at each position, only the *first*
match of a terminal regex (in Python's backtracking order) and that match's prefixes, not every
match: ``/a|ab/`` never matches ``ab``. So that the exported grammar has exactly the IR's
language, no multi-character regex is handed to Lark: every IR terminal becomes a Lark *rule*
over single-character terminals (``/[...]/``), built from the syntax tree of its regex as parsed
by Python's own ``re`` parser, so the oracle shares no regex code with corral's compiler. The
IR's rule that a terminal matches only non-empty strings is applied on that tree. ``%ignore``
would have the same first-match problem, so ignored terminals are spliced in instead: each
occurrence of a terminal ``T`` in a rule becomes ``ignored T`` and the entry rule ends in
``ignored``, where ``ignored`` derives any sequence of ignored-terminal matches, which is the
IR's "between and around the terminals".

Regexes mean what they mean to Python's ``re``, except that ``\\d \\w \\s`` are ASCII-only, as in
:mod:`interegular`, against which the IR defines terminal regexes.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from typing import Any

from corral.errors import GrammarError
from corral.grammars.ir import Grammar, Terminal

__all__ = ["LARK_START", "grammar_to_lark"]

LARK_START = "start"
"""Name of the entry rule of every exported grammar (Lark's default start)."""

_sre: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_Ranges = tuple[tuple[int, int], ...]
_ALL: _Ranges = ((0, 0x10FFFF),)
_DIGIT: _Ranges = ((48, 57),)
_WORD: _Ranges = ((48, 57), (65, 90), (95, 95), (97, 122))
_SPACE: _Ranges = ((9, 13), (32, 32))


def _complement(ranges: _Ranges) -> _Ranges:
    out, nxt = [], 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    return (*out, (nxt, 0x10FFFF)) if nxt <= 0x10FFFF else tuple(out)


_CATEGORIES = {
    "CATEGORY_DIGIT": _DIGIT,
    "CATEGORY_NOT_DIGIT": _complement(_DIGIT),
    "CATEGORY_WORD": _WORD,
    "CATEGORY_NOT_WORD": _complement(_WORD),
    "CATEGORY_SPACE": _SPACE,
    "CATEGORY_NOT_SPACE": _complement(_SPACE),
}


@dataclass(frozen=True)
class _Re:
    """Regex tree: ``chars`` (one character), ``cat``, ``or`` or ``loop`` (``lo``..``hi``)."""

    kind: str
    items: tuple[_Re, ...] = ()
    ranges: _Ranges = ()
    negated: bool = False
    fold: bool = False
    lo: int = 0
    hi: int | None = None


def _chars(ranges: _Ranges, negated: bool, flags: int) -> _Re:
    return _Re("chars", ranges=ranges, negated=negated, fold=bool(flags & re.IGNORECASE))


def _class(items: Any, flags: int) -> _Re:
    ranges: list[tuple[int, int]] = []
    negated = False
    for op, arg in items:
        if op.name == "NEGATE":
            negated = True
        elif op.name in ("LITERAL", "RANGE"):
            ranges.append((arg, arg) if op.name == "LITERAL" else arg)
        elif op.name == "CATEGORY" and arg.name in _CATEGORIES:
            ranges.extend(_CATEGORIES[arg.name])
        else:
            raise GrammarError(f"cannot export regex class item {op.name}")
    return _chars(tuple(ranges), negated, flags)


def _convert(pattern: Any, flags: int) -> _Re:
    """Turn a parsed Python regex (``re._parser.SubPattern``) into a :class:`_Re` tree."""
    items: list[_Re] = []
    for op, arg in pattern:
        name = op.name
        if name in ("LITERAL", "NOT_LITERAL"):
            items.append(_chars(((arg, arg),), name == "NOT_LITERAL", flags))
        elif name == "ANY":
            dotall = bool(flags & re.DOTALL)
            items.append(_chars(_ALL if dotall else ((10, 10),), not dotall, flags))
        elif name == "IN":
            items.append(_class(arg, flags))
        elif name == "BRANCH":
            items.append(_Re("or", tuple(_convert(b, flags) for b in arg[1])))
        elif name == "SUBPATTERN":
            items.append(_convert(arg[3], (flags | arg[1]) & ~arg[2]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            hi = None if arg[1] == _sre.MAXREPEAT else arg[1]
            items.append(_Re("loop", (_convert(arg[2], flags),), lo=arg[0], hi=hi))
        else:
            raise GrammarError(f"cannot export regex construct {name}")
    return items[0] if len(items) == 1 else _Re("cat", tuple(items))


def _nullable(node: _Re) -> bool:
    if node.kind == "loop":
        return node.lo == 0 or _nullable(node.items[0])
    if node.kind == "or":
        return any(_nullable(i) for i in node.items)
    return node.kind == "cat" and all(_nullable(i) for i in node.items)


def _nonempty(node: _Re) -> _Re | None:
    """A tree for the non-empty strings of ``node``, ``None`` if it has none."""
    if not _nullable(node):
        return node
    if node.kind == "loop":
        inner = _nonempty(node.items[0])
        if inner is None or node.hi == 0:
            return None
        return _Re("loop", (inner,), lo=1, hi=node.hi)
    if node.kind == "or":
        branches = [b for b in map(_nonempty, node.items) if b is not None]
    else:  # a nullable concatenation: some item matches the first character
        branches = []
        for i, item in enumerate(node.items):
            first = _nonempty(item)
            if first is not None:
                branches.append(_Re("cat", (first, *node.items[i + 1 :])))
    return _Re("or", tuple(branches)) if branches else None


def _terminal_tree(term: Terminal) -> _Re | None:
    if term.dfa is not None:
        raise GrammarError(f"terminal {term.name!r}: prebuilt automaton, no regex to export")
    flags = (re.IGNORECASE if "i" in term.flags else 0) | (re.DOTALL if "s" in term.flags else 0)
    if term.literal:
        chars = [_chars(((ord(c), ord(c)),), False, flags) for c in term.pattern]
        return _nonempty(_Re("cat", tuple(chars)))
    try:
        parsed = _sre.parse(term.pattern, flags)
    except re.error as exc:
        raise GrammarError(f"terminal {term.name!r}: bad regex: {exc}") from exc
    return _nonempty(_convert(parsed, parsed.state.flags))


def _char(cp: int) -> str:
    """A character for a class inside a Lark ``/regex/`` (Lark decodes ``\\x``/``\\u``/``\\U``)."""
    c = chr(cp)
    if c.isascii() and c.isalnum():
        return c
    if 0x20 < cp < 0x7F:
        return "\\" + c
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}"


def _atom(node: _Re) -> str:
    ranges, negated = (node.ranges, node.negated) if node.ranges else (_ALL, not node.negated)
    body = "".join(_char(lo) + ("" if lo == hi else "-" + _char(hi)) for lo, hi in ranges)
    return f"/[{'^' if negated else ''}{body}]/{'i' if node.fold else ''}"


def _sanitize(name: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", name.lower())
    return name if re.match(r"[a-z]", name) else "r_" + name


class _Writer:
    """Collects Lark rules, handing out unique rule names."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.lines: list[str] = []

    def fresh(self, base: str) -> str:
        name, n = _sanitize(base), 1
        while name in self.used:
            n += 1
            name = f"{_sanitize(base)}_{n}"
        self.used.add(name)
        return name

    def rule(self, name: str, alts: list[list[str]]) -> str:
        alts = alts or [[_atom(_chars((), False, 0))]]  # no alternative: match nothing
        self.lines.append(f"{name}: " + " | ".join(" ".join(a) for a in alts))
        return name

    def symbols(self, node: _Re) -> list[str]:
        alts = self.alts(node)
        return alts[0] if len(alts) == 1 else [self.rule(self.fresh("h"), alts)]

    def symbol(self, node: _Re) -> str:
        syms = self.symbols(node)
        return syms[0] if len(syms) == 1 else self.rule(self.fresh("h"), [syms])

    def alts(self, node: _Re) -> list[list[str]]:
        if node.kind == "chars":
            return [[_atom(node)]]
        if node.kind == "or":
            return [alt for item in node.items for alt in self.alts(item)]
        if node.kind == "cat":
            return [[sym for item in node.items for sym in self.symbols(item)]]
        if node.hi == 0:
            return [[]]
        x = self.symbol(node.items[0])
        if node.hi is None:
            star = self.fresh("h")
            return [[x] * node.lo + [self.rule(star, [[], [star, x]])]]
        chain: list[str] = []
        for _ in range(node.hi - node.lo):
            chain = [self.rule(self.fresh("h"), [[], [x, *chain]])]
        return [[x] * node.lo + chain]


def grammar_to_lark(g: Grammar) -> str:
    """Write ``g`` as a Lark grammar with exactly the same language.

    Parse with ``lark.Lark(text, parser="earley", lexer="dynamic_complete")``: the entry rule is
    :data:`LARK_START` (``start``, Lark's default). When ``g.start`` sanitizes to itself (a
    lowercase name such as ``root``), a rule of that name is the entry rule too, so
    ``start=g.start`` also works.

    Parameters
    ----------
    g:
        A grammar in corral's IR (validated or not).

    Returns
    -------
    str
        Lark grammar text. Rule names are lowercased, with characters Lark does not allow
        replaced by ``_``, a prefix ``r_`` where needed and a suffix ``_<n>`` against collisions;
        each terminal ``T`` becomes a rule ``t_<T>`` over single-character terminals (see the
        module docstring); helper rules are named ``h``, ``h_2``, ...

    Raises
    ------
    GrammarError
        If a terminal regex uses a construct with no context-free reading (anchors,
        look-around, back-references, possessive repeats) or does not parse.
    """
    w = _Writer()
    entry = w.fresh(g.start)
    w.used.add(LARK_START)
    ignored = w.fresh("ignored") if g.ignore else None
    names = {g.start: w.fresh(f"{g.start}_body") if ignored else entry}
    names.update((n, w.fresh(n)) for n in g.rules if n != g.start)
    names.update((n, w.fresh(f"t_{n}")) for n in g.terminals)

    def parts(sym: str) -> list[str]:
        return [ignored, names[sym]] if ignored and sym in g.terminals else [names[sym]]

    for name, rule in g.rules.items():
        w.rule(names[name], [[p for sym in alt for p in parts(sym)] for alt in rule.alternatives])
    for name, term in g.terminals.items():
        tree = _terminal_tree(term)
        w.rule(names[name], w.alts(tree) if tree else [])
    if ignored:
        one = w.rule(w.fresh("h"), [[names[t]] for t in g.ignore])
        w.rule(ignored, [[], [ignored, one]])
        w.rule(entry, [[names[g.start], ignored]])
    if entry != LARK_START:
        w.rule(LARK_START, [[entry]])
    return "\n".join(w.lines) + "\n"
