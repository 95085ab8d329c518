"""Type stub of the C extension ``corral.constraint_engine._native``."""

from collections.abc import Iterable, Sequence
from typing import Literal, SupportsIndex, overload

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

@overload
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
    moves: Literal[False] = False,
    node: int = 0,
) -> tuple[bytes, bytes, bytes, bytes]:
    """A byte automaton stepped from ``start`` down the token trie below ``node`` (the root:
    all of it): ``(allowed, done_nodes, done_states, level_ends)``, one byte per token, then
    int64 bytes."""

@overload
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
    moves: Literal[True],
    node: int = 0,
) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, int]:
    """With ``moves``: ``allowed`` empty, then ``end_nodes, group_states, group_ends`` (int64
    bytes: the nodes where tokens end, grouped by state) and the work."""

def minimize(table: Buffer, accepting: Buffer) -> tuple[bytes, bytes, int]:
    """Trim and minimise an int32 ``(n, 256)`` byte DFA (Hopcroft's refinement):
    ``(table, accepting, n_states)``."""

def byte_classes(table: Buffer, n_states: int) -> bytes:
    """The class of each byte (256 bytes): equal columns of an int32 ``(n_states, 256)`` table,
    classes numbered by their first byte."""

def dfa_product(
    ta: Buffer, na: int, tb: Buffer, nb: int, n_classes: int, mode: int, max_states: int
) -> tuple[bytes, bytes, bytes, int] | None:
    """Reachable product of two int32 class tables (mode 0 and, 1 or, 2 minus): ``(table,
    xs, ys, n_states)`` as int32 bytes, or ``None`` past ``max_states``."""

def subset_construct(
    eps_ptr: Buffer,
    eps_ids: Buffer,
    edge_ptr: Buffer,
    edge_k0: Buffer,
    edge_k1: Buffer,
    edge_t: Buffer,
    span_lo: Buffer,
    initial: int,
    final: int,
    max_states: int,
    deadline: float,
) -> tuple[bytes, bytes, int] | int:
    """The subset construction of an NFA over byte intervals: ``(table, accepting,
    n_states)`` (int32 ``(n_states, 256)`` and flag bytes), or ``-2`` past ``max_states``,
    ``-3`` past ``deadline`` (the thread's CPU time; negative: none)."""

def trie_build(
    tokens: Sequence[bytes], excluded: Buffer
) -> tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, int]:
    """The token trie of ``tokens`` without the ids flagged in ``excluded`` (one byte each):
    ``node_byte``, ``child_ptr``, ``child_ids``, ``n_children``, ``node_tok_ptr``,
    ``node_tok_ids``, ``token_node`` (uint8 / int64 bytes) and ``max_depth``."""

def engine_trie(
    child_ptr: bytes,
    child_ids: bytes,
    node_byte: bytes,
    node_tok_ptr: bytes,
    node_tok_ids: bytes,
    vocab_size: int,
    cache_bytes: int,
) -> object:
    """The native engine's token trie (int32 CSR bytes, nodes in preorder), a capsule, with
    its root-walk cache bounded by ``cache_bytes``."""

def engine_grammar(
    trie: object,
    n_terms: int,
    n_nts: int,
    final_dotted: int,
    dotted_next: bytes,
    dotted_lhs: bytes,
    pred_ptr: bytes,
    pred_ids: bytes,
    nullable: bytes,
    ignore: bytes,
    dfa_base: bytes,
    n_classes: bytes,
    classes: bytes,
    table: bytes,
    accept: bytes,
    vocab_size: int,
    uq_term: bytes,
    uq_count: bytes,
    wclass: bytes,
) -> object:
    """The native tables of a compiled grammar, checked and copied, a capsule (``uq_term``:
    uint8 per terminal, 1 for unique-item terminals; ``uq_count``: int32 per automaton state,
    the capped continuation counts; ``wclass``: int32 per automaton state, its depth class,
    the key of its root walk)."""

def engine_uq_candidates(matcher: object) -> bytes:
    """The unique-item mask candidates (int32 token ids, ascending): tokens that run the current
    array item along an earlier item's text to a risky point, and every token below it."""

def engine_fill(matcher: object, row: object, eos: bytes) -> None:
    """Write the mask into ``row`` (writable, C-contiguous, aligned int32, at least the
    vocabulary's words), with the int32 end-of-sequence ids ``eos`` where it accepts."""

def engine_fill_at(matcher: object, bitmask: object, index: object, eos: bytes) -> bool:
    """:func:`engine_fill` on row ``index`` of a 1-D or 2-D int32 array, checked natively;
    ``False`` (nothing written) when the array or index is not of that plain kind."""

def engine_memory(grammar: object) -> tuple[int, int]:
    """Bytes of a native grammar's tables and of its trie's root-walk cache (shared)."""

def engine_matcher(grammar: object) -> object:
    """A new native matcher (a capsule) in its initial state."""

def engine_reset(matcher: object) -> None:
    """Back to the initial state."""

def engine_state(matcher: object) -> tuple[int, bool]:
    """``(positions, accepting)``: bytes consumed + 1, and whether they are complete."""

def engine_sizes(matcher: object) -> tuple[int, int, int]:
    """``(sets, items, threads)``: the Earley sets and items on the matcher's stacks, and the
    lexer threads alive at its current position."""

def engine_feed(matcher: object, data: bytes, max_work: int) -> tuple[int, int]:
    """Push bytes while they extend the input: ``(pushed, work)``, ``work`` the steps of the
    Earley set over ``max_work`` that stopped it, or -1."""

def engine_truncate(matcher: object, n_positions: int) -> None:
    """Drop the positions from ``n_positions`` on."""

def engine_mask(matcher: object) -> bytes:
    """The allowed-token bitmask (uint32 words as bytes; end of sequence not included)."""

def engine_mask_batch(matchers: Sequence[object], n_threads: int) -> list[bytes]:
    """The masks of distinct matchers, on up to ``n_threads`` native threads."""

def engine_forced(matcher: object, limit: int) -> bytes:
    """The bytes every continuation takes next (at most ``limit``)."""
