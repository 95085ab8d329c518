"""Type stub of the C extension ``corral.constraint_engine._native``."""

from collections.abc import Iterable, Sequence
from typing import SupportsIndex

from typing_extensions import Buffer

def apply_token_bitmask_inplace(
    logits: Buffer,
    bitmask: Buffer,
    *,
    vocab_size: SupportsIndex | None = None,
    indices: Iterable[SupportsIndex] | None = None,
) -> None:
    """Set the logits of tokens whose bit is 0 in the packed bitmask to ``-inf``, in place."""

def lexer_product(tables: Sequence[Buffer], max_states: int) -> tuple[bytes, bytes, int] | None:
    """Product automaton of int32 ``(n_states, 256)`` byte DFAs: ``(table, tuples, n_states)``
    as int32 bytes, or ``None`` past ``max_states`` (several tables only)."""

def trie_walk(
    child_ptr: Buffer,
    child_ids: Buffer,
    node_byte: Buffer,
    node_tok_ptr: Buffer,
    node_tok_ids: Buffer,
    vocab_size: int,
    table: Buffer,
    accepting: Buffer,
    start: int,
) -> tuple[bytes, bytes, bytes, bytes]:
    """A byte automaton stepped from ``start`` down the whole token trie: ``(allowed,
    done_nodes, done_states, level_ends)``, one byte per token, then int64 bytes."""

def minimize(table: Buffer, accepting: Buffer, max_rounds: int) -> tuple[bytes, bytes, int]:
    """Trim and minimise an int32 ``(n, 256)`` byte DFA: ``(table, accepting, n_states)``."""
