"""Read the tokenizer out of a GGUF model file.

The reader follows the GGUF specification (ggml, ``docs/gguf.md``): the file starts with the magic
``GGUF``, a ``u32`` version (2 or 3), a ``u64`` tensor count and a ``u64`` metadata count, all
little-endian; then come the metadata key/value pairs, each a string key (``u64`` length and
UTF-8 bytes), a ``u32`` value type and the value. Only the metadata is read; the tensor infos that
follow are not. Every length and count is checked against the bytes left in the file before
anything is allocated, so a truncated or hostile file fails fast with :class:`TokenizerError`.

The tokenizer keys (``tokenizer.ggml.*``) are interpreted as llama.cpp does: model ``"gpt2"`` is a
byte-level BPE vocabulary written with the GPT-2 byte-to-unicode table and ranked ``merges``;
model ``"llama"`` is a SentencePiece BPE vocabulary (``▁`` for space, ``<0xXX>`` byte-fallback
tokens, merges by token ``scores``). Token types 2 (unknown), 3 (control) and 5 (unused) are
special; user-defined tokens (type 4) are plain UTF-8 text (no byte-level or ``▁`` decoding), as
llama.cpp reads them. An unknown ``tokenizer.ggml.pre`` falls back to the GPT-2 split regex.
"""

from __future__ import annotations

import os
import re
import struct
from typing import Any, BinaryIO, TypeAlias, TypedDict

import numpy as np

from corral.errors import TokenizerError
from corral.tokenizers.base import Tokenizer
from corral.tokenizers.bpe import BPE
from corral.tokenizers.byte_level import from_byte_level_many
from corral.tokenizers.pretokenize import RegexSplitter, canonical_name, split_on_spaces

__all__ = ["GGUFValue", "load_gguf", "read_gguf_metadata"]

GGUFValue: TypeAlias = int | float | bool | str | list["GGUFValue"]

_MAGIC = b"GGUF"
_CHUNK = 1 << 20
_MAX_DEPTH = 4
_BOOL, _STRING, _ARRAY = 7, 8, 9
# value type -> (numpy dtype, size)
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("<u1", 1),
    1: ("<i1", 1),
    2: ("<u2", 2),
    3: ("<i2", 2),
    4: ("<u4", 4),
    5: ("<i4", 4),
    6: ("<f4", 4),
    7: ("<u1", 1),
    10: ("<u8", 8),
    11: ("<i8", 8),
    12: ("<f8", 8),
}
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED, _UNUSED, _BYTE = 1, 2, 3, 4, 5, 6
_SPECIAL_TYPES = frozenset({_UNKNOWN, _CONTROL, _UNUSED})
_U64 = struct.Struct("<Q")
_BYTE_TOKEN = re.compile(r"<0x([0-9A-Fa-f]{2})>")


class _Common(TypedDict):
    """Keyword arguments of :class:`Tokenizer` shared by both vocabulary kinds."""

    name: str
    special_ids: list[int]
    eos_ids: list[int]
    bos_id: int | None


class _Reader:
    """Sequential little-endian reads from a file, bounded by its size, loaded in chunks."""

    def __init__(self, f: BinaryIO, size: int, path: str) -> None:
        self._f = f
        self._size = size
        self._path = path
        self._buf = bytearray()
        self.pos = 0

    def left(self) -> int:
        return self._size - self.pos

    def check(self, n: int, what: str) -> None:
        if n > self.left():
            raise TokenizerError(
                f"{self._path}: malformed or truncated GGUF: {what} needs {n} bytes at offset "
                f"{self.pos}, only {self.left()} left in the file"
            )

    def _load(self, end: int) -> None:
        """Make ``self._buf`` hold the file up to ``end`` (already checked against the size)."""
        if end > len(self._buf):
            want = min(max(end - len(self._buf), _CHUNK), self._size - len(self._buf))
            self._buf += self._f.read(want)
            if end > len(self._buf):
                raise TokenizerError(f"{self._path}: GGUF file shrank while being read")

    def raw(self, n: int, what: str) -> bytes:
        self.check(n, what)
        end = self.pos + n
        self._load(end)
        out = bytes(self._buf[self.pos : end])
        self.pos = end
        return out

    def strings(self, count: int, what: str) -> list[str]:
        """Read ``count`` strings (the fast path for big arrays such as the vocabulary)."""
        self.check(count * 8, what)
        buf = self._buf
        size = self._size
        out: list[str] = []
        for _ in range(count):
            start = self.pos + 8
            if start > size:
                self.check(8, what)
            if start > len(buf):
                self._load(start)
            end = start + _U64.unpack_from(buf, self.pos)[0]
            if end > size:
                self.pos = start
                self.check(end - start, what)
            if end > len(buf):
                self._load(end)
            out.append(buf[start:end].decode("utf-8", "surrogateescape"))
            self.pos = end
        return out

    def u32(self, what: str) -> int:
        v: int = struct.unpack("<I", self.raw(4, what))[0]
        return v

    def u64(self, what: str) -> int:
        v: int = struct.unpack("<Q", self.raw(8, what))[0]
        return v

    def string(self, what: str) -> str:
        return self.raw(self.u64(what), what).decode("utf-8", "surrogateescape")

    def value(self, vtype: int, what: str, depth: int = 0) -> GGUFValue:
        if vtype == _STRING:
            return self.string(what)
        if vtype in _SCALARS:
            dtype, size = _SCALARS[vtype]
            scalar: int | float = np.frombuffer(self.raw(size, what), dtype=dtype)[0].item()
            return bool(scalar) if vtype == _BOOL else scalar
        if vtype != _ARRAY:
            raise TokenizerError(f"{self._path}: unknown GGUF value type {vtype} for {what}")
        if depth >= _MAX_DEPTH:
            raise TokenizerError(f"{self._path}: GGUF arrays nested too deep in {what}")
        etype = self.u32(what)
        count = self.u64(what)
        if etype in _SCALARS:
            dtype, size = _SCALARS[etype]
            items: list[GGUFValue] = np.frombuffer(self.raw(count * size, what), dtype).tolist()
            return [bool(x) for x in items] if etype == _BOOL else items
        if etype not in (_STRING, _ARRAY):
            raise TokenizerError(f"{self._path}: unknown GGUF array type {etype} in {what}")
        if etype == _STRING:
            return list(self.strings(count, what))
        # A nested array takes at least 12 bytes (its type and count).
        self.check(count * 12, what)
        return [self.value(_ARRAY, what, depth + 1) for _ in range(count)]


