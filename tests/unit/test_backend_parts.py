"""The model-free parts of the backends: sampling, the token boundary rule, steering and
guaranteed completion, with the real SmolLM2 tokenizer."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest

import corral
from conftest import smollm2
from corral.backends.jump_forward import TokenBoundary
from corral.backends.sampling import Sampler
from corral.backends.steering import Steering, TokenRejected
from corral.constraint_engine.bitmask import allocate_token_bitmask, unpack_bitmask


@pytest.fixture(scope="module")
def boundary() -> TokenBoundary:
    return TokenBoundary(smollm2())


def test_greedy_takes_the_first_maximum() -> None:
    logits = np.array([0.0, 3.0, -np.inf, 3.0], np.float32)
    assert Sampler()(logits) == 1


def test_sampling_never_picks_a_masked_token() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=500).astype(np.float32)
    logits[::2] = -np.inf
    for kw in (
        {"temperature": 1.0},
        {"temperature": 2.0, "top_k": 5},
        {"temperature": 0.7, "top_p": 0.5},
    ):
        sampler = Sampler(seed=1, **kw)  # type: ignore[arg-type]
        picks = {sampler(logits) for _ in range(300)}
        assert all(p % 2 == 1 for p in picks)
    top = np.argsort(-logits)[:5]
    sampler = Sampler(temperature=2.0, top_k=5, seed=2)
    assert {sampler(logits) for _ in range(300)} <= set(top.tolist())


def test_sampling_is_reproducible_and_top_p_is_a_nucleus() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], np.float64)).astype(np.float32)
    a = [Sampler(temperature=1.0, seed=9)(logits) for _ in range(1)]
    b = [Sampler(temperature=1.0, seed=9)(logits) for _ in range(1)]
    assert a == b
    sampler = Sampler(temperature=1.0, top_p=0.7, seed=3)
    assert {sampler(logits) for _ in range(400)} == {0, 1}


@pytest.mark.parametrize(
    ("kw", "word"),
    [({"temperature": -1.0}, "temperature"), ({"top_p": 0.0}, "top_p"), ({"top_k": -2}, "top_k")],
)
def test_sampler_arguments(kw: dict[str, float], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        Sampler(**kw)  # type: ignore[arg-type]


def test_forced_tokens_stop_where_a_token_could_run_past(boundary: TokenBoundary) -> None:
    tok = smollm2()
    assert boundary.forced_tokens(b"") == []
    forced = b'{"name":"'
    ids = boundary.forced_tokens(forced)
    spelled = tok.decode(ids)
    assert forced.startswith(spelled)
    rest = forced[len(spelled) :]
    # Either everything was taken, or the rest is a proper prefix of some token.
    assert rest == b"" or boundary.extendable(rest)
    # No earlier cut would do: every suffix starting at a kept token boundary is not extendable.
    start = 0
    for i in ids:
        assert not boundary.extendable(forced[start:])
        start += len(tok.token_bytes(i))
    assert boundary.extendable(b"nam") and not boundary.extendable(b"\x00" * 40)


def test_steering_masks_and_refuses(tokenizer: corral.Tokenizer) -> None:
    cg = corral.compile(corral.Grammar.from_regex("[0-9]{2,4}"), tokenizer)
    steering = Steering(cg, max_tokens=10)
    allowed = unpack_bitmask(steering.single_mask()[0], cg.vocab_size)
    assert allowed[tokenizer.encode("7")[0]] and not allowed[tokenizer.encode("a")[0]]
    with pytest.raises(TokenRejected, match="not allowed"):
        steering.advance(tokenizer.encode("a")[0])
    with pytest.raises(ValueError, match="max_tokens"):
        Steering(cg, max_tokens=0)


@pytest.mark.parametrize("budget", [3, 5, 8])
def test_completion_plan_fits_the_budget(tokenizer: corral.Tokenizer, budget: int) -> None:
    """Whatever tokens come first, steering finishes a schema-valid value within the budget."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["a", "b"],
    }
    cg = corral.compile(corral.Grammar.from_json_schema(schema), tokenizer)
    steering = Steering(cg, max_tokens=budget + 12)
    rng = np.random.default_rng(budget)
    mask = allocate_token_bitmask(1, cg.vocab_size)
    out: list[int] = []
    while not steering.finished:
        steering.fill(mask, 0)
        allowed = np.flatnonzero(unpack_bitmask(mask[0], cg.vocab_size))
        allowed = allowed[~np.isin(allowed, cg.eos_ids)] if len(allowed) > 1 else allowed
        token = int(rng.choice(allowed))
        if steering.advance(token):
            break
        out.append(token)
    assert len(out) <= budget + 12
    assert steering.matcher.is_accepting()
    jsonschema.validate(json.loads(tokenizer.decode(out)), schema)
    assert steering.stats.completion_tokens > 0


def test_completion_off_and_without_budget(tokenizer: corral.Tokenizer) -> None:
    cg = corral.compile(corral.Grammar.from_json_schema({"type": "string"}), tokenizer)
    assert Steering(cg, max_tokens=2, complete_on_budget=False).completion_plan() == []
    assert Steering(cg).completion_plan() == [] and Steering(cg).remaining is None
    assert Steering(cg, max_tokens=2).completion_plan() == []  # one token left over: not yet
    plan = Steering(cg, max_tokens=1).completion_plan()
    assert tokenizer.decode(plan) == b'""'


def test_top_candidates_equal_a_stable_descending_sort() -> None:
    """Near the budget's end the processors verify the best-scored allowed tokens: found by
    partition, they are exactly the first ones of a stable descending argsort."""
    from corral.backends.steering import _top

    rng = np.random.default_rng(0)
    for trial in range(2000):
        n, k = int(rng.integers(1, 60)), int(rng.integers(1, 10))
        values = rng.integers(-3, 4, size=n).astype(np.float32)
        if trial % 3 == 0:
            values[rng.integers(0, n)] = -np.inf
        expected = np.argsort(-values, kind="stable")[:k]
        assert _top(values, k).tolist() == expected.tolist()
