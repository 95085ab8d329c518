"""ECMA-262 regular expressions (JSON Schema ``pattern``) translated for :func:`compile_regex`.

JSON Schema 2020-12 (Validation §6.3.3) takes ``pattern`` and ``patternProperties`` keys as
ECMA-262 regular expressions (§22.2), *not* anchored: a string is valid when the pattern finds a
match anywhere in it. The ``Pattern`` grammar of §22.2.1 (plus the unambiguous Annex B leniency:
a lone ``]``, ``}`` or a ``{`` that begins no quantifier is a literal) is parsed into a syntax
tree, printed in the Python ``re`` subset that interegular reads, each alternative as
``(?s:.*)`` + body + ``(?s:.*)`` less the side anchored by ``^`` / ``$``. Strings are sequences of
code points; no flags. Kept exactly: ``.`` excludes only LF, CR, U+2028, U+2029; ``\\d``, ``\\w``
are ASCII; ``\\s`` is WhiteSpace plus LineTerminator (§12.2-3); ``$`` is the end of input.
Refused (:class:`PatternUnsupported`): what is not regular or not placeable exactly (``\\b``,
look-around, back-references, inner anchors), ``\\p{..}``, escapes whose meaning differs between
ECMA modes (``\\a``, ``\\1`` in a class, ...), lone surrogates, and oversized patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corral.automata.cache import AutomataCache

__all__ = ["PatternUnsupported", "translate_pattern"]

MAX_PATTERN_LENGTH = 10_000
MAX_DEPTH = 200
MAX_REPEAT = 1_000
MAX_EXPANDED = 5_000  # atoms once counted repetitions are unrolled
MAX_UNANCHORED = 400  # the same, in alternatives without ^ (subset construction is quadratic)
MAX_CLASS_CODE_POINTS = 600_000  # code points the regex compiler must enumerate, in all
MAX_VARIANTS = 100  # anchored alternatives after distributing edge groups
MAX_CP, _SURROGATES, _ANY = 0x10FFFF, (0xD800, 0xDFFF), "(?s:.*)"

Ranges = tuple[tuple[int, int], ...]


class PatternUnsupported(ValueError):
    """An ECMA-262 pattern that is invalid or cannot be translated exactly (message: why)."""


@dataclass(frozen=True, slots=True)
class _Node:
    """``kind``: ``"chars"`` (code points ``ranges``), ``"^"``/``"$"``, ``"seq"``/``"alt"`` (of
    ``items``), ``"rep"`` (``items[0]`` ``lo`` to ``hi`` times); ``anchored``: holds an anchor."""

    kind: str
    items: tuple[_Node, ...] = ()
    ranges: Ranges = ()
    lo: int = 1
    hi: int | None = 1
    anchored: bool = False


def _normalize(ranges: list[tuple[int, int]] | Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    starts = [0, *(hi + 1 for _, hi in ranges)]
    ends = [*(lo - 1 for lo, _ in ranges), MAX_CP]
    return tuple((a, b) for a, b in zip(starts, ends, strict=True) if a <= b)


def _drop_surrogates(ranges: Ranges) -> Ranges:
    return _complement(_normalize([*_complement(ranges), _SURROGATES]))


def _parse_ranges(text: str) -> Ranges:
    return tuple((int(p.split("-")[0], 16), int(p.split("-")[-1], 16)) for p in text.split())


_DOT = _complement(_parse_ranges("A D 2028-2029"))
_DIGIT = _parse_ranges("30-39")
_WORD = _parse_ranges("30-39 41-5A 5F 61-7A")
# ECMA-262 WhiteSpace (TAB VT FF SP NBSP ZWNBSP, category Zs) and LineTerminator (LF CR LS PS)
_SPACE = _parse_ranges("9-D 20 A0 1680 2000-200A 2028-2029 202F 205F 3000 FEFF")
_CLASS_ESCAPES = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_CLASS_ESCAPES |= {k.upper(): _complement(v) for k, v in _CLASS_ESCAPES.items()}
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D, "0": 0}
_REFUSED_ESCAPES = dict.fromkeys("123456789k", "backreferences")
_REFUSED_ESCAPES |= dict.fromkeys("pP", "Unicode property escapes \\p{...}")
_REFUSED_ESCAPES |= dict.fromkeys("bB", "word-boundary assertions \\b / \\B")
_REFUSED_GROUPS = {"?=": "lookahead", "?!": "lookahead", "?<=": "lookbehind", "?<!": "lookbehind"}
_BRACED = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_HEX4, _HEX2 = re.compile("[0-9A-Fa-f]{4}"), re.compile("[0-9A-Fa-f]{2}")
_CODE_POINT = re.compile(r"\{([0-9A-Fa-f]+)\}")


_EMPTY = _Node("seq")


def _join(kind: str, items: list[_Node]) -> _Node:
    """A ``"seq"`` or ``"alt"`` node, flattening nested nodes of the same kind."""
    flat = [y for x in items for y in (x.items if x.kind == kind else (x,))]
    if len(flat) == 1:
        return flat[0]
    return _Node(kind, tuple(flat), anchored=any(x.anchored for x in flat))


def _char(cp: int) -> Ranges:
    if _SURROGATES[0] <= cp <= _SURROGATES[1]:
        raise PatternUnsupported(f"lone surrogate U+{cp:04X} (matches no Unicode string)")
    return ((cp, cp),)


class _Parser:
    """Recursive descent over ECMA-262 §22.2.1 ``Pattern`` (no flags)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def next(self) -> str:
        self.pos += 1
        return self.text[self.pos - 1 : self.pos]

    def peek(self, k: int = 0) -> str:
        return self.text[self.pos + k : self.pos + k + 1]

    def invalid(self, what: str) -> PatternUnsupported:
        return PatternUnsupported(f"invalid ECMA regex: {what} at position {self.pos}")

    def parse(self) -> _Node:
        """The tree of the whole pattern; groups use an explicit stack, not recursion."""
        stack: list[tuple[list[_Node], list[_Node]]] = [([], [])]  # (alternatives, items)
        while True:
            c = self.peek()
            options, items = stack[-1]
            if c in ("", ")"):
                node = _join("alt", [*options, _join("seq", items)])
                if (c == "") != (len(stack) == 1):
                    raise self.invalid("missing ')'" if c == "" else "unmatched ')'")
                if c == "":
                    return node
                self.pos += 1
                stack.pop()
                self.quantified(node, stack[-1][1])
            elif c == "|":
                self.pos += 1
                options.append(_join("seq", items))
                items.clear()
            elif c == "(":
                if len(stack) > MAX_DEPTH:
                    raise PatternUnsupported(f"groups nested deeper than {MAX_DEPTH}")
                self.group_opening()
                stack.append(([], []))
            elif c in ("^", "$"):
                self.pos += 1
                if self.quantifier() is not None:
                    raise self.invalid(f"nothing to repeat (quantifier on {c!r})")
                items.append(_Node(c, anchored=True))
            else:
                self.quantified(self.atom(), items)

    def quantified(self, atom: _Node, items: list[_Node]) -> None:
        """Append ``atom`` with the quantifier that follows it, if any, to ``items``."""
        quant = self.quantifier()
        if quant is None:
            items.append(atom)
        elif quant[1] != 0 and atom != _EMPTY:
            lo, hi = quant
            rep = _Node("rep", (atom,), lo=lo, hi=hi, anchored=atom.anchored)
            items.append(atom if lo == hi == 1 else rep)

    def quantifier(self) -> tuple[int, int | None] | None:
        c = self.peek()
        m = _BRACED.match(self.text, self.pos) if c == "{" else None
        if m is not None:
            if max(len(m.group(1)), len(m.group(3) or "")) > 9:
                raise PatternUnsupported(f"repetition bound over {MAX_REPEAT}")
            top = m.group(3)
            bounds = (int(m.group(1)), int(top) if top else None if m.group(2) else int(m.group(1)))
            self.pos = m.end()
        elif c and c in "*+?":
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
            self.pos += 1
        else:
            return None
        self.pos += self.peek() == "?"
        lo, hi = bounds
        if hi is not None and lo > hi:
            raise self.invalid("numbers out of order in {} quantifier")
        if max(lo, hi or 0) > MAX_REPEAT:
            raise PatternUnsupported(f"repetition bound over {MAX_REPEAT}")
        return bounds

    def atom(self) -> _Node:
        c = self.peek()
        if c == "[":
            return _Node("chars", ranges=self.char_class())
        if c == "\\":
            self.pos += 1
            return _Node("chars", ranges=self.escape(in_class=False))
        if c in ("*", "+", "?") or (c == "{" and _BRACED.match(self.text, self.pos)):
            raise self.invalid("nothing to repeat")
        self.pos += 1
        return _Node("chars", ranges=_DOT if c == "." else _char(ord(c)))

    def group_opening(self) -> None:
        self.pos += 1
        rest = self.text[self.pos : self.pos + 3]
        for prefix, what in _REFUSED_GROUPS.items():
            if rest.startswith(prefix):
                raise PatternUnsupported(f"{what} assertions ({prefix}...) are not supported")
        if rest.startswith("?:"):
            self.pos += 2
        elif rest.startswith("?<"):
            end = self.text.find(">", self.pos)
            name = self.text[self.pos + 2 : end]
            if end < 0 or not name.replace("$", "_").isidentifier():
                raise self.invalid("invalid capture group name")
            self.pos = end + 1
        elif rest.startswith("?"):
            if rest[1:2] and rest[1] in "imsx-":
                raise PatternUnsupported("pattern modifiers (?flags:...) are not supported")
            raise self.invalid("invalid group")

    def char_class(self) -> Ranges:
        negate = self.text.startswith("[^", self.pos)
        self.pos += 1 + negate
        ranges: list[tuple[int, int]] = []
        while (c := self.next()) != "]":
            if c == "":
                raise self.invalid("missing ']'")
            first = self.escape(in_class=True) if c == "\\" else _char(ord(c))
            if self.peek() == "-" and self.peek(1) not in ("", "]"):
                self.pos += 1
                c = self.next()
                last = self.escape(in_class=True) if c == "\\" else _char(ord(c))
                ends = first + last
                if len(ends) != 2 or any(a != b for a, b in ends):
                    raise PatternUnsupported("character-class escape used as a range endpoint")
                if first[0][0] > last[0][0]:
                    raise self.invalid("range out of order in character class")
                ranges.append((first[0][0], last[0][0]))
            else:
                ranges.extend(first)
        out = _normalize(ranges)
        return _complement(out) if negate else out

    def escape(self, *, in_class: bool) -> Ranges:
        """The escape after a backslash (``self.pos`` is just past the backslash)."""
        c = self.peek()
        if c == "":
            raise self.invalid("\\ at end of pattern")
        if c in _CLASS_ESCAPES:
            self.pos += 1
            return _CLASS_ESCAPES[c]
        if in_class and c in ("b", "-"):
            self.pos += 1
            return _char(ord("\b" if c == "b" else "-"))
        if c in _REFUSED_ESCAPES and (not in_class or c in "pP"):
            raise PatternUnsupported(f"{_REFUSED_ESCAPES[c]} are not supported")
        if c in _CONTROL_ESCAPES and not (c == "0" and "0" <= self.peek(1) <= "9"):
            self.pos += 1
            return _char(_CONTROL_ESCAPES[c])
        if c == "c" and self.peek(1).isascii() and self.peek(1).isalpha():
            self.pos += 2
            return _char(ord(self.text[self.pos - 1]) % 32)
        if c == "x" and _HEX2.match(self.text, self.pos + 1):
            self.pos += 3
            return _char(int(self.text[self.pos - 2 : self.pos], 16))
        if c == "u":
            return self.unicode_escape()
        if c.isascii() and c.isalnum():
            raise PatternUnsupported(f"escape \\{c} is ambiguous between ECMA-262 modes")
        self.pos += 1
        return _char(ord(c))

    def unicode_escape(self) -> Ranges:
        m = _CODE_POINT.match(self.text, self.pos + 1)
        if m is not None:
            digits = m.group(1).lstrip("0") or "0"
            if len(digits) > 6 or int(digits, 16) > MAX_CP:
                raise self.invalid("code point escape out of range")
            self.pos = m.end()
            return _char(int(digits, 16))
        if not _HEX4.match(self.text, self.pos + 1):
            raise PatternUnsupported("escape \\u without four hex digits is ambiguous")
        cp = int(self.text[self.pos + 1 : self.pos + 5], 16)
        self.pos += 5
        if 0xD800 <= cp <= 0xDBFF and self.text.startswith("\\u", self.pos):
            low = self.text[self.pos + 2 : self.pos + 6]
            if _HEX4.fullmatch(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                self.pos += 6
                cp = 0x10000 + ((cp - 0xD800) << 10) + (int(low, 16) - 0xDC00)
        return _char(cp)


Variant = tuple[bool, bool, tuple[_Node, ...]]


def _split(items: list[_Node], out: list[Variant]) -> None:
    """Append the ``(starts with ^, ends with $, anchor-free body)`` alternatives of ``items``."""
    lo, hi = 0, len(items)
    start = end = False
    while lo < hi and items[lo].kind == "^":
        start, lo = True, lo + 1
    while hi > lo and items[hi - 1].kind == "$":
        end, hi = True, hi - 1
    core = items[lo:hi]
    for edge in (0, -1):
        if core and core[edge].kind == "alt" and core[edge].anchored:
            for opt in core[edge].items:
                sub: list[Variant] = []
                inner = list(opt.items if opt.kind == "seq" else (opt,))
                _split(inner + core[1:] if edge == 0 else core[:-1] + inner, sub)
                out.extend((start or s, end or e, body) for s, e, body in sub)
                if len(out) > MAX_VARIANTS:
                    raise PatternUnsupported("too many anchored alternatives")
            return
    if any(x.anchored for x in core):
        raise PatternUnsupported("^ or $ not at the start or end of an alternative")
    out.append((start, end, tuple(core)))


class _Printer:
    """Prints anchor-free trees in interegular's syntax, charging the enumeration budgets."""

    def __init__(self) -> None:
        self.code_points = self.expanded = 0

    def node(self, root: _Node) -> str:
        """Post-order walk with an explicit stack (trees may nest deeper than Python recursion)."""
        todo: list[tuple[_Node, int, bool]] = [(root, 1, False)]
        done: list[str] = []
        while todo:
            node, mult, children_done = todo.pop()
            if node.kind == "chars":
                self.expanded += mult
                if self.expanded > MAX_EXPANDED:
                    raise PatternUnsupported(f"pattern expands to over {MAX_EXPANDED} atoms")
                done.append(self.chars(node.ranges))
            elif not children_done:
                lo, hi = node.lo, node.hi
                todo.append((node, mult, True))
                mult *= 1 if node.kind != "rep" else lo + 1 if hi is None else hi  # copies built
                todo.extend((x, mult, False) for x in reversed(node.items))
            else:
                parts = done[len(done) - len(node.items) :]
                del done[len(done) - len(node.items) :]
                done.append(self.combine(node, parts))
        return done[0]

    def combine(self, node: _Node, parts: list[str]) -> str:
        if node.kind != "rep":
            pairs = zip(node.items, parts, strict=True)
            wrapped = [f"(?:{text})" if x.kind == "alt" else text for x, text in pairs]
            return ("" if node.kind == "seq" else "|").join(wrapped)
        lo, hi = node.lo, node.hi
        base = parts[0] if node.items[0].kind == "chars" else f"(?:{parts[0]})"
        if hi is None:
            return base + ("*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}")
        return base + ("?" if (lo, hi) == (0, 1) else f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}")

    def chars(self, ranges: Ranges) -> str:
        pos, neg = _drop_surrogates(ranges), _drop_surrogates(_complement(ranges))
        size_pos, size_neg = (sum(hi - lo + 1 for lo, hi in r) for r in (pos, neg))
        self.code_points += min(size_pos, size_neg)
        if self.code_points > MAX_CLASS_CODE_POINTS:
            raise PatternUnsupported("character classes too large to enumerate")
        body, caret = (pos, "") if size_pos <= size_neg else (neg, "^")
        text = "".join(
            _lit(lo) + ("" if hi == lo else "-" * (hi > lo + 1) + _lit(hi)) for lo, hi in body
        )
        return f"[{caret}{text}]"


def _lit(cp: int) -> str:
    ch = chr(cp)
    return "\\" + ch if cp < 0x80 and not ch.isalnum() else ch


def _trim(items: list[_Node], start: bool, end: bool) -> list[_Node]:
    """Drop repetition a free side makes redundant: ``.*x{2,5}y`` finds what ``.*x{2}y`` does."""
    for edge, free in ((0, not start), (-1, not end)):
        while free and items and items[edge].kind == "rep":
            rep = items.pop(edge)
            if rep.lo:
                exact = _Node("rep", rep.items, lo=rep.lo, hi=rep.lo)
                items.insert(len(items) if edge else 0, rep.items[0] if rep.lo == 1 else exact)
                break
    return items


def _translate(pattern: str) -> str:
    tree = _Parser(pattern).parse()
    options = tree.items if tree.kind == "alt" else (tree,)
    variants: list[Variant] = []
    for opt in options:
        _split(list(opt.items if opt.kind == "seq" else (opt,)), variants)
        if len(variants) > MAX_VARIANTS:
            raise PatternUnsupported("too many anchored alternatives")
    printer, unanchored = _Printer(), 0
    groups: dict[tuple[bool, bool], list[str]] = {}
    for start, end, body in variants:
        items = _trim(list(body), start, end)
        before = printer.expanded
        text = printer.node(_Node("seq", tuple(items))) if items else ""
        unanchored += 0 if start else printer.expanded - before
        if unanchored > MAX_UNANCHORED:
            raise PatternUnsupported(f"pattern without ^ expands to over {MAX_UNANCHORED} atoms")
        groups.setdefault((start, end), []).append(text)
    # one free prefix/suffix per anchoring, shared by its alternatives (.*(A|B).* rather than
    # .*A.*|.*B.*: the same language, but the subset construction tracks one search, not a
    # product of one search per alternative)
    parts = []
    for (start, end), texts in groups.items():
        alt = texts[0] if len(texts) == 1 else f"(?:{'|'.join(texts)})"
        parts.append(f"(?:{'' if start else _ANY}{alt}{'' if end else _ANY})")
    return "|".join(parts)


def translate_pattern(pattern: str, *, cache: AutomataCache | None = None) -> str:
    """Translate an ECMA-262 ``pattern`` into a regex for :func:`compile_regex`.

    Parameters
    ----------
    pattern:
        An ECMA-262 regular expression (``pattern`` / ``patternProperties`` key), no flags.
    cache:
        Where to find or keep the translation (``None``: translate).

    Returns
    -------
    str
        A regex (interegular's syntax) whose full-match language is exactly the set of strings
        in which ``pattern`` finds a match.

    Raises
    ------
    PatternUnsupported
        ``"invalid ECMA regex: ..."`` for a syntax error; otherwise a construct that is not
        translated exactly, or a size bound (``MAX_*``) exceeded.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternUnsupported(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    if cache is None:
        return _translate(pattern)
    return cache.get_or_build(("ecma", pattern), lambda: _translate(pattern))
