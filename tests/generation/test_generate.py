"""Constrained generation with the real SmolLM2 model on llama.cpp and transformers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import lark
import pytest

import corral
from corral.backends.api import Model, RunStats, generate
from corral.backends.loop import decode
from corral.backends.sampling import Sampler
from corral.backends.steering import Steering
from corral.grammars import library_path
from corral.infill import Hole
from corral.infill.fill import fill_template
from helpers import PERSON_SCHEMA, sample_schemas

PROMPT = "Return a JSON object that matches this schema:\n{schema}"
SCHEMAS = sample_schemas()


def _validator(schema: Any) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize(("name", "schema"), SCHEMAS, ids=[n for n, _ in SCHEMAS])
def test_schema_outputs_are_valid(model: Model, name: str, schema: Any) -> None:
    stats = RunStats()
    text = generate(
        model, PROMPT.format(schema=json.dumps(schema)), schema=schema, max_tokens=96, stats=stats
    )
    assert stats.complete, (name, text)
    value = json.loads(text)
    errors = [e.message for e in _validator(schema).iter_errors(value)]
    assert not errors, (name, text, errors)
    assert 0 < stats.generation.tokens <= 96
    # chunk times after the first chunk: every token after the first chunk is in one of them
    assert all(dt > 0 and k > 0 for dt, k in stats.steps)
    assert sum(k for _, k in stats.steps) < stats.generation.tokens


@pytest.mark.parametrize("grammar", ["json.lark", "arithmetic.lark"])
def test_lark_outputs_parse(model: Model, grammar: str) -> None:
    source = Path(library_path(grammar)).read_text(encoding="utf-8")
    text = generate(model, "Write an example.", grammar=source, max_tokens=40)
    parser = lark.Lark(source, parser="earley", lexer="dynamic_complete")
    parser.parse(text)


@pytest.mark.parametrize("slack", [0, 2, 6])
def test_tiny_budget_still_completes(model: Model, slack: int) -> None:
    """A budget of the shortest completion's tokens (plus a little) still gives valid JSON."""
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "tags": {"type": "array"}},
        "required": ["name", "tags"],
    }
    shortest = corral.Matcher(model.compile(corral.Grammar.from_json_schema(schema)))
    tail = shortest.shortest_completion()
    assert tail is not None
    budget = len(model.tokenizer.encode(tail)) + slack
    stats = RunStats()
    text = generate(
        model, "Describe a cat at length.", schema=schema, max_tokens=budget, stats=stats
    )
    assert stats.generation.tokens <= budget
    assert stats.complete, text
    jsonschema.validate(json.loads(text), schema)


def test_budget_off_may_cut(model: Model) -> None:
    stats = RunStats()
    text = generate(
        model,
        "Write a long story.",
        schema={"type": "string"},
        max_tokens=5,
        complete_on_budget=False,
        stats=stats,
    )
    assert stats.generation.tokens == 5 and stats.generation.completion_tokens == 0
    on = RunStats()
    text_on = generate(
        model, "Write a long story.", schema={"type": "string"}, max_tokens=5, stats=on
    )
    assert on.complete and on.generation.completion_tokens >= 1
    assert isinstance(json.loads(text_on), str)
    assert text.startswith('"')


def test_jump_forward_matches_token_by_token(llama: Model) -> None:
    """Under greedy sampling, jump-forward and token-by-token decoding agree token for token up
    to the first forced token that the model itself would have spelt differently.

    Jump-forward tokenizes the forced bytes canonically; the step-by-step decoder lets the model
    pick among the tokens that spell them. Where the model's pick is the canonical token, the
    two decoders are in the same state and stay equal; the only place they can part is a
    forced token (docs/design/generation.md, "jump-forward").
    """
    forced_total = 0
    for name, schema in SCHEMAS[:4]:
        prompt = PROMPT.format(schema=json.dumps(schema))
        cg = llama.compile(corral.Grammar.from_json_schema(schema))
        ids = llama.prompt_ids(prompt, system=None, chat=True)
        runs = []
        for boundary in (llama.boundary, None):
            steering = Steering(cg, max_tokens=64)
            b"".join(decode(llama.runtime, ids, steering, Sampler(), boundary=boundary))
            assert steering.matcher.is_accepting()
            runs.append(steering.trace)
        fast, slow = runs
        forced_total += sum(forced for _, forced in fast)
        assert not any(forced for _, forced in slow)
        pairs = enumerate(zip(fast, slow, strict=False))
        parted = next((i for i, (a, b) in pairs if a[0] != b[0]), None)
        if parted is None:
            assert [t for t, _ in fast] == [t for t, _ in slow], name
        else:
            assert fast[parted][1], f"{name}: the decoders parted at sampled token {parted}"
    assert forced_total > 0


