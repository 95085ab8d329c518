"""Shortest distances to acceptance in a byte automaton (breadth-first search on reversed edges).

Used for shortest completions of a matcher's input and for random derivations of a grammar.
Also the number of accepted continuations per state (capped), which the run-time ``uniqueItems``
check of the matcher compares with the number of earlier items (``docs/design/unique_items.md``).
"""

from __future__ import annotations

from collections import deque

from corral.automata.dfa import ByteDFA

__all__ = ["COUNT_CAP", "UNREACHABLE", "dfa_distances", "suffix_counts"]

UNREACHABLE = 1 << 60
"""Distance of a state from which no accepting state can be reached."""

COUNT_CAP = (1 << 31) - 1
"""Counts of :func:`suffix_counts` saturate here (infinitely many continuations included)."""


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


def suffix_counts(dfa: ByteDFA) -> list[int]:
    """Per state, the number of byte strings that lead it to acceptance, capped at ``COUNT_CAP``.

    Counting paths in a DAG (dynamic programming in reverse topological order); a state that
    reaches a cycle through states that still reach acceptance has infinitely many, so the cap.
    The dead state 0 and states that cannot reach acceptance count 0.
    """
    n = dfa.n_states
    live = [d < UNREACHABLE for d in dfa_distances(dfa)]
    counts = [0] * n
    state = [0] * n  # 0 unvisited, 1 on the stack, 2 done
    for root in range(1, n):
        if state[root] or not live[root]:
            continue
        stack = [(root, iter(dfa.out_bytes[root]))]
        state[root] = 1
        while stack:
            s, it = stack[-1]
            pushed = False
            for b in it:
                t = dfa.rows[s][b]
                if not live[t]:
                    continue
                if state[t] == 1:
                    counts[t] = COUNT_CAP  # a cycle: every state on it is unbounded
                    counts[s] = COUNT_CAP
                elif state[t] == 0:
                    state[t] = 1
                    stack.append((t, iter(dfa.out_bytes[t])))
                    pushed = True
                    break
            if pushed:
                continue
            stack.pop()
            total = 1 if dfa.accept_list[s] else 0
            for b in dfa.out_bytes[s]:
                t = dfa.rows[s][b]
                if live[t]:
                    total = min(COUNT_CAP, total + counts[t])
            if counts[s] == COUNT_CAP:
                total = COUNT_CAP
            counts[s] = total
            state[s] = 2
    return counts
