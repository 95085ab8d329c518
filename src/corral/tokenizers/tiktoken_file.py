"""Load tiktoken BPE files.

A tiktoken file (the format of OpenAI's ``tiktoken`` library, also used by Qwen) has one line per
token: the token's bytes in base64, a space, and its rank. Ranks are the token ids and also the
merge order: BPE (Sennrich et al. 2016) merges, at each step, the adjacent pair whose
concatenation has the lowest rank. Special tokens are not in the file; their ids are given by the
caller. Text is pre-tokenized with a regex (:mod:`corral.tokenizers.pretokenize`), cl100k-style
by default.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence

from corral.errors import TokenizerError
from corral.tokenizers.base import Tokenizer
from corral.tokenizers.bpe import BPE
from corral.tokenizers.pretokenize import RegexSplitter, canonical_name

__all__ = ["DEFAULT_EOS_TOKENS", "MAX_FILE_BYTES", "load_tiktoken"]

#: Refuse files larger than this (the largest real vocabularies are a few MB).
MAX_FILE_BYTES = 256 << 20
#: EOS tokens used when the caller names none (those present among the special tokens).
DEFAULT_EOS_TOKENS = ("<|endoftext|>", "<|im_end|>")
# Ids beyond the entries may be unused, but not wildly so: a guard against absurd ranks.
_MAX_GAP = 1 << 16


def load_tiktoken(
    path: str | os.PathLike[str],
    special_tokens: dict[str, int] | None = None,
    eos_tokens: Sequence[str] | None = None,
    *,
    pretokenizer: str = "cl100k",
) -> Tokenizer:
    """Build a :class:`Tokenizer` from a tiktoken file.

    Parameters
    ----------
    path:
        The ``.tiktoken`` file.
    special_tokens:
        Special token text to id; ids must not collide with ranks in the file.
    eos_tokens:
        Names (keys of ``special_tokens``) of the EOS tokens; by default those of
        :data:`DEFAULT_EOS_TOKENS` that are present.
    pretokenizer:
        Pre-tokenizer name (see :data:`corral.tokenizers.pretokenize.PATTERNS`), e.g.
        ``"cl100k"`` or ``"qwen2"``.

    Returns
    -------
    Tokenizer
        A ``"byte-bpe"`` tokenizer. Ids used by neither the file nor ``special_tokens`` are
        empty and special.

    Raises
    ------
    TokenizerError
        On an unreadable or malformed file (bad base64, bad rank, duplicates), colliding or
        unknown special tokens, or an unknown pre-tokenizer.
    """
    name = os.fspath(path)
    specials = dict(special_tokens or {})
    if canonical_name(pretokenizer) is None:
        raise TokenizerError(f"unknown pre-tokenizer {pretokenizer!r}")
    try:
        size = os.path.getsize(name)
        if size > MAX_FILE_BYTES:
            raise TokenizerError(f"{name}: {size} bytes is too large for a tiktoken file")
        with open(name, "rb") as f:
            content = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokenizerError(f"{name}: cannot read tiktoken file: {exc}") from None
    ranks = _parse(content, name)
    if not ranks:
        raise TokenizerError(f"{name}: tiktoken file has no tokens")
    by_id = {rank: token for token, rank in ranks.items()}
    for text, tid in specials.items():
        if isinstance(tid, bool) or not isinstance(tid, int) or tid < 0:
            raise TokenizerError(f"special token {text!r} has invalid id {tid!r}")
        if tid in by_id:
            raise TokenizerError(f"special token {text!r} id {tid} is also a rank in {name}")
    if len(set(specials.values())) != len(specials):
        raise TokenizerError("two special tokens share an id")
    used = len(by_id) + len(specials)
    size_ids = max([*by_id, *specials.values()]) + 1
    if size_ids > used + _MAX_GAP:
        raise TokenizerError(f"{name}: ids reach {size_ids - 1} but only {used} are defined")
    tokens = [b""] * size_ids
    for tid, token in by_id.items():
        tokens[tid] = token
    for text, tid in specials.items():
        try:
            tokens[tid] = text.encode("utf-8")
        except UnicodeEncodeError:
            raise TokenizerError(f"special token {text!r} is not valid Unicode") from None
    if eos_tokens is None:
        eos_names = [t for t in DEFAULT_EOS_TOKENS if t in specials]
    else:
        eos_names = list(eos_tokens)
        missing = [t for t in eos_names if t not in specials]
        if missing:
            raise TokenizerError(f"EOS tokens {missing} are not among the special tokens")
    encoder = BPE(ranks, RegexSplitter(pretokenizer), token_priority=ranks)
    return Tokenizer(
        tokens,
        encoder=encoder,
        kind="byte-bpe",
        name=os.path.basename(name),
        special_ids=specials.values(),
        eos_ids=[specials[t] for t in eos_names],
    )


def _parse(content: bytes, name: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    seen: set[int] = set()
    for lineno, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise TokenizerError(
                f"{name}:{lineno}: expected 'base64-token rank', got {line[:80]!r}"
            )
        try:
            token = base64.b64decode(parts[0], validate=True)
        except (binascii.Error, ValueError):
            raise TokenizerError(f"{name}:{lineno}: bad base64 token {parts[0][:80]!r}") from None
        if not parts[1].isdigit() or len(parts[1]) > 12:
            raise TokenizerError(f"{name}:{lineno}: bad rank {parts[1][:80]!r}")
        rank = int(parts[1])
        if not token:
            raise TokenizerError(f"{name}:{lineno}: empty token")
        if token in ranks or rank in seen:
            raise TokenizerError(f"{name}:{lineno}: duplicate token or rank {rank}")
        ranks[token] = rank
        seen.add(rank)
    return ranks