def test_stream_yields_the_same_text(llama: Model) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    chunks = list(generate(llama, "A number.", schema=schema, max_tokens=20, stream=True))
    assert len(chunks) > 1
    assert "".join(chunks) == generate(llama, "A number.", schema=schema, max_tokens=20)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"regex": r"[0-9]{3}-[0-9]{4}"},
        {"choices": ["red", "green", "blue"]},
        {"grammar": corral.Grammar.from_regex(r"(yes|no)")},
    ],
)
def test_other_constraints(model: Model, kwargs: dict[str, Any]) -> None:
    text = generate(model, "Answer.", max_tokens=12, **kwargs)
    cg = model.compile(corral.backends.constraint_grammar(**kwargs))
    m = corral.Matcher(cg)
    assert m.accept_bytes(text.encode()) and m.is_accepting()


def test_sampling_is_seeded(llama: Model) -> None:
    kw: dict[str, Any] = {"regex": r"[a-z]{1,12}", "max_tokens": 8, "temperature": 1.0}
    first = generate(llama, "A word.", seed=7, **kw)
    assert first == generate(llama, "A word.", seed=7, **kw)
    assert generate(llama, "A word.", seed=7, top_k=1, **kw) == generate(
        llama, "A word.", temperature=0.0, regex=r"[a-z]{1,12}", max_tokens=8
    )


def test_generate_json(llama: Model) -> None:
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}
    value = corral.generate_json(llama, "Some numbers.", schema=schema, max_tokens=30)
    assert isinstance(value, list) and 2 <= len(value) <= 3
    assert all(isinstance(v, int) for v in value)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 20},
         "uniqueItems": True, "minItems": 8},
        {"type": "array", "items": {"type": "string", "maxLength": 6}, "uniqueItems": True,
         "minItems": 4},
        {"type": "array", "uniqueItems": True, "minItems": 3, "items": {
            "type": "object", "additionalProperties": False, "required": ["k"],
            "properties": {"k": {"enum": ["a", "b", "c", "d"]}}}},
        {"type": "array", "uniqueItems": True, "minItems": 3, "maxItems": 4, "items": {
            "type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 3}}},
    ],
    ids=["integers", "strings", "objects", "arrays"],
)  # fmt: skip
def test_unique_items_hold_where_the_model_repeats(model: Model, schema: Any) -> None:
    """A small model asked for many items tends to repeat one; the run-time uniqueItems check
    steers it to distinct ones, and the output is complete and valid."""
    stats = RunStats()
    text = generate(
        model, "List the same value several times.", schema=schema, max_tokens=96, stats=stats
    )
    assert stats.complete, text
    value = json.loads(text)
    assert not list(_validator(schema).iter_errors(value)), text
    assert len(value) >= schema["minItems"]


@pytest.mark.parametrize("masks", [False, True])
def test_template_filling_with_the_model(model: Model, masks: bool) -> None:
    """SmolLM2 fills a JSON template's holes; the whole is schema-valid and keeps the fixed
    parts (the rest of the template is kept completable at every step: by checked proposals,
    or by the exact mask of each step)."""
    schema = PERSON_SCHEMA
    cg = model.compile(corral.Grammar.from_json_schema(schema))
    prompt = "Alice is 30 and likes tennis and chess. As JSON."
    ids = model.prompt_ids(prompt, system=None, chat=True)
    template = ['{"name":', Hole(), ',"tags":[', Hole(), '],"age":', Hole(), "}"]
    text = fill_template(model.runtime, ids, cg, template, max_tokens_per_hole=16, masks=masks)
    value = json.loads(text)
    jsonschema.validate(value, schema)
    assert text.startswith(b'{"name":') and b',"tags":[' in text and b'],"age":' in text
