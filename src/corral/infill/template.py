"""Templates — fixed parts and holes — as the automaton the infilling check reads.

A template ``x0 H x1 H … xn`` (fixed byte strings ``xi``, holes ``H``) denotes a regular language
of completions. :func:`pattern_of` builds its automaton, with ε-moves closed inside
:meth:`Pattern.step`:

* a *chain* of states along the fixed bytes (a fixed byte leads a chain state to the next);
* ``Hole()`` — any bytes — is a *loop* on the chain state where it stands (every byte leads back
  to it), so consecutive such holes are one loop;
* ``Hole(tokens=n)`` — exactly ``n`` vocabulary tokens — is ``n`` copies of the token trie
  between two chain states: state ``(j, node)`` has read ``j`` whole tokens and the bytes of
  ``node``; a byte follows the trie edge; a node where a token ends moves by ε to ``(j + 1,
  root)``, the ``n``-th to the chain state after the hole. ``Hole(max_tokens=n)`` also leaves by
  ε from every ``(j, root)``: any number of tokens up to ``n``.

Trie states are numbered ``base + j * nodes + node`` per hole; the chain comes first. Special
tokens (end of sequence included) are not in the trie, so no hole takes one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from corral.constraint_engine.compiler import CompiledGrammar
from corral.limits import Limits
from corral.tokenizers.token_trie import TokenTrie

__all__ = ["MAX_HOLE_TOKENS", "Hole", "Pattern", "TokenText", "pattern_of", "resolve_tokens"]

MAX_HOLE_TOKENS = 4096
"""The largest ``tokens`` / ``max_tokens`` of one hole."""


@dataclass(frozen=True)
class Hole:
    """A gap: any bytes (the default), exactly ``tokens`` vocabulary tokens, or at most
    ``max_tokens`` of them."""

    tokens: int | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("tokens", "max_tokens"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
                raise TypeError(f"Hole({name}=...) must be an int, not {type(v).__name__}")
            if v is not None and not 0 <= v <= MAX_HOLE_TOKENS:
                raise ValueError(f"Hole({name}={v}): must be between 0 and {MAX_HOLE_TOKENS}")
        if self.tokens is not None and self.max_tokens is not None:
            raise ValueError("Hole takes tokens= or max_tokens=, not both")


Part = bytes | str | Hole | list[int] | tuple[int, ...]
"""A template part: fixed bytes or text, a hole, or fixed token ids (a list or tuple)."""


class TokenText(bytes):
    """The bytes of fixed token ids (they may cut UTF-8 characters, as token bytes do)."""


def resolve_tokens(template: Sequence[Part], compiled: CompiledGrammar) -> list[Part]:
    """``template`` with each part of token ids replaced by its bytes (:class:`TokenText`).

    Raises
    ------
    TypeError
        A token id that is not an int.
    ValueError
        A token id out of the vocabulary's range, or of a special token (end of sequence
        included: a template's fixed text is text).
    """
    if isinstance(template, (bytes, str, Hole)):
        raise TypeError("a template is a sequence of parts (bytes, str or Hole), not one part")
    out: list[Part] = []
    for k, part in enumerate(template):
        if not isinstance(part, (list, tuple)):
            out.append(part)
            continue
        data = bytearray()
        for t in part:
            if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
                raise TypeError(f"template part {k}: token ids are ints, not {type(t).__name__}")
            got = compiled.token_bytes(int(t)) if 0 <= t < compiled.vocab_size else None
            if got is None:
                raise ValueError(
                    f"template part {k}: token id {t} is not a text token of the vocabulary "
                    f"(out of [0, {compiled.vocab_size}) or special)"
                )
            data += got
        out.append(TokenText(data))
    return out


@dataclass(frozen=True)
class _TokenHole:
    base: int  # its first trie state
    slots: int  # n
    exit: int  # the chain state after it
    at_most: bool
    trie: TokenTrie = field(compare=False)  # the tokens that fill it
    nodes: int = field(init=False, repr=False, compare=False)  # its trie's nodes (per copy)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", self.trie.n_nodes)


@dataclass(frozen=True)
class Pattern:
    """A template's automaton (see the module docstring).

    Attributes
    ----------
    chain_byte:
        Per chain state, the fixed byte leading to the next chain state (``-1``: none).
    loop:
        Per chain state, whether every byte leads back to it (a ``Hole()`` stands there).
    token_holes:
        The token-count holes, in order.
    trie:
        The vocabulary's trie (token holes have their own: this one or a narrowed one).
    """

    chain_byte: tuple[int, ...]
    loop: tuple[bool, ...]
    token_holes: tuple[_TokenHole, ...]
    trie: TokenTrie

    entries: dict[int, _TokenHole] = field(init=False, repr=False, compare=False)
    """Chain state -> the token hole that starts there."""
    bases: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """Each token hole's first trie state, in order (to find a state's hole by bisection)."""
    _closures: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _steps: dict[tuple[int, int], tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _roots: dict[int, tuple[int, int] | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", {h.exit - 1: h for h in self.token_holes})
        object.__setattr__(self, "bases", tuple(h.base for h in self.token_holes))
        object.__setattr__(self, "_closures", {})
        object.__setattr__(self, "_steps", {})
        object.__setattr__(self, "_roots", {})

    @property
    def final(self) -> int:
        """The accepting state (the end of the chain)."""
        return len(self.chain_byte) - 1

    def _hole_of(self, r: int) -> _TokenHole:
        return self.token_holes[bisect_right(self.bases, r) - 1]

    def closure(self, r: int) -> tuple[int, ...]:
        """``r`` and the states ε-moves lead it to (kept once found)."""
        if r < len(self.chain_byte) and r not in self.entries:
            return (r,)  # a chain state no hole starts at: no ε-move
        got = self._closures.get(r)
        if got is None:
            got = self._closures[r] = self._closure(r)
        return got

    def _closure(self, r: int) -> tuple[int, ...]:
        out = [r]
        seen = {r}
        i = 0
        n_chain = len(self.chain_byte)
        while i < len(out):
            s = out[i]
            i += 1
            nxt: list[int] = []
            if s < n_chain:
                h = self.entries.get(s)
                if h is not None:
                    nxt.append(h.base if h.slots else h.exit)
                    if h.at_most:
                        nxt.append(h.exit)
            else:
                h = self._hole_of(s)
                nodes, ptr = h.nodes, h.trie.node_tok_ptr
                j, node = divmod(s - h.base, nodes)
                if node == 0 and h.at_most:
                    nxt.append(h.exit)
                if node != 0 and ptr[node + 1] > ptr[node]:
                    nxt.append(h.base + (j + 1) * nodes if j + 1 < h.slots else h.exit)
            for q in nxt:
                if q not in seen:
                    seen.add(q)
                    out.append(q)
        return tuple(out)

    def root_move(self, r: int) -> tuple[int, int] | None:
        """For a trie root state ``(j, root)`` of a token hole (a token boundary): the state a
        whole token leads to (before ε-moves) and the state number of ``(j, root)``'s trie
        copy's root, so that ``copy + node`` is ``(j, node)``; ``None`` for other states."""
        if r < len(self.chain_byte):
            return None
        got = self._roots.get(r, False)
        if got is not False:
            return got  # type: ignore[return-value]
        h = self._hole_of(r)
        nodes = h.nodes
        j, node = divmod(r - h.base, nodes)
        got = None if node else ((h.base + (j + 1) * nodes if j + 1 < h.slots else h.exit), r)
        self._roots[r] = got
        return got

    def candidates(self, r: int, live: Sequence[int]) -> Sequence[int]:
        """The bytes that may leave state ``r`` among ``live`` (an automaton's live bytes):
        all of them at a loop, the next fixed byte on the chain, the children's bytes in a
        trie (whichever list is shorter is read)."""
        if r < len(self.chain_byte):
            if self.loop[r]:
                return live
            b = self.chain_byte[r]
            return (b,) if b >= 0 else ()
        h = self._hole_of(r)
        node = (r - h.base) % h.nodes
        child_ptr, child_ids, node_byte, _ = h.trie.lists()
        return [node_byte[c] for c in child_ids[child_ptr[node] : child_ptr[node + 1]]]

    def step(self, r: int, b: int) -> tuple[int, ...]:
        """The states byte ``b`` leads state ``r`` to, ε-moves after it included (kept once
        found)."""
        if r < len(self.chain_byte) and not self.loop[r]:
            return self.closure(r + 1) if self.chain_byte[r] == b else ()
        got = self._steps.get((r, b))
        if got is None:
            got = self._steps[(r, b)] = self._step(r, b)
        return got

    def _step(self, r: int, b: int) -> tuple[int, ...]:
        if r < len(self.chain_byte):
            direct = [r] if self.loop[r] else []
            if self.chain_byte[r] == b:
                direct.append(r + 1)
        else:
            h = self._hole_of(r)
            j, node = divmod(r - h.base, h.nodes)
            child = h.trie.child(node, b)
            direct = [h.base + j * h.nodes + child] if child >= 0 else []
        if len(direct) == 1:
            return self.closure(direct[0])
        return tuple(dict.fromkeys(q for d in direct for q in self.closure(d)))


