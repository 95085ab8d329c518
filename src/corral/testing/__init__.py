"""The property-based conformance suite: random derivations of a grammar (soundness), random
walks over an engine's allowed tokens (compliance) and forced bytes, runnable on any grammar and
any engine that has the public matcher API (see :mod:`corral.testing.engines`).

>>> from corral.testing import GrammarSource, make_engine, run_conformance  # doctest: +SKIP
>>> engine = make_engine("llguidance", tok)                                 # doctest: +SKIP
>>> for r in run_conformance(engine, GrammarSource.from_file("g.lark"), tok):  # doctest: +SKIP
...     print(r.describe())
"""

from __future__ import annotations

from corral.testing.checks import (
    CHECKS,
    ConformanceContext,
    check_compliance,
    check_forced_bytes,
    check_soundness,
    run_conformance,
)
from corral.testing.derivations import DerivationSampler
from corral.testing.engines import (
    ENGINE_NAMES,
    CorralEngine,
    Engine,
    EngineMatcher,
    EngineNotInstalled,
    LLGuidanceEngine,
    Unsupported,
    XGrammarEngine,
    make_engine,
)
from corral.testing.oracle import Oracle, Vocabulary
from corral.testing.report import ConformanceReport, Counterexample
from corral.testing.sources import GrammarSource, resolve_sources

__all__ = [
    "CHECKS",
    "ENGINE_NAMES",
    "ConformanceContext",
    "ConformanceReport",
    "CorralEngine",
    "Counterexample",
    "DerivationSampler",
    "Engine",
    "EngineMatcher",
    "EngineNotInstalled",
    "GrammarSource",
    "LLGuidanceEngine",
    "Oracle",
    "Unsupported",
    "Vocabulary",
    "XGrammarEngine",
    "check_compliance",
    "check_forced_bytes",
    "check_soundness",
    "make_engine",
    "resolve_sources",
    "run_conformance",
]
