"""Tests of the Lark, regex and choices front-ends and of the regex compatibility helpers.

The oracle for a Lark grammar's language is Lark's Earley parser with
``lexer="dynamic_complete"`` (any split of the input into terminals) on the original text. The
lowered IR is checked against the same strings by printing it back as a Lark grammar (numbered
symbols, terminals as ``Terminal.regex()``) and parsing with the same parser.
"""

from __future__ import annotations

import itertools
import re
from functools import cache

import lark
import pytest

from corral.errors import GrammarError, UnsupportedRegexError
from corral.grammars.ir import Grammar
from corral.grammars.lark_frontend import grammar_from_lark
from corral.grammars.regex_choices import grammar_from_choices, grammar_from_regex
from corral.grammars.regex_compat import prepare_regex, regex_fsm

IR_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_\-.$]*$")


def _lark_regex(regex: str) -> str:
    """Spell a Python regex as the body of a Lark ``/.../`` literal."""
    out, i = [], 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            out.append(
                f"\\U{ord(nxt):08x}" if not (nxt.isascii() and nxt.isprintable()) else ch + nxt
            )
            i += 2
            continue
        if not (ch.isascii() and ch.isprintable()):
            out.append(f"\\U{ord(ch):08x}")
        else:
            out.append("\\/" if ch == "/" else ch)
        i += 1
    return "".join(out)


def ir_to_lark(grammar: Grammar) -> str:
    """Print an IR grammar as Lark text with the same language."""
    ids = {name: f"r{i}" for i, name in enumerate(grammar.rules)}
    ids.update({name: f"T{i}" for i, name in enumerate(grammar.terminals)})
    lines = [
        f"{ids[name]}: " + " | ".join(" ".join(ids[s] for s in alt) for alt in rule.alternatives)
        for name, rule in grammar.rules.items()
    ]
    lines += [f"{ids[n]}: /{_lark_regex(t.regex())}/" for n, t in grammar.terminals.items()]
    lines += [f"%ignore {ids[name]}" for name in grammar.ignore]
    return "\n".join(lines) + "\n"


@cache
def oracle(text: str, start: str = "start") -> lark.Lark:
    return lark.Lark(text, parser="earley", lexer="dynamic_complete", start=start)


def accepts(parser: lark.Lark, string: str) -> bool:
    try:
        parser.parse(string)
    except lark.exceptions.LarkError:
        return False
    return True


def check_language(text: str, good: list[str], bad: list[str], start: str = "start") -> Grammar:
    """Lower ``text`` and check both it and the lowered IR on the given strings."""
    grammar = grammar_from_lark(text, start=start)
    lowered = oracle(ir_to_lark(grammar), f"r{list(grammar.rules).index(grammar.start)}")
    for name in [*grammar.rules, *grammar.terminals]:
        assert IR_NAME.match(name), name
    for string in good:
        assert accepts(oracle(text, start), string), f"oracle rejects {string!r}"
        assert accepts(lowered, string), f"lowered grammar rejects {string!r}"
    for string in bad:
        assert not accepts(oracle(text, start), string), f"oracle accepts {string!r}"
        assert not accepts(lowered, string), f"lowered grammar accepts {string!r}"
    return grammar


# ------------------------------------------------------------------ structure
def test_rules_terminals_and_lines() -> None:
    text = 'start: greeting NAME\n\ngreeting: "hello" | "hi"i\nNAME: /[a-z]+/\n'
    g = grammar_from_lark(text, source="demo.lark")
    assert g.start == "start" and g.source == "demo.lark"
    assert g.rules["start"].alternatives == (("greeting", "NAME"),)
    assert g.rules["start"].line == 1 and g.rules["greeting"].line == 3
    assert g.terminals["NAME"].pattern == "[a-z]+" and not g.terminals["NAME"].literal
    assert g.terminals["NAME"].line == 4
    literals = {t.pattern: t for t in g.terminals.values() if t.literal}
    assert literals["hello"].flags == "" and literals["hi"].flags == "i"
    assert {len(alt) for alt in g.rules["greeting"].alternatives} == {1}
    assert literals["hi"].line == 3  # anonymous terminals get the line of their rule


