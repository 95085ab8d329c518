"""The subset construction of regex automata: the native kernel
(``corral._native.subset_construct``) against its Python twin, state for state, its bounds
(states, deadline) and its input checks."""

from __future__ import annotations

import time

import interegular
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral import _native
from corral.automata import subset
from corral.automata.regex import _Builder, compile_regex
from corral.automata.subset import determinize_native, determinize_py
from corral.errors import DeadlineExceeded, GrammarError
from corral.limits import DEFAULT_LIMITS, Budget, Limits

PATTERNS = [
    "a", "[a-z]+", "(ab|cd)*e?", "[^\\n]*", ".", "(?s:.)*", "\\d{3}-\\d{4}", "[α-ω]+", "é|ё|日本",
    "(a|b)*a(a|b){6}", "[\\w.+-]+@[\\w-]+\\.[\\w.]+", "(?i:select|from)", "x{0,40}",
    "[\U00010000-\U0010ffff]", "([0-9a-f]{2}:){5}[0-9a-f]{2}", "",
]  # fmt: skip


def nfa(pattern: str) -> tuple[_Builder, int, int]:
    builder = _Builder("test", 50_000, None)
    start, final = builder.build(interegular.parse_pattern(pattern), 0)
    return builder, start, final


def same(pattern: str, budget: Budget | None = None) -> int:
    b, start, final = nfa(pattern)
    pt, pa = determinize_py(b.eps, b.edges, start, final, "p", budget)
    nt, na = determinize_native(b.eps, b.edges, start, final, "p", budget)
    assert nt.dtype == pt.dtype == np.int32 and na.dtype == pa.dtype == np.bool_
    np.testing.assert_array_equal(nt, pt)
    np.testing.assert_array_equal(na, pa)
    return int(nt.shape[0])


@pytest.mark.parametrize("pattern", PATTERNS)
def test_native_subset_equals_twin(pattern: str) -> None:
    assert same(pattern) >= 2


_ATOMS = st.sampled_from(["a", "b", "[a-c]", "[^a]", ".", "é", "\\d", "[ -~]", "日"])


@st.composite
def regexes(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0:
        return draw(_ATOMS)
    kind = draw(st.sampled_from(["atom", "cat", "alt", "star", "count", "opt"]))
    if kind == "atom":
        return draw(_ATOMS)
    a = draw(regexes(depth - 1))
    if kind == "star":
        return f"({a})*"
    if kind == "opt":
        return f"({a})?"
    if kind == "count":
        lo = draw(st.integers(0, 3))
        return f"({a}){{{lo},{lo + draw(st.integers(0, 3))}}}"
    b = draw(regexes(depth - 1))
    return f"{a}{b}" if kind == "cat" else f"({a}|{b})"


@settings(max_examples=150, deadline=None)
@given(pattern=regexes())
def test_native_subset_equals_twin_on_random_regexes(pattern: str) -> None:
    same(pattern)


def test_both_refuse_past_the_state_bound() -> None:
    b, start, final = nfa("(a|b)*a(a|b){12}")
    budget = Budget.unlimited(Limits(max_dfa_states=500))
    for build in (determinize_py, determinize_native):
        with pytest.raises(GrammarError, match="exceeds 500 states"):
            build(b.eps, b.edges, start, final, "p", budget)
    assert same("(a|b)*a(a|b){7}", Budget.unlimited(Limits(max_dfa_states=300))) == 258


def test_both_stop_at_the_deadline() -> None:
    b, start, final = nfa("(a|b)*a(a|b){9}")
    for build in (determinize_py, determinize_native):
        past = Budget(time.thread_time() - 1.0, DEFAULT_LIMITS)
        with pytest.raises(DeadlineExceeded):
            build(b.eps, b.edges, start, final, "p", past)


def test_compile_regex_uses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counted(*args: object) -> tuple[np.ndarray, np.ndarray]:
        calls.append(args)
        return determinize_native(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(subset, "determinize_native", counted)
    dfa = compile_regex("[a-c]{2}x")
    assert len(calls) == 1
    for text, want in ((b"abx", True), (b"ab", False), (b"adx", False)):
        run = 1
        for byte in text:
            run = int(dfa.table[run, byte])
        assert bool(dfa.accepting[run]) is want, text


def _args(**change: object) -> tuple[object, ...]:
    good: dict[str, object] = {
        "eps_ptr": np.array([0, 1, 1], dtype=np.int64),
        "eps_ids": np.array([1], dtype=np.int32),
        "edge_ptr": np.array([0, 1, 1], dtype=np.int64),
        "k0": np.array([0], dtype=np.int32),
        "k1": np.array([1], dtype=np.int32),
        "t": np.array([1], dtype=np.int32),
        "cuts": np.array([0, 97, 256], dtype=np.int32),
        "initial": 0,
        "final": 1,
        "max_states": 100,
        "deadline": -1.0,
    }
    good.update(change)
    return tuple(good.values())


def test_native_subset_checks_its_inputs() -> None:
    table, accepting, n = _native.subset_construct(*_args())
    assert n == 3 and len(table) == n * 256 * 4 and len(accepting) == n
    bad = [
        {"eps_ptr": np.array([0, 1], dtype=np.int64)},  # lengths disagree
        {"eps_ptr": np.array([0, 2, 1], dtype=np.int64)},  # decreasing, past the end
        {"eps_ids": np.array([5], dtype=np.int32)},  # a state out of range
        {"eps_ids": np.array([-1], dtype=np.int32)},
        {"t": np.array([2], dtype=np.int32)},
        {"k0": np.array([2], dtype=np.int32)},
        {"k1": np.array([0], dtype=np.int32)},  # an empty edge
        {"k1": np.array([3], dtype=np.int32)},
        {"cuts": np.array([0, 97, 97, 256], dtype=np.int32)},
        {"cuts": np.array([1, 256], dtype=np.int32)},
        {"cuts": np.array([0, 255], dtype=np.int32)},
        {"cuts": np.array([], dtype=np.int32)},
        {"initial": 2},
        {"final": -1},
        {"max_states": 0},
        {"max_states": 2**40},
        {"eps_ptr": np.array([0, 1, 1], dtype=np.int32)},  # the wrong width
        {"eps_ids": b"\x01\x00\x00"},
        {"eps_ptr": np.zeros(0, dtype=np.int64), "edge_ptr": np.zeros(0, dtype=np.int64)},
    ]
    for change in bad:
        with pytest.raises((ValueError, OverflowError)):
            _native.subset_construct(*_args(**change))
    with pytest.raises(TypeError):
        _native.subset_construct(*_args(eps_ids=[1]))
    assert _native.subset_construct(*_args(max_states=1)) == -2
