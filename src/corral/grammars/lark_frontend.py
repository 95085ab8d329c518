"""Lower a Lark grammar (the EBNF dialect of the ``lark`` library) to corral's IR.

The text is loaded and compiled by Lark's own grammar loader (``lark.load_grammar``), so Lark
itself expands EBNF (``?``, ``*``, ``+``, ``[...]``, ``~n``, ``~n..m``), templates, ``"a".."z"``
ranges, ``%import`` (``common.lark`` and relative files), ``%override``, ``%extend`` and
``%ignore``, and turns each terminal definition into one string or regex. This module then maps
that output to :class:`~corral.grammars.ir.Grammar`:

* string terminals become ``literal=True`` terminals (flag ``i`` kept), regex terminals keep their
  flags ``i`` and ``s``; the flag ``u`` is a no-op for Python ``str`` patterns and is dropped;
* tree-shaping features (``_rule`` and ``?rule`` inlining, ``!rule``, ``-> alias``) do not change
  the language and are dropped;
* names that the IR does not allow (template instances such as ``sep{item,COMMA}``, non-ASCII
  anonymous terminals) are mapped to valid, unique IR names;
* line numbers of rules, terminals and ignored terminals of the top-level text are kept;
  imported symbols get the line of their ``%import`` statement, and helper rules and anonymous
  terminals that Lark generates get the line of the first rule that uses them.

Lark's ``common.ESCAPED_STRING`` is built with a look-behind; it is replaced by a regex without
one that has exactly the matches Lark's Earley lexers use (a double-quoted string up to the first
unescaped quote).

Refused with :class:`~corral.errors.GrammarError` (never silently ignored): rule and terminal
priorities (``rule.2``, ``TERM.2``), ``%declare``, the regex flags ``m``, ``x`` and ``l``,
terminals that can match the empty string (Lark's dynamic lexers refuse those too) or no string,
and terminal regexes that interegular cannot compile exactly (look-around, back-references,
anchors, ``\\b`` and so on; see :mod:`corral.grammars.regex_compat`, which also documents that
``\\w``, ``\\d`` and ``\\s`` are ASCII-only here). Lark's own errors are re-raised as
``GrammarError`` with the line when it can be found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import load_grammar as _lark_loader
from lark.exceptions import LarkError
from lark.lexer import PatternStr, Token
from lark.tree import Tree

from corral.automata.nesting import (
    LARK_TOKENS,
    REGEX_TOKENS,
    check_nesting,
    check_text,
    line_column,
)
from corral.errors import (
    CompileLimitExceeded,
    DeadlineExceeded,
    GrammarError,
    UnsupportedRegexError,
)
from corral.grammars.ir import Grammar, Rule, Terminal, make_grammar
from corral.grammars.regex_compat import (
    matches_empty,
    matches_nonempty,
    prepare_regex,
    regex_fsm,
)
from corral.limits import DEFAULT_LIMITS, Budget, Limits

__all__ = ["grammar_from_lark"]

_SUPPORTED_FLAGS = frozenset("isu")
_LINE_IN_MESSAGE = re.compile(r"\bline (\d+)")
# Where Lark's messages name the symbol at fault: "(in rule x)", then quoted or bracketed names.
_NAMES_IN_MESSAGE = (
    re.compile(r"\bin (?:rule|terminal) (\w+)"),
    re.compile(r"'(\w+)'"),
    re.compile(r"\((\w+)\)"),
)
_FILE_IN_MESSAGE = re.compile(r"'([^']+)\.lark'")
# Literals, regexes and comments (skipped) and the ``|`` separators of alternatives.
_ALTERNATIVE_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|/(?!/)(?:\\/|\\\\|[^/\n])*?/|//[^\n]*|\|')
# A rule definition at the start of a line ("name:", "?name:", "!name:", "name.2:"): its first
# alternative, which no "|" precedes.
_RULE_DEFINITION = re.compile(r"^[ \t]*[?!]?[a-z_][a-z0-9_]*(?:\.-?[0-9]+)?[ \t]*:", re.MULTILINE)
_NAME_SHOWN = 60  # longest terminal name quoted in full in messages
# Look-behind-free regexes for whole terminals that Lark's ``common.lark`` builds with a
# look-behind. ESCAPED_STRING is ``".*?(?<!\\)(\\\\)*?"``: Lark's Earley lexers take its lazy
# match, which ends at the first quote not escaped by a backslash (on one line), and prefixes of
# that match, none of which is a string; the regex below has exactly those matches.
_LOOKBEHIND_FREE = {r'".*?(?<!\\)(\\\\)*?"': r'"(?:[^"\\\n]|\\[^\n])*"'}
# Lark's loader functions are untyped; call them through ``Any``.
_lark_parse_grammar: Any = _lark_loader._parse_grammar
_lark_meta_parser: Any = _lark_loader._get_parser
_load_grammar: Any = _lark_loader.load_grammar


def _parse_grammar(text: str, source: str) -> Any:
    """Parse ``text`` with Lark's grammar parser, its explanation of a syntax error included.

    Lark explains an unexpected token by re-parsing its table of bad examples
    (``UnexpectedInput.match_examples``); Lark 1.3.1 can fail inside that with a ``TypeError``
    (a debug message formats a parser state with ``%d``). The error is then re-raised from the
    grammar parser itself, so the caller still gets the position of the unexpected token.
    """
    try:
        return _lark_parse_grammar(text, source)
    except TypeError as exc:
        _lark_meta_parser().parse(text + "\n", "start")
        raise LarkError(f"Lark's grammar loader failed: {exc}") from exc


def _where(source: str, line: int | None) -> str:
    return f"{source}: line {line}" if line is not None else source


def _first_line(node: Any) -> int | None:
    """The line of the first token under a parse-tree node, if any."""
    if isinstance(node, Token):
        return node.line if isinstance(node.line, int) else None
    if isinstance(node, Tree):
        for child in node.children:
            line = _first_line(child)
            if line is not None:
                return line
    return None


def _directive_line(text: str, directive: str, mention: str = "") -> int | None:
    """The first line that starts with ``directive`` and contains ``mention``."""
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith(directive) and mention in raw:
            return number
    return None


class _SourceInfo:
    """Line numbers and refusals read from the parse tree of the top-level grammar text."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.lines: dict[str, int | None] = {}
        self.ignore_lines: list[int | None] = []
        tree = _parse_grammar(text, source)
        for stmt in tree.children:
            if stmt.data in ("rule", "term"):
                self._definition(stmt, source, override=False)
            elif stmt.data in ("override", "extend"):
                self._definition(
                    stmt.children[0],
                    source,
                    override=stmt.data == "override",
                    extend=stmt.data == "extend",
                )
            elif stmt.data == "ignore":
                self.ignore_lines.append(_first_line(stmt))
            elif stmt.data == "import":
                self._import(stmt)
            elif stmt.data == "declare":
                names = ", ".join(str(getattr(s, "name", s)) for s in stmt.children)
                line = _directive_line(text, "%declare")
                raise GrammarError(
                    f"{_where(source, line)}: %declare {names}: declared symbols have no "
                    "definition, so corral cannot generate them (define them instead)",
                    rule=names,
                    line=line,
                )

    def _definition(
        self, node: Tree[Any], source: str, *, override: bool, extend: bool = False
    ) -> None:
        if node.data == "rule":
            name_token, priority = node.children[1], node.children[3].children
        else:
            name_token, priority = node.children[0], node.children[1:-1]
        name = str(name_token)
        line = _first_line(name_token)
        kind = "rule" if node.data == "rule" else "terminal"
        if not (override or extend) and name in self.lines:
            raise GrammarError(
                f"{_where(source, line)}: {kind} {name!r} is defined more than once (first at "
                f"line {self.lines[name]}); use %override or %extend to change a definition",
                rule=name,
                line=line,
            )
        if priority:
            raise GrammarError(
                f"{_where(source, line)}: {kind} {name!r} has priority {priority[0]}; priorities "
                "only steer Lark's disambiguation and cannot be expressed in corral's grammars",
                rule=name,
                line=line,
            )
        if override or name not in self.lines:
            self.lines[name] = line

    def _import(self, stmt: Tree[Any]) -> None:
        line = _first_line(stmt)
        path, *rest = stmt.children
        if not rest:
            names = [str(path.children[-1])]
        elif isinstance(rest[0], Tree):
            names = [str(token) for token in rest[0].children]
        else:
            names = [str(rest[0])]
        for name in names:
            self.lines.setdefault(name, line)

    def line_of(self, name: str) -> int | None:
        return self.lines.get(name)


