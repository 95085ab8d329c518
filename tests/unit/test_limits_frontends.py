"""Hostile inputs to the front-ends end in a clear error within their bounds ("Hard edges").

Each case builds its input here (no files) and checks that the front-end stops with a
:class:`~corral.errors.GrammarError` (or compiles correctly) within about twice the bound in
force, with a message that names the bound, and — where easy to see — without large memory
growth. These are bound checks, not speed tests: the time limits are loose.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from conftest import smollm2
from corral import Matcher
from corral import compile as compile_grammar
from corral.errors import CompileLimitExceeded, GrammarError, UnsupportedSchemaError
from corral.grammars.ir import Grammar
from corral.grammars.json_schema import compile_json_schema, explain
from corral.limits import DEFAULT_LIMITS, Limits

DEEP = 10_000
FAST = Limits(compile_seconds=1.0)


def _maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@contextmanager
def bounded(seconds: float, megabytes: float = 1024) -> Iterator[None]:
    """Assert the block runs within ``seconds`` (CPU) and grows peak memory by < ``megabytes``."""
    before, start = _maxrss_mb(), time.process_time()
    yield
    elapsed = time.process_time() - start
    assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    assert _maxrss_mb() - before < megabytes


def _raises(build: Callable[[], Any], match: str, seconds: float = 2.0) -> GrammarError:
    with bounded(seconds), pytest.raises(GrammarError, match=match) as info:
        build()
    message = str(info.value)
    assert "RecursionError" not in message and "set_int_max_str_digits" not in message
    return info.value


# ------------------------------------------------------------------ nesting of grammar texts
@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("lark", lambda: Grammar.from_lark("start: " + "(" * DEEP + '"a"' + ")" * DEEP)),
        ("lark-optional", lambda: Grammar.from_lark("start: " + '["a" ' * DEEP + "]" * DEEP)),
        (
            "lark-regex",
            lambda: Grammar.from_lark("start: A\nA: /" + "(" * DEEP + "a)" * DEEP + "/"),
        ),
        ("gbnf", lambda: Grammar.from_gbnf("root ::= " + "(" * DEEP + '"a"' + ")" * DEEP)),
        ("regex", lambda: Grammar.from_regex("(" * DEEP + "a" + ")" * DEEP)),
        ("regex-optional", lambda: Grammar.from_regex("(a" * DEEP + ")?" * DEEP)),
    ],
)
def test_deep_grammar_text_is_refused_with_position(name: str, build: Callable[[], Any]) -> None:
    err = _raises(build, r"nested deeper than 100 \(Limits.max_nesting_depth\)")
    assert "column" in str(err)


def test_nesting_error_carries_line_and_column() -> None:
    text = "start: x\nx: " + "(" * 150 + '"a"' + ")" * 150
    err = _raises(lambda: Grammar.from_lark(text), "line 2 column 104")
    assert (err.line, err.column) == (2, 104)


def test_nesting_bound_is_a_limit_field() -> None:
    text = "root ::= " + "(" * 20 + '"a"' + ")" * 20
    Grammar.from_gbnf(text)
    _raises(lambda: Grammar.from_gbnf(text, limits=Limits(max_nesting_depth=10)), "deeper than 10")
    _raises(lambda: Grammar.from_regex("((a))", limits=Limits(max_nesting_depth=1)), "deeper")


def test_nesting_at_the_default_bound_still_compiles() -> None:
    n = DEFAULT_LIMITS.max_nesting_depth
    Grammar.from_lark("start: " + "(" * n + '"a"' + ")" * n)
    Grammar.from_gbnf("root ::= " + '("a" ' * n + ")?" * n)
    Grammar.from_regex("(a" * n + ")?" * n)


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        ("LARK", "start: /" + "\\\\a" * 30 + "\n" * 2 + "(" * 101),
        ("LARK", "/" + "\\" * 200_000 + "\n" + "(" * 101),
        ("LARK", '"\\"' * 200_000 + "\n" + "(" * 101),
        ("LARK", "/\\/" * 200_000 + "\n" + "(" * 101),
        ("GBNF", "(" * 101 + 'x"\\"' * 200_000),
        ("GBNF", "[\\]" * 200_000 + "(" * 101),
        ("REGEX", "[\\]" * 200_000 + "(" * 101),
    ],
)
def test_nesting_scan_is_linear(tokens: str, text: str) -> None:
    """Unclosed strings, classes and regexes full of backslashes: the bracket scan must not
    backtrack (the lazy Lark regex pattern took exponential time on a fuzzed grammar, whose
    input is in the fuzz corpus as ``lark_backslashes``)."""
    from corral.automata import nesting

    with bounded(2.0):
        nesting.deepest_point(text, getattr(nesting, f"{tokens}_TOKENS"), 100)


def test_nesting_scan_agrees_with_the_backtracking_scan_on_closed_literals() -> None:
    """Where every literal and regex is closed on its line, the linear scan finds the same spans
    as the former backtracking pattern (kept here as the oracle)."""
    import re

    from corral.automata.nesting import LARK_TOKENS

    old = re.compile(r'"(?:\\.|[^"\\\n])*"|/(?!/)(?:\\/|\\\\|[^/\n])*?/|//[^\n]*|[()\[\]{}]')
    text = 'a: /x\\/(/ "(\\"(" // ((\nb: /\\\\/ ( /[/]/ {"\\\\"} /a\\\\\\/b/ [")"]\n'
    spans = [(m.start(), m.group()) for m in LARK_TOKENS.finditer(text)]
    assert spans == [(m.start(), m.group()) for m in old.finditer(text)]
    assert "/x\\/(/" in [g for _, g in spans]


@pytest.mark.parametrize(
    "pattern",
    [r"a{99999999999999999999}", r"a{1,4294967296}", r"2\d{38888888888888888888888888}-\d{3}"],
)
def test_regex_repetition_past_python_re_bound_is_refused(pattern: str) -> None:
    """Python's re raises OverflowError (not re.error) for such counts: a clear refusal."""
    _raises(lambda: Grammar.from_regex(pattern), "repetition number is too large")


