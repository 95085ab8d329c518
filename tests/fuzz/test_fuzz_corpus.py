"""The fuzz target over its committed seed corpus, in-process (no atheris needed).

Every seed must go through ``tests/fuzz/fuzz_frontends.py``'s target without an exception other
than ``CorralError`` — the same rule ``scripts/fuzz.sh`` applies to mutated inputs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import corral

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_frontends import FRONTENDS, decode, make_target  # noqa: E402

SEEDS = sorted(p for p in (HERE / "corpus").iterdir() if p.is_file())


@pytest.fixture(scope="module")
def target() -> Callable[[bytes], None]:
    return make_target(corral.Tokenizer.default())


def test_corpus_covers_every_frontend() -> None:
    assert {decode(p.read_bytes())[0] for p in SEEDS} == set(FRONTENDS)


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_seed(seed: Path, target: Callable[[bytes], None]) -> None:
    target(seed.read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"\x80(",
        b"\x81root ::= \xff",
        b"\x82a\xed\xa0\x80b",
        b'\x83"\xff"',
        b"2" + b"(" * 5000,
    ],
    ids=[
        "empty",
        "nul",
        "surrogate-regex",
        "surrogate-gbnf",
        "surrogate-regex-2",
        "bad-json",
        "deep-regex",
    ],
)
def test_hostile_bytes(data: bytes, target: Callable[[bytes], None]) -> None:
    target(data)
