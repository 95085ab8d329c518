"""The IR check that also hands back the productive symbols (``Grammar.checked_productive``),
which ``compile`` reuses instead of finding them a second time."""

from __future__ import annotations

import pytest

import corral
from corral.constraint_engine.earley import productive_symbols
from corral.errors import GrammarError
from corral.grammars.ir import Grammar, Rule, Terminal, make_grammar


def test_checked_productive_is_what_the_compiler_finds() -> None:
    grammar = corral.Grammar.from_lark('start: "a" b | "c"\nb: "b" | b "b"\n')
    got = grammar.checked_productive()
    assert got == productive_symbols(grammar)
    assert {"start", "b"} <= got and set(grammar.terminals) <= got


def test_checked_productive_raises_as_check_does() -> None:
    grammar = Grammar(
        {"A": Terminal("A", "a", literal=True)},
        {"start": Rule("start", (("A", "loop"),)), "loop": Rule("loop", (("loop",),))},
        "start",
    )
    with pytest.raises(GrammarError, match="empty"):
        grammar.check()
    with pytest.raises(GrammarError, match="empty"):
        grammar.checked_productive()


def test_empty_language_has_no_productive_symbol() -> None:
    grammar = Grammar.empty("<test>", "nothing")
    assert grammar.checked_productive() == set() == productive_symbols(grammar)
    assert not corral.Matcher(corral.compile(grammar, corral.Tokenizer.default())).is_accepting()


def test_make_grammar_still_validates() -> None:
    with pytest.raises(GrammarError, match="undefined"):
        make_grammar([Terminal("A", "a", literal=True)], [Rule("start", (("B",),))], "start")