def test_regex_flags() -> None:
    g = grammar_from_lark("start: A B C\nA: /a.b/s\nB: /xy/i\nC: /z/u\n")
    assert (g.terminals["A"].flags, g.terminals["B"].flags, g.terminals["C"].flags) == (
        "s",
        "i",
        "",
    )
    check_language(
        "start: A B\nA: /a.b/s\nB: /xy/i\n", ["a\nbxy", "a-bXY", "a_bxY"], ["abxy", "a\nb"]
    )


@pytest.mark.parametrize(
    ("text", "good", "bad"),
    [
        ('start: "a"? "b"', ["b", "ab"], ["", "aab", "a"]),
        ('start: "a"* "b"', ["b", "ab", "aaab"], ["", "ba"]),
        ('start: "a"+ "b"', ["ab", "aaab"], ["b", "a"]),
        ('start: ["a"] "b"', ["b", "ab"], ["aab"]),
        ('start: "a"~3', ["aaa"], ["aa", "aaaa"]),
        ('start: "a"~2..3 "b"', ["aab", "aaab"], ["ab", "aaaab"]),
        ('start: ("a" | "b" "c")+', ["a", "bc", "abca"], ["b", ""]),
        ('start: X\nX: "a".."c" "0".."9"+', ["a0", "c99"], ["d0", "a", "0"]),
        ('start: "select"i NAME\nNAME: /[a-z]+/', ["selectx", "SeLeCtabc"], ["select"]),
        ('start: _pair+\n_pair: "(" ")"', ["()", "()()"], ["(", ")("]),
        ('start: item+\n?item: "x" -> ex | "y"', ["xy", "yyx"], [""]),
        ('start: kw\n!kw: "k" "w"', ["kw"], ["k"]),
        ('start: sep{"a", ","}\nsep{x, s}: x (s x)*', ["a", "a,a,a"], ["a,", ",a"]),
        ('start: "x" INT\n%import common.INT', ["x1", "x42"], ["x", "x-1"]),
        ("start: WORD+\n%import common (WORD, WS)\n%ignore WS", ["ab  cd", " ab "], ["", "a1"]),
        ("start: N\n%import common.CNAME -> N", ["_a1"], ["1a"]),
        ('start: "a" "b"\n%ignore " "', ["a b", " a  b ", "ab"], ["a\tb"]),
        ('start: A\nA: "x"\n%override A: "y"', ["y"], ["x"]),
        ('start: a\na: "x"\n%extend a: "y"', ["x", "y"], ["xy"]),
        ('start: A B\nA: /\\u00e9+/\nB: "\\u00e8"', ["éè", "ééè"], ["è", "e"]),
        ("start: A\nA: /[\\x41-\\x43]\\x2d/", ["A-", "C-"], ["D-", "A"]),
    ],
)
def test_constructs_preserve_the_language(text: str, good: list[str], bad: list[str]) -> None:
    check_language(text + "\n", good, bad)


def test_inlined_rules_change_only_tree_shape() -> None:
    plain = check_language('start: a b\na: "x"\nb: "y" | "z"\n', ["xy", "xz"], ["x", "yx"])
    inlined = check_language('start: _a b\n_a: "x"\n?b: "y" | "z"\n', ["xy", "xz"], ["x", "yx"])
    assert plain.stats() == inlined.stats()


def test_generated_names_are_valid_and_get_lines() -> None:
    text = 'start: sep{x, ","} x*\n\nsep{i, s}: i (s i)*\nx: "\\u00e9"\n'
    g = grammar_from_lark(text)
    generated = [r for n, r in g.rules.items() if n not in ("start", "x")]
    assert generated and all(r.line == 1 for r in generated)
    assert any("$" in n for n in g.rules)  # the template instance sep{x,COMMA}
    assert any(t.pattern == "é" and t.line == 4 for t in g.terminals.values())


