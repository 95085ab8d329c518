"""Minimisation of acyclic automata and of acyclic tops over a cyclic bottom (Revuz's pass
and Hopcroft's refinement of the bottom alone, in ``corral._native.minimize``), the sparse
splitters of Hopcroft's refinement, and the C builds of text-set automata and of every key but
a set (``corral._native.texts_dfa``, ``texts_complement``): each against its Python twin, and
the new kernels' input checks."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from corral import _native
from corral.automata.dfa import ByteDFA
from corral.automata.minimize import trim_and_minimize_native, trim_and_minimize_py
from corral.automata.ops import difference
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.objects import keys_except, names_dfa
from corral.grammars.json_schema.values import json_text, texts_dfa, texts_dfa_py


def same(table: np.ndarray, accepting: np.ndarray) -> None:
    nt, na = trim_and_minimize_native(table, accepting)
    pt, pa = trim_and_minimize_py(table.copy(), accepting.copy())
    np.testing.assert_array_equal(nt, pt)
    np.testing.assert_array_equal(na, pa)


def random_dag(rng: random.Random, n: int, alphabet: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Edges only from lower to higher states (acyclic), many states alike: equal suffixes."""
    table = np.zeros((n, 256), dtype=np.int32)
    for s in range(1, n):
        for b in alphabet:
            if s + 1 < n and rng.random() < 0.5:
                table[s, b] = rng.randrange(s + 1, min(n, s + 4))
    accepting = np.array([s > 0 and rng.random() < 0.4 for s in range(n)], dtype=bool)
    return table, accepting


@pytest.mark.parametrize("seed", range(60))
def test_acyclic_minimisation_equals_twin(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 4)))
    same(*random_dag(rng, rng.randint(2, 60), alphabet))


@pytest.mark.parametrize("seed", range(30))
def test_acyclic_part_with_a_cycle_elsewhere_equals_twin(seed: int) -> None:
    """One back edge makes the automaton cyclic: Hopcroft's refinement takes over."""
    rng = random.Random(500 + seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 4)))
    table, accepting = random_dag(rng, rng.randint(3, 60), alphabet)
    n = table.shape[0]
    s = rng.randrange(1, n)
    table[s, alphabet[0]] = rng.randrange(1, s + 1)
    same(table, accepting)


@pytest.mark.parametrize("seed", range(60))
def test_acyclic_top_over_a_cyclic_bottom_equals_twin(seed: int) -> None:
    """A DAG of states above a closed cyclic part (as a key set subtracted from every key):
    the bottom refined alone, the top merged by signatures, some top states into the bottom's
    blocks (copies of bottom states are made on purpose)."""
    rng = random.Random(900 + seed)
    alphabet = bytes(rng.sample(range(256), rng.randint(1, 4)))
    top, bottom = rng.randint(1, 30), rng.randint(1, 12)
    n = 1 + top + bottom
    table = np.zeros((n, 256), dtype=np.int32)
    accepting = np.zeros(n, dtype=bool)
    first_bottom = 1 + top
    for s in range(first_bottom, n):  # the bottom: any edges among its states
        accepting[s] = rng.random() < 0.4
        for b in alphabet:
            if rng.random() < 0.7:
                table[s, b] = rng.randrange(first_bottom, n)
    for s in range(top, 0, -1):  # the top: edges only downwards
        if rng.random() < 0.3:  # a copy of a bottom state
            twin = rng.randrange(first_bottom, n)
            table[s], accepting[s] = table[twin], accepting[twin]
            continue
        accepting[s] = rng.random() < 0.3
        for b in alphabet:
            if rng.random() < 0.6:
                table[s, b] = rng.randrange(s + 1, n)
    same(table, accepting)


def random_texts(rng: random.Random) -> list[bytes]:
    alpha = rng.choice([b"ab", b'ab"\\', bytes(range(256)), b"xy\x00\xff"])
    return [bytes(rng.choice(alpha) for _ in range(rng.randint(0, 7)))
            for _ in range(rng.randint(1, 12))]  # fmt: skip


@pytest.mark.parametrize("seed", range(200))
def test_texts_dfa_equals_twin(seed: int) -> None:
    texts = random_texts(random.Random(seed))
    got, want = texts_dfa(texts), texts_dfa_py(texts)
    np.testing.assert_array_equal(got.table, want.table)
    np.testing.assert_array_equal(got.accepting, want.accepting)
    accepted = {t for t in texts if t}
    for t in {*texts, b"a", b"ab", b"ba", b"x\x00"}:
        assert (t in accepted) == got.matches(t)


def test_texts_dfa_of_every_byte_and_the_empty_text() -> None:
    texts = [bytes([b]) for b in range(256)] + [b""]
    got, want = texts_dfa(texts), texts_dfa_py(texts)
    np.testing.assert_array_equal(got.table, want.table)
    assert got.accept_list[1] and all(got.matches(bytes([b])) for b in range(256))


