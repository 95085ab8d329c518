"""The :class:`corral.Matcher` contract, with the real SmolLM2 tokenizer (49,152 tokens).

Covers refusal without side effects, rollback, reset, end-of-sequence handling, special and
padding tokens, the packed bitmask layout, forced bytes (jump-forward), valid prefix lengths and
acceptance at the start of the input.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from conftest import compiled_library, library_grammar, smollm2
from corral import (
    CompiledGrammar,
    Grammar,
    Matcher,
    Tokenizer,
    allocate_token_bitmask,
)
from corral import compile as compile_grammar
from corral.errors import LimitExceeded
from corral.limits import Limits

JSON_PREFIXES = [b"", b"{", b'{"a"', b'{"a": ', b'{"a": [1, tr', b"[1.5e", b'"x\\u00', b"{}"]


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return smollm2()


@pytest.fixture(scope="module")
def ids(tok: Tokenizer) -> dict[bytes, int]:
    """Id of the first non-special token spelling each byte string."""
    out: dict[bytes, int] = {}
    for i, b in enumerate(tok.all_token_bytes()):
        if i not in tok.special_token_ids and b and b not in out:
            out[b] = i
    return out


@pytest.fixture(scope="module")
def json_cg(engine: str) -> CompiledGrammar:
    return compiled_library("json.lark", engine)


@pytest.fixture(scope="module")
def choices_cg(tok: Tokenizer, engine: str) -> CompiledGrammar:
    return compile_grammar(Grammar.from_choices(["yes", "no", "maybe"]), tok, engine=engine)


@pytest.fixture(scope="module")
def hello_cg(tok: Tokenizer, engine: str) -> CompiledGrammar:
    return compile_grammar(Grammar.from_lark('start: "hello" " world"\n'), tok, engine=engine)


@pytest.fixture(scope="module")
def astar_cg(tok: Tokenizer, engine: str) -> CompiledGrammar:
    return compile_grammar(Grammar.from_regex("a*"), tok, engine=engine)


@pytest.fixture(scope="module")
def anything_cg(tok: Tokenizer, engine: str) -> CompiledGrammar:
    return compile_grammar(Grammar.from_regex("(?s:.*)"), tok, engine=engine)


@pytest.fixture(scope="module")
def padded_cg(tok: Tokenizer, engine: str) -> CompiledGrammar:
    return compile_grammar(
        library_grammar("json.lark"), tok, vocab_size=tok.vocab_size + 100, engine=engine
    )


def _matcher_at(cg: CompiledGrammar, prefix: bytes) -> Matcher:
    m = Matcher(cg)
    assert m.accept_bytes(prefix), prefix
    return m


def _snapshot(m: Matcher) -> tuple[np.ndarray, bool, int, bool]:
    return m.allowed_token_mask(), m.is_accepting(), m.num_bytes, m.is_terminated()


def _assert_same(
    a: tuple[np.ndarray, bool, int, bool], b: tuple[np.ndarray, bool, int, bool]
) -> None:
    assert np.array_equal(a[0], b[0])
    assert a[1:] == b[1:]


def _non_eos_allowed(m: Matcher) -> list[int]:
    eos = set(m.compiled.eos_ids)
    return [i for i in m.allowed_tokens() if i not in eos]


# --------------------------------------------------------------------------- refusal
@pytest.mark.parametrize("prefix", JSON_PREFIXES)
def test_refused_token_leaves_state_unchanged(json_cg: CompiledGrammar, prefix: bytes) -> None:
    m = _matcher_at(json_cg, prefix)
    before = _snapshot(m)
    rng = random.Random(len(prefix))
    blocked = [i for i in np.nonzero(~before[0])[0].tolist() if json_cg.token_bytes(i) is not None]
    assert blocked
    for tid in rng.sample(blocked, 25):
        assert not m.accept_token(tid), (prefix, json_cg.token_bytes(tid))
        _assert_same(_snapshot(m), before)
    for tid in (-1, json_cg.vocab_size, json_cg.vocab_size + 7):
        assert not m.accept_token(tid)
    _assert_same(_snapshot(m), before)


@pytest.mark.parametrize(
    ("prefix", "bad"),
    [
        (b"", b"}"),
        (b"", b"{}}"),  # a valid prefix then a bad byte: nothing of it is kept
        (b'{"a"', b": 1,}"),
        (b'{"a": ', b"tru "),
        (b"[1", b".e"),
        (b'"x', b"\x01"),
        (b'"x', b"\xc3("),
    ],
)
def test_refused_bytes_leave_state_unchanged(
    json_cg: CompiledGrammar, prefix: bytes, bad: bytes
) -> None:
    m = _matcher_at(json_cg, prefix)
    before = _snapshot(m)
    assert not m.accept_bytes(bad)
    _assert_same(_snapshot(m), before)
    # and the refused call is not a rollback step
    m.rollback(1)
    assert m.num_bytes == 0
    with pytest.raises(ValueError):
        m.rollback(1)


def test_refusal_in_small_grammars(choices_cg: CompiledGrammar, hello_cg: CompiledGrammar) -> None:
    m = Matcher(choices_cg)
    before = _snapshot(m)
    for bad in (b"x", b"yess", b"nope", b"maybe!", b" yes"):
        assert not m.accept_bytes(bad)
        _assert_same(_snapshot(m), before)
    m = Matcher(hello_cg)
    before = _snapshot(m)
    assert not m.accept_bytes(b"helloworld")
    _assert_same(_snapshot(m), before)
    assert m.accept_bytes(b"hello world")
    assert m.is_accepting()


# --------------------------------------------------------------------------- rollback / reset
@pytest.mark.parametrize("seed", range(4))
def test_rollback_restores_mask(json_cg: CompiledGrammar, seed: int) -> None:
    rng = random.Random(seed)
    m = _matcher_at(json_cg, JSON_PREFIXES[seed])
    for k in range(1, 6):
        before = _snapshot(m)
        taken = 0
        for _ in range(k):
            choices = _non_eos_allowed(m)
            if not choices:
                break
            assert m.accept_token(rng.choice(choices))
            taken += 1
        assert taken == k
        m.rollback(k)
        _assert_same(_snapshot(m), before)
        # go one step forward so that the next k starts from a new state
        assert m.accept_token(rng.choice(_non_eos_allowed(m)))


def test_rollback_mixed_tokens_and_bytes(json_cg: CompiledGrammar, ids: dict[bytes, int]) -> None:
    m = Matcher(json_cg)
    start = _snapshot(m)
    assert m.accept_token(ids[b"{"])
    after_brace = _snapshot(m)
    assert m.accept_bytes(b'"key": ')
    assert m.accept_bytes(b"")  # an empty step is a step too
    assert m.accept_token(ids[b"null"])
    m.rollback(2)
    assert m.num_bytes == len(b'{"key": ')
    m.rollback(1)
    _assert_same(_snapshot(m), after_brace)
    m.rollback(0)
    _assert_same(_snapshot(m), after_brace)
    m.rollback(1)
    _assert_same(_snapshot(m), start)


def test_rollback_too_far_raises(json_cg: CompiledGrammar) -> None:
    m = Matcher(json_cg)
    with pytest.raises(ValueError):
        m.rollback(1)
    assert m.accept_bytes(b"[")
    assert m.accept_bytes(b"1")
    with pytest.raises(ValueError):
        m.rollback(3)
    with pytest.raises(ValueError):
        m.rollback(-1)
    assert m.num_bytes == 2  # a refused rollback changes nothing
    m.rollback(2)
    assert m.num_bytes == 0
    with pytest.raises(ValueError):
        m.rollback(1)


def test_reset(json_cg: CompiledGrammar, ids: dict[bytes, int]) -> None:
    m = Matcher(json_cg)
    start = _snapshot(m)
    assert m.accept_bytes(b"{}")
    assert m.accept_token(json_cg.eos_ids[0])
    assert m.is_terminated()
    m.reset()
    _assert_same(_snapshot(m), start)
    with pytest.raises(ValueError):
        m.rollback(1)  # reset forgets the steps
    assert m.accept_token(ids[b"["])


# --------------------------------------------------------------------------- EOS
def test_eos_only_when_accepting(json_cg: CompiledGrammar, ids: dict[bytes, int]) -> None:
    eos = json_cg.eos_ids
    assert eos == smollm2().eos_token_ids
    m = Matcher(json_cg)
    for part in (b"{", b'"a"', b":", b" 1"):
        assert not m.is_accepting()
        mask = m.allowed_token_mask()
        assert not any(mask[e] for e in eos)
        assert not m.accept_token(eos[0])
        assert not m.is_terminated()
        assert m.accept_bytes(part)
    assert m.accept_token(ids[b"}"])
    assert m.is_accepting()
    before = _snapshot(m)
    assert all(before[0][e] for e in eos)
    assert m.accept_token(eos[0])
    assert m.is_terminated()
    # after termination: everything is refused and only EOS is in the mask
    for tid in (ids[b" "], ids[b"}"], eos[0], 5):
        assert not m.accept_token(tid)
    assert not m.accept_bytes(b" ")
    assert not m.accept_bytes(b"")
    mask = m.allowed_token_mask()
    assert mask.shape == (json_cg.vocab_size,)
    assert np.nonzero(mask)[0].tolist() == sorted(eos)
    assert m.forced_bytes() == b""
    words = np.zeros(allocate_token_bitmask(1, json_cg.vocab_size).shape[1], dtype=np.int32)
    m.fill_next_token_bitmask(words)
    assert _unpack(words, json_cg.vocab_size).tolist() == mask.tolist()
    # rollback(1) un-terminates and restores the accepting state
    m.rollback(1)
    assert not m.is_terminated()
    _assert_same(_snapshot(m), before)
    assert m.accept_bytes(b"  ")
    assert m.is_accepting()


def test_eos_with_nullable_start(astar_cg: CompiledGrammar) -> None:
    m = Matcher(astar_cg)
    assert m.is_accepting()
    assert m.allowed_token_mask()[astar_cg.eos_ids[0]]
    assert m.accept_token(astar_cg.eos_ids[0])
    assert m.is_terminated() and m.num_bytes == 0


# --------------------------------------------------------------------------- special / padding
def test_special_tokens_never_allowed(
    anything_cg: CompiledGrammar, json_cg: CompiledGrammar, tok: Tokenizer
) -> None:
    eos = set(tok.eos_token_ids)
    special = sorted(set(tok.special_token_ids) - eos)
    assert special
    for cg, prefixes in ((anything_cg, [b"", b"x", b"<|", b"<"]), (json_cg, JSON_PREFIXES)):
        for prefix in prefixes:
            m = _matcher_at(cg, prefix)
            mask = m.allowed_token_mask()
            assert not mask[special].any(), (prefix, np.nonzero(mask[special]))
            for sid in special:
                assert not m.accept_token(sid)
            assert m.num_bytes == len(prefix)
    # the bytes of a special token are fine as text, only the id is refused
    m = Matcher(anything_cg)
    sid = special[0]
    assert not m.accept_token(sid)
    assert m.accept_bytes(tok.all_token_bytes()[sid])
    assert m.is_accepting()
    assert anything_cg.token_bytes(sid) is None


def test_padded_vocabulary(padded_cg: CompiledGrammar, tok: Tokenizer) -> None:
    v = tok.vocab_size + 100
    assert padded_cg.vocab_size == v
    pad = np.arange(tok.vocab_size, v)
    for prefix in (b"", b'{"a": ', b"[1, 2]"):
        m = _matcher_at(padded_cg, prefix)
        mask = m.allowed_token_mask()
        assert mask.shape == (v,) and mask.dtype == bool
        assert not mask[pad].any()
        assert mask[: tok.vocab_size].any()
        for pid in (int(pad[0]), int(pad[-1])):
            assert not m.accept_token(pid)
        bm = allocate_token_bitmask(2, v)
        assert bm.shape == (2, (v + 31) // 32)
        m.fill_next_token_bitmask(bm, index=1)
        assert _unpack(bm[1], v).tolist() == mask.tolist()
        assert (bm[0] == -1).all()
    # the same masks as without padding on the tokenizer's ids
    same = _matcher_at(compiled_library("json.lark"), b'{"a": ').allowed_token_mask()
    assert np.array_equal(
        _matcher_at(padded_cg, b'{"a": ').allowed_token_mask()[: tok.vocab_size], same
    )


def test_vocab_size_smaller_than_tokenizer_raises(tok: Tokenizer) -> None:
    with pytest.raises(ValueError):
        compile_grammar(Grammar.from_regex("[0-9]+"), tok, vocab_size=tok.vocab_size - 1)


# --------------------------------------------------------------------------- bitmask
def _unpack(row: np.ndarray, vocab: int) -> np.ndarray:
    """Bit ``i % 32`` of word ``i // 32`` (an independent reading of the layout)."""
    i = np.arange(vocab)
    words = row.astype(np.int64)[i // 32]
    return ((words >> (i % 32)) & 1).astype(bool)


@pytest.mark.parametrize("prefix", JSON_PREFIXES)
def test_fill_bitmask_layout(json_cg: CompiledGrammar, prefix: bytes) -> None:
    m = _matcher_at(json_cg, prefix)
    mask = m.allowed_token_mask()
    v = json_cg.vocab_size
    row = np.full(v // 32 + 3, -1, dtype=np.int32)  # extra words past the vocabulary
    m.fill_next_token_bitmask(row)
    assert np.array_equal(_unpack(row, v), mask)
    assert (row[(v + 31) // 32 :] == 0).all()
    for i in np.nonzero(mask)[0][:5].tolist():
        assert (int(row[i // 32]) >> (i % 32)) & 1 == 1
    batch = allocate_token_bitmask(3, v)
    assert batch.dtype == np.int32 and (batch == -1).all()
    m.fill_next_token_bitmask(batch, index=2)
    assert np.array_equal(_unpack(batch[2], v), mask)
    assert (batch[:2] == -1).all()
    m.fill_next_token_bitmask(batch)  # index defaults to 0
    assert np.array_equal(batch[0], batch[2])


def test_fill_bitmask_rejects_bad_arrays(json_cg: CompiledGrammar) -> None:
    m = Matcher(json_cg)
    words = (json_cg.vocab_size + 31) // 32
    for dtype in (np.int64, np.uint32, np.float32, np.int16):
        with pytest.raises(TypeError):
            m.fill_next_token_bitmask(np.zeros((1, words), dtype=dtype))
    with pytest.raises(TypeError):
        m.fill_next_token_bitmask([0] * words)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        m.fill_next_token_bitmask(np.zeros((1, words - 1), dtype=np.int32))
    with pytest.raises(ValueError):
        m.fill_next_token_bitmask(np.zeros(words - 1, dtype=np.int32))


# --------------------------------------------------------------------------- forced bytes
def test_forced_bytes_choices(choices_cg: CompiledGrammar) -> None:
    m = Matcher(choices_cg)
    assert m.forced_bytes() == b""  # y / n / m
    assert m.accept_bytes(b"m")
    before = _snapshot(m)
    assert m.forced_bytes() == b"aybe"
    _assert_same(_snapshot(m), before)  # forced_bytes does not consume
    assert m.accept_bytes(b"ay")
    assert m.forced_bytes() == b"be"
    assert m.accept_bytes(m.forced_bytes())
    assert m.is_accepting()
    assert m.forced_bytes() == b""
    assert m.accept_token(choices_cg.eos_ids[0])
    assert m.forced_bytes() == b""
    m.reset()
    assert m.accept_bytes(b"y")
    assert m.forced_bytes() == b"es"


def test_forced_bytes_json(json_cg: CompiledGrammar) -> None:
    assert _matcher_at(json_cg, b'{"a"').forced_bytes() == b""  # whitespace may come
    assert _matcher_at(json_cg, b"[tr").forced_bytes() == b"ue"
    assert _matcher_at(json_cg, b"{}").forced_bytes() == b""  # accepting


def test_forced_bytes_lark_literals(hello_cg: CompiledGrammar) -> None:
    m = Matcher(hello_cg)
    assert m.forced_bytes() == b"hello world"
    assert m.accept_bytes(b"hel")
    assert m.forced_bytes() == b"lo world"
    assert m.accept_bytes(b"lo world")
    assert m.is_accepting()
    assert m.forced_bytes() == b""
    assert m.accept_token(hello_cg.eos_ids[0])
    assert m.forced_bytes() == b""


# --------------------------------------------------------------------------- prefixes / accepting
def test_valid_prefix_length(json_cg: CompiledGrammar, choices_cg: CompiledGrammar) -> None:
    m = Matcher(json_cg)
    assert m.valid_prefix_length(b'{"a": }') == 6
    assert m.valid_prefix_length(b'{"a": 1}') == 8
    assert m.valid_prefix_length(b'{"a": 1}}') == 8
    assert m.valid_prefix_length(b"}") == 0
    assert m.valid_prefix_length(b"") == 0
    assert m.valid_prefix_length(b'"\xc3\xa9\xff"') == 3
    assert m.num_bytes == 0 and not m.is_accepting()
    assert m.accept_bytes(b"[1")
    before = _snapshot(m)
    assert m.valid_prefix_length(b", 2]x") == 4
    _assert_same(_snapshot(m), before)
    c = Matcher(choices_cg)
    assert c.valid_prefix_length(b"mayb!") == 4
    assert c.valid_prefix_length(b"nono") == 2


def test_is_accepting(astar_cg: CompiledGrammar, tok: Tokenizer, engine: str) -> None:
    m = Matcher(astar_cg)
    assert m.is_accepting()
    assert m.accept_bytes(b"aaa")
    assert m.is_accepting()
    assert not m.accept_bytes(b"b")
    plus = Matcher(compile_grammar(Grammar.from_regex("a+"), tok, engine=engine))
    assert not plus.is_accepting()
    assert not plus.allowed_token_mask()[tok.eos_token_ids[0]]
    assert plus.accept_bytes(b"a") and plus.is_accepting()
    empty_choice = Matcher(compile_grammar(Grammar.from_choices(["", "ok"]), tok, engine=engine))
    assert empty_choice.is_accepting()
    assert empty_choice.accept_bytes(b"o")
    assert not empty_choice.is_accepting()
    lark = Matcher(compile_grammar(Grammar.from_lark('start: "x"*\n'), tok, engine=engine))
    assert lark.is_accepting()


def test_json_mask_after_key(json_cg: CompiledGrammar, ids: dict[bytes, int]) -> None:
    m = _matcher_at(json_cg, b'{"a": ')
    allowed = set(m.allowed_tokens())
    must = [b'"', *(str(d).encode() for d in range(10)), b"[", b"{", b"true", b"null", b"-", b" "]
    must += [b"false", b"\n"]
    for s in must:
        assert ids[s] in allowed, s
    for s in (b"}", b":", b",", b"]", b"+", b".", b"nul ", b"True"):
        if s in ids:
            assert ids[s] not in allowed, s
    assert not m.is_accepting()
    assert not set(json_cg.eos_ids) & allowed
    # every allowed token is really accepted (spot check)
    for tid in random.Random(0).sample(sorted(allowed), 40):
        assert m.accept_token(tid), json_cg.token_bytes(tid)
        m.rollback(1)


# ---------------------------------------------------------------- strict arguments


@pytest.mark.parametrize("bad", [True, False, 35.9, 35.0, "35", b"5", None, [35], np.bool_(True)])
def test_accept_token_refuses_non_integers(choices_cg: CompiledGrammar, bad: object) -> None:
    m = Matcher(choices_cg)
    with pytest.raises(TypeError, match="token_id must be an integer"):
        m.accept_token(bad)  # type: ignore[arg-type]
    assert m.num_bytes == 0


def test_accept_token_takes_numpy_integers(
    choices_cg: CompiledGrammar, ids: dict[bytes, int]
) -> None:
    m = Matcher(choices_cg)
    assert m.accept_token(np.int64(ids[b"yes"]))
    assert m.accept_token(np.int32(choices_cg.eos_ids[0]))
    m.rollback(np.int16(2))  # type: ignore[arg-type]
    assert m.num_bytes == 0
    assert not m.accept_token(-1) and not m.accept_token(10**12)


@pytest.mark.parametrize("bad", [5, "yes", None, [121, 101, 115], np.int64(3)])
def test_accept_bytes_refuses_non_bytes(choices_cg: CompiledGrammar, bad: object) -> None:
    m = Matcher(choices_cg)
    with pytest.raises(TypeError, match="bytes, bytearray or memoryview"):
        m.accept_bytes(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes, bytearray or memoryview"):
        m.valid_prefix_length(bad)  # type: ignore[arg-type]
    assert m.num_bytes == 0


def test_accept_bytes_takes_bytes_likes(choices_cg: CompiledGrammar) -> None:
    m = Matcher(choices_cg)
    assert m.accept_bytes(bytearray(b"ma"))
    assert m.accept_bytes(memoryview(b"ybe"))
    assert m.is_accepting()
    assert Matcher(choices_cg).valid_prefix_length(memoryview(b"nox")) == 2


def test_rollback_argument_checks(choices_cg: CompiledGrammar) -> None:
    m = Matcher(choices_cg)
    assert m.accept_bytes(b"y")
    for bad in (True, 0.5, 1.0, "1", None):
        with pytest.raises(TypeError, match="n_tokens must be an integer"):
            m.rollback(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_tokens must be >= 0"):
        m.rollback(-1)
    with pytest.raises(ValueError, match="cannot roll back 2 steps"):
        m.rollback(2)
    assert m.num_bytes == 1
    m.rollback(0)
    assert m.num_bytes == 1


def test_fill_bitmask_argument_checks(choices_cg: CompiledGrammar) -> None:
    m = Matcher(choices_cg)
    words = (choices_cg.vocab_size + 31) // 32
    good = allocate_token_bitmask(2, choices_cg.vocab_size)
    cases: list[tuple[object, object, type, str]] = [
        (good, -1, ValueError, "index -1 is out of range"),
        (good, 2, ValueError, "index 2 is out of range"),
        (good, 0.0, TypeError, "index must be an integer"),
        (good, True, TypeError, "index must be an integer"),
        (good[0], 1, ValueError, "index must be 0 for a 1-D bitmask"),
        (np.zeros((0, words), np.int32), 0, ValueError, "out of range for a bitmask of 0 rows"),
        (np.zeros((), np.int32), 0, ValueError, "got ndim=0"),
        (np.zeros((1, 1, words), np.int32), 0, ValueError, "got ndim=3"),
        (np.zeros((1, words - 1), np.int32), 0, ValueError, f"{words} needed"),
        (np.zeros((1, words), np.int64), 0, TypeError, "dtype must be int32"),
        (np.zeros((1, words), np.uint32), 0, TypeError, "dtype must be int32"),
        ([[0] * words], 0, TypeError, "numpy.ndarray or a CPU tensor"),
    ]
    for bitmask, index, exc, words_re in cases:
        with pytest.raises(exc, match=words_re):
            m.fill_next_token_bitmask(bitmask, index)  # type: ignore[arg-type]
    assert (good == -1).all()  # nothing written on an error
    readonly = allocate_token_bitmask(1, choices_cg.vocab_size)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        m.fill_next_token_bitmask(readonly)
    m.fill_next_token_bitmask(good, np.int64(1))
    assert (good[0] == -1).all() and not (good[1] == -1).all()


def test_fill_bitmask_writes_torch_tensors(choices_cg: CompiledGrammar) -> None:
    import torch

    m = Matcher(choices_cg)
    expected = allocate_token_bitmask(1, choices_cg.vocab_size)
    m.fill_next_token_bitmask(expected)
    words = expected.shape[1]
    batch = torch.full((3, words), -1, dtype=torch.int32)
    m.fill_next_token_bitmask(batch, 2)
    assert batch[2].numpy().tolist() == expected[0].tolist()
    assert bool((batch[:2] == -1).all())
    row = torch.zeros(words + 4, dtype=torch.int32)
    m.fill_next_token_bitmask(row)
    assert row[:words].numpy().tolist() == expected[0].tolist() and not bool(row[words:].any())
    with pytest.raises(TypeError, match="dtype must be int32"):
        m.fill_next_token_bitmask(torch.zeros((1, words), dtype=torch.int64))
    meta = torch.zeros((1, words), dtype=torch.int32, device="meta")
    with pytest.raises(ValueError, match="must be on the CPU"):
        m.fill_next_token_bitmask(meta)


# ---------------------------------------------------------------- run-time limits


def test_input_bytes_limit(json_cg: CompiledGrammar) -> None:
    m = Matcher(json_cg, limits=Limits(max_input_bytes=8))
    assert m.accept_bytes(b"[1, 2]")
    m.rollback(1)
    with pytest.raises(LimitExceeded, match="max_input_bytes") as info:
        m.accept_bytes(b"[1, 2, 3, 4]")
    assert info.value.limit == "max_input_bytes" and info.value.value == 8
    with pytest.raises(LimitExceeded, match="max_input_bytes"):
        m.valid_prefix_length(b"[1, 2, 3, 4]")
    assert m.num_bytes == 0
    for tid in json_cg.tokenizer.encode("[1, 2, 3, 4, 5]"):  # tokens are never bounded
        assert m.accept_token(tid)


def test_earley_set_work_limit(tok: Tokenizer, engine: str) -> None:
    grammar = Grammar.from_lark('start: start "+" start | "1"\n')
    terms = b"1" + b"+1" * 60
    cg = compile_grammar(grammar, tok, limits=Limits(max_earley_set_work=500), engine=engine)
    assert cg.limits.max_earley_set_work == 500
    m = Matcher(cg)
    assert m.accept_bytes(b"1+1+1")
    with pytest.raises(LimitExceeded, match="max_earley_set_work") as info:
        m.accept_bytes(terms[1:])
    assert info.value.limit == "max_earley_set_work"
    with pytest.raises(LimitExceeded, match="max_earley_set_work"):
        m.valid_prefix_length(terms[1:])
    assert m.num_bytes == 5  # left as it was
    for tid in tok.encode(terms[1:].decode()):  # model output never raises
        assert m.accept_token(tid)
    assert m.is_accepting()
    assert Matcher(cg, limits=Limits()).accept_bytes(terms)
    big = compile_grammar(grammar, tok, engine=engine)
    assert Matcher(big).valid_prefix_length(terms) == len(terms)