def test_imported_terminals_get_the_import_line() -> None:
    g = grammar_from_lark('start: NUMBER\n%import common.NUMBER\n%ignore " "\n')
    assert g.terminals["NUMBER"].line == 2
    (ignored,) = g.ignore
    assert g.terminals[ignored].line == 3 and g.terminals[ignored].literal


def test_escaped_string_from_common_keeps_larks_matches() -> None:
    text = "start: ESCAPED_STRING\n%import common.ESCAPED_STRING\n"
    good = ['""', '"a"', '"a\\"b"', '"\\\\"', '"\\n\\t"']
    bad = ['"', '"\\"', '"a\nb"', '"\\\\\\"', "'a'", '"x"y"']
    g = check_language(text, good, bad)
    assert "(?<" not in g.terminals["ESCAPED_STRING"].pattern
    lowered = re.compile(g.terminals["ESCAPED_STRING"].regex())
    for length in range(6):
        for chars in itertools.product('a"\\\n', repeat=length):
            string = "".join(chars)
            assert accepts(oracle(text), string) == bool(lowered.fullmatch(string)), string


def test_start_option() -> None:
    g = check_language('expr: "a" | "(" expr ")"\n', ["a", "((a))"], ["(a"], start="expr")
    assert g.start == "expr"


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('start: a\na.2: "x"\n', 2, "priority"),
        ('start: A\nA.2: "x"\n', 2, "priority"),
        ("start: A\n%declare A\n", 2, "%declare"),
        ("start: A\nA: /a*/\n", 2, "empty string"),
        ("start: A\nA: /a?/\n", 2, "empty string"),
        ("start: A\nA: /(?=a)a/\n", 2, "look-around"),
        ("start: A\nA: /b(?<!a)/\n", 2, "look-around"),
        ("start: A\nA: /(a)\\1/\n", 2, "back-reference"),
        ("start: A\nA: /\\bx/\n", 2, "interegular"),
        ("start: A\nA: /^x/\n", 2, "interegular"),
        ("start: A\nA: /a/m\n", 2, "flag 'm'"),
        ("start: A\nA: /a b/x\n", 2, "flag 'x'"),
        ("start: A\nA: /a/l\n", 2, "flag 'l'"),
        ('start: A\nA: /a/m "b"\n', 2, "inline flag 'm'"),
        ('start: a\n\na: "x" )\n', 3, "Unexpected"),
        # Lark 1.3.1 fails with a TypeError while explaining this one (match_examples)
        ("start: A\nA: n{a: b}\n", 2, "Unexpected token"),
        ("start: a\n\nb: c\n", 1, "used but not defined"),
        ('start: a\na: "x"\na: "y"\n', 3, "more than once"),
        ("start: X\n\n%import nosuch.X\n", 3, "nosuch"),
        ('start: "a"\nb: "x"\n%ignore b\n', 2, "Rules aren't allowed"),
        ('start: a\na: a "x"\n', None, "empty"),
        ('a: "x"\n', None, "start rule"),
    ],
)
def test_refusals(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(GrammarError) as info:
        grammar_from_lark(text)
    assert fragment in str(info.value)
    assert info.value.line == line
    if line is not None:
        assert f"line {line}" in str(info.value)


def test_refused_terminal_is_named() -> None:
    with pytest.raises(GrammarError, match="terminal 'WORDISH'") as info:
        grammar_from_lark("start: WORDISH\nWORDISH: /\\w+\\b/\n")
    assert info.value.rule == "WORDISH"


# ------------------------------------------------------------------ regex helpers
@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("\\u00e9", "é"),
        ("[\\u0041-\\u005a]", "[A-Z]"),
        ("\\U0001F600", "\U0001f600"),
        ("\\x2e", "\\."),
        ("[\\x5d\\x2d]", "[\\]\\-]"),
        ("\\N{EM DASH}", "\u2014"),
        ("[\\0-\\037]", "[\x00-\x1f]"),
        ("[]a]", "[\\]a]"),
        ("[^]a]", "[^\\]a]"),
        ("(?#note)a(?u:b)", "a(?:b)"),
        ("(?iu)a|b", "(?i:a|b)"),
        ("(?s)(?i).", "(?is:.)"),
        ("(?u)a", "a"),
        ("a\\\\u0041", "a\\\\u0041"),
        ("x}+\\++", "x}+\\++"),
    ],
)
def test_prepare_regex(pattern: str, expected: str) -> None:
    assert prepare_regex(pattern) == expected
    regex_fsm(expected)