def test_grammar_text_size_bound(tmp_path: Path) -> None:
    small = Limits(max_grammar_bytes=100)
    long = 'start: "' + "a" * 200 + '"'
    _raises(lambda: Grammar.from_lark(long, limits=small), "max_grammar_bytes")
    _raises(lambda: Grammar.from_gbnf("root ::= " + long[7:], limits=small), "max_grammar_bytes")
    _raises(lambda: Grammar.from_regex("a" * 200, limits=small), "max_grammar_bytes")
    _raises(lambda: Grammar.from_choices(["a" * 60, "b" * 60], limits=small), "max_grammar_bytes")
    path = tmp_path / "big.lark"
    path.write_text(long)
    _raises(lambda: Grammar.from_file(str(path), limits=small), "max_grammar_bytes")
    assert Grammar.from_file(str(path)).start == "start"


# ------------------------------------------------------------------ JSON Schema nesting
def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"items": schema}
    return schema


def test_deep_schema_dict_is_refused_with_pointer() -> None:
    err = _raises(lambda: compile_json_schema(_nested(DEEP)), r"Limits.max_schema_depth")
    assert err.pointer is not None and err.pointer.startswith("/items/items")
    assert len(str(err)) < 300


def test_deep_schema_text_is_refused_with_position() -> None:
    text = '{"items":' * DEEP + "{}" + "}" * DEEP
    err = _raises(lambda: compile_json_schema(text), r"nested deeper than 200 .* line 1 column")
    assert err.line == 1 and err.column is not None


def test_deep_const_value_is_refused() -> None:
    value: Any = 1
    for _ in range(DEEP):
        value = [value]
    _raises(lambda: compile_json_schema({"const": value}), "max_schema_depth")


# ------------------------------------------------------------------ enum size
def _enum(n: int, width: int = 0) -> dict[str, Any]:
    return {"enum": [f"s{i:0{width}d}" for i in range(n)]}


def test_huge_enum_is_refused_at_once() -> None:
    schema = _enum(90_000, 55)
    assert len(json.dumps(schema)) > 5_000_000
    _raises(lambda: compile_json_schema(schema), r"enum of 90000 values.*max_enum_values")
    _raises(lambda: compile_json_schema(json.dumps(schema)), "max_enum_values")


def test_huge_enum_without_the_count_bound_stops_within_time_and_states() -> None:
    limits = Limits(compile_seconds=1.0, max_enum_values=1_000_000)
    with bounded(2.0, 1024), pytest.raises(GrammarError):
        compile_json_schema(_enum(90_000, 55), limits=limits)


def test_enum_of_20000_strings() -> None:
    _raises(lambda: compile_json_schema(_enum(20_000)), "max_enum_values")
    limits = Limits(compile_seconds=8.0, max_enum_values=20_000)
    with bounded(16.0, 1024):
        grammar = compile_json_schema(_enum(20_000), limits=limits)
    assert grammar.start == "start"


def test_large_enum_is_linear_and_checks_siblings() -> None:
    schema = {"enum": [f"v{i}" for i in range(5_000)] + [1, 2], "type": "string"}
    with bounded(8.0):
        grammar = compile_json_schema(schema)
    m = Matcher(compile_grammar(grammar, smollm2()))
    assert m.accept_bytes(b'"v4999"') and m.is_accepting()
    assert not Matcher(compile_grammar(grammar, smollm2())).accept_bytes(b"1")


