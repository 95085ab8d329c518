"""``fill_next_token_bitmask_batch``: rows filled on native threads equal one-by-one fills."""

from __future__ import annotations

import numpy as np
import pytest

import corral
from conftest import library_grammar, smollm2
from corral import Matcher, fill_next_token_bitmask_batch


def matchers() -> list[Matcher]:
    tok = smollm2()
    json_n = corral.compile(library_grammar("json.lark"), tok, engine="native")
    arith = corral.compile(library_grammar("arithmetic.lark"), tok, engine="native")
    json_r = corral.compile(library_grammar("json.lark"), tok, engine="reference")
    out = []
    for cg, prefix in [
        (json_n, b'{"a": [1, '),
        (json_n, b'{"b": "x'),
        (arith, b"(1 + 2"),
        (json_r, b"[tr"),
        (json_n, b"[]"),
        (arith, b""),
        (json_n, b'{"k": {"z": nu'),
    ]:
        m = Matcher(cg)
        assert m.accept_bytes(prefix)
        out.append(m)
    done = Matcher(json_n)
    assert done.accept_bytes(b"1") and done.accept_token(tok.eos_token_ids[0])
    out.append(done)
    return out


@pytest.mark.parametrize("n_threads", [1, 2, 5, None])
def test_batch_equals_one_by_one(n_threads: int | None) -> None:
    ms = matchers()
    words = (ms[0].compiled.vocab_size + 31) // 32
    batch = np.full((len(ms) + 1, words + 2), -1, dtype=np.int32)
    fill_next_token_bitmask_batch(ms, batch, n_threads=n_threads)
    for i, m in enumerate(ms):
        one = np.full(words + 2, -1, dtype=np.int32)
        m.fill_next_token_bitmask(one)
        assert np.array_equal(batch[i], one), i
    assert (batch[-1] == -1).all()  # rows past the matchers are not touched
    assert batch[0].any() and batch[-2].any()


def test_batch_refuses_bad_arguments() -> None:
    ms = matchers()[:3]
    words = (ms[0].compiled.vocab_size + 31) // 32
    with pytest.raises(ValueError, match="twice"):
        fill_next_token_bitmask_batch([ms[0], ms[0]], np.zeros((2, words), dtype=np.int32))
    with pytest.raises(ValueError):
        fill_next_token_bitmask_batch(ms, np.zeros((2, words), dtype=np.int32))
    with pytest.raises(ValueError):
        fill_next_token_bitmask_batch(ms, np.zeros((3, words - 1), dtype=np.int32))
    with pytest.raises(TypeError):
        fill_next_token_bitmask_batch(ms, np.zeros((3, words), dtype=np.int64))
    with pytest.raises(ValueError):
        fill_next_token_bitmask_batch(ms, np.zeros((3, words), dtype=np.int32), n_threads=0)
    with pytest.raises(TypeError):
        fill_next_token_bitmask_batch([object()], np.zeros((1, words), dtype=np.int32))  # type: ignore[list-item]
