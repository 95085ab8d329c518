"""Summaries of benchmark records: per-split and total counts, compile-time quantiles, markdown.

Quantiles use the nearest-rank definition (the ``ceil(q * n)``-th smallest value), so the
p99 of fewer than 100 compile times is their maximum.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from corral.jsonschemabench.runner import Record

__all__ = [
    "Summary",
    "markdown_table",
    "nearest_rank",
    "refused_keywords",
    "summarize",
    "summarize_by",
]


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``values``; ``None`` when empty."""
    if not 0 < q <= 1:
        raise ValueError(f"quantile must be in (0, 1], not {q}")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass
class Summary:
    """Counts over a group of records (one engine and whitespace mode).

    ``valid_rejected``, ``invalid_accepted`` and ``unserializable`` count test instances;
    the other counts are schemas. Compile times are those of compiled schemas.
    """

    label: str
    schemas: int = 0
    compiled: int = 0
    refused: int = 0
    errors: int = 0
    crashes: int = 0
    timeouts: int = 0
    passing: int = 0
    valid_rejected: int = 0
    invalid_accepted: int = 0
    schemas_wrong: int = 0
    unserializable: int = 0
    slow: int = 0
    compile_ms: list[float] = field(default_factory=list)

    @property
    def compile_median(self) -> float | None:
        """Median compile time (ms) of compiled schemas."""
        return statistics.median(self.compile_ms) if self.compile_ms else None

    @property
    def compile_p99(self) -> float | None:
        """Nearest-rank 99th percentile compile time (ms) of compiled schemas."""
        return nearest_rank(self.compile_ms, 0.99)

    def add(self, r: Record) -> None:
        """Count one record."""
        self.schemas += 1
        if r.status == "compiled":
            self.compiled += 1
            if r.compile_ms is not None:
                self.compile_ms.append(r.compile_ms)
        elif r.status == "refused":
            self.refused += 1
        elif r.status == "timeout":
            self.timeouts += 1
        else:
            self.errors += 1
            if r.error_kind != "engine":
                self.crashes += 1
        self.passing += int(r.passed)
        self.valid_rejected += r.valid_rejected
        self.invalid_accepted += r.invalid_accepted
        self.schemas_wrong += int(r.valid_rejected + r.invalid_accepted > 0)
        self.unserializable += r.unserializable
        self.slow += int(r.slow_compile)


def summarize(records: Iterable[Record], label: str = "total") -> Summary:
    """One :class:`Summary` over all ``records``."""
    s = Summary(label)
    for r in records:
        s.add(r)
    return s


def summarize_by(records: Iterable[Record], order: Sequence[str] = ()) -> list[Summary]:
    """One summary per split (splits in ``order`` first, then by first appearance), then total."""
    groups: dict[str, Summary] = {name: Summary(name) for name in order}
    total = Summary("total")
    for r in records:
        groups.setdefault(r.split, Summary(r.split)).add(r)
        total.add(r)
    return [s for s in groups.values() if s.schemas] + [total]


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


COLUMNS = (
    "split",
    "schemas",
    "compiled",
    "refused",
    "errors",
    "timeouts",
    "passing",
    "passing %",
    "valid rejected",
    "invalid accepted",
    "unserializable",
    "compile > 10 s",
    "compile median ms",
    "compile p99 ms",
)


def markdown_table(summaries: Sequence[Summary]) -> str:
    """A GitHub-flavoured markdown table of summaries, one row each.

    "errors" counts engine errors and crashes (crashes in parentheses when any); "valid
    rejected", "invalid accepted" and "unserializable" count test instances.
    """
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for s in summaries:
        pct = f"{100.0 * s.passing / s.schemas:.1f}" if s.schemas else "–"
        errors = f"{s.errors} ({s.crashes} crashes)" if s.crashes else str(s.errors)
        cells = [
            s.label,
            str(s.schemas),
            str(s.compiled),
            str(s.refused),
            errors,
            str(s.timeouts),
            str(s.passing),
            pct,
            str(s.valid_rejected),
            str(s.invalid_accepted),
            str(s.unserializable),
            str(s.slow),
            _ms(s.compile_median),
            _ms(s.compile_p99),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def refused_keywords(records: Iterable[Record], top: int = 25) -> str:
    """A markdown table of the keywords named by refusals: schemas refused for each.

    A schema counts once per distinct keyword among its refusal issues.
    """
    counts: Counter[str] = Counter()
    for r in records:
        if r.status == "refused":
            counts.update({issue["keyword"] for issue in r.refused})
    lines = ["| keyword | schemas refused |", "|---|---|"]
    lines.extend(f"| {k} | {n} |" for k, n in counts.most_common(top))
    return "\n".join(lines)