# ------------------------------------------------------------------ long strings, many properties
def test_huge_min_length_compiles_within_bound() -> None:
    with bounded(8.0, 512):
        grammar = compile_json_schema({"type": "string", "minLength": 1_000_000})
    assert len(grammar.rules) < 5_000


def test_sixty_thousand_properties_stop_early_and_small() -> None:
    schema = {
        "type": "object",
        "properties": {f"p{i:08d}": {"type": "string", "maxLength": 10} for i in range(60_000)},
    }
    assert len(json.dumps(schema)) > 2_000_000
    with bounded(8.0, 600), pytest.raises(CompileLimitExceeded, match="max_string_states"):
        compile_json_schema(schema)


# ------------------------------------------------------------------ huge integers
BIG = 10**5000


@pytest.mark.parametrize(
    "schema",
    [
        {"const": BIG},
        {"enum": [1, BIG]},
        {"minimum": BIG},
        {"multipleOf": BIG},
        {"type": "integer", "maximum": -BIG},
        '{"const": 1' + "0" * 5000 + "}",
        '{"minimum": -1' + "0" * 5000 + "}",
    ],
    ids=["const", "enum", "minimum", "multipleOf", "maximum", "text-const", "text-minimum"],
)
def test_huge_integers_are_refused_clearly(schema: Any) -> None:
    _raises(lambda: compile_json_schema(schema), r"longer than 1000 digits .*max_number_digits")


def test_integers_within_the_digit_bound_compile() -> None:
    big = 10**300
    assert compile_json_schema({"const": big}).start == "start"
    limits = Limits(max_number_digits=10)
    _raises(lambda: compile_json_schema({"const": big}, limits=limits), "max_number_digits")


# ------------------------------------------------------------------ item 5: not over refusals
NOT_CASE = {"not": {"anyOf": [True], "unevaluatedProperties": False}}


def test_not_over_a_refused_keyword_is_refused_not_empty() -> None:
    with pytest.raises(UnsupportedSchemaError) as info:
        compile_json_schema(NOT_CASE)
    found = {(i.pointer, i.keyword) for i in info.value.issues}
    assert ("/not", "unevaluatedProperties") in found and ("", "not") in found
    grammar = compile_json_schema(NOT_CASE, lenient=True)
    assert {(i.pointer, i.keyword) for i in grammar.unenforced} == found
    m = Matcher(compile_grammar(grammar, smollm2()))
    assert m.accept_bytes(b'{"bar":1}') and m.is_accepting()


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"oneOf": [{"unevaluatedItems": False}, {"type": "array"}]}, "oneOf"),
        ({"if": {"$dynamicRef": "#x"}, "then": {"type": "string"}}, "if"),
        ({"not": {"properties": {"a": {"not": {"unevaluatedProperties": False}}}}}, "not"),
        ({"$defs": {"d": {"unevaluatedItems": False}}, "not": {"$ref": "#/$defs/d"}}, "not"),
    ],
)
def test_combinators_over_refused_keywords_are_refused(schema: Any, keyword: str) -> None:
    grammar = compile_json_schema(schema, lenient=True)
    assert ("", keyword) in {(i.pointer, i.keyword) for i in grammar.unenforced}


def test_explain_lists_every_keyword_of_the_not_case() -> None:
    report = explain(NOT_CASE)
    status = {(k.pointer, k.keyword): k.status for k in report}
    assert status[("/not", "unevaluatedProperties")].startswith("refused")
    assert status[("", "not")].startswith("refused")
    assert ("/not", "anyOf") in status
    assert report.error is None


def test_explain_lists_keywords_of_a_schema_that_fails_later() -> None:
    schema = {"allOf": [{"type": "string"}, {"type": "integer", "minimum": 3}]}
    report = explain(schema)
    assert report.error is None and report.empty_reason == "the schema admits no JSON value"
    keywords = {(k.pointer, k.keyword) for k in report}
    assert {("", "allOf"), ("/allOf/0", "type"), ("/allOf/1", "minimum")} <= keywords


# ------------------------------------------------------------------ literals and alternatives
def test_huge_lark_literal_is_refused_before_its_automaton() -> None:
    text = 'start: "' + "ab" * 500_000 + '"\n'
    error = _raises(lambda: Grammar.from_lark(text, source="big.lark"), "Limits.max_dfa_states", 6)
    assert isinstance(error, CompileLimitExceeded)
    assert "big.lark" in str(error) and len(str(error)) < 300  # the terminal name is cut short


