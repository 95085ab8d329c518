"""Front-end for llama.cpp's GBNF grammar dialect (llama.cpp ``grammars/README.md``).

Supported: ``name ::= alternatives`` rules, literals, character classes (ranges, ``^``), ``.``
(any character, newline included), groups, ``|``, postfix ``? * + {m} {m,} {m,n} {,n}``, ``#``
comments. Deliberate differences from llama.cpp: rules may span lines (a new one starts at
``name ::=``); a rule defined twice is an error (llama.cpp keeps the last); a raw newline in a
literal or class, an escape that is no Unicode scalar value, the class ``[]`` and counts above
:data:`MAX_REPETITION` are errors.

Lowering: each maximal sub-expression without rule references becomes *one* regex terminal (a
bare literal a literal terminal; identical terminals are shared). Terminals match only non-empty
strings, so a nullable one gets a terminal for its non-empty part and an empty alternative in
the enclosing rule (nullability and the non-empty part are computed by structural induction on
the syntax tree, as for Brzozowski's (1964) derivatives). Sub-expressions with references become
helper rules ``<rule>__<kind>_<n>`` (``grp``, ``opt``, ``rep``; GBNF names have no ``_``): ``x*``
is ``R ::= ε | R x``, ``x+`` is ``R ::= x | R x`` (left recursion), ``x{m,n}`` is ``x`` ``m``
times then ``n - m`` nested optionals ``O ::= ε | x O'``, ``x{m,}`` is ``x`` ``m - 1`` times then
``x+``.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

from corral.errors import CompileLimitExceeded, DeadlineExceeded, GrammarError
from corral.grammars.ir import Grammar, Rule, Terminal, make_grammar
from corral.limits import DEFAULT_LIMITS, Budget, Limits

__all__ = ["MAX_REPETITION", "grammar_from_gbnf"]

MAX_REPETITION = 10_000
"""Largest count allowed in ``{m,n}``."""

_SPACE = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")
_NAME = re.compile(r"[a-zA-Z0-9-]+")
_RULE_START = re.compile(r"[a-zA-Z0-9-]+[ \t]*::=")
_DEFINE = re.compile(r"[ \t]*::=")
_BRACES = re.compile(r"\{[ \t]*([0-9]*)[ \t]*(,?)[ \t]*([0-9]*)[ \t]*\}")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "[": "[", "]": "]"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_HEX = re.compile(r"[0-9a-fA-F]*")
_POSTFIX = {"*": (0, None), "+": (1, None), "?": (0, 1)}
_POSTFIX_TEXT = {bounds: op for op, bounds in _POSTFIX.items()}
_REGEX_SPECIAL = "\\.^$*+?{}[]|()"
_CLASS_SPECIAL = "\\]^-[&~|"
_INLINE_LIMIT = 16  # most alternatives a sequence expands to before optionals get helper rules


@dataclass(frozen=True)
class _Node:
    """A GBNF syntax-tree node; ``kind`` is lit, cls, any, ref, seq, alt or rep."""

    kind: str
    text: str = ""  # lit: the text; ref: the rule name
    items: tuple[_Node, ...] = ()  # seq, alt: the parts; rep: the repeated node
    lo: int = 0  # rep: bounds, hi None when unbounded
    hi: int | None = None
    ranges: tuple[tuple[int, int], ...] = ()  # cls: code-point ranges
    negated: bool = False  # cls


_EPS = _Node("lit")
_Alts = list[tuple[str, ...]]


def _seq(items: list[_Node]) -> _Node:
    flat: list[_Node] = []
    for item in items:
        for sub in item.items if item.kind == "seq" else (item,):
            if sub.kind == "lit" and flat and flat[-1].kind == "lit":
                flat[-1] = _Node("lit", flat[-1].text + sub.text)
            elif sub != _EPS:
                flat.append(sub)
    return flat[0] if len(flat) == 1 else _Node("seq", items=tuple(flat)) if flat else _EPS


def _alt(items: list[_Node]) -> _Node:
    rest = list(dict.fromkeys(i for i in items if i != _EPS))
    node = rest[0] if len(rest) == 1 else _Node("alt", items=tuple(rest)) if rest else _EPS
    return _rep(node, 0, 1) if _EPS in items else node


def _rep(node: _Node, lo: int, hi: int | None) -> _Node:
    if node == _EPS or hi == 0:
        return _EPS
    return node if (lo, hi) == (1, 1) else _Node("rep", items=(node,), lo=lo, hi=hi)


class _Parser:
    """Recursive-descent parser from GBNF text to one syntax tree per rule."""

    def __init__(self, text: str, source: str, budget: Budget) -> None:
        self.text, self.source, self.pos = text.removeprefix("\ufeff"), source, 0
        self.budget, self.n_alternatives = budget, 0
        self.max_alternatives = budget.limits.max_alternatives
        self.line_starts = [0] + [i + 1 for i, c in enumerate(self.text) if c == "\n"]
        self.refs: list[tuple[str, int]] = []

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos)

    def error(self, message: str, pos: int) -> GrammarError:
        line = self.line(pos)
        col = pos - self.line_starts[line - 1] + 1
        return GrammarError(f"{self.source}: line {line}, column {col}: {message}", line=line)

    def peek(self, ahead: int = 0) -> str:
        return self.text[self.pos + ahead : self.pos + ahead + 1]

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.text, self.pos)
        self.pos = m.end() if m else self.pos
        return m

    def parse(self) -> dict[str, tuple[_Node, int]]:
        rules: dict[str, tuple[_Node, int]] = {}
        self.match(_SPACE)
        while self.pos < len(self.text):
            start, name = self.pos, self.match(_NAME)
            if name is None:
                raise self.error(f"expected a rule name, found {self.peek()!r}", start)
            if self.match(_DEFINE) is None:
                raise self.error(f"expected '::=' after rule name {name[0]!r}", self.pos)
            body = self.alternatives(None)
            if self.peek() == ")":
                raise self.error("unbalanced ')'", self.pos)
            if name[0] in rules:
                first = self.line(rules[name[0]][1])
                raise self.error(f"rule {name[0]!r} defined twice (first at line {first})", start)
            rules[name[0]] = (body, start)
            self.budget.check()
            self.match(_SPACE)
        return rules

    def alternatives(self, open_pos: int | None) -> _Node:
        branches: list[_Node] = []
        items: list[_Node] = []
        while True:
            self.match(_SPACE)
            end = _RULE_START.match(self.text, self.pos) is not None
            if end and open_pos is not None:
                raise self.error("unbalanced '(' (missing ')')", open_pos)
            if end or self.peek() in ("", "|", ")"):
                branches.append(_seq(items))
                if end or self.peek() != "|":
                    return _alt(branches)
                self.n_alternatives += 1
                if self.n_alternatives & 63 == 0:
                    self.budget.check()
                if self.n_alternatives > self.max_alternatives:
                    line = self.line(self.pos)
                    raise CompileLimitExceeded(
                        f"{self.source}: line {line}: more than {self.max_alternatives} "
                        "alternatives ('|') in the grammar (Limits.max_alternatives)",
                        line=line,
                    )
                self.pos, items = self.pos + 1, []
            else:
                items.append(self.postfix(self.primary()))

    def primary(self) -> _Node:
        c, start = self.peek(), self.pos
        if c == '"':
            self.pos += 1
            chars = self.delimited(start, '"', "string literal")
            return _Node("lit", "".join(chr(lo) for lo, _ in chars))
        if c == "[":
            negated = self.peek(1) == "^"
            self.pos += 1 + negated
            ranges = tuple(dict.fromkeys(self.delimited(start, "]", "character class")))
            if not (ranges or negated):
                raise self.error("character class matches no character", start)
            return _Node("cls", ranges=ranges, negated=negated) if ranges else _Node("any")
        if c == ".":
            self.pos += 1
            return _Node("any")
        if c == "(":
            self.pos += 1
            inner = self.alternatives(start)
            if self.peek() != ")":
                raise self.error("unbalanced '(' (missing ')')", start)
            self.pos += 1
            return inner
        name = self.match(_NAME)
        if name:
            self.refs.append((name[0], start))
            return _Node("ref", name[0])
        if c in "*+?{":
            raise self.error(f"{c!r} must follow an expression", start)
        raise self.error(f"unexpected character {c!r}", start)

    def postfix(self, node: _Node) -> _Node:
        while True:
            self.match(_SPACE)
            c, start = self.peek(), self.pos
            if c in _POSTFIX:
                self.pos += 1
                lo, hi = _POSTFIX[c]
            elif c == "{":
                m = self.match(_BRACES)
                if m is None or not (m[1] or m[3]) or (m[3] and not m[2]):
                    raise self.error("bad repetition (use {m}, {m,}, {m,n}, {,n})", start)
                lo, hi = int(m[1] or 0), (int(m[1]) if not m[2] else int(m[3]) if m[3] else None)
                if max(lo, hi or 0) > MAX_REPETITION:
                    raise self.error(f"repetition count exceeds {MAX_REPETITION}", start)
                if hi is not None and lo > hi:
                    raise self.error(f"repetition {m[0]} has minimum above maximum", start)
            else:
                return node
            node = _rep(node, lo, hi)

    def char(self) -> int:
        start, c, e = self.pos, self.peek(), self.peek(1)
        if c != "\\":
            self.pos += 1
            return ord(c)
        self.pos += 2
        if e in _SIMPLE_ESCAPES:
            return ord(_SIMPLE_ESCAPES[e])
        size = _HEX_ESCAPES.get(e, 0) if e else 0
        digits = self.text[self.pos : self.pos + size]
        if not size or len(digits) != size or _HEX.fullmatch(digits) is None:
            raise self.error(f"bad escape {self.text[start : self.pos + size]!r}", start)
        self.pos += size
        cp = int(digits, 16)
        if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            raise self.error(f"bad escape: U+{cp:04X} is not a Unicode scalar value", start)
        return cp

    def delimited(self, start: int, close: str, what: str) -> list[tuple[int, int]]:
        """Characters (as ranges, for classes) up to ``close``, which is consumed."""
        ranges: list[tuple[int, int]] = []
        while self.peek() != close:
            if self.peek() in ("", "\n"):
                raise self.error(f"unterminated {what}", start)
            lo = hi = self.char()
            if close == "]" and self.peek() == "-" and self.peek(1) not in ("]", "", "\n"):
                self.pos += 1
                hi = self.char()
                if hi < lo:
                    raise self.error(f"invalid range U+{lo:04X}-U+{hi:04X}", start)
            ranges.append((lo, hi))
        self.pos += 1
        return ranges


def _contains(node: _Node, kind: str) -> bool:
    return node.kind == kind or any(_contains(i, kind) for i in node.items)


def _nullable(node: _Node) -> bool:
    if node.kind in ("seq", "alt"):
        return (all if node.kind == "seq" else any)(_nullable(i) for i in node.items)
    return node == _EPS or (node.kind == "rep" and (node.lo == 0 or _nullable(node.items[0])))


def _nonempty(node: _Node) -> _Node:
    """The non-empty strings of a rule-free ``node`` (``_EPS`` when there are none)."""
    if not _nullable(node):
        return node
    if node.kind == "alt":
        return _alt([b for b in map(_nonempty, node.items) if b != _EPS])
    if node.kind == "seq":  # every item is nullable: some item is the first non-empty one
        items = node.items
        return _alt([_seq([_nonempty(items[i]), *items[i + 1 :]]) for i in range(len(items))])
    return _rep(_nonempty(node.items[0]), 1, node.hi) if node.kind == "rep" else _EPS


def _esc(cp: int, special: str) -> str:
    if cp < 0x20 or cp == 0x7F:
        return f"\\x{cp:02x}"
    return "\\" + chr(cp) if chr(cp) in special else chr(cp)


def _regex(node: _Node) -> str:
    """Python/interegular regex text for a rule-free node other than ``_EPS``."""
    if node.kind == "any":
        return "."
    if node.kind == "lit":
        return "".join(_esc(ord(c), _REGEX_SPECIAL) for c in node.text)
    if node.kind == "cls":
        body = "".join(
            _esc(lo, _CLASS_SPECIAL) + ("" if lo == hi else "-" + _esc(hi, _CLASS_SPECIAL))
            for lo, hi in node.ranges
        )
        return f"[{'^' * node.negated}{body}]"
    if node.kind == "alt":
        return "|".join(_regex(i) for i in node.items)
    if node.kind == "seq":
        return "".join(f"(?:{_regex(i)})" if i.kind == "alt" else _regex(i) for i in node.items)
    item, lo, hi = node.items[0], node.lo, node.hi
    text = _regex(item)
    if item.kind not in ("cls", "any") and len(item.text) != 1:
        text = f"(?:{text})"
    op = f"{{{lo}}}" if lo == hi else f"{{{lo},{'' if hi is None else hi}}}"
    return text + _POSTFIX_TEXT.get((lo, hi), op)


def _ir_name(name: str) -> str:
    return name if name[0].isascii() and name[0].isalpha() else "r_" + name


class _Lowerer:
    """Turns parsed rule bodies into IR rules and shared terminals."""

    def __init__(self) -> None:
        self.terminals: dict[tuple[str, bool, str], Terminal] = {}
        self.rules: list[Rule] = []
        self.owner, self.line, self.count = "", 0, 0

    def helper(self, kind: str, alts: _Alts) -> str:
        self.count += 1
        name = f"{self.owner}__{kind}_{self.count}"
        self.rules.append(Rule(name, tuple(dict.fromkeys(alts)), self.line))
        return name

    def terminal_alts(self, node: _Node) -> _Alts:
        body, alts = _nonempty(node), list[tuple[str, ...]]()
        if body != _EPS:
            lit = body.kind == "lit"
            key = (body.text if lit else _regex(body), lit, "s" * _contains(body, "any"))
            new = Terminal(f"T_{len(self.terminals) + 1}", *key, line=self.line)
            alts.append((self.terminals.setdefault(key, new).name,))
        return [*alts, ()] if _nullable(node) else alts

    def alts(self, node: _Node) -> _Alts:
        if not _contains(node, "ref"):
            return self.terminal_alts(node)
        if node.kind == "ref":
            return [(_ir_name(node.text),)]
        if node.kind == "alt":
            pure = [b for b in node.items if not _contains(b, "ref")]
            out = self.terminal_alts(_alt(pure)) if pure else []
            out += [a for b in node.items if _contains(b, "ref") for a in self.alts(b)]
            return list(dict.fromkeys(out))
        return self.seq_alts(node) if node.kind == "seq" else self.rep_alts(node)

    def seq_alts(self, node: _Node) -> _Alts:
        pieces: list[tuple[_Alts, str]] = []
        for pure, group in itertools.groupby(node.items, lambda i: not _contains(i, "ref")):
            if pure:
                pieces.append((self.terminal_alts(_seq(list(group))), "opt"))
            else:
                pieces += [(self.alts(i), "opt" if i.kind == "rep" else "grp") for i in group]
        result: _Alts = [()]
        for alts, kind in pieces:
            inline = len(alts) == 1 or (kind == "opt" and all(len(a) <= 1 for a in alts))
            if not inline or len(result) * len(alts) > _INLINE_LIMIT:
                alts = [(self.helper(kind, alts),)]
            result = [a + b for a in result for b in alts]
        return list(dict.fromkeys(result))

    def rep_alts(self, node: _Node) -> _Alts:
        body = self.alts(node.items[0])
        if (node.lo, node.hi) == (0, 1):
            return list(dict.fromkeys([*body, ()]))
        lo, body = (0 if () in body else node.lo), [a for a in body if a]
        if not body:
            return [()]
        if node.hi is None and lo <= 1:
            name = f"{self.owner}__rep_{self.count + 1}"
            first = [()] if lo == 0 else body
            return [(self.helper("rep", [*first, *[(name, *a) for a in body]]),)]
        sym = body[0][0] if len(body) == 1 and len(body[0]) == 1 else self.helper("grp", body)
        if node.hi is None:
            name = f"{self.owner}__rep_{self.count + 1}"
            return [(sym,) * (lo - 1) + (self.helper("rep", [(sym,), (name, sym)]),)]
        chain: tuple[str, ...] = ()
        for _ in range(node.hi - lo):
            chain = (self.helper("opt", [(), (sym, *chain)]),)
        return [(sym,) * lo + chain]


def grammar_from_gbnf(
    text: str, *, start: str = "root", source: str = "<gbnf>", limits: Limits | None = None
) -> Grammar:
    """Parse a llama.cpp GBNF grammar and lower it to corral's IR.

    Parameters
    ----------
    text:
        The GBNF source.
    start:
        Name of the start rule (GBNF's convention is ``root``).
    source:
        Where the text came from, used in error messages.
    limits:
        Bounds: ``max_alternatives`` (``|`` separators, counted while parsing) and
        ``compile_seconds`` (CPU time, checked while parsing and lowering); default
        :data:`~corral.limits.DEFAULT_LIMITS`.

    Returns
    -------
    Grammar
        A validated grammar with the same language and no ignored terminals. Rule names are kept
        (``r_`` prefixed to those starting with a digit or ``-``); terminals are named ``T_<n>``.

    Raises
    ------
    GrammarError
        On a syntax error, a rule defined twice, an undefined rule or start rule, or a grammar
        the IR rejects (e.g. a reachable unproductive rule). Errors located in the text give
        line and column in the message, and set ``line``. A
        :class:`~corral.errors.CompileLimitExceeded` (a ``GrammarError``) when the text has
        more alternatives than ``limits.max_alternatives``, a
        :class:`~corral.errors.DeadlineExceeded` (also one) when it takes more CPU time than
        ``limits.compile_seconds``.
    """
    lim = limits or DEFAULT_LIMITS
    try:
        return _lower(text, start, source, Budget.start(lim))
    except DeadlineExceeded:
        raise DeadlineExceeded(
            f"{source}: compilation took more than {lim.compile_seconds} s of CPU time "
            "(Limits.compile_seconds)"
        ) from None


def _lower(text: str, start: str, source: str, budget: Budget) -> Grammar:
    parser = _Parser(text, source, budget)
    defs = parser.parse()
    for name, pos in parser.refs:
        if name not in defs:
            raise parser.error(f"undefined rule {name!r}", pos)
    if start not in defs:
        raise GrammarError(f"{source}: start rule {start!r} is not defined", rule=start)
    low = _Lowerer()
    for name, (body, pos) in defs.items():
        budget.check()
        low.owner, low.line = _ir_name(name), parser.line(pos)
        low.rules.append(Rule(low.owner, tuple(low.alts(body)), low.line))
    return make_grammar(list(low.terminals.values()), low.rules, _ir_name(start), (), source)
