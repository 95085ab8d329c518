"""The token trie: every token's bytes as a path from the root, stored as flat arrays.

Tokens that share a prefix share the trie nodes of that prefix, so the mask walk of the
constraint engine visits each distinct prefix once per automaton state —
the idea behind the token tries of llguidance and XGrammar, here laid out for vectorised
level-by-level expansion: the children of node ``n`` are ``child_ids[child_ptr[n]:child_ptr[n+1]]``
(compressed sparse rows), so the children of a whole frontier are gathered in a few NumPy calls.

Special tokens, empty tokens and ids past the tokenizer's vocabulary are not in the trie. The
trie belongs to its tokenizer (:meth:`corral.Tokenizer.token_trie`, built once per tokenizer) and
is immutable: a frozen dataclass whose arrays are read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

__all__ = ["TokenTrie"]


T = TypeVar("T")


def _native_build() -> (
    Callable[..., tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, int]] | None
):
    try:
        from corral._native import trie_build
    except ImportError:  # pragma: no cover - depends on the build
        return None
    return trie_build


_NATIVE_BUILD = _native_build()


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class TokenTrie:
    """Flat, immutable token trie.

    Attributes
    ----------
    node_byte:
        ``uint8`` byte labelling the edge into each node (root: 0).
    child_ptr, child_ids:
        CSR children lists.
    n_children:
        Number of children per node.
    node_tok_ptr, node_tok_ids:
        CSR lists of the token ids ending at each node.
    token_node:
        Node where each token ends, ``-1`` for tokens outside the trie.
    vocab_size:
        Length of ``token_node``.
    max_depth:
        Length in bytes of the longest token in the trie.
    spellable:
        ``bool`` ``(256,)``: the byte values that occur in some token of the trie.
    single:
        ``bool`` ``(256,)``: the byte values that are a one-byte token of the trie.
    """

    node_byte: np.ndarray
    child_ptr: np.ndarray
    child_ids: np.ndarray
    n_children: np.ndarray
    node_tok_ptr: np.ndarray
    node_tok_ids: np.ndarray
    token_node: np.ndarray
    vocab_size: int
    max_depth: int
    spellable: np.ndarray
    single: np.ndarray

    @property
    def native_handle(self) -> object | None:
        """The native engine's copy of this trie, once made (``native_tables.native_trie``)."""
        return self.__dict__.get("_native_handle")

    def keep_native_handle(self, handle: object) -> None:
        """Keep the native engine's copy of this trie (made once per tokenizer)."""
        self.__dict__["_native_handle"] = handle

    @property
    def n_nodes(self) -> int:
        """Number of nodes, the root included."""
        return int(self.node_byte.shape[0])

    @classmethod
    def build(cls, token_bytes: Sequence[bytes], excluded: frozenset[int]) -> TokenTrie:
        """Build the trie of ``token_bytes`` (indexed by id), leaving out ``excluded`` ids.

        Native where the extension is built (:meth:`build_native`), else :meth:`build_py`.
        """
        if _NATIVE_BUILD is None:  # pragma: no cover - depends on the build
            return cls.build_py(token_bytes, excluded)
        return cls.build_native(token_bytes, excluded)

    @classmethod
    def build_native(cls, token_bytes: Sequence[bytes], excluded: frozenset[int]) -> TokenTrie:
        """:meth:`build_py` in C (``csrc/trie_build.c``, the GIL released): the same arrays.

        Raises
        ------
        TypeError
            If a token is not ``bytes``.
        """
        if _NATIVE_BUILD is None:  # pragma: no cover - depends on the build
            raise RuntimeError("corral._native is not built")
        vocab = len(token_bytes)
        skip = np.zeros(vocab, dtype=np.uint8)
        ids = [i for i in excluded if 0 <= i < vocab]
        skip[ids] = 1
        tokens = token_bytes if isinstance(token_bytes, (list, tuple)) else list(token_bytes)
        nb, cp, ci, nc, tp, ti, tn, max_depth = _NATIVE_BUILD(tokens, skip.tobytes())
        i64 = np.int64
        return cls._assemble(
            np.frombuffer(nb, dtype=np.uint8),
            np.frombuffer(cp, dtype=i64),
            np.frombuffer(ci, dtype=i64),
            np.frombuffer(nc, dtype=i64),
            np.frombuffer(tp, dtype=i64),
            np.frombuffer(ti, dtype=i64),
            np.frombuffer(tn, dtype=i64),
            int(max_depth),
        )

    @classmethod
    def build_py(cls, token_bytes: Sequence[bytes], excluded: frozenset[int]) -> TokenTrie:
        """Build the trie in plain Python (the specification of :meth:`build_native`).

        Tokens are sorted by their bytes (ties by id); each shares with the one before it the
        path of their common prefix and adds nodes for the rest, so nodes come in preorder.
        """
        vocab = len(token_bytes)
        order = sorted(
            (i for i in range(vocab) if i not in excluded and token_bytes[i]),
            key=token_bytes.__getitem__,
        )
        parents: list[int] = [0]
        bytes_: list[int] = [0]
        token_node = np.full(vocab, -1, dtype=np.int64)
        # stack of node ids along the previous token's path: stack[k] = node at depth k
        stack: list[int] = [0]
        prev = b""
        max_depth = 0
        for tok in order:
            data = token_bytes[tok]
            common = 0
            lim = min(len(prev), len(data))
            while common < lim and prev[common] == data[common]:
                common += 1
            del stack[common + 1 :]
            for k in range(common, len(data)):
                parents.append(stack[-1])
                bytes_.append(data[k])
                stack.append(len(parents) - 1)
            token_node[tok] = stack[len(data)]
            max_depth = max(max_depth, len(data))
            prev = data
        parent = np.array(parents, dtype=np.int64)
        n = parent.shape[0]
        child_counts = np.bincount(parent[1:], minlength=n)
        child_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(child_counts, out=child_ptr[1:])
        # nodes were created in sorted (pre-)order, so children are already grouped by parent
        # once stably sorted by parent id
        child_ids = np.argsort(parent[1:], kind="stable").astype(np.int64) + 1
        has = token_node >= 0
        tok_ids = np.nonzero(has)[0]
        tok_nodes = token_node[has]
        srt = np.argsort(tok_nodes, kind="stable")
        node_tok_ids = tok_ids[srt].astype(np.int64)
        tok_counts = np.bincount(tok_nodes, minlength=n)
        node_tok_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(tok_counts, out=node_tok_ptr[1:])
        return cls._assemble(
            np.array(bytes_, dtype=np.uint8),
            child_ptr,
            child_ids,
            child_counts.astype(np.int64),
            node_tok_ptr,
            node_tok_ids,
            token_node,
            max_depth,
        )

    @classmethod
    def _assemble(
        cls,
        node_byte: np.ndarray,
        child_ptr: np.ndarray,
        child_ids: np.ndarray,
        n_children: np.ndarray,
        node_tok_ptr: np.ndarray,
        node_tok_ids: np.ndarray,
        token_node: np.ndarray,
        max_depth: int,
    ) -> TokenTrie:
        spellable = np.zeros(256, dtype=bool)
        spellable[node_byte[1:]] = True
        roots = child_ids[child_ptr[0] : child_ptr[1]]
        tok_counts = np.diff(node_tok_ptr)
        single = np.zeros(256, dtype=bool)
        single[node_byte[roots[tok_counts[roots] > 0]]] = True
        return cls(
            node_byte=_frozen(node_byte),
            child_ptr=_frozen(child_ptr),
            child_ids=_frozen(child_ids),
            n_children=_frozen(n_children),
            node_tok_ptr=_frozen(node_tok_ptr),
            node_tok_ids=_frozen(node_tok_ids),
            token_node=_frozen(token_node),
            vocab_size=token_node.shape[0],
            max_depth=max_depth,
            spellable=_frozen(spellable),
            single=_frozen(single),
        )

    def child(self, node: int, b: int) -> int:
        """The child of ``node`` along byte ``b`` (binary search of its sorted children), or
        ``-1``."""
        child_ptr, child_ids, node_byte, _ = self.lists()
        lo, end = child_ptr[node], child_ptr[node + 1]
        hi = end
        while lo < hi:
            mid = (lo + hi) // 2
            if node_byte[child_ids[mid]] < b:
                lo = mid + 1
            else:
                hi = mid
        return child_ids[lo] if lo < end and node_byte[child_ids[lo]] == b else -1

    def lists(self) -> tuple[list[int], list[int], list[int], list[int]]:
        """``child_ptr``, ``child_ids``, ``node_byte``, ``n_children`` as Python lists, for
        levels walked in plain Python (the reference engine); made on first use and kept."""
        got: tuple[list[int], list[int], list[int], list[int]] | None = self.__dict__.get(
            "_py_lists"
        )
        if got is None:
            got = (
                self.child_ptr.tolist(),
                self.child_ids.tolist(),
                self.node_byte.tolist(),
                self.n_children.tolist(),
            )
            self.__dict__["_py_lists"] = got
        return got

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """A value derived from this trie's vocabulary, built on first use and kept with the
        trie (so shared by every grammar compiled for its tokenizer); ``build`` must be a pure
        function of the vocabulary. Two threads may both build it; either result is kept."""
        store: dict[Hashable, object] = self.__dict__.setdefault("_memo", {})
        got = store.get(key)
        if got is None:
            got = store[key] = build()
        return got  # type: ignore[return-value]

    def subset(self, ids: Iterable[int], token_bytes: Sequence[bytes]) -> TokenTrie:
        """The trie of the tokens ``ids`` alone (a narrowed vocabulary), with the same ids and
        ``vocab_size``; built over those tokens only, whose bytes ``token_bytes`` gives by id
        (the bytes this trie was built from). Ids outside the trie, such as special tokens, are
        left out.

        Raises
        ------
        TypeError, ValueError
            An id that is not an int, or out of ``[0, vocab_size)``.
        """
        wanted = set()
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"token ids are ints, not {type(i).__name__}")
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} is out of range [0, {self.vocab_size})")
            wanted.add(int(i))
        kept = np.array(sorted(i for i in wanted if self.token_node[i] >= 0), dtype=np.int64)
        small = TokenTrie.build([token_bytes[i] for i in kept.tolist()], frozenset())
        token_node = np.full(self.vocab_size, -1, dtype=np.int64)
        token_node[kept] = small.token_node
        return TokenTrie._assemble(
            small.node_byte.copy(),
            small.child_ptr.copy(),
            small.child_ids.copy(),
            small.n_children.copy(),
            small.node_tok_ptr.copy(),
            kept[small.node_tok_ids] if kept.shape[0] else small.node_tok_ids.copy(),
            token_node,
            small.max_depth,
        )

    def children(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Children of ``nodes`` and, for each child, the index of its parent in ``nodes``."""
        counts = self.n_children[nodes]
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        parent_idx = np.repeat(np.arange(nodes.shape[0]), counts)
        ends = np.cumsum(counts)
        offsets = np.arange(total) - np.repeat(ends - counts, counts)
        kids = self.child_ids[self.child_ptr[nodes][parent_idx] + offsets]
        return kids, parent_idx

    def tokens_at(self, nodes: np.ndarray) -> np.ndarray:
        """Token ids ending at any of ``nodes``."""
        counts = self.node_tok_ptr[nodes + 1] - self.node_tok_ptr[nodes]
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        idx = np.repeat(np.arange(nodes.shape[0]), counts)
        ends = np.cumsum(counts)
        offsets = np.arange(total) - np.repeat(ends - counts, counts)
        out: np.ndarray = self.node_tok_ids[self.node_tok_ptr[nodes][idx] + offsets]
        return out
