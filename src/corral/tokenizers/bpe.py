"""Byte-pair encoding of text with a fixed vocabulary and merge priorities.

The merge loop is standard BPE encoding (Sennrich, Haddow & Birch 2016, "Neural Machine
Translation of Rare Words with Subword Units"): start from the smallest symbols of a word and
repeatedly merge the adjacent pair with the best priority, the leftmost one on ties, until no pair
can be merged. Priorities come in two forms:

* *pair ranks* — the position of ``(left, right)`` in a merges list (GPT-2 / Hugging Face
  ``merges``, SentencePiece-style BPE exported with merges), lowest first;
* *token priorities* — a value per merged token: the rank of the concatenated bytes (tiktoken,
  whose ranks double as merge order) or minus the token score (SentencePiece BPE, Kudo &
  Richardson 2018, which merges the pair whose result has the highest score).

Everything works on bytes, so byte-level vocabularies (initial symbols: single bytes) and
SentencePiece vocabularies (initial symbols: UTF-8 characters, with ``▁`` already turned back into a
space) share one implementation. Symbols left without a token at the end are spelled with
single-byte tokens (the byte-fallback ``<0xXX>`` tokens of SentencePiece vocabularies).

The merge loop uses a heap over a linked list of symbols, so a word of ``n`` symbols costs
``O(n log n)``; results are cached per word.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

from corral.errors import TokenizerError

__all__ = ["BPE", "Encoder", "GreedyEncoder"]

_CACHE_LIMIT = 1 << 17


class Encoder(Protocol):
    """Anything that turns UTF-8 bytes into token ids (see :class:`BPE`)."""

    def encode(self, data: bytes) -> list[int]:
        """Encode ``data``; the tokens' bytes concatenate to ``data``."""
        ...


def _utf8_chars(word: bytes) -> list[bytes]:
    """Split into UTF-8 characters; bytes of invalid sequences become single-byte symbols."""
    return [ch.encode("utf-8", "surrogateescape") for ch in word.decode("utf-8", "surrogateescape")]


def _single_bytes(word: bytes) -> list[bytes]:
    return [word[i : i + 1] for i in range(len(word))]


class BPE:
    """BPE encoder over byte strings.

    Parameters
    ----------
    vocab:
        Token bytes to id, for the tokens encoding may produce (no special tokens). For bytes
        shared by several tokens, give the preferred id.
    split:
        Pre-tokenizer: splits the input into words whose pieces concatenate back to it.
    symbols:
        Initial symbols of a word: ``"bytes"`` (byte-level BPE) or ``"chars"`` (UTF-8
        characters, SentencePiece style).
    pair_ranks:
        Merge rank of ``(left, right)`` byte pairs, lowest merged first.
    token_priority:
        Priority of the token made by a merge, lowest merged first; used when ``pair_ranks`` is
        not given. A pair merges only when its concatenation has a priority.
    whole_word_lookup:
        Emit a word that is itself a token as that token, without merging (Hugging Face
        ``ignore_merges``).
    """

    def __init__(
        self,
        vocab: Mapping[bytes, int],
        split: Callable[[bytes], list[bytes]],
        *,
        symbols: Literal["bytes", "chars"] = "bytes",
        pair_ranks: Mapping[tuple[bytes, bytes], int] | None = None,
        token_priority: Mapping[bytes, float] | None = None,
        whole_word_lookup: bool = False,
    ) -> None:
        if pair_ranks is None and token_priority is None:
            raise ValueError("BPE needs pair_ranks or token_priority")
        self._vocab = vocab
        self._split = split
        self._initial = _single_bytes if symbols == "bytes" else _utf8_chars
        self._pair_ranks = pair_ranks
        self._token_priority = token_priority
        self._whole_word_lookup = whole_word_lookup
        self._cache: dict[bytes, tuple[int, ...]] = {}

    def encode(self, data: bytes) -> list[int]:
        """Encode UTF-8 (or arbitrary) bytes into token ids.

        Raises
        ------
        TokenizerError
            If a byte has no token at all, so the input cannot be spelled.
        """
        out: list[int] = []
        cache = self._cache
        for word in self._split(data):
            ids = cache.get(word)
            if ids is None:
                ids = self._encode_word(word)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[word] = ids
            out.extend(ids)
        return out

    def _priority(self, left: bytes, right: bytes) -> float | None:
        if self._pair_ranks is not None:
            return self._pair_ranks.get((left, right))
        assert self._token_priority is not None
        return self._token_priority.get(left + right)

    def _encode_word(self, word: bytes) -> tuple[int, ...]:
        if self._whole_word_lookup and word in self._vocab:
            return (self._vocab[word],)
        return self._spell(self._merge(self._initial(word)))

    def _merge(self, syms: list[bytes]) -> list[bytes]:
        n = len(syms)
        if n < 2:
            return syms
        nxt = [*range(1, n), -1]
        prev = list(range(-1, n - 1))
        heap: list[tuple[float, int, bytes, bytes]] = []
        for i in range(n - 1):
            p = self._priority(syms[i], syms[i + 1])
            if p is not None:
                heap.append((p, i, syms[i], syms[i + 1]))
        heapq.heapify(heap)
        while heap:
            _, i, left, right = heapq.heappop(heap)
            j = nxt[i]
            # Entries go stale when either side has merged since: symbols only ever grow.
            if j < 0 or syms[i] != left or syms[j] != right:
                continue
            merged = left + right
            syms[i] = merged
            syms[j] = b""
            k = nxt[j]
            nxt[i] = k
            if k >= 0:
                prev[k] = i
                p = self._priority(merged, syms[k])
                if p is not None:
                    heapq.heappush(heap, (p, i, merged, syms[k]))
            h = prev[i]
            if h >= 0:
                p = self._priority(syms[h], merged)
                if p is not None:
                    heapq.heappush(heap, (p, h, syms[h], merged))
        out: list[bytes] = []
        i = 0
        while i >= 0:
            out.append(syms[i])
            i = nxt[i]
        return out

    def _spell(self, syms: list[bytes]) -> tuple[int, ...]:
        vocab = self._vocab
        ids: list[int] = []
        for sym in syms:
            tid = vocab.get(sym)
            if tid is not None:
                ids.append(tid)
                continue
            for b in sym:
                tid = vocab.get(bytes((b,)))
                if tid is None:
                    raise TokenizerError(f"cannot encode byte 0x{b:02X}: no token spells it")
                ids.append(tid)
        return tuple(ids)


class GreedyEncoder:
    """Greedy longest-match encoder, for hand-made vocabularies without merges.

    At each position the longest token that matches the remaining input is taken.

    Parameters
    ----------
    vocab:
        Token bytes to id (no special tokens, no empty tokens).
    """

    def __init__(self, vocab: Mapping[bytes, int]) -> None:
        self._vocab = vocab
        self._lengths = sorted({len(b) for b in vocab if b}, reverse=True)

    def encode(self, data: bytes) -> list[int]:
        """Encode ``data``; raises :class:`TokenizerError` when some byte cannot be spelled."""
        out: list[int] = []
        vocab = self._vocab
        pos = 0
        n = len(data)
        while pos < n:
            for length in self._lengths:
                if pos + length <= n:
                    tid = vocab.get(data[pos : pos + length])
                    if tid is not None:
                        out.append(tid)
                        pos += length
                        break
            else:
                raise TokenizerError(
                    f"cannot encode byte 0x{data[pos]:02X} at offset {pos}: no token starts with it"
                )
        return out
