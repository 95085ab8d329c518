"""Random strings of a grammar's language, drawn from random derivations.

A derivation is expanded top-down from the start rule, each rule choosing a random alternative
until a depth bound, after which the alternative of least minimal yield is taken (minimal
yields by the usual fixpoint over the rules, as in Purdom 1972's sentence generator). Each
terminal becomes a random string of its byte automaton (a random walk over live states that
stops at an accepting state at random, or heads for the nearest one when long enough), and
ignored terminals are sprinkled between lexemes. Every string so drawn is in the language by
construction, which makes them the *soundness* side of the conformance suite: the matcher must
accept each of them, token by token, under any tokenization.
"""

from __future__ import annotations

import random

from corral.automata.dfa import ByteDFA
from corral.automata.distances import UNREACHABLE as _INF
from corral.automata.distances import dfa_distances
from corral.automata.regex import compile_regex, literal_dfa
from corral.grammars.ir import Grammar

__all__ = ["DerivationSampler", "dfa_distances"]


class DerivationSampler:
    """Draw random members of a grammar's language.

    Parameters
    ----------
    grammar:
        A validated grammar.
    max_depth:
        Rule nesting depth after which derivations head for the shortest completion.
    ignore_probability:
        Chance of an ignored lexeme between two lexemes (when the grammar has ignored terminals).
    max_lexeme:
        Soft bound on the length of one lexeme in bytes.
    byte_ok:
        Optional set of bytes to prefer (e.g. those a tokenizer can spell); other bytes are used
        only where a lexeme cannot continue without them.
    """

    def __init__(
        self,
        grammar: Grammar,
        *,
        max_depth: int = 8,
        ignore_probability: float = 0.25,
        max_lexeme: int = 12,
        byte_ok: frozenset[int] | None = None,
    ) -> None:
        self.byte_ok = byte_ok
        self.grammar = grammar
        self.max_depth = max_depth
        self.ignore_probability = ignore_probability
        self.max_lexeme = max_lexeme
        self.dfas: dict[str, ByteDFA] = {}
        for name, term in grammar.terminals.items():
            if term.dfa is not None:  # prebuilt automata (JSON Schema)
                self.dfas[name] = term.dfa
            elif term.literal and "s" not in term.flags:
                self.dfas[name] = literal_dfa(term.pattern, "i" in term.flags)
            else:
                self.dfas[name] = compile_regex(term.regex(), name)
        self.dist = {name: dfa_distances(dfa) for name, dfa in self.dfas.items()}
        self.min_len = self._min_lengths()
        self.height = self._heights()

    def _min_lengths(self) -> dict[str, int]:
        size: dict[str, int] = {}
        for name, dfa in self.dfas.items():
            best = _INF
            for b in dfa.out_bytes[1]:
                best = min(best, 1 + self.dist[name][dfa.rows[1][b]])
            size[name] = best
        for name in self.grammar.rules:
            size[name] = _INF
        changed = True
        while changed:
            changed = False
            for name, rule in self.grammar.rules.items():
                for alt in rule.alternatives:
                    total = sum(size[s] for s in alt)
                    if total < size[name]:
                        size[name] = total
                        changed = True
        return size

    def _heights(self) -> dict[str, int]:
        height = {name: 0 for name in self.dfas}
        for name in self.grammar.rules:
            height[name] = _INF
        changed = True
        while changed:
            changed = False
            for name, rule in self.grammar.rules.items():
                for alt in rule.alternatives:
                    h = 1 + max((height[s] for s in alt), default=0)
                    if h < height[name]:
                        height[name] = h
                        changed = True
        return height

    def lexeme(self, name: str, rng: random.Random) -> bytes:
        """A random non-empty string of terminal ``name``."""
        dfa, dist = self.dfas[name], self.dist[name]
        out = bytearray()
        s = 1
        while True:
            choices = [b for b in dfa.out_bytes[s] if dist[dfa.rows[s][b]] < _INF]
            if (
                out
                and dfa.accept_list[s]
                and (not choices or len(out) >= self.max_lexeme or rng.random() < 0.35)
            ):
                return bytes(out)
            if len(out) >= self.max_lexeme:
                choices = [b for b in choices if dist[dfa.rows[s][b]] < dist[s]] or choices
            if self.byte_ok is not None:
                choices = [b for b in choices if b in self.byte_ok] or choices
            ascii_ = [b for b in choices if b < 0x80]
            pool = ascii_ if ascii_ and rng.random() < 0.8 else choices
            b = rng.choice(pool)
            out.append(b)
            s = dfa.rows[s][b]

    def sample(self, rng: random.Random) -> bytes:
        """A random string of the language."""
        lexemes: list[str] = []
        self._expand(self.grammar.start, 0, rng, lexemes)
        ignore = list(self.grammar.ignore)
        out = bytearray()
        for i in range(len(lexemes) + 1):
            if ignore and rng.random() < self.ignore_probability:
                out += self.lexeme(rng.choice(ignore), rng)
            if i < len(lexemes):
                out += self.lexeme(lexemes[i], rng)
        return bytes(out)

    def _expand(self, sym: str, depth: int, rng: random.Random, out: list[str]) -> None:
        if sym in self.dfas:
            out.append(sym)
            return
        alts = self.grammar.rules[sym].alternatives
        if depth >= self.max_depth:
            alt = min(alts, key=lambda a: max((self.height[s] for s in a), default=0))
        else:
            finite = [a for a in alts if all(self.min_len[s] < _INF for s in a)]
            alt = rng.choice(finite)
        for s in alt:
            self._expand(s, depth + 1, rng, out)
