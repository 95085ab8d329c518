"""Tests of the GBNF front-end (``corral.grammars.gbnf``), ``json.gbnf`` and the Lark exporter.

Language tests run the lowered grammar through :func:`grammar_to_lark` and Lark's Earley parser.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from pathlib import Path

import interegular
import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corral.errors import GrammarError
from corral.grammars import library_path
from corral.grammars.gbnf import grammar_from_gbnf
from corral.grammars.ir import Grammar, Rule, Terminal, make_grammar
from export_lark import LARK_START, grammar_to_lark

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@functools.cache
def _parser(text: str) -> lark.Lark:
    return _lark(grammar_from_gbnf(text))


def _lark(g: Grammar) -> lark.Lark:
    return lark.Lark(grammar_to_lark(g), parser="earley", lexer="dynamic_complete")


def accepts(p: lark.Lark, s: str) -> bool:
    try:
        p.parse(s)
    except lark.exceptions.LarkError:
        return False
    return True


def check(text: str, good: list[str], bad: list[str]) -> None:
    p = _parser(text)
    assert [s for s in good if not accepts(p, s)] == []
    assert [s for s in bad if accepts(p, s)] == []


JSON_GBNF = Path(library_path("json.gbnf")).read_text(encoding="utf-8")


# ------------------------------------------------------------------ constructs and structure
def test_literal_escapes() -> None:
    g = grammar_from_gbnf(r'root ::= "a\n\t\r\\\"\[\]\x41\u00e9\U0001F600 #"  # comment')
    (term,) = g.terminals.values()
    assert term.literal and term.pattern == 'a\n\t\r\\"[]Aé😀 #'
    assert g.rules["root"].alternatives == ((term.name,),)
    assert g.ignore == () and g.start == "root"


def test_class_ranges_negation_escapes() -> None:
    g = grammar_from_gbnf(r'root ::= [a-c\]\x00-\x1f-] [^"\\] [-x]')
    (term,) = g.terminals.values()
    for s in ["a]x", "c\x00-", "-\nx", "b-x", "\x1fq-"]:
        assert re.fullmatch(term.pattern, s), s
    for s in ['a"x', "d]x", "a]y", "a\\x", "ab"]:
        assert re.fullmatch(term.pattern, s) is None, s
    check(r'root ::= [a-c\]\x00-\x1f-] [^"\\]', ["a]", "-\n", "]é"], ['a"', "a\\", "d!", "a"])


def test_dot_matches_newline_and_everything() -> None:
    g = grammar_from_gbnf('root ::= "<" . ">"')
    assert [t.flags for t in g.terminals.values()] == ["s"]
    check('root ::= "<" . ">"', ["<\n>", "<x>", "<é>", "<😀>"], ["<>", "<ab>", "<\n\n>"])


def test_one_terminal_for_rule_free_subexpressions() -> None:
    g = grammar_from_gbnf('root ::= [a-z]+ "x"?')
    assert [t.pattern for t in g.terminals.values()] == ["[a-z]+x?"]
    g = grammar_from_gbnf('root ::= "a" | "b" | x\nx ::= "c" "d" | "e"')
    assert sorted(t.pattern for t in g.terminals.values()) == ["a|b", "cd|e"]


def test_nullable_subexpression_gets_empty_alternative() -> None:
    g = grammar_from_gbnf("root ::= [a-z]*")
    (term,) = g.terminals.values()
    assert term.pattern == "[a-z]+"
    assert set(g.rules["root"].alternatives) == {(term.name,), ()}
    g = grammar_from_gbnf('root ::= "" | ("x" "")?')
    assert set(g.rules["root"].alternatives) == {("T_1",), ()}
    assert grammar_from_gbnf('root ::= ""').rules["root"].alternatives == ((),)


def test_identical_terminals_are_shared() -> None:
    g = grammar_from_gbnf('root ::= a "," b\na ::= [0-9]+ x\nb ::= [0-9]+ x | ","\nx ::= "."')
    assert sorted(t.pattern for t in g.terminals.values()) == [",", ".", "[0-9]+"]


def test_helper_rules_are_named_and_shaped() -> None:
    g = grammar_from_gbnf('root ::= x ("," x)* (x | "y") x{2,3}\nx ::= "a"')
    helpers = {n: r for n, r in g.rules.items() if n not in ("root", "x")}
    assert all(n.startswith("root__") for n in helpers)
    assert {n.split("__")[1].rsplit("_", 1)[0] for n in helpers} == {"rep", "grp", "opt"}
    star = next(r for n, r in helpers.items() if "__rep_" in n)
    comma = next(t.name for t in g.terminals.values() if t.pattern == ",")
    assert set(star.alternatives) == {(), (star.name, comma, "x")}
    g = grammar_from_gbnf('root ::= x+\nx ::= "a"')
    plus = next(r for n, r in g.rules.items() if "__rep_" in n)
    assert set(plus.alternatives) == {("x",), (plus.name, "x")}
    check('root ::= x ("," x)* "."\nx ::= "a" | "b"', ["a.", "a,b,a."], ["a,.", ".", "a,b"])


@pytest.mark.filterwarnings("ignore::corral.grammars.ir.UnreachableRuleWarning")
def test_names_rules_spanning_lines_and_start() -> None:
    text = 'root ::= 1x\n  -y   # comment\n  | z\n1x ::= "a"\n-y ::= "b"?\nz ::= "c"\n'
    g = grammar_from_gbnf(text, source="t.gbnf")
    assert set(g.rules) == {"root", "r_1x", "r_-y", "z"} and g.source == "t.gbnf"
    check(text, ["a", "ab", "c"], ["", "b", "ac"])
    assert grammar_from_gbnf(text, start="z").start == "z"
    assert Grammar.from_gbnf('root ::= "q"').stats()["terminals"] == 1


@pytest.mark.filterwarnings("ignore::corral.grammars.ir.UnreachableRuleWarning")
def test_repetition_bounds() -> None:
    check('root ::= "a"{2}', ["aa"], ["a", "aaa"])
    check('root ::= "a"{2,}', ["aa", "aaaaa"], ["a", ""])
    check('root ::= "a"{1,3} "b"{,2}', ["a", "aaabb", "ab"], ["", "aaaa", "abbb"])
    check('root ::= x{0} "b"\nx ::= "a"', ["b"], ["ab"])
    check(
        'root ::= x{2,3} | x{0,1} "-" x{2,}\nx ::= "a" | y\ny ::= "b"',
        ["ab", "bbb", "-ab", "a-aabb"],
        ["a", "abab", "-a", "aa-aa"],
    )


def test_interegular_accepts_every_terminal() -> None:
    for text in [JSON_GBNF, 'root ::= [^\\x00-\\x1f$.] "(|)*+?{}^$\\\\" .* [\\[\\]^-]']:
        for term in grammar_from_gbnf(text).terminals.values():
            interegular.parse_pattern(term.regex()).to_fsm()


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('root ::= "a"\n\nroot ::= "b"', 3, "defined twice"),
        ('root ::= "a" foo\n', 1, "undefined rule 'foo'"),
        ('root ::= "a"\nx ::= ("a" "b"\n', 2, "unbalanced '('"),
        ('root ::= ("a"\nx ::= "b"', 1, "unbalanced '('"),
        ('root ::= "a")\n', 1, "unbalanced ')'"),
        ('root ::= "a"\n  x ::= "\\q"', 2, "bad escape"),
        ('root ::= "\\x4g"', 1, "bad escape"),
        ('root ::= "\\uD800"', 1, "Unicode scalar"),
        ("root ::= [\\U00110000]", 1, "Unicode scalar"),
        ('\nroot "a"', 2, "expected '::='"),
        ('root ::= "abc\nx ::= "d"', 1, "unterminated string"),
        ('root ::= "abc', 1, "unterminated string"),
        ("root ::= [abc\n", 1, "unterminated character class"),
        ("\n\nroot ::= [z-a]", 3, "invalid range"),
        ("root ::= []", 1, "matches no character"),
        ('root ::=\n "a"{3,2}', 2, "minimum above maximum"),
        ('root ::= "a"{10001}', 1, "exceeds 10000"),
        ('root ::= "a"{2,10001}', 1, "exceeds 10000"),
        ('root ::= "a"{}', 1, "bad repetition"),
        ('root ::= "a"{1 2}', 1, "bad repetition"),
        ("root ::= * x", 1, "must follow an expression"),
        ("root ::= @", 1, "unexpected character"),
        ("::= x", 1, "expected a rule name"),
    ],
)
def test_errors_report_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(GrammarError) as info:
        grammar_from_gbnf(text)
    assert fragment in str(info.value)
    assert f"line {line}," in str(info.value) and info.value.line == line


def test_semantic_errors() -> None:
    with pytest.raises(GrammarError, match="start rule 'root' is not defined"):
        grammar_from_gbnf('main ::= "a"')
    with pytest.raises(GrammarError, match="language is empty"):
        grammar_from_gbnf('root ::= x\nx ::= x "a"')
    with pytest.raises(GrammarError, match="unproductive"):
        grammar_from_gbnf('root ::= "a" | x\nx ::= x "a"')
    with pytest.raises(GrammarError, match="start rule"):
        grammar_from_gbnf("# only a comment\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        grammar_from_gbnf('root ::= "a"\nunused ::= "b"')
    assert any("unreachable" in str(w.message) for w in caught)


# ------------------------------------------------------------------ languages
def test_recursive_and_nested_grammars() -> None:
    check('root ::= "(" root ")" root | ""', ["", "()", "(())()", "()(()())"], ["(", ")(", "(()"])
    check(
        'root ::= e\ne ::= t ("+" t)*\nt ::= f ("*" f)*\nf ::= [0-9]+ | "(" e ")"',
        ["1", "1+2*3", "(1+2)*3", "((4))", "12*(3+4)+5"],
        ["", "1+", "(1", "1**2", "()", "+1"],
    )
    check(
        'root ::= (("a" | "b" x)? ("c" | x{2})*)+ "."\nx ::= [xy]',
        [".", "a.", "bx.", "ccxy.", "abyxyc.", "bxbx."],
        ["b.", "x.", "ac", "cx."],
    )


# Random regular GBNF grammars (sub-expressions randomly moved into rules of their own) against an
# equivalent Python regex, which re.fullmatch decides.
_ALPHABET = 'ab\n-]"'
_GBNF_ESC = {"\n": "\\n", "-": "\\x2d", "]": "\\]", '"': '\\"', "\\": "\\\\"}


@st.composite
def regular_gbnf(draw: st.DrawFn) -> tuple[str, str]:
    rules: list[str] = []

    def expr(depth: int) -> tuple[str, str]:
        kind = draw(st.sampled_from(["lit", "cls", "dot"] + ["seq", "alt", "op", "rule"] * depth))
        if kind == "lit":
            s = draw(st.text(_ALPHABET, max_size=3))
            return '"' + "".join(_GBNF_ESC.get(c, c) for c in s) + '"', re.escape(s)
        if kind == "cls":
            chars = draw(st.sets(st.sampled_from(_ALPHABET), min_size=1, max_size=3))
            neg = draw(st.booleans())
            body = "".join(_GBNF_ESC.get(c, c) for c in sorted(chars))
            return f"[{'^' * neg}{body}]", f"[{'^' * neg}{''.join(map(re.escape, sorted(chars)))}]"
        if kind == "dot":
            return ".", "."
        if kind in ("seq", "alt"):
            parts = [expr(depth - 1) for _ in range(draw(st.integers(2, 3)))]
            gsep, rsep = (" ", "") if kind == "seq" else (" | ", "|")
            regex = rsep.join(f"(?:{r})" for _, r in parts)
            return f"( {gsep.join(g for g, _ in parts)} )", f"(?:{regex})"
        if kind == "op":
            g, r = expr(depth - 1)
            op = draw(st.sampled_from(["?", "*", "+", "{2}", "{1,}", "{0,2}", "{,1}", "{1,3}"]))
            return f"({g}){op}", f"(?:{r}){op.replace('{,', '{0,')}"
        g, r = expr(depth - 1)
        rules.append(f"r{len(rules)} ::= {g}")
        return f"r{len(rules) - 1}", r

    g, r = expr(3)
    return "\n".join([f"root ::= {g}", *rules]), r


@FAST
@given(regular_gbnf(), st.data())
def test_regular_grammars_match_python_re(case: tuple[str, str], data: st.DataObject) -> None:
    text, regex = case
    pattern = re.compile(regex, re.DOTALL)
    g = grammar_from_gbnf(text)
    p = _lark(g)
    regexes = [t.regex() for t in g.terminals.values()]
    fsms = [(interegular.parse_pattern(r).to_fsm(), re.compile(r)) for r in regexes]
    samples = data.draw(st.lists(st.text(_ALPHABET + "c", max_size=6), max_size=6))
    samples += data.draw(st.lists(st.from_regex(pattern, fullmatch=True), max_size=3))
    for s in samples:
        assert accepts(p, s) == bool(pattern.fullmatch(s)), (text, regex, s)
        # the terminal regexes mean the same to interegular and to Python, and exclude ""
        assert all(fsm.accepts(s) == bool(rx.fullmatch(s)) for fsm, rx in fsms), (regexes, s)
    assert not any(fsm.accepts("") for fsm, _ in fsms), regexes


# ------------------------------------------------------------------ json.gbnf
_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=50, deadline=None)
@given(_json_values, st.sampled_from([None, 2]), st.booleans())
def test_json_gbnf_accepts_json(value: object, indent: int | None, ascii_only: bool) -> None:
    doc = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert accepts(_parser(JSON_GBNF), doc), doc
    assert accepts(_parser(JSON_GBNF), f" \n\t{doc}\r\n "), doc


def _python_json_ok(doc: str) -> bool:
    def no_constants(name: str) -> None:
        raise ValueError(name)

    try:
        json.loads(doc, parse_constant=no_constants)
    except ValueError:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(_json_values, st.integers(0, 10**6), st.sampled_from(["", ",", "0", '"', " ", "\x01", "}"]))
def test_json_gbnf_agrees_with_python_on_mutations(value: object, seed: int, edit: str) -> None:
    doc = json.dumps(value)
    i = seed % (len(doc) + 1)
    mutated = doc[:i] + edit + doc[i + (seed % 2) :]
    assert accepts(_parser(JSON_GBNF), mutated) == _python_json_ok(mutated), mutated


def test_json_gbnf_hand_picked() -> None:
    good = ['{"a": [1, -0.5e+10, "\\u00e9\\n\\"", true, false, null], "b": {}}', "[]", " 0 "]
    good += ['"\\/\\b\\f\\r\\t"', '{ "k" : [ ] }', "-0", "1E5", "[[[]]]", '"😀é"', "\r\n1"]
    bad = ["[1,]", "{'a': 1}", "01", '"\x01"', "{a: 1}", '{"a" 1}', "[1 2]", "+1", "1.", ".5"]
    bad += ['"\\x41"', '"\\u12"', "tru", "nul", "NaN", "", '{"a":1,}', '"a', "[\v1]", "1 2"]
    bad += ['"tab\tin string"', "[-]", "1e", "--1", "[01]", "{1: 2}", "'a'", "{,}", "Infinity"]
    check(JSON_GBNF, good, bad)
    g = Grammar.from_file(library_path("json.gbnf"))
    for name in ("string", "number"):
        ((term,),) = g.rules[name].alternatives
        assert not g.terminals[term].literal


# ------------------------------------------------------------------ Lark export of IR grammars
def test_export_is_exact_where_lark_regexes_are_not() -> None:
    g = make_grammar([Terminal("A", "a|ab"), Terminal("B", "c*")], [Rule("s", (("A", "B"),))], "s")
    p = _lark(g)
    results = [accepts(p, s) for s in ["ac", "abc", "abcc", "a", "ab", "abb"]]
    assert results == [True, True, True, False, False, False]


def test_export_ignore_flags_and_names() -> None:
    terms = [
        Terminal("WS", "[ \t]+"),
        Terminal("N", "[0-9]+"),
        Terminal("K", "Kw", True, "i"),
        Terminal("E", "x{0}"),
        Terminal("D", ".", flags="s"),
    ]
    rules = [Rule("Root-1", (("root_1",), ("K",), ("E",), ("D",))), Rule("root_1", (("N", "N"),))]
    g = make_grammar(terms, rules, "Root-1", ignore=("WS",))
    text = grammar_to_lark(g)
    assert f"\n{LARK_START}: " in text and "root_1_2" in text
    p = lark.Lark(text, parser="earley", lexer="dynamic_complete", start=LARK_START)
    good, bad = [" 1 2 ", "12", "kW", " KW\t", "\n", " é "], ["a b", "k w", "", "ab", "1 2 3"]
    assert [accepts(p, s) for s in good + bad] == [True] * len(good) + [False] * len(bad)


def test_export_every_ascii_character() -> None:
    chars = [chr(c) for c in range(128)] + ["é", "\u2028", "😀"]
    terms = [
        Terminal("L", "".join(chars), literal=True),
        Terminal("C", "[" + re.escape("".join(chars)) + "]+"),
    ]
    g = make_grammar(terms, [Rule("root", (("L",), ("C",)))], "root")
    p = lark.Lark(grammar_to_lark(g), parser="earley", lexer="dynamic_complete", start="root")
    assert accepts(p, "".join(chars)) and all(accepts(p, c * 2) for c in chars)
    assert not accepts(p, "€")
