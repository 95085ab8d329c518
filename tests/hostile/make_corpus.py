"""Generators of the hostile corpus's big inputs (written at test time, never committed).

Each generator returns the bytes of one file; ``cases.json`` names the file in a case's
``"generate"`` field and refers to its path as ``{gen}`` in the command. Run as a script to write
every generated input into a directory for manual runs::

    python tests/hostile/make_corpus.py /tmp/hostile
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["GENERATORS", "generate"]

DEEP = 10_000


def _deep_parens_lark() -> bytes:
    return ("start: " + "(" * DEEP + '"a"' + ")" * DEEP + "\n").encode()


def _deep_parens_gbnf() -> bytes:
    return ("root ::= " + "(" * DEEP + '"a"' + ")" * DEEP + "\n").encode()


def _deep_schema() -> bytes:
    return ('{"items":' * DEEP + "{}" + "}" * DEEP).encode()


def _deep_schema_not() -> bytes:
    return ('{"not":' * DEEP + "{}" + "}" * DEEP).encode()


def _deep_schema_200() -> bytes:
    # Just past the default max_schema_depth (200): a clean bound error, no recursion problem.
    return ('{"properties":{"a":' * 150 + "{}" + "}}" * 150).encode()


def _enum(n: int) -> Callable[[], bytes]:
    def make() -> bytes:
        return json.dumps(
            {"enum": [f"value-{i:06d}-{i * 7919 % 100003:05d}-" + "x" * 32 for i in range(n)]}
        ).encode()

    return make


def _many_properties() -> bytes:
    props = {
        f"property_{i:05d}_{i * 31 % 997:03d}_padding": {"type": "string", "maxLength": 64}
        for i in range(60_000)
    }
    return json.dumps({"type": "object", "properties": props}).encode()


def _big_int(keyword: str) -> Callable[[], bytes]:
    digits = "7" + "3" * 5_000
    body = {
        "const": f'{{"const": {digits}}}',
        "enum": f'{{"enum": [1, {digits}]}}',
        "minimum": f'{{"type": "integer", "minimum": {digits}}}',
        "multipleOf": f'{{"type": "integer", "multipleOf": {digits}}}',
        "maximum": f'{{"type": "number", "maximum": -{digits}.5}}',
    }[keyword]
    return lambda: body.encode()


def _digits_text() -> bytes:
    return ("9" * 5_001).encode()


def _choices_lark() -> bytes:
    alts = " | ".join(f'"w{i}"' for i in range(100_000))
    return f"start: {alts}\n".encode()


def _choices_gbnf() -> bytes:
    alts = " | ".join(f'"w{i}"' for i in range(100_000))
    return f"root ::= {alts}\n".encode()


def _huge_literal_lark() -> bytes:
    return ('start: "' + "ab" * 500_000 + '"\n').encode()


def _huge_line_json() -> bytes:
    # A valid JSON document on one line, under ``corral match``'s 1 MiB input bound: 300,000
    # numbers, each a lexeme and an Earley step (a long string would be one lexeme, matched in
    # under 2 s even by the reference engine), so a SIGINT lands mid-work.
    return ("[" + ",".join(["1"] * 300_000) + "]").encode()


def _pattern_properties() -> bytes:
    # Each property is small and within every state bound; together they run into the 8 s
    # compile bound (a legitimately long compilation).
    props = {
        f"p{i}": {"type": "string", "pattern": f"^[a-z]{{1,6}}-{i}(\\.[0-9]{{1,3}}){{0,3}}$"}
        for i in range(1_500)
    }
    return json.dumps({"type": "object", "properties": props}).encode()


def _deep_json_text() -> bytes:
    return ("[" * 1_000 + "]" * 1_000).encode()


def _rule_chain_lark() -> bytes:
    lines = ["start: r0"] + [f'r{i}: r{i + 1} | "a"' for i in range(DEEP)] + [f'r{DEEP}: "b"']
    return ("\n".join(lines) + "\n").encode()


def _rule_chain_gbnf() -> bytes:
    lines = ["root ::= r0"] + [f'r{i} ::= r{i + 1} | "a"' for i in range(DEEP)]
    lines.append(f'r{DEEP} ::= "b"')
    return ("\n".join(lines) + "\n").encode()


def _ref_chain_schema() -> bytes:
    defs = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(DEEP)}
    defs[f"d{DEEP}"] = {"type": "integer"}
    return json.dumps({"$ref": "#/$defs/d0", "$defs": defs}).encode()


GENERATORS: dict[str, Callable[[], bytes]] = {
    "deep_parens.lark": _deep_parens_lark,
    "deep_parens.gbnf": _deep_parens_gbnf,
    "deep_items.json": _deep_schema,
    "deep_not.json": _deep_schema_not,
    "deep_150.json": _deep_schema_200,
    "enum_20000.json": _enum(20_000),
    "enum_90000.json": _enum(90_000),
    "properties_60000.json": _many_properties,
    "const_5001_digits.json": _big_int("const"),
    "enum_5001_digits.json": _big_int("enum"),
    "minimum_5001_digits.json": _big_int("minimum"),
    "multipleof_5001_digits.json": _big_int("multipleOf"),
    "maximum_5001_digits.json": _big_int("maximum"),
    "digits_5001.txt": _digits_text,
    "choices_100000.lark": _choices_lark,
    "choices_100000.gbnf": _choices_gbnf,
    "huge_literal.lark": _huge_literal_lark,
    "huge_line.json": _huge_line_json,
    "pattern_properties_1500.json": _pattern_properties,
    "deep_1000.json": _deep_json_text,
    "rule_chain.lark": _rule_chain_lark,
    "rule_chain.gbnf": _rule_chain_gbnf,
    "ref_chain.json": _ref_chain_schema,
}


def generate(name: str, directory: Path) -> Path:
    """Write the generated input ``name`` into ``directory``; return its path."""
    path = directory / name
    path.write_bytes(GENERATORS[name]())
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: make_corpus.py DIRECTORY\n")
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for name in GENERATORS:
        generate(name, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