@pytest.mark.parametrize(
    "pattern",
    [
        "(?=a)",
        "(?!a)b",
        "(?<=a)b",
        "(a)\\1",
        "(?P<x>a)(?P=x)",
        "(?(1)a|b)",
        "(?>a)",
        "a*+",
        "a{2}+",
        "(?m:a)",
        "(?x)a",
        "[ab",
        "a\\",
        "\\u12",
        "\\N{NO SUCH NAME}",
    ],
)
def test_prepare_regex_refusals(pattern: str) -> None:
    with pytest.raises(UnsupportedRegexError):
        prepare_regex(pattern)


def test_regex_fsm_refuses_unparseable() -> None:
    with pytest.raises(UnsupportedRegexError, match="interegular"):
        regex_fsm("\\bword")
    with pytest.raises(UnsupportedRegexError, match="invalid regex"):
        regex_fsm("a{2,1}")


# ------------------------------------------------------------------ regex and choices
def test_grammar_from_regex() -> None:
    g = grammar_from_regex("[0-9]+(\\.[0-9]+)?")
    assert g.rules["start"].alternatives == (("PATTERN",),)
    assert g.terminals["PATTERN"].pattern == "[0-9]+(\\.[0-9]+)?"
    nullable = grammar_from_regex("(ab)*", flags="i")
    assert nullable.rules["start"].alternatives == (("PATTERN",), ())
    assert nullable.terminals["PATTERN"].flags == "i"
    assert "start" in nullable.nullable_rules()
    only_empty = grammar_from_regex("(?:)")
    assert only_empty.rules["start"].alternatives == ((),) and not only_empty.terminals
    assert grammar_from_regex("\\u00e9{2}").terminals["PATTERN"].pattern == "é{2}"
    assert grammar_from_regex(".", flags="ss").terminals["PATTERN"].flags == "s"


@pytest.mark.parametrize(
    ("pattern", "flags"), [("(?=a)a", ""), ("(a)\\1", ""), ("^a$", ""), ("[", ""), ("a", "m")]
)
def test_grammar_from_regex_refusals(pattern: str, flags: str) -> None:
    with pytest.raises(GrammarError):
        grammar_from_regex(pattern, flags=flags)


def test_grammar_from_choices() -> None:
    g = grammar_from_choices(["yes", "no", "yes", "", "a.b*"])
    assert [t.pattern for t in g.terminals.values()] == ["yes", "no", "a.b*"]
    assert all(t.literal for t in g.terminals.values())
    assert g.rules["start"].alternatives == (("CHOICE_0",), ("CHOICE_1",), (), ("CHOICE_2",))
    assert grammar_from_choices(iter(["x"])).stats()["terminals"] == 1
    assert grammar_from_choices([""]).rules["start"].alternatives == ((),)


def test_grammar_from_choices_refusals() -> None:
    with pytest.raises(GrammarError, match="at least one"):
        grammar_from_choices([])
    with pytest.raises(GrammarError, match="strings"):
        grammar_from_choices(["a", 3])  # type: ignore[list-item]


def test_classmethods_delegate() -> None:
    assert Grammar.from_lark('start: "x"\n').stats()["terminals"] == 1
    assert Grammar.from_regex("x+").terminals["PATTERN"].pattern == "x+"
    assert Grammar.from_choices(["a", "b"]).stats()["alternatives"] == 2