def test_literal_at_the_state_bound_compiles() -> None:
    limits = Limits(max_dfa_states=100)
    grammar = Grammar.from_lark('start: "' + "a" * 98 + '"', limits=limits)
    assert grammar.terminals
    _raises(lambda: Grammar.from_lark('start: "' + "a" * 99 + '"', limits=limits), "max_dfa")


def test_literal_dfa_refuses_before_allocating() -> None:
    from corral.automata.regex import literal_dfa
    from corral.limits import Budget

    huge = "x" * 50_000_000  # 50 MB of its own, made before the memory bound is measured
    literal_dfa("warm", what="terminal 'W'")
    with bounded(1.0, 64), pytest.raises(CompileLimitExceeded, match=r"Limits\.max_dfa_states"):
        literal_dfa(huge, what="terminal 'X'")
    assert literal_dfa("abc", budget=Budget.unlimited(Limits(max_dfa_states=5))).n_states >= 4


def _alternatives(n: int) -> str:
    return " | ".join(f'"w{i}"' for i in range(n))


def test_lark_alternatives_bound_fires_before_lark_loads() -> None:
    text = f"start: {_alternatives(100_000)}\n"
    _raises(lambda: Grammar.from_lark(text, source="many.lark"), "Limits.max_alternatives")
    # ``|`` inside literals, regexes and comments does not count; each rule's first one does.
    small = Limits(max_alternatives=3)
    Grammar.from_lark('start: "a|b" | /c|d/ | "e" // x | y | z\n', limits=small)
    _raises(lambda: Grammar.from_lark('start: "a" | "b" | "c" | "d"', limits=small), "max_alt")


def test_lark_rule_chain_counts_every_rule_before_lark_loads() -> None:
    # 10,000 rules of two alternatives each: 20,001 alternatives, refused in well under a second
    # (Lark's loader would spend about a millisecond per rule, uninterruptibly, first).
    lines = ["start: r0", *(f'r{i}: r{i + 1} | "a"' for i in range(10_000)), 'r10000: "b"']
    start = time.process_time()
    _raises(lambda: Grammar.from_lark("\n".join(lines), source="chain.lark"), "max_alternatives")
    assert time.process_time() - start < 5
    small = Limits(max_alternatives=5)  # start 2, a 1, b 2 (and c 1 more below)
    Grammar.from_lark('start: a | b\na: "x"\n?b: "y" | "z"\n', limits=small)
    _raises(lambda: Grammar.from_lark('start: a | b\na: "x"\nb: "y" | "z"\nc: "w"', limits=small),
            "max_alternatives")  # fmt: skip


def test_gbnf_alternatives_bound() -> None:
    from corral.grammars.gbnf import grammar_from_gbnf

    text = f"root ::= {_alternatives(100_000)}\n"
    error = _raises(lambda: Grammar.from_gbnf(text, source="many.gbnf"), "Limits.max_alternatives")
    assert isinstance(error, CompileLimitExceeded) and error.line == 1
    small = Limits(max_alternatives=3)
    assert grammar_from_gbnf(f"root ::= {_alternatives(4)}", limits=small).rules
    _raises(lambda: grammar_from_gbnf(f"root ::= {_alternatives(5)}", limits=small), "max_alt")


def test_choices_alternatives_bound() -> None:
    choices = [f"w{i}" for i in range(100_000)]
    _raises(lambda: Grammar.from_choices(choices), "Limits.max_alternatives")
    small = Limits(max_alternatives=3)
    assert len(Grammar.from_choices(["a", "b", "a", "c"], limits=small).terminals) == 3
    _raises(lambda: Grammar.from_choices(["a", "b", "c", "d"], limits=small), "max_alt")


def test_compile_bounds_alternatives_and_time() -> None:
    grammar = Grammar.from_lark('start: "a" | "b" | /[0-9]+x/')
    with pytest.raises(CompileLimitExceeded, match=r"Limits\.max_alternatives"):
        compile_grammar(grammar, smollm2(), limits=Limits(max_alternatives=2))
    with pytest.raises(GrammarError, match=r"Limits\.compile_seconds"):
        compile_grammar(grammar, smollm2(), limits=Limits(compile_seconds=-1.0))
    assert Matcher(compile_grammar(grammar, smollm2())).accept_bytes(b"12x")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('start: "a\\' + "\\\\" * 40 + "\nb: A\n", "string literal"),
        ("start: A\nA: /x" + "\\\\" * 40 + "\n", "regex"),
    ],
)
def test_unclosed_lark_literal_is_refused_before_lark(text: str, what: str) -> None:
    """Lark's lexer backtracks exponentially over backslashes in an unclosed literal: refused
    first, with its position."""
    err = _raises(lambda: Grammar.from_lark(text), f"{what} not closed on its line")
    assert err.line == (1 if what == "string literal" else 2)