def pattern_of(
    template: Sequence[Part],
    limits: Limits,
    trie: TokenTrie,
    *,
    utf8: bool = True,
    tries: Mapping[int, TokenTrie] | None = None,
) -> Pattern:
    """The automaton of ``template`` (fixed parts as ``bytes`` or ``str``, and :class:`Hole`),
    token holes over ``trie`` (the ``k``-th over ``tries[k]`` where given: a narrowed
    vocabulary). ``utf8=False`` lets fixed parts cut characters (as token bytes do: the
    decoding loops' own texts).

    Raises
    ------
    TypeError
        A part is not ``bytes``, ``str`` or a :class:`Hole`.
    ValueError
        A fixed part is not valid UTF-8, or the template is longer than
        ``limits.max_input_bytes`` (fixed bytes, holes and their tokens together).
    """
    if isinstance(template, (bytes, str, Hole)):
        raise TypeError("a template is a sequence of parts (bytes, str or Hole), not one part")
    chain: list[int] = []
    loop = [False]
    holes: list[tuple[int, int, bool]] = []  # (entry, slots, at_most)
    size = 0
    for k, part in enumerate(template):
        if isinstance(part, Hole):
            if part.tokens is None and part.max_tokens is None:
                loop[-1] = True
                size += 1
                continue
            n = part.tokens if part.tokens is not None else part.max_tokens
            assert n is not None
            holes.append((len(chain), n, part.tokens is None))
            chain.append(-1)
            loop.append(False)
            size += 1 + n
        elif isinstance(part, (bytes, str)):
            data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
            try:
                if utf8 and not isinstance(part, TokenText):
                    data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"template part {k} is not valid UTF-8: {exc.reason}") from None
            chain.extend(data)
            loop.extend([False] * len(data))
            size += len(data)
        else:
            raise TypeError(f"template part {k} is {type(part).__name__}, not bytes, str or Hole")
        if size > limits.max_input_bytes:
            raise ValueError(
                f"the template is longer than {limits.max_input_bytes} bytes "
                "(Limits.max_input_bytes)"
            )
    chain.append(-1)  # the final state
    base = len(chain)
    token_holes = []
    for k, (entry, n, at_most) in enumerate(holes):
        own = trie if tries is None else tries.get(k, trie)
        token_holes.append(_TokenHole(base, n, entry + 1, at_most, own))
        base += n * own.n_nodes
    return Pattern(tuple(chain), tuple(loop), tuple(token_holes), trie)
