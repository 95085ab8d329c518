"""Grammar rules for strings whose only constraints are long length bounds.

A string of ``L`` code points splits in exactly one way into ``L // BLOCK`` blocks of exactly
:data:`BLOCK` characters and a tail of ``L % BLOCK`` characters (then the closing quote), so the
block count is what the rules track. They do so in binary: ``B_i`` is ``BLOCK·2^i`` characters
(``B_0`` one block, ``B_{i+1} -> B_i B_i``), a fixed count of blocks is the sequence of the
``B_i`` of its binary digits, "fewer than ``2^i`` blocks" is ``A_i`` (``A_0`` is just the tail,
``A_{i+1} -> A_i | B_i A_i``, one choice per binary digit) and "at most ``c`` blocks, the last
count with a shorter tail" walks the binary digits of ``c`` from the top (``U_c -> A_k | B_k
U_{c-2^k}`` with ``2^k`` the top digit of ``c``). A length bound ``n`` therefore needs
``O(log n)`` rules rather than ``n / BLOCK``, every choice is made by one digit (the grammar is
unambiguous), and lengths are counted exactly in code points of the decoded string (an escape
such as ``\\"`` is one character).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from corral.automata.dfa import ByteDFA
from corral.automata.ops import minimize_over
from corral.grammars.json_schema.context import SchemaContext
from corral.grammars.json_schema.strings import json_string_dfa

__all__ = ["BLOCK", "long_string_rules", "string_block", "string_tail"]

BLOCK = 256
"""Characters per counted block of a very long string."""

Alt = tuple[str, ...]
Terminal = Callable[[ByteDFA, str], str]
"""Makes (or finds) the terminal of an automaton, given a description; returns its name."""


def string_block(ctx: SchemaContext, k: int) -> ByteDFA:
    """Exactly ``k`` characters of a canonical JSON string body (no quotes)."""
    return ctx.memo(
        ("block", k),
        lambda: _strip_quotes(
            json_string_dfa(min_length=k, max_length=k, budget=ctx.budget, cache=ctx.cache),
            keep_close=False,
        ),
    )


def string_tail(ctx: SchemaContext, lo: int, hi: int) -> ByteDFA:
    """``lo``..``hi`` characters of a canonical JSON string body, then the closing quote."""
    return ctx.memo(
        ("tail", lo, hi),
        lambda: _strip_quotes(
            json_string_dfa(min_length=lo, max_length=hi, budget=ctx.budget, cache=ctx.cache),
            keep_close=True,
        ),
    )


def _strip_quotes(dfa: ByteDFA, keep_close: bool) -> ByteDFA:
    """The string automaton without its opening quote (and without its closing quote when not
    ``keep_close``). Only a quote that *closes* the string leads to an accepting state; an
    escaped quote (``\\"``, after a backslash) leads inside the string and stays."""
    width, classes, small = dfa.class_table()
    # the quote gets a column of its own (a copy of its class's), so that it alone changes
    quote = width
    byte_col = classes.astype(np.int64)
    byte_col[ord('"')] = quote
    table = np.concatenate([small, small[:, classes[ord('"')], None]], axis=1)
    accepting = dfa.accepting.copy()
    start = int(table[1, quote])
    if not keep_close:
        targets = table[:, quote]
        closing = accepting[targets] & (targets != 0)
        table[closing, quote] = 0
        accepting = closing
    table[1] = table[start]
    accepting[1] = accepting[start]
    return minimize_over(table, byte_col, accepting)


class _Rules:
    """The rules of one long string, named after it (``{name}_b3``, ``{name}_a2``, ...)."""

    def __init__(self, ctx: SchemaContext, name: str, terminal: Terminal) -> None:
        self.ctx = ctx
        self.name = name
        self.terminal = terminal
        self.rules: dict[str, list[Alt]] = {}

    def tail(self, lo: int, hi: int) -> str:
        """The terminal of ``lo``..``hi`` characters and the closing quote."""
        return self.terminal(string_tail(self.ctx, lo, hi), "string tail")

    def blocks(self, i: int) -> str:
        """``B_i``: exactly ``2^i`` blocks."""
        rn = f"{self.name}_b{i}"
        if rn not in self.rules:
            if i == 0:
                self.rules[rn] = [(self.terminal(string_block(self.ctx, BLOCK), "block"),)]
            else:
                half = self.blocks(i - 1)
                self.rules[rn] = [(half, half)]
        return rn

    def fewer(self, i: int) -> str:
        """``A_i``: fewer than ``2^i`` blocks, then any tail and the closing quote."""
        rn = f"{self.name}_a{i}"
        if rn not in self.rules:
            if i == 0:
                self.rules[rn] = [(self.tail(0, BLOCK - 1),)]
            else:
                rest = self.fewer(i - 1)
                self.rules[rn] = [(rest,), (self.blocks(i - 1), rest)]
        return rn

    def at_most(self, c: int, r: int) -> str:
        """At most ``c·BLOCK + r`` characters (``r < BLOCK``), then the closing quote."""
        if c == 0:
            return self.tail(0, r)
        rn = f"{self.name}_u{c}"
        if rn not in self.rules:
            k = c.bit_length() - 1
            self.rules[rn] = [(self.fewer(k),), (self.blocks(k), self.at_most(c - (1 << k), r))]
        return rn

    def any_count(self) -> str:
        """Any number of blocks, then any tail and the closing quote."""
        rn = f"{self.name}_r"
        if rn not in self.rules:
            self.rules[rn] = [(self.tail(0, BLOCK - 1),), (self.blocks(0), rn)]
        return rn

    def exactly(self, m: int) -> Alt:
        """Symbols of exactly ``m`` blocks (the binary digits of ``m``, highest first)."""
        return tuple(self.blocks(i) for i in reversed(range(m.bit_length())) if m >> i & 1)


def long_string_rules(
    ctx: SchemaContext, name: str, quote: str, lo: int, hi: int | None, terminal: Terminal
) -> dict[str, list[Alt]]:
    """The rules of JSON strings of ``lo``..``hi`` code points (``hi=None``: no upper bound).

    Parameters
    ----------
    ctx:
        Where the block and tail automata are memoized.
    name:
        The rule of the whole string; helper rules are named after it.
    quote:
        The terminal of the opening quote.
    lo, hi:
        Length bounds in code points of the decoded string.
    terminal:
        Makes the terminal of an automaton (deduplicated by the caller).

    Returns
    -------
    dict[str, list[Alt]]
        The new rules, ``name`` among them (with no alternatives when ``lo > hi``).
    """
    out = _Rules(ctx, name, terminal)
    if hi is not None and lo > hi:
        out.rules[name] = []
        return out.rules
    q, r = divmod(lo, BLOCK)
    head = (quote, *out.exactly(q))
    room = None if hi is None else hi - q * BLOCK  # characters allowed after the q blocks
    if room is not None and room < BLOCK:
        out.rules[name] = [(*head, out.tail(r, room))]
        return out.rules
    more = out.any_count() if room is None else out.at_most(*divmod(room - BLOCK, BLOCK))
    rest = f"{name}_x"
    out.rules[rest] = [(out.tail(r, BLOCK - 1),), (out.blocks(0), more)]
    out.rules[name] = [(*head, rest)]
    return out.rules
