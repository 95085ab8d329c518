"""Load Hugging Face ``tokenizer.json`` files with a BPE model.

Two families are supported, both encoded with ranked merges (Sennrich et al. 2016):

* byte-level BPE (a ``ByteLevel`` pre-tokenizer or decoder): vocabulary and merges are written
  with the GPT-2 byte-to-unicode table (:mod:`corral.tokenizers.byte_level`); the split regex is
  recognised among the known ones (GPT-2, cl100k/Llama 3, Qwen 2, SmolLM digits-first) and falls
  back to GPT-2's;
* SentencePiece-style BPE (Kudo & Richardson 2018): ``▁`` stands for a space and, with
  ``byte_fallback``, ``<0xXX>`` tokens spell single bytes; a ``Prepend`` normalizer or a
  ``Metaspace`` pre-tokenizer that prepends sets ``add_space_prefix``.

``added_tokens`` marked ``"special": true`` are special; the unknown token is special too. The
file does not record the EOS token, so the caller may name it; otherwise added special tokens
with a usual EOS text are used.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from corral.errors import TokenizerError
from corral.tokenizers.base import Tokenizer
from corral.tokenizers.bpe import BPE
from corral.tokenizers.byte_level import from_byte_level_many
from corral.tokenizers.pretokenize import RegexSplitter, split_on_spaces

__all__ = ["MAX_FILE_BYTES", "load_hf_json", "load_hf_json_text"]

#: Refuse files larger than this.
MAX_FILE_BYTES = 512 << 20
_EOS_NAMES = ("<|endoftext|>", "<|im_end|>", "</s>", "<|eot_id|>", "<|end_of_text|>", "<eos>")
_BOS_NAMES = ("<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>")
_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_MAX_GAP = 1 << 16
# Split regexes of known byte-level models, as written in their tokenizer.json files.
_KNOWN_SPLITS = {
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+": "gpt2",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "cl100k",
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+": "qwen2",
}


def _components(node: Any) -> Iterator[dict[str, Any]]:
    """Yield a pre-tokenizer/normalizer/decoder and, for a ``Sequence``, its members."""
    if isinstance(node, dict):
        yield node
        for key in ("pretokenizers", "normalizers", "decoders"):
            children = node.get(key)
            if isinstance(children, list):
                for child in children:
                    yield from _components(child)


def _split_name(pre_tokenizer: Any) -> str:
    parts = list(_components(pre_tokenizer))
    for part in parts:
        if part.get("type") == "Split":
            pattern = part.get("pattern")
            regex = pattern.get("Regex") if isinstance(pattern, dict) else None
            if isinstance(regex, str) and regex in _KNOWN_SPLITS:
                return _KNOWN_SPLITS[regex]
    if any(p.get("type") == "Digits" and p.get("individual_digits") for p in parts):
        return "smollm"
    return "gpt2"


def _list_field(obj: dict[str, Any], key: str, name: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TokenizerError(f"{name}: {key!r} must be a list, not {type(value).__name__}")
    return value


def _merge_pair(item: Any, index: int, name: str) -> tuple[str, str]:
    if isinstance(item, str):
        parts = item.split(" ")
    elif isinstance(item, list):
        parts = item
    else:
        parts = []
    if len(parts) != 2 or not all(isinstance(p, str) and p for p in parts):
        raise TokenizerError(f"{name}: malformed merge {index}: {item!r}")
    return parts[0], parts[1]


def _read(name: str) -> bytes:
    try:
        size = os.path.getsize(name)
        if size > MAX_FILE_BYTES:
            raise TokenizerError(f"{name}: {size} bytes is too large for a tokenizer.json")
        with open(name, "rb") as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokenizerError(f"{name}: cannot read tokenizer.json: {exc}") from None


def _load(content: str | bytes, name: str, eos_tokens: Sequence[str] | None) -> Tokenizer:
    """Parse the text of a ``tokenizer.json`` and build its tokenizer."""
    try:
        obj = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise TokenizerError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), dict):
        raise TokenizerError(f"{name}: no 'model' object; is this a tokenizer.json?")
    try:
        return _build(obj, name, eos_tokens)
    except UnicodeEncodeError as exc:
        raise TokenizerError(f"{name}: token text is not valid Unicode: {exc}") from None


def load_hf_json(
    path: str | os.PathLike[str], *, eos_tokens: Sequence[str] | None = None
) -> Tokenizer:
    """Build a :class:`Tokenizer` from a Hugging Face ``tokenizer.json`` (BPE model).

    Parameters
    ----------
    path:
        The ``tokenizer.json`` file.
    eos_tokens:
        Texts of the EOS tokens. By default, the added special tokens among ``<|endoftext|>``,
        ``<|im_end|>``, ``</s>``, ``<|eot_id|>``, ``<|end_of_text|>`` and ``<eos>``.

    Returns
    -------
    Tokenizer
        ``kind`` is ``"byte-bpe"`` or ``"sentencepiece"``.

    Raises
    ------
    TokenizerError
        If the file is unreadable, not JSON, not a BPE model, or inconsistent.
    """
    name = os.fspath(path)
    return _load(_read(name), name, eos_tokens)


def load_hf_json_text(
    text: str, *, name: str = "tokenizer.json", eos_tokens: Sequence[str] | None = None
) -> Tokenizer:
    """Like :func:`load_hf_json`, from the text of a ``tokenizer.json`` already in memory
    (e.g. ``backend_tokenizer.to_str()`` of a Hugging Face fast tokenizer)."""
    if len(text) > MAX_FILE_BYTES:
        raise TokenizerError(f"{name}: {len(text)} characters is too large for a tokenizer.json")
    return _load(text, name, eos_tokens)


def _build(obj: dict[str, Any], name: str, eos_tokens: Sequence[str] | None) -> Tokenizer:
    model = obj["model"]
    if model.get("type", "BPE") != "BPE":
        raise TokenizerError(
            f"{name}: unsupported tokenizer model type {model.get('type')!r} (only BPE)"
        )
    vocab_obj = model.get("vocab")
    if not isinstance(vocab_obj, dict) or not vocab_obj:
        raise TokenizerError(f"{name}: model.vocab must be a non-empty object")
    texts: dict[int, str] = {}
    for text, tid in vocab_obj.items():
        if isinstance(tid, bool) or not isinstance(tid, int) or tid < 0 or tid in texts:
            raise TokenizerError(f"{name}: bad or duplicate id {tid!r} for token {text!r}")
        texts[tid] = text
    added: dict[int, tuple[str, bool]] = {}
    for item in _list_field(obj, "added_tokens", name):
        tid = item.get("id") if isinstance(item, dict) else None
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(tid, bool) or not isinstance(tid, int) or tid < 0:
            raise TokenizerError(f"{name}: added token {item!r} has no valid id")
        if not isinstance(content, str) or not content:
            raise TokenizerError(f"{name}: added token {tid} has no content")
        added[tid] = (content, bool(item.get("special")))
    size = max([*texts, *added]) + 1
    if size > len(texts) + len(added) + _MAX_GAP:
        raise TokenizerError(f"{name}: ids reach {size - 1} but only {len(texts)} are defined")
    byte_level = any(
        c.get("type") == "ByteLevel"
        for key in ("pre_tokenizer", "decoder")
        for c in _components(obj.get(key))
    )
    merges = [_merge_pair(m, i, name) for i, m in enumerate(_list_field(model, "merges", name))]
    ids = sorted(texts)
    fallback: set[int] = set()
    if byte_level:
        raw = from_byte_level_many([texts[i] for i in ids])
        halves = from_byte_level_many([p for pair in merges for p in pair])
    else:
        if model.get("byte_fallback"):
            fallback = {i for i in ids if _BYTE_TOKEN.fullmatch(texts[i])}
        raw = [_sentencepiece_bytes(texts[i], i in fallback) for i in ids]
        halves = [p.replace("\u2581", " ").encode("utf-8") for pair in merges for p in pair]
    tokens = [b""] * size
    for i, data in zip(ids, raw, strict=True):
        tokens[i] = texts[i].encode("utf-8") if data is None else data
    special: set[int] = set()
    unk = model.get("unk_token")
    if isinstance(unk, str) and unk in vocab_obj:
        special.add(vocab_obj[unk])
    for tid, (content, is_special) in added.items():
        tokens[tid] = content.encode("utf-8")
        if is_special:
            special.add(tid)
    # Ordinary tokens first, so that they win over byte-fallback tokens spelling the same byte.
    order = [i for i in range(size) if i not in fallback] + sorted(fallback)
    vocab: dict[bytes, int] = {}
    for tid in order:
        if tokens[tid] and tid not in special:
            vocab.setdefault(tokens[tid], tid)
    ranks: dict[tuple[bytes, bytes], int] = {}
    for rank in range(len(merges)):
        left, right = halves[2 * rank], halves[2 * rank + 1]
        if left is None or right is None:
            raise TokenizerError(f"{name}: merge {rank} {merges[rank]!r} is not byte-level text")
        if left + right in vocab:
            ranks.setdefault((left, right), rank)
    special_texts = {tokens[i].decode("utf-8", "replace"): i for i in sorted(special)}
    if eos_tokens is None:
        eos = [special_texts[t] for t in _EOS_NAMES if t in special_texts]
    else:
        missing = [t for t in eos_tokens if t not in special_texts]
        if missing:
            raise TokenizerError(f"{name}: EOS tokens {missing} are not special tokens")
        eos = [special_texts[t] for t in eos_tokens]
    bos = next((special_texts[t] for t in _BOS_NAMES if t in special_texts), None)
    whole = bool(model.get("ignore_merges"))
    if byte_level:
        split = RegexSplitter(_split_name(obj.get("pre_tokenizer")))
        encoder = BPE(vocab, split, pair_ranks=ranks, whole_word_lookup=whole)
    else:
        encoder = BPE(
            vocab, split_on_spaces, symbols="chars", pair_ranks=ranks, whole_word_lookup=whole
        )
    return Tokenizer(
        tokens,
        encoder=encoder,
        kind="byte-bpe" if byte_level else "sentencepiece",
        name=os.path.basename(name),
        special_ids=special,
        eos_ids=eos,
        bos_id=bos,
        add_space_prefix=not byte_level and _prepends_space(obj),
    )


def _sentencepiece_bytes(text: str, is_byte: bool) -> bytes:
    if is_byte:
        return bytes((int(text[3:5], 16),))
    return text.replace("\u2581", " ").encode("utf-8")


def _prepends_space(obj: dict[str, Any]) -> bool:
    for c in _components(obj.get("normalizer")):
        if c.get("type") == "Prepend" and c.get("prepend") == "\u2581":
            return True
    for c in _components(obj.get("pre_tokenizer")):
        if c.get("type") == "Metaspace":
            scheme = c.get("prepend_scheme")
            return scheme in ("always", "first") if scheme else bool(c.get("add_prefix_space"))
    return False