def test_key_sets_subtracted_from_any_key_equal_the_twin_minimisation() -> None:
    """The product of any key and a key set: cyclic, with many symbols no transition enters
    most blocks (the splitters Hopcroft's refinement now leaves out)."""
    ctx = SchemaContext()
    rng = random.Random(7)
    for _ in range(20):
        names = {"".join(rng.choice("abcdé\"\\_") for _ in range(rng.randint(1, 6)))
                 for _ in range(rng.randint(1, 10))}  # fmt: skip
        cut = texts_dfa([json_text(n).encode() for n in sorted(names)])
        rest = difference(ctx.any_key(), cut)
        for n in names:
            assert not rest.matches(json_text(n).encode())
        assert rest.matches(json_text("zz").encode())
        same(rest.table.copy(), rest.accepting.copy())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((b"abc", np.array([], dtype=np.int64)), "at least one"),
        ((b"abc", np.array([2, 1], dtype=np.int64)), "ascending"),
        ((b"abc", np.array([4], dtype=np.int64)), "within data"),
        ((b"abc", np.array([-1], dtype=np.int64)), "within data"),
        ((b"abc", b"\x01\x00\x00"), "int64"),
    ],
)
def test_native_texts_dfa_rejects_bad_input(args: tuple[object, ...], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _native.texts_dfa(*args)


def test_native_texts_dfa_wants_buffers() -> None:
    with pytest.raises(TypeError):
        _native.texts_dfa("abc", np.array([3], dtype=np.int64))


def test_json_text_is_json_dumps() -> None:
    rng = random.Random(3)
    for s in ["", "abc", 'a"b', "a\\b", "\x00\x1f\x7f", "é€😀", "\ud800", "\t\n"]:
        assert json_text(s) == json.dumps(s, ensure_ascii=False)
    for _ in range(3000):
        s = "".join(chr(rng.choice([rng.randint(0, 0x60), rng.randint(0, 0x10FFFF)]))
                    for _ in range(rng.randint(0, 5)))  # fmt: skip
        assert json_text(s) == json.dumps(s, ensure_ascii=False)


def _relabelled(dfa: ByteDFA) -> tuple[np.ndarray, np.ndarray]:
    """The full table and flags with states numbered breadth first from the initial state:
    equal for two minimal automata of one language, however their states were numbered."""
    table = dfa.table
    order = {0: 0, 1: 1}
    todo = [1]
    for s in todo:
        for t in table[s].tolist():
            if t not in order:
                order[t] = len(order)
                todo.append(t)
    out = np.zeros((len(order), 256), dtype=np.int64)
    acc = np.zeros(len(order), dtype=bool)
    for s, i in order.items():
        out[i] = [order[t] for t in table[s].tolist()]
        acc[i] = dfa.accepting[s]
    return out, acc


@pytest.mark.parametrize("seed", range(40))
def test_every_key_but_some_equals_the_product_route(seed: int) -> None:
    """``keys_except`` builds any key minus the declared names in one native call; its
    automaton is the minimal one ``difference(any_key, names_dfa)`` gives (states numbered
    as its construction met them)."""
    rng = random.Random(seed)
    alphabet = 'abé"\\\x01_€😀'
    names = frozenset("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
                      for _ in range(rng.randint(1, 8)))  # fmt: skip
    ctx = SchemaContext()
    got = keys_except(SchemaContext(), names)
    want = difference(ctx.any_key(), names_dfa(ctx, names))
    assert got.n_states == want.n_states
    for a, b in zip(_relabelled(got), _relabelled(want), strict=True):
        np.testing.assert_array_equal(a, b)
    for n in names:
        assert not got.matches(json_text(n).encode())


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"kn": 3}, "ktable"),
        ({"kclasses": b"\x00" * 255}, "256 bytes"),
        ({"kclasses": b"\xff" * 256}, "outside"),
        ({"ends": np.array([], dtype=np.int64)}, "at least one"),
        ({"ends": np.array([9], dtype=np.int64)}, "within data"),
        ({"ktable": np.full((2, 1), 5, dtype=np.int32)}, "outside"),
    ],
)
def test_native_texts_complement_rejects_bad_input(change: dict[str, object], words: str) -> None:
    args: dict[str, object] = {
        "ktable": np.array([[0], [1]], dtype=np.int32), "kn": 2, "kwidth": 1,
        "kclasses": b"\x00" * 256, "kaccepting": b"\x00\x01", "data": b"ab",
        "ends": np.array([2], dtype=np.int64),
    }  # fmt: skip
    args.update(change)
    with pytest.raises(ValueError, match=words):
        _native.texts_complement(*args.values())
