"""How random walks pick tokens from an engine's mask."""

from __future__ import annotations

import random

import numpy as np

__all__ = ["choose_token", "closing_token"]

# Tokens tried first when an engine finishes a JSON walk by itself.
CLOSERS = (b'"', b"}", b"]", b"0", b"null", b"true", b'""', b"{}", b"[]", b"a", b":", b",")


def choose_token(allowed: np.ndarray, token_bytes: list[bytes], rng: random.Random) -> int:
    """A random allowed token, one of at most one byte half of the time."""
    ids = allowed.tolist()
    r = rng.random()
    if r < 0.5:
        short = [t for t in ids if len(token_bytes[t]) <= 1]
        if short:
            return int(rng.choice(short))
    return int(rng.choice(ids))


def closing_token(allowed: np.ndarray, token_bytes: list[bytes]) -> int:
    """An allowed token likely to close JSON (quotes, brackets, short values), else the shortest."""
    ids = allowed.tolist()
    by_bytes = {token_bytes[t]: t for t in reversed(ids)}
    for b in CLOSERS:
        if b in by_bytes:
            return int(by_bytes[b])
    return int(min(ids, key=lambda t: (len(token_bytes[t]) or 99, t)))
