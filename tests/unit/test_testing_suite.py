"""The conformance suite (corral.testing) on corral, on deliberately broken engines, and on the
llguidance and XGrammar adapters."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from conftest import smollm2
from corral.testing.checks import CHECKS, ConformanceContext, check_compliance, run_conformance
from corral.testing.engines import (
    CorralEngine,
    EngineMatcher,
    LLGuidanceEngine,
    Unsupported,
    XGrammarEngine,
    make_engine,
)
from corral.testing.oracle import Oracle
from corral.testing.report import ConformanceReport
from corral.testing.sources import GrammarSource, resolve_sources

SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"enum": ["x", "y"]}},
    "required": ["a"],
    "additionalProperties": False,
}
BOUNDS: dict[str, dict[str, int]] = {
    "json.lark": {"max_depth": 5, "max_steps": 10},
    "json.gbnf": {"max_depth": 6, "max_steps": 10},
    "arithmetic.lark": {"max_depth": 6, "max_steps": 8},
    "sql.lark": {"max_depth": 2, "max_lexeme": 1, "max_steps": 3},
    "c.lark": {"max_depth": 2, "max_lexeme": 1, "max_steps": 3},
}


@functools.cache
def _source(name: str) -> GrammarSource:
    (got,) = [s for s in resolve_sources(name.split(".")[0]) if s.name == name]
    return got


@functools.cache
def _oracle(name: str) -> Oracle:
    return Oracle(_source(name), smollm2())


def _summary(reports: list[ConformanceReport]) -> str:
    return "\n".join(r.describe() for r in reports)


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_corral_passes_on_the_shipped_grammars(name: str) -> None:
    # The reference matcher's SQL masks cost about a second per derivation: its soundness at
    # scale is tests/property/test_soundness.py's business.
    checks = ["compliance", "forced_bytes"] if name == "sql.lark" else list(CHECKS)
    examples = 2 if name in ("sql.lark", "c.lark") else 4
    reports = run_conformance(
        CorralEngine(smollm2()), _source(name), smollm2(), checks=checks, examples=examples,
        seed=7, oracle=_oracle(name), **BOUNDS[name],
    )  # fmt: skip
    assert [r.status for r in reports] == ["pass"] * len(checks), _summary(reports)


class _Wrapper:
    """A matcher of a broken engine: corral's matcher with one deliberate fault."""

    def __init__(self, inner: EngineMatcher, engine: _BrokenEngine) -> None:
        self.inner = inner
        self.engine = engine

    def accept_token(self, token_id: int) -> bool:
        if token_id in self.engine.refused:
            return False
        eos = token_id in self.engine.eos_token_ids
        if self.engine.eos_anywhere and eos and not self.inner.is_accepting():
            return self.inner.accept_token(token_id) or self._force_eos()
        return self.inner.accept_token(token_id)

    def _force_eos(self) -> bool:
        self.engine.forced_terminations += 1
        return True

    def fill_next_token_bitmask(self, bitmask: np.ndarray, index: int = 0) -> None:
        self.inner.fill_next_token_bitmask(bitmask, index)
        bits = np.unpackbits(bitmask[index].view(np.uint8), bitorder="little")
        bits[sorted(self.engine.refused)] = 0
        if self.engine.eos_anywhere:
            bits[sorted(self.engine.eos_token_ids)] = 1
        bitmask[index] = np.packbits(bits, bitorder="little").view(np.int32)

    def rollback(self, n_tokens: int = 1) -> None:
        self.inner.rollback(n_tokens)

    def is_accepting(self) -> bool:
        return self.inner.is_accepting()

    def is_terminated(self) -> bool:
        return self.inner.is_terminated() or self.engine.forced_terminations > 0

    def forced_bytes(self) -> bytes:
        return self.inner.forced_bytes()


class _BrokenEngine(CorralEngine):
    """corral, broken on purpose: ``refused`` tokens are never allowed, or EOS always is."""

    def __init__(self, refused: frozenset[int] = frozenset(), eos_anywhere: bool = False) -> None:
        super().__init__(smollm2(), name="broken")
        self.refused = refused
        self.eos_anywhere = eos_anywhere
        self.forced_terminations = 0

    def new_matcher(self, handle: Any) -> EngineMatcher:
        self.forced_terminations = 0
        return _Wrapper(super().new_matcher(handle), self)


def test_an_engine_refusing_valid_tokens_is_caught_with_a_shrunk_counterexample() -> None:
    tok = smollm2()
    refused = frozenset(i for i, b in enumerate(tok.all_token_bytes()) if b"]" in b)
    engine = _BrokenEngine(refused=refused)
    (report,) = run_conformance(
        engine, _source("json.lark"), tok, checks=["soundness"], examples=40, seed=3,
        shrink_seconds=10, oracle=_oracle("json.lark"), max_depth=4,
    )  # fmt: skip
    assert report.status == "fail", report.describe()
    found = report.counterexample
    assert found is not None and b"]" in found.text
    assert "not in the mask" in found.description
    assert found.tokens and found.tokens[-1] in refused
    assert len(found.text) <= 40, found.text


def test_an_engine_allowing_eos_too_early_is_caught() -> None:
    engine = _BrokenEngine(eos_anywhere=True)
    ctx = ConformanceContext(
        engine, _source("json.lark"), smollm2(), oracle=_oracle("json.lark"), max_steps=6
    )
    report = check_compliance(ctx, examples=20, seed=5, shrink_seconds=10)
    assert report.status == "fail", report.describe()
    assert report.counterexample is not None
    assert "EOS allowed after" in report.counterexample.description
    assert report.counterexample.text == b""


def test_sources_and_unknown_names() -> None:
    assert [s.name for s in resolve_sources("json")] == ["json.lark", "json.gbnf"]
    assert [s.kind for s in resolve_sources("sql")] == ["lark"]
    with pytest.raises(ValueError, match="shipped grammar"):
        resolve_sources("nope")
    with pytest.raises(ValueError, match="unknown engine"):
        make_engine("nope", smollm2())


@functools.cache
def _engine(name: str) -> Any:
    return {"llguidance": LLGuidanceEngine, "xgrammar": XGrammarEngine}[name](smollm2())


@pytest.mark.parametrize("name", ["llguidance", "xgrammar"])
def test_other_engines_pass_on_a_small_schema(name: str) -> None:
    source = GrammarSource.from_schema(SCHEMA, "small.json")
    reports = run_conformance(
        _engine(name), source, smollm2(), examples=8, seed=1, max_steps=8, random_splits=False
    )
    assert [r.status for r in reports] == ["pass"] * 3, _summary(reports)


@pytest.mark.parametrize("name", ["llguidance", "xgrammar"])
def test_other_engines_run_on_json(name: str) -> None:
    """Both adapters drive their engine on the JSON grammar; XGrammar takes only the GBNF."""
    for source in resolve_sources("json"):
        reports = run_conformance(
            _engine(name), source, smollm2(), checks=["compliance"], examples=4, seed=2,
            shrink_seconds=2, oracle=_oracle(source.name), max_steps=6,
        )  # fmt: skip
        (report,) = reports
        if name == "xgrammar" and source.kind == "lark":
            assert report.status == "unsupported"
            assert isinstance(_engine(name).compile(source), Unsupported)
        else:
            assert report.status in ("pass", "fail"), report.describe()
            assert report.examples >= 1
