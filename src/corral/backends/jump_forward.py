"""Jump-forward: the tokens that forced bytes determine, and the token boundary rule.

Where the grammar leaves only one way to continue (:meth:`corral.Matcher.forced_bytes`), the
decoder evaluates those bytes' tokens as one batch instead of sampling them one by one
(SGLang's "jump-forward decoding"; llguidance's "fast-forward tokens").

**The token boundary rule.** The forced bytes ``f`` are tokenized canonically,
``t_1 … t_n = encode(f)``. The model picks the bytes *after* ``f``, and a longer token may
start inside ``f`` and run past its end: in JSON, after the forced ``"name`` the model may
well write ``":`` with the single token ``":``, and BPE would have spelt ``name":`` with other
tokens than ``name`` + ``":``. So the decoder keeps only ``t_1 … t_{i-1}``, where ``i`` is the
first token whose start begins a *proper prefix of some vocabulary token* when read to the end
of ``f``: from there on a token boundary is the model's choice, not the grammar's. The rest of
``f`` is then sampled under the mask as usual (it is still forced, byte for byte). Forced bytes
never move the boundary *before* ``f``: the token sampled just before stays as it was
(``docs/design/generation.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corral.tokenizers import Tokenizer

__all__ = ["TokenBoundary"]


class TokenBoundary:
    """The proper prefixes of a tokenizer's tokens, and the forced tokens they allow.

    Built once per tokenizer (about 0.2 s and 20 MB for a 49k vocabulary); hold on to it.

    Parameters
    ----------
    tokenizer:
        The tokenizer of the model being decoded.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        special = tokenizer.special_token_ids
        prefixes: set[bytes] = set()
        for i, data in enumerate(tokenizer.all_token_bytes()):
            if i not in special:
                prefixes.update(data[:k] for k in range(1, len(data)))
        self._extendable = frozenset(prefixes)

    def extendable(self, data: bytes) -> bool:
        """Whether ``data`` is a proper prefix of a token of the vocabulary."""
        return data in self._extendable

    def forced_tokens(self, forced: bytes) -> list[int]:
        """The tokens of ``forced`` that are safe to evaluate without sampling (module doc)."""
        if not forced:
            return []
        tokens = self.tokenizer.encode(forced)
        start = 0
        for k, token in enumerate(tokens):
            if self.extendable(forced[start:]):
                return tokens[:k]
            start += len(self.tokenizer.token_bytes(token))
        return tokens
