"""The logits processors inside the runtimes' own generate calls, and bad input."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
import torch

import corral
from corral.backends.api import Model, generate
from corral.backends.llama_cpp import LlamaLogitsProcessor
from corral.backends.transformers import HFLogitsProcessor

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
SCHEMAS = [
    PERSON,
    {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
    {"enum": ["north", "south", "east", "west"]},
    {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
]


def test_llama_create_completion(llama: Model) -> None:
    from llama_cpp import LogitsProcessorList

    cg = llama.compile(corral.Grammar.from_json_schema(PERSON))
    proc = LlamaLogitsProcessor(cg, max_tokens=40)
    out = llama.runtime.llm.create_completion(
        "A person as JSON: ",
        max_tokens=40,
        temperature=0.0,
        logits_processor=LogitsProcessorList([proc]),
    )
    text = out["choices"][0]["text"]
    jsonschema.validate(json.loads(text), PERSON)
    assert proc.steering.matcher.is_accepting()


def test_llama_create_chat_completion(llama: Model) -> None:
    from llama_cpp import LogitsProcessorList

    cg = llama.compile(corral.Grammar.from_json_schema(SCHEMAS[1]))
    out = llama.runtime.llm.create_chat_completion(
        [{"role": "user", "content": "Some booleans as a JSON array."}],
        max_tokens=20,
        temperature=0.7,
        seed=3,
        logits_processor=LogitsProcessorList([LlamaLogitsProcessor(cg, max_tokens=20)]),
    )
    jsonschema.validate(json.loads(out["choices"][0]["message"]["content"]), SCHEMAS[1])


def test_llama_processor_is_one_shot(llama: Model) -> None:
    cg = llama.compile(corral.Grammar.from_regex("[0-9]+"))
    proc = LlamaLogitsProcessor(cg)
    scores = np.zeros(cg.vocab_size, np.float32)
    proc(np.array([1, 2, 3], np.intc), scores)
    assert np.isneginf(scores).sum() > cg.vocab_size - 100
    with pytest.raises(ValueError, match="one generation"):
        proc(np.array([1, 2], np.intc), np.zeros(cg.vocab_size, np.float32))
    with pytest.raises(ValueError, match="token ids"):
        LlamaLogitsProcessor(cg)(np.array([1], np.intc), np.zeros(100, np.float32))


def test_hf_batch_of_four_grammars(hf: Model) -> None:
    model, tok = hf.runtime.model, hf.runtime.hf_tokenizer
    grammars = [hf.compile(corral.Grammar.from_json_schema(s)) for s in SCHEMAS]
    prompts = [
        tok.apply_chat_template(
            [{"role": "user", "content": f"JSON for the schema {json.dumps(s)}"}],
            tokenize=False,
            add_generation_prompt=True,
        )
        for s in SCHEMAS
    ]
    tok.padding_side = "left"
    batch = tok(prompts, return_tensors="pt", padding=True)
    proc = HFLogitsProcessor(grammars, max_tokens=40)
    out = model.generate(
        **batch,
        max_new_tokens=40,
        do_sample=False,
        logits_processor=[proc],
        pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
    )
    width = batch["input_ids"].shape[1]
    for row, schema in enumerate(SCHEMAS):
        ids = [t for t in out[row, width:].tolist() if t not in grammars[row].eos_ids]
        ids = [t for t in ids if t != tok.pad_token_id]
        text = hf.tokenizer.decode(ids).decode()
        jsonschema.validate(json.loads(text), schema)
        assert proc.rows[row].matcher.is_accepting()


def test_hf_processor_errors(hf: Model) -> None:
    cg = hf.compile(corral.Grammar.from_regex("[0-9]+"))
    with pytest.raises(ValueError, match="3 rows but 2 grammars"):
        HFLogitsProcessor([cg, cg])(
            torch.zeros(3, 4, dtype=torch.long), torch.zeros(3, cg.vocab_size)
        )
    with pytest.raises(ValueError, match="compile with vocab_size=64"):
        HFLogitsProcessor(cg)(torch.zeros(1, 4, dtype=torch.long), torch.zeros(1, 64))
    proc = HFLogitsProcessor(cg)
    proc(torch.zeros(2, 4, dtype=torch.long), torch.zeros(2, cg.vocab_size))
    digit = hf.tokenizer.encode("7")[0]
    proc(torch.tensor([[0, 0, 0, 0, digit]] * 2), torch.zeros(2, cg.vocab_size))
    with pytest.raises(ValueError, match="beam search"):
        proc(torch.tensor([[0, 0, 0, 0, digit + 1, digit]] * 2), torch.zeros(2, cg.vocab_size))


def test_hf_processor_other_dtypes(hf: Model) -> None:
    cg = hf.compile(corral.Grammar.from_regex("[0-9]+"))
    scores = torch.zeros(1, cg.vocab_size, dtype=torch.bfloat16)
    HFLogitsProcessor(cg)(torch.zeros(1, 3, dtype=torch.long), scores)
    allowed = torch.isfinite(scores[0]).nonzero().flatten().tolist()
    assert allowed and all(hf.tokenizer.token_bytes(i).isdigit() for i in allowed)


def test_bad_input_is_refused_before_generating(llama: Model) -> None:
    with pytest.raises(corral.GrammarError):
        generate(llama, "x", schema={"type": "integer", "minimum": 5, "maximum": 1})
    with pytest.raises(ValueError, match="no room"):
        generate(llama, "word " * 3000, regex="[0-9]")
    with pytest.raises(TypeError, match="exactly one"):
        generate(llama, "x", regex="a", choices=["a"])
    with pytest.raises(ValueError, match="max_tokens"):
        generate(llama, "x", regex="a", max_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        generate(llama, "x", regex="a", temperature=-1.0)
    other = corral.Tokenizer.from_token_bytes([b"a", b"b", b"</s>"], eos_ids=[2])
    small = corral.compile(corral.Grammar.from_regex("a+"), other)
    with pytest.raises(ValueError, match="token ids"):
        LlamaLogitsProcessor(small)(
            np.array([1], np.intc), np.zeros(llama.runtime.vocab_size, np.float32)
        )


def test_model_argument_forms(llama: Model) -> None:
    text = generate(llama.runtime.llm, "Digit.", regex="[0-9]", max_tokens=2)
    assert text.isdigit()
    with pytest.raises(TypeError, match="model must be"):
        generate(object(), "x", regex="a")
    with pytest.raises(ValueError, match="smollm2"):
        corral.load_model("gpt-17")
    with pytest.raises(FileNotFoundError):
        corral.load_model("/nonexistent/model.gguf")


def test_tokenizer_from_hf_matches_gguf(hf: Model, tokenizer: corral.Tokenizer) -> None:
    built = corral.Tokenizer.from_hf(hf.runtime.hf_tokenizer)
    assert built.vocab_size == tokenizer.vocab_size
    assert built.eos_token_ids == tokenizer.eos_token_ids
    assert all(
        built.token_bytes(i) == tokenizer.token_bytes(i)
        for i in range(tokenizer.vocab_size)
        if i not in tokenizer.special_token_ids
    )
    text = 'JSON: {"ß": [1, 2.5e-3, true]}  \n'
    assert (
        built.encode(text) == hf.runtime.hf_tokenizer(text, add_special_tokens=False)["input_ids"]
    )


def test_rows_of_any_other_type_are_refused() -> None:
    with pytest.raises(TypeError, match="not a fast tokenizer"):
        corral.Tokenizer.from_hf(object())
