"""Helpers shared by the engine tests."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np

import corral
from corral import Matcher, Tokenizer
from corral.constraint_engine.compiler import CompiledGrammar


def brute_force_mask(matcher: Matcher, ids: list[int]) -> np.ndarray:
    """Allowed-ness of ``ids`` found by trying each token (the sequential, per-byte path)."""
    out = np.zeros(len(ids), dtype=bool)
    for k, tid in enumerate(ids):
        if matcher.accept_token(tid):
            out[k] = True
            matcher.rollback(1)
    return out


def random_split(data: bytes, tok: Tokenizer, rng: random.Random) -> list[int]:
    """A random (usually non-canonical) tokenization of ``data`` into vocabulary tokens."""
    by_bytes = _index(tok)
    out: list[int] = []
    i = 0
    while i < len(data):
        options = [
            (n, by_bytes[data[i : i + n]])
            for n in range(1, min(16, len(data) - i) + 1)
            if data[i : i + n] in by_bytes
        ]
        if not options:
            raise ValueError(f"byte {data[i]:#x} has no token")
        n, tid = rng.choice(options)
        out.append(tid)
        i += n
    return out


_INDEX: dict[int, dict[bytes, int]] = {}


def _index(tok: Tokenizer) -> dict[bytes, int]:
    got = _INDEX.get(id(tok))
    if got is None:
        got = {}
        special = tok.special_token_ids
        for tid, b in enumerate(tok.all_token_bytes()):
            if b and tid not in special and b not in got:
                got[b] = tid
        _INDEX[id(tok)] = got
    return got


def spellable_bytes(tok: Tokenizer) -> frozenset[int]:
    """Bytes that some single-byte token spells."""
    idx = _index(tok)
    return frozenset(b for b in range(256) if bytes([b]) in idx)


def walk_checking_masks(cg: CompiledGrammar, ids: list[int]) -> Matcher:
    """Feed ``ids``; at every step the token must be in the mask and be accepted."""
    m = Matcher(cg)
    for step, tid in enumerate(ids):
        mask = m.allowed_token_mask()
        assert mask[tid], f"step {step}: token {tid} {cg.token_bytes(tid)!r} blocked"
        assert m.accept_token(tid), f"step {step}: token {tid} refused"
    return m


SAMPLE_SPLITS = ("Glaiveai2K", "Github_easy")
SAMPLE_SIZE = 6
SAMPLE_SEED = 2026


def bench_dir() -> Path:
    return Path(os.environ["CORRAL_JSONSCHEMABENCH"])


def sample_schemas(n: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> list[tuple[str, Any]]:
    """``n`` schemas drawn with ``seed`` from the sample splits, in file order per draw."""
    files = sorted(p for split in SAMPLE_SPLITS for p in (bench_dir() / split).glob("*.json"))
    assert len(files) > 1000, f"JSONSchemaBench data missing under {bench_dir()}"
    rng = random.Random(seed)
    rng.shuffle(files)
    out = []
    for path in files:
        schema = json.loads(path.read_text())["schema"]
        try:
            corral.Grammar.from_json_schema(schema)
        except corral.GrammarError:
            continue
        out.append((path.stem, schema))
        if len(out) == n:
            break
    return out


PERSON_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["name", "tags", "age"],
    "properties": {"name": {"type": "string", "maxLength": 20},
                   "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                   "age": {"type": "integer", "minimum": 0, "maximum": 120}},
}  # fmt: skip
"""A small schema with a string, an array and an integer (template-filling tests)."""
