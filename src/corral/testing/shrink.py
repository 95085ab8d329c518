"""Shrinking a failing string of the language by deleting pieces of it.

Hypothesis shrinks the random choices behind a derivation; this pass then deletes byte ranges
(halves, quarters, ... single bytes, as in Zeller's delta debugging) as long as what is left is
still in the language and still fails, so that a counterexample loses the whitespace, list items
and digits that play no part in the failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from corral.testing.report import Counterexample

__all__ = ["shrink_text"]


def shrink_text(
    found: Counterexample,
    fails: Callable[[bytes], Counterexample | None],
    in_language: Callable[[bytes], bool],
    *,
    seconds: float = 5.0,
) -> Counterexample:
    """The smallest failing string reached by deleting byte ranges of ``found.text``.

    Parameters
    ----------
    found:
        A counterexample whose ``text`` is in the language.
    fails:
        The check on one string: its counterexample, or ``None`` when it passes.
    in_language:
        Whether a string is in the language (the oracle).
    seconds:
        Time budget.
    """
    stop = time.monotonic() + seconds
    best = found
    size = max(1, len(best.text) // 2)
    while size >= 1 and time.monotonic() < stop:
        start, progressed = 0, False
        while start < len(best.text) and time.monotonic() < stop:
            text = best.text
            candidate = text[:start] + text[start + size :]
            again = fails(candidate) if candidate and in_language(candidate) else None
            if again is not None:
                best, progressed = again, True
            else:
                start += size
        if not progressed:
            size //= 2
    return best
