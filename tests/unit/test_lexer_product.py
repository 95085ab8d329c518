"""The lexer product automaton: the native construction (``_native.lexer_product``) against
its Python twin, state for state, and the native function's input checks."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

import corral
from conftest import LIBRARY, compiled_library, smollm2
from corral import _native
from corral.automata.dfa import ByteDFA
from corral.automata.regex import compile_regex
from corral.constraint_engine.lexer_dfa import (
    MAX_LEXER_STATES,
    LexerDFA,
    build_lexer_dfa,
    build_lexer_dfa_native,
    build_lexer_dfa_py,
)


def same(a: LexerDFA | None, b: LexerDFA | None) -> None:
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert a.terminals == b.terminals
    assert a.table.dtype == b.table.dtype == np.int32
    np.testing.assert_array_equal(a.table, b.table)
    np.testing.assert_array_equal(a.accepting, b.accepting)
    assert a.accept_terms == b.accept_terms


def terminal_sets(dfas: list[ByteDFA], rng: random.Random, n: int) -> list[tuple[int, ...]]:
    ids = list(range(len(dfas)))
    out = [tuple(ids), (), (0,)]
    for _ in range(n):
        out.append(tuple(sorted(rng.sample(ids, rng.randint(1, min(6, len(ids)))))))
    return sorted(set(out))


@pytest.mark.parametrize("name", LIBRARY)
def test_native_product_equals_twin_on_library_grammars(name: str) -> None:
    cg = compiled_library(name)
    dfas = list(cg.dfas)
    sets = terminal_sets(dfas, random.Random(name), 40)
    sets.append(tuple(sorted(cg.initial_set.expected)))
    for terms in sets:
        same(build_lexer_dfa_native(terms, dfas), build_lexer_dfa_py(terms, dfas))


def test_native_product_equals_twin_on_json_schemas() -> None:
    schemas = [
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "^[a-f]{2,5}$"},
                                          "b": {"type": "number"}}},
        {"type": "array", "items": {"enum": ["x", 1, None, {"k": [True]}]}},
        {"type": "string", "format": "date-time"},
    ]  # fmt: skip
    tok = smollm2()
    for schema in schemas:
        cg = corral.compile(corral.Grammar.from_json_schema(schema), tok)
        dfas = list(cg.dfas)
        for terms in terminal_sets(dfas, random.Random(7), 20):
            same(build_lexer_dfa_native(terms, dfas), build_lexer_dfa_py(terms, dfas))


def test_product_bound_refuses_several_terminals_but_never_one() -> None:
    # last-11-bytes window times length mod 13: far more than MAX_LEXER_STATES reachable tuples
    dfas = [compile_regex("[ab]*a[ab]{10}"), compile_regex("([ab]{13})*")]
    assert build_lexer_dfa_native((0, 1), dfas) is None
    assert build_lexer_dfa_py((0, 1), dfas) is None
    one = build_lexer_dfa_native((0,), dfas)
    assert one is not None and one.table.shape[0] > 2048
    same(one, build_lexer_dfa_py((0,), dfas))
    small = [compile_regex("[ab]*a[ab]{3}"), compile_regex("([ab]{5})*"), compile_regex("b+")]
    both = build_lexer_dfa((0, 1, 2), small)
    assert both is not None and both.table.shape[0] < MAX_LEXER_STATES
    same(both, build_lexer_dfa_py((0, 1, 2), small))


def table(rows: int) -> np.ndarray:
    t = np.zeros((rows, 256), dtype=np.int32)
    t[1, ord("a")] = rows - 1
    return t


def misaligned() -> np.ndarray:
    raw = np.zeros(2 * 1024 + 1, dtype=np.uint8)
    return raw[1:].view(np.int32).reshape(2, 256)


@pytest.mark.parametrize(
    ("tables", "max_states", "error", "words"),
    [
        ([np.zeros((2, 256), dtype=np.int64)], 10, TypeError, "int32"),
        ([np.zeros((2, 255), dtype=np.int32)], 10, ValueError, "shape"),
        ([np.zeros((1, 256), dtype=np.int32)], 10, ValueError, "n_states >= 2"),
        ([np.zeros((2, 256, 1), dtype=np.int32)], 10, ValueError, "dimensions"),
        ([np.zeros((256, 2), dtype=np.int32).T], 10, ValueError, "C-contiguous"),
        ([misaligned()], 10, ValueError, "aligned"),
        ([table(3) * 5], 10, ValueError, "outside [0, 3)"),
        ([table(3) - 2], 10, ValueError, "outside [0, 3)"),
        ([table(3)], 1, ValueError, "max_states"),
        (["abc"], 10, TypeError, "numpy array"),
        ("abc", 10, TypeError, "sequence"),
        (5, 10, TypeError, "not iterable"),
    ],
)
def test_native_product_rejects_bad_tables(
    tables: object, max_states: int, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=re.escape(words)):
        _native.lexer_product(tables, max_states)  # type: ignore[arg-type]


def test_native_product_of_nothing_and_of_a_dead_end() -> None:
    got = _native.lexer_product([], 10)
    assert got is not None and got[2] == 2 and got[0] == bytes(2 * 256 * 4) and got[1] == b""
    same(build_lexer_dfa_native((), []), build_lexer_dfa_py((), []))
    got = _native.lexer_product([table(3), table(2)], 10)
    assert got is not None
    t = np.frombuffer(got[0], dtype=np.int32).reshape(-1, 256)
    tuples = np.frombuffer(got[1], dtype=np.int32).reshape(-1, 2)
    # (1, 1) -a-> (2, 1) -a-> (0, 1) -a-> (0, 1): the first part dies, the second lives on
    assert tuples.tolist() == [[0, 0], [1, 1], [2, 1], [0, 1]]
    assert t[1, ord("a")] == 2 and t[2, ord("a")] == 3 and t[3, ord("a")] == 3
    assert int(np.count_nonzero(t)) == 3
    dfas = [ByteDFA(table(3), np.array([False, False, True])),
            ByteDFA(table(2), np.array([False, True]))]  # fmt: skip
    same(build_lexer_dfa_native((0, 1), dfas), build_lexer_dfa_py((0, 1), dfas))
