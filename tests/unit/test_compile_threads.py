"""Compiling grammars from many threads at once gives exactly what compiling them one by one does.

The grammar floor keeps no process-wide state (deadlines, number models, memo tables are per
compilation: :class:`corral.grammars.json_schema.context.SchemaContext`), so concurrent
compilations — draft-4 and 2020-12 schemas mixed, whose number models differ — must not see each
other. The grammars are compared through a canonical dump (rules, terminals with their patterns,
flags and prebuilt automata tables).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import corral
from corral.automata.cache import AutomataCache
from corral.errors import DeadlineExceeded
from corral.grammars.ir import Grammar
from corral.grammars.json_schema import compile_json_schema
from corral.limits import Limits

D4 = "http://json-schema.org/draft-04/schema#"
D2020 = "https://json-schema.org/draft/2020-12/schema"

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string", "pattern": "^[a-z]{2,5}-[0-9]+$", "maxLength": 12},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "email", "minLength": 5},
    {"type": "string", "format": "uuid"},
    {"type": "number", "minimum": -2.5, "maximum": 100, "multipleOf": 0.5},
    {"type": "integer", "exclusiveMinimum": 3, "maximum": 1000, "multipleOf": 7},
    {"$schema": D4, "type": "integer", "minimum": 1, "maximum": 50},
    {"$schema": D4, "type": "number", "maximum": 10, "exclusiveMaximum": True},
    {"$schema": D4, "enum": [1, 2.0, "a", None]},
    {"$schema": D4, "type": "array", "items": {"type": "integer"}, "maxItems": 3},
    {"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]},
    {"not": {"type": ["string", "null"]}, "type": ["string", "integer", "null", "boolean"]},
    {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        "patternProperties": {"^x-": {"type": "boolean"}},
        "additionalProperties": False,
        "required": ["id"],
    },
    {"$schema": D2020, "enum": ["red", "green", {"rgb": [1, 2, 3]}, 4.5]},
    {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value"],
            }
        },
        "$ref": "#/$defs/node",
    },
    {
        "type": "object",
        "properties": {"kind": {"const": "a"}, "n": {"type": "number"}},
        "if": {"properties": {"kind": {"const": "a"}}},
        "then": {"required": ["n"]},
        "minProperties": 1,
        "maxProperties": 2,
    },
]

LARK = """
start: pair ("," pair)*
pair: KEY "=" NUMBER
KEY: /[a-z]+/
%import common.NUMBER
"""
GBNF = 'root ::= "(" item (" " item)* ")"\nitem ::= [0-9]+ | "x"'

Job = Callable[[], Grammar]


def _jobs() -> list[tuple[str, Job]]:
    jobs: list[tuple[str, Job]] = []
    for i, schema in enumerate(SCHEMAS):
        jobs.append((f"schema{i}", lambda s=schema: compile_json_schema(s)))  # type: ignore[misc]
        jobs.append(
            (f"schema{i}-flex", lambda s=schema: compile_json_schema(s, whitespace="flexible"))  # type: ignore[misc]
        )
    jobs.append(("lark", lambda: Grammar.from_lark(LARK)))
    jobs.append(("gbnf", lambda: Grammar.from_gbnf(GBNF)))
    jobs.append(("regex", lambda: Grammar.from_regex(r"(ab|c)*[0-9]{2,4}")))
    jobs.append(("choices", lambda: Grammar.from_choices(["yes", "no", "maybe"])))
    jobs.append(("file", lambda: Grammar.from_file(corral.grammars.library_path("json.lark"))))
    return jobs


def dump(grammar: Grammar) -> tuple[Any, ...]:
    """A canonical, comparable form of a grammar (automata by a hash of their tables)."""
    terms = []
    for name in sorted(grammar.terminals):
        t = grammar.terminals[name]
        dfa = None
        if t.dfa is not None:
            digest = hashlib.sha256(t.dfa.table.tobytes() + t.dfa.accepting.tobytes())
            dfa = (t.dfa.table.shape, digest.hexdigest())
        terms.append((name, t.pattern, t.literal, t.flags, dfa))
    rules = tuple(sorted((n, r.alternatives) for n, r in grammar.rules.items()))
    return (grammar.start, grammar.ignore, tuple(terms), rules, tuple(grammar.unenforced))


@pytest.fixture(scope="module")
def sequential() -> dict[str, tuple[Any, ...]]:
    return {name: dump(job()) for name, job in _jobs()}


def test_threads_match_sequential(sequential: dict[str, tuple[Any, ...]]) -> None:
    jobs = _jobs() * 3  # a few rounds, interleaved
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda job: (job[0], dump(job[1]())), jobs))
    assert len(results) == len(jobs)
    for name, got in results:
        assert got == sequential[name], name


def test_shared_cache_between_threads(sequential: dict[str, tuple[Any, ...]]) -> None:
    shared = AutomataCache()
    schemas = [(f"schema{i}", s) for i, s in enumerate(SCHEMAS)] * 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda job: (job[0], dump(compile_json_schema(job[1], cache=shared))), schemas)
        )
    for name, got in results:
        assert got == sequential[name], name
    assert shared.hits > 0


def test_time_bound_in_one_thread_spares_the_others(
    sequential: dict[str, tuple[Any, ...]],
) -> None:
    start = threading.Barrier(2)

    def doomed() -> str:
        start.wait()
        outcomes = []
        for schema in SCHEMAS * 2:
            try:
                compile_json_schema(schema, limits=Limits(compile_seconds=0.0))
                outcomes.append("compiled")
            except DeadlineExceeded:
                outcomes.append("timeout")
        return ",".join(outcomes)

    def healthy() -> list[tuple[Any, ...]]:
        start.wait()
        return [dump(compile_json_schema(s)) for s in SCHEMAS]

    with ThreadPoolExecutor(max_workers=2) as pool:
        bad = pool.submit(doomed)
        good = pool.submit(healthy)
        got = good.result()
        assert "timeout" in bad.result()
    assert got == [sequential[f"schema{i}"] for i in range(len(SCHEMAS))]


def test_time_limit_overrides_limits() -> None:
    with pytest.raises(DeadlineExceeded):
        compile_json_schema(SCHEMAS[1], time_limit=0.0, limits=Limits(compile_seconds=100.0))
    grammar = compile_json_schema(SCHEMAS[1], time_limit=50.0, limits=Limits(compile_seconds=0.0))
    assert grammar.rules


def test_compile_in_threads() -> None:
    tok = corral.Tokenizer.default()
    grammars = [job() for _, job in _jobs()[:8]] + [job() for _, job in _jobs()[-5:]]
    seq = [corral.compile(g, tok).vocab_size for g in grammars]
    with ThreadPoolExecutor(max_workers=8) as pool:
        par = list(pool.map(lambda g: corral.compile(g, tok).vocab_size, grammars))
    assert par == seq