def _lark_error(exc: BaseException, source: str, info: _SourceInfo | None) -> GrammarError:
    """Turn an exception from Lark's loader into a GrammarError with a line when possible."""
    message = str(exc).strip() or type(exc).__name__
    line = getattr(exc, "line", None)
    if not isinstance(line, int) or line < 1:
        found = _LINE_IN_MESSAGE.search(message)
        line = int(found.group(1)) if found else None
    if line is None and info is not None:
        names = [name for pattern in _NAMES_IN_MESSAGE for name in pattern.findall(message)]
        line = next((info.line_of(n) for n in names if info.line_of(n) is not None), None)
    if line is None and info is not None:
        for missing in _FILE_IN_MESSAGE.findall(message):
            stem = missing.replace("\\", "/").rsplit("/", 1)[-1]
            line = _directive_line(info.text, "%import", stem)
            if line is not None:
                break
    return GrammarError(f"{_where(source, line)}: invalid Lark grammar: {message}", line=line)


class _NameMap:
    """Map Lark symbol names to unique names allowed by the IR."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, name: str) -> str:
        mapped = self._map.get(name)
        if mapped is not None:
            return mapped
        parts: list[str] = []
        for ch in name:
            if ch.isascii() and (ch.isalnum() or ch in "_-.$"):
                parts.append(ch)
            elif ch in "{,":
                parts.append("$")
            elif ch != "}" and not ch.isspace():
                parts.append(f"$u{ord(ch):04x}")
        base = "".join(parts) or "_"
        if not (base[0].isalpha() and base[0].isascii()) and base[0] not in "_$":
            base = "_" + base
        candidate, n = base, 2
        while candidate in self._used:
            candidate, n = f"{base}${n}", n + 1
        self._used.add(candidate)
        self._map[name] = candidate
        return candidate


def _shown_name(name: str) -> str:
    """A terminal name or pattern for messages, cut short (Lark names anonymous literals after
    their text, which may be long)."""
    return repr(name) if len(name) <= _NAME_SHOWN else repr(name[:_NAME_SHOWN]) + "..."


def _terminal(
    tdef: Any,
    ir_name: str,
    line: int | None,
    source: str,
    budget: Budget,
    checked: set[tuple[str, str]],
) -> Terminal:
    """Lower one Lark ``TerminalDef`` (checked with interegular) to an IR terminal.

    ``checked`` holds the (character, flags) pairs of literals already found supported.
    """
    budget.check()
    limits = budget.limits
    where = f"{_where(source, line)}: terminal {_shown_name(tdef.name)}"
    if tdef.priority != 0:
        raise GrammarError(
            f"{where} has priority {tdef.priority}; priorities cannot be expressed in corral's "
            "grammars",
            rule=tdef.name,
            line=line,
        )
    pattern = tdef.pattern
    bad = sorted(set(pattern.flags) - _SUPPORTED_FLAGS)
    if bad:
        raise GrammarError(
            f"{where}: regex flag {bad[0]!r} is not supported (corral supports 'i' and 's'; "
            "'u' is accepted as a no-op)",
            rule=tdef.name,
            line=line,
        )
    flags = "".join(sorted(set(pattern.flags) & {"i", "s"}))
    literal = isinstance(pattern, PatternStr)
    value = pattern.value if literal else _LOOKBEHIND_FREE.get(pattern.value, pattern.value)
    if literal and len(value.encode("utf-8", "surrogatepass")) + 2 > limits.max_dfa_states:
        raise CompileLimitExceeded(
            f"{where}: literal of {len(value)} characters needs more than "
            f"{limits.max_dfa_states} automaton states (Limits.max_dfa_states)",
            rule=tdef.name,
            line=line,
        )
    shown = _shown_name(pattern.value)
    try:
        if literal and value:
            # A non-empty literal matches exactly one non-empty string; checking each distinct
            # character once (``checked`` is shared by the grammar's terminals) checks it.
            for ch in sorted(set(value)):
                if (ch, flags) not in checked:
                    regex_fsm(re.escape(ch), flags, budget=budget)
                    checked.add((ch, flags))
            return Terminal(ir_name, value, literal=True, flags=flags, line=line)
        text = value if literal else prepare_regex(value)
        fsm = regex_fsm(re.escape(text) if literal else text, flags, budget=budget)
    except UnsupportedRegexError as exc:
        raise GrammarError(
            f"{where}: pattern {shown} is not supported: {exc}", rule=tdef.name, line=line
        ) from None
    if matches_empty(fsm):
        raise GrammarError(
            f"{where}: pattern {shown} matches the empty string (zero-width terminals "
            "are not allowed; make the rules that use it optional instead)",
            rule=tdef.name,
            line=line,
        )
    if not matches_nonempty(fsm):
        raise GrammarError(f"{where}: pattern {shown} matches no string", rule=tdef.name, line=line)
    return Terminal(ir_name, text, literal=literal, flags=flags, line=line)


def _inherit_lines(
    lines: dict[str, int | None], uses: Iterator[tuple[str, tuple[str, ...]]]
) -> None:
    """Give symbols without a line the line of the first rule (in order) that uses them."""
    pairs = list(uses)
    changed = True
    while changed:
        changed = False
        for origin, expansion in pairs:
            line = lines.get(origin)
            if line is None:
                continue
            for sym in expansion:
                if lines.get(sym) is None:
                    lines[sym] = line
                    changed = True


def _check_alternatives(text: str, source: str, limit: int) -> None:
    """Refuse a text with more than ``limit`` alternatives (rule definitions, and ``|`` outside
    literals, regexes and comments) before Lark's loader, which cannot be interrupted, spends
    seconds on it (about a millisecond per rule)."""
    firsts = len(_RULE_DEFINITION.findall(text)) if text.count(":") + text.count("|") > limit else 0
    if text.count("|") + firsts <= limit:
        return
    count = firsts
    for m in _ALTERNATIVE_TOKENS.finditer(text):
        if m.group() == "|":
            count += 1
            if count > limit:
                line, _col = line_column(text, m.start())
                raise CompileLimitExceeded(
                    f"{source}: line {line}: more than {limit} alternatives (rules and '|') in "
                    "the grammar (Limits.max_alternatives)",
                    line=line,
                )
    if count > limit:
        raise CompileLimitExceeded(
            f"{source}: more than {limit} alternatives (rules and '|') in the grammar "
            "(Limits.max_alternatives)"
        )


def _check_literals(text: str, source: str) -> None:
    """Refuse a string literal or regex not closed on its line. Lark's own lexer matches them
    with lazy patterns that backtrack exponentially over backslashes when no closing delimiter
    follows (a fuzzed grammar ran for minutes); closed ones it matches at the first try."""
    for m in LARK_TOKENS.finditer(text):
        for group, what in (("q", "string literal"), ("r", "regex")):
            if m.group(group) == "":
                line, col = line_column(text, m.start())
                raise GrammarError(
                    f"{source}: {what} not closed on its line (line {line} column {col})",
                    line=line,
                    column=col,
                )


def _check_nesting(text: str, source: str, limit: int) -> None:
    """Refuse regex terminals nested deeper than ``limit`` (the regex parsers recurse)."""
    if text.count("(") <= limit:
        return
    for m in LARK_TOKENS.finditer(text):
        if m.group().startswith("/") and not m.group().startswith("//"):
            line, col = line_column(text, m.start())
            check_nesting(m.group(), REGEX_TOKENS, limit, source, (line - 1, col - 1))


def grammar_from_lark(
    text: str, *, start: str = "start", source: str = "<lark>", limits: Limits | None = None
) -> Grammar:
    """Lower a Lark grammar to corral's IR.

    Parameters
    ----------
    text:
        The grammar in Lark's EBNF dialect.
    start:
        The start rule.
    source:
        Where the text came from: used in messages and as the base of relative ``%import``.
    limits:
        Bounds: ``max_grammar_bytes`` (text length), ``max_nesting_depth`` (brackets, and
        groups in regex terminals) and ``max_alternatives`` (``|`` separators), checked before
        Lark parses the text, and ``max_dfa_states`` (literal terminals, checked before their
        automaton is built), the automaton state bounds of regex terminals, and
        ``compile_seconds`` (CPU time, checked between terminals and inside regex
        constructions; Lark's own loader cannot be interrupted); default
        :data:`~corral.limits.DEFAULT_LIMITS`.

    Returns
    -------
    Grammar
        The validated grammar. Its language is the Lark grammar's under "any split of the input
        into terminals" semantics, which is what Lark's Earley parser with
        ``lexer="dynamic_complete"`` accepts as long as each terminal regex's first match (Lark
        tries its match and that match's prefixes) is also its longest.

    Raises
    ------
    GrammarError
        On a Lark syntax or semantic error, or a construct corral does not support (see the
        module docstring), or a text beyond a bound of ``limits``: a
        :class:`~corral.errors.CompileLimitExceeded` for a size bound, a
        :class:`~corral.errors.DeadlineExceeded` for ``compile_seconds`` (both name the
        :class:`~corral.limits.Limits` field).
    """
    lim = limits or DEFAULT_LIMITS
    check_text(text, LARK_TOKENS, limits, source)
    _check_literals(text, source)
    _check_nesting(text, source, lim.max_nesting_depth)
    _check_alternatives(text, source, lim.max_alternatives)
    budget = Budget.start(lim)
    try:
        return _lower(text, start, source, budget)
    except DeadlineExceeded:
        raise DeadlineExceeded(
            f"{source}: compilation took more than {lim.compile_seconds} s of CPU time "
            "(Limits.compile_seconds)"
        ) from None
    except RecursionError:
        raise GrammarError(f"{source}: grammar nested too deeply") from None


def _lower(text: str, start: str, source: str, budget: Budget) -> Grammar:
    info: _SourceInfo | None = None
    try:
        info = _SourceInfo(text, source)
        lark_grammar, _files = _load_grammar(text, source, [], False)
        declared = [n for n, (tree, _p) in lark_grammar.term_defs if tree is None]
        declared += [n for n, _params, tree, _o in lark_grammar.rule_defs if tree is None]
        if declared:
            raise GrammarError(f"{source}: {declared[0]!r} is declared (%declare) but not defined")
        terms, rules, ignore = lark_grammar.compile([start], set())
    except GrammarError:
        raise
    except (LarkError, OSError, ValueError, AssertionError) as exc:
        raise _lark_error(exc, source, info) from exc
    assert info is not None

    lines = dict(info.lines)
    ignore_lines = dict(zip(ignore, info.ignore_lines, strict=False))
    for name in ignore:
        if lines.get(name) is None:
            lines[name] = ignore_lines.get(name)
    _inherit_lines(lines, ((r.origin.name, tuple(s.name for s in r.expansion)) for r in rules))

    names = _NameMap()
    alternatives: dict[str, list[tuple[str, ...]]] = {}
    for rule in rules:
        origin = rule.origin.name
        if rule.options is not None and rule.options.priority is not None:
            line = lines.get(origin)
            raise GrammarError(
                f"{_where(source, line)}: rule {origin!r} has priority {rule.options.priority}; "
                "priorities cannot be expressed in corral's grammars",
                rule=origin,
                line=line,
            )
        alternatives.setdefault(origin, []).append(tuple(names(s.name) for s in rule.expansion))
    ir_rules = [
        Rule(names(origin), tuple(alts), lines.get(origin)) for origin, alts in alternatives.items()
    ]
    checked: set[tuple[str, str]] = set()
    ir_terminals = [
        _terminal(t, names(t.name), lines.get(t.name), source, budget, checked) for t in terms
    ]
    return make_grammar(
        ir_terminals,
        ir_rules,
        names(start),
        ignore=[names(name) for name in ignore],
        source=source,
    )
