"""No dead end: from every state a walk over allowed tokens reaches, the mask is never empty.

Random walks (seeded) over the real SmolLM2 vocabulary pick uniformly among the allowed tokens,
and take EOS with probability 1/3 when it is allowed. At every step the mask must hold some
token; a walk that has not ended must still have a shortest completion. The grammars: every
shipped grammar, a deterministic sample of JSONSchemaBench schemas (those that compile), and
grammars whose terminals use bytes that occur in no SmolLM2 token (0x04, 0x06, 0x13, 0x14,
0x16, 0x1D, 0xF1, 0xF2, ...), which compilation cuts away (``docs/design/engine.md``).
"""

from __future__ import annotations

import functools
import random

import pytest

from conftest import LIBRARY, compiled_library, smollm2
from corral import CorralError, Grammar, Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.jsonschemabench.loader import (
    every_kth,
    find_data_dir,
    list_files,
    load_case,
    stride_for,
)

N_SCHEMAS = 20
EOS_PROBABILITY = 1 / 3

UNSPELLABLE = {
    "regex-ctrl": lambda: Grammar.from_regex("a\x04b|c"),
    "regex-class": lambda: Grammar.from_regex("x[\\x00-\\x1f]{1,3}y"),
    "regex-plane-4": lambda: Grammar.from_regex("(\U00040000|z)+"),
    "lark-ctrl": lambda: Grammar.from_lark(
        'start: item+\nitem: A | B | "n"\nA: /\\x06+/\nB: /b[\\x13\\x14]?/\n%ignore /\\x1d/\n'
    ),
    "lark-ff": lambda: Grammar.from_lark('start: A "!"\nA: /[a\\xff]+/\n'),
    "lark-dead-alternative": lambda: Grammar.from_lark(
        'start: x | "k" y\nx: "p" BAD "q"\ny: "v" | BAD\nBAD: /\\x16/\n'
    ),
}


def _walk(cg: CompiledGrammar, seed: int, steps: int) -> None:
    """One random walk; fails on an empty mask or a refused allowed token."""
    rng = random.Random(seed)
    eos = set(cg.eos_ids)
    m = Matcher(cg)
    taken: list[int] = []
    for _ in range(steps):
        allowed = m.allowed_tokens()
        assert allowed, f"dead end after tokens {taken} ({m.num_bytes} bytes)"
        ends = [t for t in allowed if t in eos]
        others = [t for t in allowed if t not in eos]
        if ends and (not others or rng.random() < EOS_PROBABILITY):
            assert m.accept_token(ends[0])
            assert m.allowed_tokens() == sorted(eos)
            return
        tid = rng.choice(others)
        assert m.accept_token(tid), f"allowed token {tid} refused after {taken}"
        taken.append(tid)
    assert m.shortest_completion() is not None, f"no completion after tokens {taken}"


@pytest.mark.parametrize("name", LIBRARY)
def test_library_grammars_never_dead_end(name: str) -> None:
    cg = compiled_library(name)
    for seed in range(2):
        _walk(cg, seed, 40)


@pytest.mark.parametrize("name", sorted(UNSPELLABLE))
def test_unspellable_bytes_never_dead_end(name: str) -> None:
    cg = compile_grammar(UNSPELLABLE[name](), smollm2())
    for seed in range(4):
        _walk(cg, seed, 30)


@functools.cache
def _schema_grammars() -> tuple[tuple[str, CompiledGrammar], ...]:
    try:
        root = find_data_dir()
    except FileNotFoundError:
        return ()
    files = list_files(root)
    sample = every_kth(files, stride_for(files, N_SCHEMAS))[:N_SCHEMAS]
    out = []
    for split, path in sample:
        case = load_case(split, path)
        try:
            grammar = Grammar.from_json_schema(case.schema, time_limit=3.0)
            out.append((f"{split}/{case.name}", compile_grammar(grammar, smollm2())))
        except (CorralError, RecursionError):
            continue
    return tuple(out)


def test_json_schemas_never_dead_end() -> None:
    grammars = _schema_grammars()
    assert grammars, "JSONSchemaBench data not found ($CORRAL_JSONSCHEMABENCH)"
    assert len(grammars) >= N_SCHEMAS // 2
    for k, (_, cg) in enumerate(grammars):
        _walk(cg, k, 30)
