"""Tests of the grammars shipped in ``corral/grammars/library``.

Each grammar must load in Lark's Earley parser with ``lexer="dynamic_complete"`` (the oracle: any
split of the input into terminals), lower to the IR without error, and accept and reject the
listed examples, both as written and as lowered (the IR printed back as a Lark grammar).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

import interegular
import lark
import pytest

from corral.grammars.ir import Grammar
from corral.grammars.lark_frontend import grammar_from_lark


def _lark_regex(regex: str) -> str:
    """Spell a Python regex as the body of a Lark ``/.../`` literal."""
    out, i = [], 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            plain = nxt.isascii() and nxt.isprintable()
            out.append(ch + nxt if plain else f"\\U{ord(nxt):08x}")
            i += 2
            continue
        plain = ch.isascii() and ch.isprintable()
        out.append(("\\/" if ch == "/" else ch) if plain else f"\\U{ord(ch):08x}")
        i += 1
    return "".join(out)


def ir_to_lark(grammar: Grammar) -> str:
    """Print an IR grammar as Lark text with the same language (start rule ``r0``)."""
    names = [grammar.start, *(n for n in grammar.rules if n != grammar.start)]
    ids = {name: f"r{i}" for i, name in enumerate(names)}
    ids.update({name: f"T{i}" for i, name in enumerate(grammar.terminals)})
    lines = [
        f"{ids[n]}: " + " | ".join(" ".join(ids[s] for s in alt) for alt in r.alternatives)
        for n, r in grammar.rules.items()
    ]
    lines += [f"{ids[n]}: /{_lark_regex(t.regex())}/" for n, t in grammar.terminals.items()]
    lines += [f"%ignore {ids[name]}" for name in grammar.ignore]
    return "\n".join(lines) + "\n"


@cache
def text_of(name: str) -> str:
    return (resources.files("corral.grammars") / "library" / f"{name}.lark").read_text("utf-8")


@cache
def lowered(name: str) -> Grammar:
    return grammar_from_lark(text_of(name), source=f"{name}.lark")


@cache
def parsers(name: str) -> tuple[lark.Lark, lark.Lark]:
    original = lark.Lark(text_of(name), parser="earley", lexer="dynamic_complete")
    roundtrip = lark.Lark(
        ir_to_lark(lowered(name)), parser="earley", lexer="dynamic_complete", start="r0"
    )
    return original, roundtrip


def accepts(parser: lark.Lark, string: str) -> bool:
    try:
        parser.parse(string)
    except lark.exceptions.LarkError:
        return False
    return True


JSON_GOOD = [
    "{}",
    "[]",
    "0",
    "-0.5e-10",
    '"plain"',
    "true",
    "null",
    '{"name": "Ada", "age": 36, "langs": ["en", "fr"]}',
    '{\n\t"a": 1,\r\n  "b": [\n    2\n  ]\n}\n',
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"',
    '"unicode é 😀 中文 \x7f"',
    "[1, 2.5, 3e2, 4E+2, -1.0E-2]",
    "[[[[]]]]",
    '{"a": {"b": {"c": [true, false, null]}}}',
    "  123  ",
    '{"": ""}',
    '[{"id": 1}, {"id": 2}]',
]
JSON_BAD = [
    "",
    "{",
    "[1, 2,]",
    '{"a" 1}',
    "{'a': 1}",
    "01",
    "1.",
    ".5",
    "+1",
    '"tab\there"',
    '"\\x41"',
    "[1 2]",
    "True",
    "NaN",
    '"unterminated',
    '"a" "b"',
    "nulls",
    '"\\u12"',
    "1e",
]

ARITHMETIC_GOOD = [
    "1",
    "3.14",
    "1 + 2",
    "1+2*3",
    "(1 + 2) * 3",
    "-4",
    "--4",
    "2 ^ 3 ^ 2",
    "-2^2",
    "2^-1",
    "10 / 4 - 3",
    "((((7))))",
    "1.5 * (2 - -3.25) / 4",
    "\t7\t*\t6 ",
    "0.001 ^ (1/3)",
    "8 - (3 + -(2 * 2))",
]
ARITHMETIC_BAD = [
    "",
    "1 +",
    "* 2",
    "(1 + 2",
    "1 + 2)",
    "1 2",
    "1..2",
    ".5",
    "1.",
    "2 ** 3",
    "a + 1",
    "()",
    "1 +\n 2",
    "^2",
    "1e5",
]

SQL_GOOD = [
    "SELECT count(*) FROM singer",
    "SELECT name , country , age FROM singer ORDER BY age DESC",
    "SELECT avg(age) , min(age) , max(age) FROM singer WHERE country = 'France'",
    "SELECT song_name , song_release_year FROM singer ORDER BY age LIMIT 1",
    "SELECT DISTINCT country FROM singer WHERE age > 20",
    "SELECT country , count(*) FROM singer GROUP BY country",
    "SELECT song_name FROM singer WHERE age > (SELECT avg(age) FROM singer)",
    "SELECT T2.name , count(*) FROM concert AS T1 JOIN stadium AS T2 "
    "ON T1.stadium_id = T2.stadium_id GROUP BY T1.stadium_id",
    "SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)",
    "SELECT country FROM singer WHERE age > 40 INTERSECT SELECT country FROM singer WHERE age < 30",
    "SELECT name FROM stadium EXCEPT SELECT T2.name FROM concert AS T1 JOIN stadium AS T2 "
    "ON T1.stadium_id = T2.stadium_id WHERE T1.year = 2014",
    "select count(distinct T1.pet_type) from pets as T1 where T1.weight between 5 and 10;",
    "SELECT T1.fname FROM student AS T1 LEFT JOIN has_pet AS T2 ON T1.stuid = T2.stuid "
    "WHERE T2.petid IS NULL",
    'SELECT name FROM people WHERE name LIKE "%Smith%" OR NOT age >= 30 '
    "AND city IN ('Paris', 'Rome')",
    "SELECT * FROM employees e INNER JOIN departments d ON e.dept_id = d.id "
    "WHERE e.salary * 1.1 > 5000 ORDER BY e.salary DESC, e.name ASC LIMIT 10 OFFSET 20",
    "SELECT T1.name FROM a AS T1, b AS T2 WHERE T1.id = T2.id "
    "AND EXISTS (SELECT 1 FROM c WHERE c.x = T1.id)",
    "SELECT max(salary) - min(salary) AS spread FROM employees GROUP BY dept "
    "HAVING count(*) > 2 UNION ALL SELECT 0 FROM t",
    "SELECT t.*, `order` FROM t WHERE x <> -1 AND y IS NOT NULL",
    "SELECT name\nFROM singer\nWHERE country != 'It''s'\n  AND age - -1 < 3 ;",
]
SQL_BAD = [
    "SELECTname FROM singer",
    "SELECT name FROM singer WHEREage > 1",
    "SELECT DISTINCT FROM singer",
    "SELECT name FROM singer WHERE",
    "SELECT name FROM singer ORDER BY",
    "SELECT name FROM singer GROUP age",
    "SELECT count(*) FROM",
    "SELECT name FROM singer WHERE age > 1 AND",
    "SELECT name, FROM singer",
    "SELECT name FROM singer LIMIT ten",
    "SELECT name FROM singer WHERE a--1 = 0",
    "FROM singer SELECT name",
    "SELECT name FROM singer;;",
    "SELECT name FROM singer WHERE name = 'unterminated",
    "SELECT name FROM (SELECT name FROM singer",
    "SELECT count(*)FROM singer",
    "SELECT name FROM singer AS select",
    "SELECT name FROM singer WHERE age BETWEEN 1 OR 2",
]

C_GOOD = [
    "int x = 1;",
    "unsigned long long int n = 0x1FUL, *p, a[10][2];",
    'int main(void) {\n    printf("hello, world\\n");\n    return 0;\n}\n',
    'char *s = "hi\\n"; // greeting\n',
    "double f(double x, int n);",
    "x += y << 2 | z & 1;",
    "while (n-- > 0) total *= n;",
    "do { x--; } while (x);",
    "/* block\n comment */ int a;",
    "if (a && !b || c) x = a ? b : c; else if (d) y = (int) z; else { }",
    "int *p = &x, **q = &p;",
    "f(a, b[1], g(c))->d.e++;",
    "float v = .5f + 1e3 - 2.0;",
    "char c = '\\'';",
    'const char *names[] = {"a", "b",};',
    "int fib(int n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }",
    "for (int i = 0, j = 10; i < j; i++, j--) { if (i == 3) continue; if (j == 5) break; }",
    "void swap(int *a, int *b) { int t = *a; *a = *b; *b = t; }",
    "x = a / *p;",
    "unsigned char buf[256]; long double d; short s; signed i; return(x);",
]
C_BAD = [
    "intx y;",
    "int x = 1",
    "int main() { return 0;",
    "else x = 1;",
    "x = 1; // }\n}",
    "int int = 2;",
    "if (x) y = 1 else z = 2;",
    "int x = 1; /* unclosed",
    "x = = 1;",
    "int x; // no newline",
    "unsignedint x;",
    "x = a /*p;",
    "returnx 1;",
    "for (i = 0; i < n) i++;",
    "int f(int a) { return a }",
    "float 2x = 1;",
]

EXAMPLES = {
    "json": (JSON_GOOD, JSON_BAD),
    "arithmetic": (ARITHMETIC_GOOD, ARITHMETIC_BAD),
    "sql": (SQL_GOOD, SQL_BAD),
    "c": (C_GOOD, C_BAD),
}
CASES = [(n, s, True) for n, (good, _) in EXAMPLES.items() for s in good] + [
    (n, s, False) for n, (_, bad) in EXAMPLES.items() for s in bad
]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_grammar_loads_and_lowers(name: str) -> None:
    good, bad = EXAMPLES[name]
    assert len(good) >= 15 and len(bad) >= 10
    grammar = lowered(name)
    assert grammar.rules[grammar.start].alternatives
    assert grammar.ignore, "every shipped grammar ignores whitespace"
    assert not grammar.warnings
    parsers(name)


@pytest.mark.parametrize(("name", "string", "valid"), CASES)
def test_examples(name: str, string: str, valid: bool) -> None:
    original, roundtrip = parsers(name)
    assert accepts(original, string) is valid
    assert accepts(roundtrip, string) is valid


@pytest.mark.parametrize("string", JSON_GOOD)
def test_json_examples_are_json(string: str) -> None:
    json.loads(string)


SQL_KEYWORDS = [
    "select",
    "from",
    "where",
    "group",
    "by",
    "having",
    "order",
    "limit",
    "offset",
    "union",
    "intersect",
    "except",
    "all",
    "distinct",
    "as",
    "join",
    "inner",
    "left",
    "outer",
    "on",
    "and",
    "or",
    "not",
    "in",
    "like",
    "between",
    "is",
    "null",
    "asc",
    "desc",
    "exists",
]
C_KEYWORDS = [
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "int",
    "long",
    "register",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
]


@pytest.mark.parametrize(
    ("name", "keywords", "flags"), [("sql", SQL_KEYWORDS, "i"), ("c", C_KEYWORDS, "")]
)
def test_name_is_identifier_minus_keywords(name: str, keywords: list[str], flags: str) -> None:
    terminal = lowered(name).terminals["NAME"]
    assert terminal.flags == flags
    ident = interegular.parse_pattern("[A-Za-z_][A-Za-z0-9_]*").to_fsm()
    alternation = "|".join(keywords)
    keyword_fsm = interegular.parse_pattern(
        f"(?i:{alternation})" if flags else alternation
    ).to_fsm()
    name_fsm = interegular.parse_pattern(terminal.regex()).to_fsm()
    assert name_fsm.equivalent(ident.difference(keyword_fsm))
    assert re.fullmatch(terminal.regex(), keywords[0].upper() + "x")


def _lark_token_ends(regex: re.Pattern[str], text: str, i: int) -> set[int]:
    """Where Lark's complete Earley lexer ends tokens at ``i``: the match, its prefixes' matches."""
    m = regex.match(text, i)
    if m is None or m.end() == i:
        return set()
    ends = {m.end()}
    for j in range(i + 1, m.end()):
        prefix = regex.match(text[:j], i)
        if prefix is not None and prefix.end() > i:
            ends.add(prefix.end())
    return ends


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_oracle_tokens_are_full_matches(name: str) -> None:
    """On the examples, Lark's tokens are exactly the IR's (all non-empty full matches)."""
    regexes = [re.compile(t.regex()) for t in lowered(name).terminals.values() if not t.literal]
    for text in EXAMPLES[name][0] + EXAMPLES[name][1]:
        for regex in regexes:
            for i in range(len(text)):
                full = {j for j in range(i + 1, len(text) + 1) if regex.fullmatch(text, i, j)}
                assert _lark_token_ends(regex, text, i) == full, (regex.pattern, text, i)
