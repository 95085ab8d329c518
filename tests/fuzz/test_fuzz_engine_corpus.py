"""The native-engine fuzz target over its committed seed corpus, in-process (no atheris).

Every seed drives a native and a reference matcher through the same operations
(``tests/fuzz/fuzz_engine.py``); they must agree on every answer — the rule
``scripts/fuzz.sh`` applies to mutated inputs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import corral

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fuzz_engine import GRAMMARS, LIBRARY, MAX_MASKS, SCHEMAS, make_target  # noqa: E402

SEEDS = sorted(p for p in (HERE / "engine_corpus").iterdir() if p.is_file())


@pytest.fixture(scope="module")
def target() -> Callable[[bytes], None]:
    return make_target(corral.Tokenizer.default())


def test_corpus_covers_every_grammar() -> None:
    n = len(GRAMMARS) + len(LIBRARY) + len(SCHEMAS)
    assert {p.read_bytes()[0] % n for p in SEEDS} == set(range(n))


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_seed(seed: Path, target: Callable[[bytes], None]) -> None:
    target(seed.read_bytes())


@pytest.mark.parametrize(
    "data", [b"", b"\x04", b"\x04\x00", b"\x00\x02\xff", b"\x05" + b"\x00\xff\xff\xff\xff" * 8]
)
def test_short_and_hostile_inputs(data: bytes, target: Callable[[bytes], None]) -> None:
    target(data)


def test_masks_per_input_are_bounded(
    target: Callable[[bytes], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An input of forty mask operations (the seed ``many_masks``, once past the fuzzer's
    10-second bound per input in the reference engine) runs ``MAX_MASKS`` of them."""
    data = (HERE / "engine_corpus" / "many_masks").read_bytes()
    calls: list[object] = []
    kinds = {type(corral.Matcher(cg)) for cg in _compiled()}
    for kind in kinds:
        original = kind.allowed_token_mask

        def counted(self: object, _original: Callable[..., object] = original) -> object:
            calls.append(self)
            return _original(self)

        monkeypatch.setattr(kind, "allowed_token_mask", counted)
    target(data)
    assert data.count(0xAC) // 2 > MAX_MASKS  # 0xAC 0xAC...: a mask, then a token chosen from it
    assert len(calls) == 2 * MAX_MASKS  # the native and the reference matcher


def _compiled() -> list[object]:
    g = corral.Grammar.from_lark(GRAMMARS[0])
    tok = corral.Tokenizer.default()
    return [corral.compile(g, tok, engine=e) for e in ("native", "reference")]