def read_gguf_metadata(path: str | os.PathLike[str]) -> dict[str, GGUFValue]:
    """Read the metadata key/value pairs of a GGUF file (not the tensors).

    Parameters
    ----------
    path:
        The ``.gguf`` file.

    Returns
    -------
    dict[str, GGUFValue]
        Keys to values: ints, floats, bools, strings and (nested) lists. Strings are decoded
        as UTF-8 with ``surrogateescape``, so invalid bytes survive a round trip.

    Raises
    ------
    TokenizerError
        If the file is not GGUF version 2 or 3, or is truncated or inconsistent.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            r = _Reader(f, size, name)
            if size < 4 or r.raw(4, "magic") != _MAGIC:
                raise TokenizerError(f"{name}: not a GGUF file (bad magic)")
            version = r.u32("version")
            if version not in (2, 3):
                raise TokenizerError(
                    f"{name}: unsupported GGUF version {version} (supported: 2 and 3, "
                    "little-endian)"
                )
            tensor_count = r.u64("tensor count")
            kv_count = r.u64("metadata count")
            # A metadata pair takes at least 12 bytes, a tensor info at least 24.
            if kv_count > r.left() // 12 or tensor_count > r.left() // 24:
                raise TokenizerError(
                    f"{name}: GGUF header declares {kv_count} metadata pairs and {tensor_count} "
                    f"tensors, more than the {size}-byte file can hold"
                )
            meta: dict[str, GGUFValue] = {}
            for _ in range(kv_count):
                key = r.string("metadata key")
                meta[key] = r.value(r.u32(key), key)
            return meta
    except OSError as exc:
        raise TokenizerError(f"{name}: cannot read GGUF file: {exc}") from None


def _int(meta: dict[str, GGUFValue], key: str, path: str) -> int | None:
    v = meta.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise TokenizerError(f"{path}: GGUF key {key} should be an integer, not {v!r}")
    return v


def _list(meta: dict[str, GGUFValue], key: str, path: str, types: tuple[type, ...]) -> list[Any]:
    v = meta.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, types) for x in v):
        raise TokenizerError(f"{path}: GGUF key {key} should be a list of {types[0].__name__}")
    return v


def load_gguf(path: str | os.PathLike[str]) -> Tokenizer:
    """Build a :class:`Tokenizer` from the ``tokenizer.ggml.*`` metadata of a GGUF file.

    Parameters
    ----------
    path:
        The ``.gguf`` model file.

    Returns
    -------
    Tokenizer
        ``kind`` is ``"byte-bpe"`` for ``tokenizer.ggml.model == "gpt2"`` and
        ``"sentencepiece"`` for ``"llama"``. EOS ids are ``eos_token_id`` and, when present,
        ``eot_token_id``.

    Raises
    ------
    TokenizerError
        If the file is malformed, has no vocabulary, or uses another tokenizer model.
    """
    name = os.fspath(path)
    meta = read_gguf_metadata(name)
    model = meta.get("tokenizer.ggml.model")
    texts: list[str] = _list(meta, "tokenizer.ggml.tokens", name, (str,))
    if not texts:
        raise TokenizerError(f"{name}: GGUF file has no tokenizer.ggml.tokens")
    types: list[int] = _list(meta, "tokenizer.ggml.token_type", name, (int,))
    if types and len(types) != len(texts):
        raise TokenizerError(f"{name}: {len(types)} token types for {len(texts)} tokens")
    typed = bool(types)
    if not typed:
        types = [_NORMAL] * len(texts)
    eos = [_int(meta, f"tokenizer.ggml.{k}_token_id", name) for k in ("eos", "eot")]
    unknown = _int(meta, "tokenizer.ggml.unknown_token_id", name)
    special = [i for i, t in enumerate(types) if t in _SPECIAL_TYPES]
    common = _Common(
        name=os.path.basename(name),
        special_ids=special if unknown is None else [*special, unknown],
        eos_ids=[i for i in eos if i is not None],
        bos_id=_int(meta, "tokenizer.ggml.bos_token_id", name),
    )
    if model == "gpt2":
        return _byte_level(meta, name, texts, types, common)
    if model == "llama":
        return _sentencepiece(meta, name, texts, types, typed, common)
    raise TokenizerError(
        f"{name}: unsupported GGUF tokenizer model {model!r} (supported: 'gpt2', 'llama')"
    )


def _excluded(common: _Common) -> set[int]:
    """Ids the encoder must never produce: special, EOS and BOS tokens."""
    out = {*common["special_ids"], *common["eos_ids"]}
    if common["bos_id"] is not None:
        out.add(common["bos_id"])
    return out


def _byte_level(
    meta: dict[str, GGUFValue], name: str, texts: list[str], types: list[int], common: _Common
) -> Tokenizer:
    tokens: list[bytes] = []
    vocab: dict[bytes, int] = {}
    converted = from_byte_level_many(texts)
    excluded = _excluded(common)
    for i, (text, t) in enumerate(zip(texts, types, strict=True)):
        data = None if t in _SPECIAL_TYPES or t == _USER_DEFINED else converted[i]
        if data is None:
            data = text.encode("utf-8", "surrogateescape")
        tokens.append(data)
        if data and i not in excluded:
            vocab.setdefault(data, i)
    ranks: dict[tuple[bytes, bytes], int] = {}
    lines: list[str] = _list(meta, "tokenizer.ggml.merges", name, (str,))
    halves: list[str] = []
    for rank, line in enumerate(lines):
        parts = line.split(" ")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise TokenizerError(f"{name}: malformed merge {rank}: {line!r}")
        halves += parts
    pairs = from_byte_level_many(halves)
    for rank in range(len(lines)):
        left, right = pairs[2 * rank], pairs[2 * rank + 1]
        if left is None or right is None:
            raise TokenizerError(f"{name}: merge {rank} is not byte-level text: {lines[rank]!r}")
        if left + right in vocab:
            ranks.setdefault((left, right), rank)
    pre = meta.get("tokenizer.ggml.pre", "default")
    splitter = RegexSplitter((isinstance(pre, str) and canonical_name(pre)) or "gpt2")
    encoder = BPE(vocab, splitter, pair_ranks=ranks)
    return Tokenizer(tokens, encoder=encoder, kind="byte-bpe", **common)


def _sentencepiece(
    meta: dict[str, GGUFValue],
    name: str,
    texts: list[str],
    types: list[int],
    typed: bool,
    common: _Common,
) -> Tokenizer:
    scores: list[float] = _list(meta, "tokenizer.ggml.scores", name, (float, int))
    if scores and len(scores) != len(texts):
        raise TokenizerError(f"{name}: {len(scores)} token scores for {len(texts)} tokens")
    tokens: list[bytes] = []
    vocab: dict[bytes, int] = {}
    byte_ids: dict[bytes, int] = {}
    priority: dict[bytes, float] = {}
    excluded = _excluded(common)
    for i, (text, t) in enumerate(zip(texts, types, strict=True)):
        m = _BYTE_TOKEN.fullmatch(text)
        if t == _BYTE or (not typed and m):
            if m is None:
                raise TokenizerError(f"{name}: byte token {i} is {text!r}, not <0xXX>")
            data = bytes((int(m.group(1), 16),))
            if i not in excluded:
                byte_ids.setdefault(data, i)
        else:
            plain = t in _SPECIAL_TYPES or t == _USER_DEFINED
            data = (text if plain else text.replace("\u2581", " ")).encode(
                "utf-8", "surrogateescape"
            )
            if data and i not in excluded:
                vocab.setdefault(data, i)
                priority.setdefault(data, -float(scores[i]) if scores else 0.0)
        tokens.append(data)
    for data, i in byte_ids.items():
        vocab.setdefault(data, i)
    prefix = meta.get("tokenizer.ggml.add_space_prefix", True)
    encoder = BPE(vocab, split_on_spaces, symbols="chars", token_priority=priority)
    return Tokenizer(
        tokens, encoder=encoder, kind="sentencepiece", add_space_prefix=bool(prefix), **common
    )
