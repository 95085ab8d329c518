"""Runs of whitespace that two terminals may split anywhere cost the same at every byte.

sql.lark separates adjacent words by its terminal ``_S`` and also ignores ``WS``, over the same
bytes: a run of whitespace reads as any sequence of both, so every byte of a run ends lexemes
begun at every earlier byte. A closure that adds no item beyond one of the sets it copies is
that set (``earley.equal_copy``; ``corral_copy_equal`` in ``csrc/engine_sets_alike.c``), so
the sets, and the native matcher's threads, stop growing with the run. These tests check that
the state stays the same size along a run, and that masks along runs are exact (both engines,
and by brute force).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import compiled_library, smollm2
from corral import Grammar, Limits, Matcher, Tokenizer
from corral import compile as compile_grammar
from corral._native import engine_sizes
from helpers import brute_force_mask

SEPARATED = (
    'start: NAME (_S NAME)* [";"]\nNAME: /[a-z]+/\n_S: /[ \\n]+/\nWS: /[ \\n]+/\n%ignore WS\n'
)
RUNS = [b"", b" ", b"  ", b"\n", b" \n", b"    ", b"a", b"ab", b"a ", b" a", b";", b" ;", b"a;"]


def test_native_state_does_not_grow_along_a_run() -> None:
    m = Matcher(compiled_library("sql.lark", "native"))
    assert m.accept_bytes(b"select a")
    sizes = []
    for _ in range(8):
        assert m.accept_bytes(b" \t\n " * 5)
        sizes.append(engine_sizes(m._handle))
    assert len(set(sizes)) == 1, sizes  # before: 20 more sets and threads every 20 bytes
    assert m.accept_bytes(b"from t") and m.is_accepting()


def test_reference_sets_repeat_along_a_run() -> None:
    m = Matcher(compiled_library("sql.lark", "reference"))
    assert m.accept_bytes(b"select a")
    start = len(m._sets)
    assert m.accept_bytes(b" " * 60)
    assert len({id(s) for s in m._sets[start:]}) <= 2


def test_masks_along_runs_agree() -> None:
    tok = smollm2()
    pair = [Matcher(compiled_library("sql.lark", e)) for e in ("native", "reference")]
    text = b"select a" + b" \n" * 30 + b", b" + b"  \t" * 20 + b"from t" + b" " * 40
    for k, byte in enumerate(text):
        for m in pair:
            assert m.accept_bytes(bytes([byte]))
        if k % 9 == 0:
            masks = [m.allowed_token_mask() for m in pair]
            assert np.array_equal(masks[0], masks[1]), (k, text[: k + 1])
    assert pair[0].is_accepting() and pair[1].is_accepting()
    assert tok.vocab_size == pair[0].allowed_token_mask().shape[0]


@pytest.fixture(scope="module")
def runs_tok() -> Tokenizer:
    return Tokenizer.from_token_bytes([b"<eos>", *RUNS[1:]], special_ids=[0], eos_ids=[0])


@pytest.mark.parametrize("prefix", [b"a", b"a ", b"a  \n ", b"ab " + b" " * 30, b"a b  "])
def test_mask_in_a_run_equals_brute_force(prefix: bytes, runs_tok: Tokenizer, engine: str) -> None:
    cg = compile_grammar(Grammar.from_lark(SEPARATED), runs_tok, engine=engine)
    m = Matcher(cg)
    assert m.accept_bytes(prefix)
    ids = list(range(runs_tok.vocab_size))
    assert np.array_equal(m.allowed_token_mask(), brute_force_mask(m, ids))
    assert not m.accept_bytes(b"ab" if prefix.endswith(b"b") else b";a")


def test_a_long_run_stays_under_a_small_work_bound(engine: str) -> None:
    cg = compile_grammar(
        Grammar.from_lark(SEPARATED), smollm2(), limits=Limits(max_earley_set_work=200),
        engine=engine,
    )  # fmt: skip
    m = Matcher(cg)
    assert m.accept_bytes(b"ab" + b" \n" * 500 + b"cd ;")
    assert m.is_accepting()
