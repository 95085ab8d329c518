"""Shortest distances to acceptance in a byte automaton (breadth-first search on reversed edges).

Used for shortest completions of a matcher's input and for random derivations of a grammar.
"""

from __future__ import annotations

from collections import deque

from corral.automata.dfa import ByteDFA

__all__ = ["UNREACHABLE", "dfa_distances"]

UNREACHABLE = 1 << 60
"""Distance of a state from which no accepting state can be reached."""


def dfa_distances(dfa: ByteDFA) -> list[int]:
    """Per state, the length of the shortest path to acceptance (``UNREACHABLE`` if none)."""
    n = dfa.n_states
    rev: list[list[int]] = [[] for _ in range(n)]
    for s in range(1, n):
        for b in dfa.out_bytes[s]:
            rev[dfa.rows[s][b]].append(s)
    dist = [UNREACHABLE] * n
    todo: deque[int] = deque()
    for s in range(1, n):
        if dfa.accept_list[s]:
            dist[s] = 0
            todo.append(s)
    while todo:
        s = todo.popleft()
        for p in rev[s]:
            if dist[p] == UNREACHABLE:
                dist[p] = dist[s] + 1
                todo.append(p)
    return dist
