"""corral's grammar intermediate representation (IR).

Every front-end (Lark, GBNF, regular expressions, choices, later JSON Schema) lowers to this one
form: a context-free grammar in the sense of Chomsky (1956) whose terminals are regular languages
given as regexes, plus a set of *ignored* terminals that may appear between any two terminals.

Semantics (see ``docs/design/matcher.md``): the language of a grammar is the set of byte strings
(UTF-8) that split, in *any* way, into a sequence of non-empty terminal matches, optionally with
ignored-terminal matches between and around them, such that the sequence of non-ignored terminals
is derived by the rules from the start symbol. A terminal matches the *non-empty* strings of its
regex; a regex that also matches the empty string does not make the terminal nullable (front-ends
that need that add an empty alternative to the rule that uses it).

Validation follows the textbook reduction of a CFG (Hopcroft & Ullman 1979, §4.4): productive
symbols by fixpoint, reachable symbols by search.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.automata.dfa import ByteDFA
from corral.errors import GrammarError, SchemaIssue

if TYPE_CHECKING:
    from corral.automata.cache import AutomataCache
    from corral.limits import Limits

__all__ = [
    "Grammar",
    "GrammarError",
    "Rule",
    "Terminal",
    "UnreachableRuleWarning",
    "productive_symbols",
]

_NAME_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_\-.$]*$")
_FLAG_CHARS = frozenset("is")


class UnreachableRuleWarning(UserWarning):
    """A rule can never be used from the start symbol."""


@dataclass(frozen=True)
class Terminal:
    """A named terminal: a literal string or a regular expression.

    Parameters
    ----------
    name:
        Unique name among terminals and rules.
    pattern:
        The literal text when ``literal`` is true, else a regex in Python ``re`` syntax restricted
        to what :mod:`interegular` understands (no back-references or look-around).
    literal:
        Whether ``pattern`` is literal text.
    flags:
        Regex flags: ``"i"`` (case-insensitive) and/or ``"s"`` (dot matches newline).
    line:
        Source line of the definition, when known, for error messages.
    dfa:
        A prebuilt :class:`~corral.automata.dfa.ByteDFA` for the terminal, used
        instead of compiling ``pattern`` (which is then only a description). Compilers that build
        automata directly (JSON Schema: intersections, complements, digit automata) use it.
    """

    name: str
    pattern: str
    literal: bool = False
    flags: str = ""
    line: int | None = None
    dfa: ByteDFA | None = field(default=None, compare=False, repr=False)

    def regex(self) -> str:
        """Return the terminal as one regex, flags applied inline."""
        body = re.escape(self.pattern) if self.literal else self.pattern
        if self.flags:
            return f"(?{''.join(sorted(self.flags))}:{body})"
        return body


@dataclass(frozen=True)
class Rule:
    """A nonterminal with its alternatives, each a sequence of symbol names (may be empty)."""

    name: str
    alternatives: tuple[tuple[str, ...], ...]
    line: int | None = None


@dataclass
class Grammar:
    """A grammar in corral's IR.

    Build one with a front-end (:meth:`from_lark`, :meth:`from_gbnf`, :meth:`from_regex`,
    :meth:`from_choices`, :meth:`from_json_schema`, :meth:`from_pydantic`, :meth:`from_file`;
    defined by :mod:`corral.grammars`) or directly; call :meth:`validate` (front-ends do) or
    :meth:`check` before compiling.

    Parameters
    ----------
    terminals:
        Terminal definitions by name.
    rules:
        Rules by name.
    start:
        Name of the start rule.
    ignore:
        Names of terminals that may occur between (and before and after) any two terminals.
    source:
        A short description of where the grammar came from, for messages.
    warnings:
        Non-fatal remarks of the front-end.
    unenforced:
        For a JSON Schema compiled with ``lenient=True``: the
        :class:`~corral.errors.SchemaIssue` list of keywords that are not enforced.
    unique:
        Names of *unique-item* terminals: a lexeme of one is an item of the innermost JSON
        array open where it starts, and its text must differ from every earlier item's text in
        that array (checked at run time; ``docs/design/unique_items.md``). The JSON Schema
        front-end uses them for ``uniqueItems`` over scalars.
    unique_close:
        Names of *item-closing* terminals: a lexeme of one ends with the ``]`` or ``}`` that
        closes a container item of the JSON array around it, and that item's value must differ
        from every earlier item's value in the array (whitespace and the order of object
        members aside; checked at run time, ``docs/design/unique_items.md``). The JSON Schema
        front-end uses them for ``uniqueItems`` over arrays and open objects.
    empty_reason:
        Set (to why) for a grammar whose language is empty on purpose — the JSON Schema
        front-end's grammar of a schema no value satisfies. Such a grammar has its start rule
        only, without alternatives; matchers reject every input and generation refuses to
        start (:attr:`is_empty`). Any other grammar whose start rule derives nothing is an
        error.
    """

    terminals: dict[str, Terminal]
    rules: dict[str, Rule]
    start: str
    ignore: tuple[str, ...] = ()
    source: str = "<ir>"
    warnings: list[str] = field(default_factory=list)
    unenforced: list[SchemaIssue] = field(default_factory=list)
    unique: tuple[str, ...] = ()
    unique_close: tuple[str, ...] = ()
    empty_reason: str | None = None

    # ----------------------------------------------------------------- front-ends
    # The constructors are defined by the package façade (:mod:`corral.grammars`), which imports
    # the front-ends; the front-ends import this module, so defining them here would make an
    # import cycle. Their signatures are declared for type checkers only.
    if TYPE_CHECKING:

        @classmethod
        def from_lark(
            cls, text: str, *, start: str = "start", source: str = "<lark>",
            limits: Limits | None = None,
        ) -> Grammar:  # fmt: skip
            """Lower a Lark grammar (EBNF dialect of the lark library) to the IR."""

        @classmethod
        def from_gbnf(
            cls, text: str, *, start: str = "root", source: str = "<gbnf>",
            limits: Limits | None = None,
        ) -> Grammar:  # fmt: skip
            """Lower a llama.cpp GBNF grammar to the IR."""

        @classmethod
        def from_regex(
            cls, pattern: str, *, flags: str = "", limits: Limits | None = None
        ) -> Grammar:
            """A grammar whose language is exactly the strings fully matched by ``pattern``."""

        @classmethod
        def from_choices(cls, choices: Iterable[str], *, limits: Limits | None = None) -> Grammar:
            """A grammar whose language is exactly the given strings."""

        @classmethod
        def from_json_schema(
            cls,
            schema: object,
            *,
            lenient: bool = False,
            whitespace: str = "compact",
            max_whitespace: int = 16,
            time_limit: float | None = None,
            limits: Limits | None = None,
            cache: AutomataCache | None = None,
        ) -> Grammar:
            """A grammar of exactly the instances valid against a JSON Schema."""

        @classmethod
        def from_pydantic(cls, model_or_type: object, **options: Any) -> Grammar:
            """A grammar of the JSON a Pydantic model (or any type Pydantic can adapt)
            validates."""

        @classmethod
        def from_file(cls, path: str, *, limits: Limits | None = None) -> Grammar:
            """Load a ``.lark`` or ``.gbnf`` file, choosing the front-end by extension."""

    # ----------------------------------------------------------------- queries
    @classmethod
    def empty(cls, source: str, reason: str) -> Grammar:
        """The grammar of the empty language (see :attr:`empty_reason`)."""
        return cls({}, {"start": Rule("start", ())}, "start", source=source, empty_reason=reason)

    @property
    def is_empty(self) -> bool:
        """Whether the language is empty on purpose (:attr:`empty_reason` is set)."""
        return self.empty_reason is not None

    def symbol_kind(self, name: str) -> str | None:
        """Return ``"terminal"``, ``"rule"`` or ``None`` for an unknown name."""
        if name in self.terminals:
            return "terminal"
        if name in self.rules:
            return "rule"
        return None

    def stats(self) -> dict[str, int]:
        """Counts of rules, alternatives and terminals."""
        return {
            "rules": len(self.rules),
            "alternatives": sum(len(r.alternatives) for r in self.rules.values()),
            "terminals": len(self.terminals),
            "ignored": len(self.ignore),
        }

    # ----------------------------------------------------------------- validation
    def _where(self, rule: Rule | Terminal) -> str:
        loc = f" (line {rule.line})" if rule.line is not None else ""
        return f"{self.source}: {type(rule).__name__.lower()} {rule.name!r}{loc}"

    def validate(self) -> Grammar:
        """Check the grammar, record its warnings, and return it.

        Like :meth:`check`; in addition each unreachable rule is reported once: its message is
        appended to :attr:`warnings` (unless already there, so validating twice adds nothing)
        and emitted as an :class:`UnreachableRuleWarning`.

        Raises
        ------
        GrammarError
            As :meth:`check`.
        """
        for msg in self._check():
            if msg not in self.warnings:
                self.warnings.append(msg)
                warnings.warn(msg, UnreachableRuleWarning, stacklevel=2)
        return self

    def check(self) -> None:
        """Raise the errors of :meth:`validate`, without writing to the grammar or warning.

        Raises
        ------
        GrammarError
            On an undefined symbol, a name used for both a terminal and a rule, an unproductive
            rule, an empty language, a malformed terminal, or an unknown start symbol.
            Unreachable rules are not errors.
        """
        self._check()

    def checked_productive(self) -> set[str]:
        """:meth:`check`, returning the productive symbols it found (terminals, and the rules
        that derive some string), so that a compiler need not find them again."""
        productive: set[str] = set()
        self._check(productive)
        return productive

    def _check(self, productive_out: set[str] | None = None) -> list[str]:
        """The checks of :meth:`check`; returns the unreachable-rule messages (and adds the
        productive symbols to ``productive_out``)."""
        for name, term in self.terminals.items():
            if name != term.name:
                raise GrammarError(f"{self.source}: terminal key {name!r} != name {term.name!r}")
            if not _NAME_RE.match(name):
                raise GrammarError(f"{self._where(term)}: invalid name")
            if term.flags and not _FLAG_CHARS.issuperset(term.flags):
                raise GrammarError(f"{self._where(term)}: unsupported regex flags {term.flags!r}")
            if term.literal and term.pattern == "":
                raise GrammarError(f"{self._where(term)}: empty literal terminal")
        defined = self.rules.keys() | self.terminals.keys()
        for name, rule in self.rules.items():
            if name != rule.name:
                raise GrammarError(f"{self.source}: rule key {name!r} != name {rule.name!r}")
            if name in self.terminals:
                raise GrammarError(f"{self._where(rule)}: name used for a rule and a terminal")
            for alt in rule.alternatives:
                if defined.issuperset(alt):
                    continue
                for sym in alt:
                    if sym not in self.rules and sym not in self.terminals:
                        raise GrammarError(
                            f"{self._where(rule)}: undefined symbol {sym!r}",
                            rule=name,
                            line=rule.line,
                        )
        if self.start not in self.rules:
            raise GrammarError(f"{self.source}: start rule {self.start!r} is not defined")
        for ig in self.ignore:
            if ig not in self.terminals:
                raise GrammarError(f"{self.source}: ignored symbol {ig!r} is not a terminal")
        for u in self.unique:
            if u not in self.terminals:
                raise GrammarError(f"{self.source}: unique-item symbol {u!r} is not a terminal")
        for u in self.unique_close:
            if u not in self.terminals or u in self.unique:
                raise GrammarError(
                    f"{self.source}: item-closing symbol {u!r} is not a terminal of its own"
                )

        if self.empty_reason is not None:
            if (
                self.terminals
                or list(self.rules) != [self.start]
                or any(r.alternatives for r in self.rules.values())
            ):
                raise GrammarError(
                    f"{self.source}: a grammar of the empty language has its start rule only, "
                    "without alternatives"
                )
            return []
        productive = self._productive()
        if productive_out is not None:
            productive_out.update(productive)
        reachable = self._reachable()
        if self.start not in productive:
            raise GrammarError(
                f"{self.source}: the grammar's language is empty (start rule {self.start!r} "
                "derives no finite string)",
                rule=self.start,
            )
        for name in sorted(reachable):
            if name in self.rules and name not in productive:
                rule = self.rules[name]
                raise GrammarError(
                    f"{self._where(rule)}: unproductive rule (derives no finite string)",
                    rule=name,
                    line=rule.line,
                )
        return [
            f"{self._where(rule)}: unreachable from {self.start!r}"
            for name, rule in self.rules.items()
            if name not in reachable
        ]

    def _productive(self) -> set[str]:
        return productive_symbols(
            self.terminals, ((n, r.alternatives) for n, r in self.rules.items())
        )

    def _reachable(self) -> set[str]:
        seen = {self.start}
        todo = [self.start]
        while todo:
            rule = self.rules.get(todo.pop())
            if rule is None:
                continue
            for alt in rule.alternatives:
                for sym in alt:
                    if sym not in seen:
                        seen.add(sym)
                        todo.append(sym)
        return seen

    def nullable_rules(self) -> set[str]:
        """Rules that derive the empty string (terminals never do)."""
        nullable: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, rule in self.rules.items():
                if name in nullable:
                    continue
                for alt in rule.alternatives:
                    if nullable.issuperset(alt):
                        nullable.add(name)
                        changed = True
                        break
        return nullable


def make_grammar(
    terminals: Sequence[Terminal],
    rules: Sequence[Rule],
    start: str,
    ignore: Sequence[str] = (),
    source: str = "<ir>",
) -> Grammar:
    """Build and validate a :class:`Grammar` from lists; duplicate names raise."""
    tdict: dict[str, Terminal] = {}
    for t in terminals:
        if t.name in tdict:
            raise GrammarError(f"{source}: terminal {t.name!r} defined twice")
        tdict[t.name] = t
    rdict: dict[str, Rule] = {}
    for r in rules:
        if r.name in rdict:
            raise GrammarError(f"{source}: rule {r.name!r} defined twice")
        rdict[r.name] = r
    return Grammar(tdict, rdict, start, tuple(ignore), source).validate()


_SWEEPS = 4
"""Sweeps over the rules :func:`productive_symbols` makes before its worklist takes over."""


def productive_symbols(
    terminals: Iterable[str], rules: Iterable[tuple[str, Iterable[tuple[str, ...]]]]
) -> set[str]:
    """The productive symbols (terminals, and rules with an alternative of productive symbols):
    the least fixpoint, by a few sweeps over the rules (each alternative tested as a set, which
    settles most grammars in one or two), then, for what is left, in time linear in its size
    (a worklist: each alternative counts the symbols it still waits for)."""
    productive: set[str] = set(terminals)
    todo = [(name, tuple(alts)) for name, alts in rules]
    for _ in range(_SWEEPS):
        rest = []
        for name, alts in todo:
            for alt in alts:
                if productive.issuperset(alt):
                    productive.add(name)
                    break
            else:
                rest.append((name, alts))
        if len(rest) == len(todo) or not rest:
            return productive
        todo = rest
    return _productive_worklist(productive, todo)


def _productive_worklist(
    productive: set[str], rules: list[tuple[str, tuple[tuple[str, ...], ...]]]
) -> set[str]:
    """:func:`productive_symbols` from the symbols known productive, for the other rules."""
    waiting: list[int] = []
    owner: list[str] = []
    users: dict[str, list[int]] = {}
    todo: list[str] = []
    for name, alts in rules:
        for alt in alts:
            idx = len(waiting)
            missing = {s for s in alt if s not in productive}
            waiting.append(len(missing))
            owner.append(name)
            for sym in missing:
                users.setdefault(sym, []).append(idx)
            if not missing and name not in productive:
                productive.add(name)
                todo.append(name)
    while todo:
        sym = todo.pop()
        for idx in users.pop(sym, ()):
            waiting[idx] -= 1
            if waiting[idx] == 0 and owner[idx] not in productive:
                productive.add(owner[idx])
                todo.append(owner[idx])
    return productive
