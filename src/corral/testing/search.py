"""Hypothesis as the search and shrinking engine of the checks.

A check is a *property* of a random generator: given a :class:`random.Random`, it runs one
example (a derivation, a walk) and returns a :class:`Counterexample` or ``None``. Hypothesis
drives it with its shrinkable randoms (``st.randoms(use_true_random=False)``), seeded and
without an example database, so that a run is reproducible and the counterexample reported is
the smallest (shortest text, then fewest tokens) of the failures seen while hypothesis shrank
the first one (fewer and smaller random choices: shallower derivations, shorter lexemes, shorter
walks). Shrinking stops after a time budget.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from corral.testing.report import Counterexample

__all__ = ["SearchResult", "search"]

Property = Callable[[random.Random], Counterexample | None]


class _Found(Exception):
    def __init__(self, found: Counterexample) -> None:
        super().__init__(found.description)
        self.found = found


@dataclass(frozen=True)
class SearchResult:
    """The outcome of :func:`search`: the shrunk counterexample (if any) and examples run."""

    counterexample: Counterexample | None
    examples: int


def search(
    prop: Property, *, examples: int, seed: int, shrink_seconds: float = 20.0
) -> SearchResult:
    """Run ``prop`` on up to ``examples`` random generators; shrink the first failure.

    Parameters
    ----------
    prop:
        The property (one example per call).
    examples:
        Examples to generate before declaring a pass.
    seed:
        Hypothesis's seed (the whole run is a function of it).
    shrink_seconds:
        Time allowed for shrinking after the first failure.
    """
    try:
        from hypothesis import HealthCheck, Phase, Verbosity, given, settings
        from hypothesis import seed as hypothesis_seed
        from hypothesis import strategies as st
    except ImportError as exc:  # pragma: no cover - hypothesis is a test dependency
        raise RuntimeError(
            "the conformance checks need hypothesis: pip install hypothesis"
        ) from exc

    smallest: list[Counterexample] = []
    count = [0]
    stop_at: list[float] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=max(1, examples),
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(st.randoms(use_true_random=False))
    def run(rng: random.Random) -> None:
        if stop_at and time.monotonic() > stop_at[0]:
            raise _Found(smallest[0])  # out of time: every example "fails", shrinking ends
        count[0] += 1
        found = prop(rng)
        if found is None:
            return
        if not smallest or _size(found) < _size(smallest[0]):
            smallest[:] = [found]
        if not stop_at:
            stop_at.append(time.monotonic() + shrink_seconds)
        raise _Found(found)

    try:
        run()
    except _Found:
        return SearchResult(smallest[0], count[0])
    except Exception:  # hypothesis's complaints about a shrink cut short by the time budget
        if smallest:
            return SearchResult(smallest[0], count[0])
        raise
    return SearchResult(None, count[0])


def _size(c: Counterexample) -> tuple[int, int]:
    return (len(c.text), len(c.tokens))
