"""``corral conformance``: run the conformance checks from the command line and print a report.

Exit status: 0 every check passed (or the engine does not take the grammar), 1 a counterexample
was found, 2 a usage error, an engine that is not installed, or an engine that crashed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TextIO

from corral.errors import CorralError
from corral.testing.checks import CHECKS, run_conformance
from corral.testing.engines import ENGINE_NAMES, make_engine
from corral.testing.oracle import Oracle
from corral.testing.report import ConformanceReport
from corral.testing.sources import GrammarSource, resolve_sources
from corral.tokenizers import Tokenizer

__all__ = ["exit_status", "format_reports", "run_command"]


def exit_status(reports: Sequence[ConformanceReport]) -> int:
    """0 all passed or unsupported, 1 some check failed, 2 some engine errored."""
    if any(r.status == "error" for r in reports):
        return 2
    return 1 if any(r.status == "fail" for r in reports) else 0


def format_reports(reports: Sequence[ConformanceReport], fmt: str) -> str:
    """The reports as text (one line each, counterexamples indented) or as JSON."""
    if fmt == "json":
        body = {
            "passed": exit_status(reports) == 0,
            "reports": [r.to_json() for r in reports],
        }
        return json.dumps(body, indent=1, ensure_ascii=False)
    lines = [r.describe() for r in reports]
    counts = {s: sum(r.status == s for r in reports) for s in ("pass", "fail", "unsupported")}
    counts["error"] = sum(r.status == "error" for r in reports)
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
    return "\n".join(lines)


def run_command(
    grammar: str,
    tokenizer: Tokenizer,
    *,
    engines: Sequence[str],
    examples: int,
    seed: int,
    checks: Sequence[str] = CHECKS,
    fmt: str = "text",
    out: TextIO,
) -> int:
    """Run the checks of ``engines`` on the grammar(s) ``grammar`` names; print; exit status.

    Parameters
    ----------
    grammar:
        A ``.lark``/``.gbnf``/``.json`` (JSON Schema) file or a shipped grammar name.
    tokenizer:
        The tokenizer all engines are built with.
    engines:
        Names from :data:`~corral.testing.engines.ENGINE_NAMES`, or ``["all"]``.
    examples, seed:
        Per check (see :func:`~corral.testing.checks.run_conformance`).
    checks:
        Which checks.
    fmt:
        ``"text"`` or ``"json"``.
    out:
        Where the report goes.

    Raises
    ------
    ValueError
        For a grammar that cannot be found or read, or an unknown engine.
    EngineNotInstalled
        When an engine's package is missing.
    """
    names = list(ENGINE_NAMES) if list(engines) == ["all"] else list(engines)
    built = [make_engine(n, tokenizer) for n in names]
    reports: list[ConformanceReport] = []
    for source in resolve_sources(grammar):
        oracle = _oracle(source, tokenizer, reports, names)
        if oracle is None:
            continue
        for engine in built:
            reports += run_conformance(
                engine, source, tokenizer, checks=checks, examples=examples, seed=seed,
                oracle=oracle,
            )  # fmt: skip
    out.write(format_reports(reports, fmt) + "\n")
    return exit_status(reports)


def _oracle(
    source: GrammarSource,
    tokenizer: Tokenizer,
    reports: list[ConformanceReport],
    engines: Sequence[str],
) -> Oracle | None:
    try:
        return Oracle(source, tokenizer)
    except CorralError as exc:
        reason = f"corral (the oracle) does not compile it: {exc}"
        reports += [
            ConformanceReport(e, source.name, "all", 0, "unsupported", reason=reason)
            for e in engines
        ]
        return None
