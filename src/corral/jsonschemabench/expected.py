"""Expected-results files: per schema name, whether it passed and its status.

The files are committed and only ever improve: an update records new schemas and schemas that
now pass, but never turns a pass into a failure; such regressions are returned instead so that
the caller fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from corral.jsonschemabench.runner import Record

__all__ = [
    "Expected",
    "check_records",
    "load_expected",
    "merge_expected",
    "regressions",
    "save_expected",
    "unlisted",
]

Expected = dict[str, dict[str, object]]


def load_expected(path: Path) -> Expected:
    """Read an expected file; an absent file is empty."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return raw


def save_expected(path: Path, expected: Expected) -> None:
    """Write an expected file, names sorted, one entry per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{json.dumps(name)}: {json.dumps(expected[name], sort_keys=True)}"
        for name in sorted(expected)
    ]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


def regressions(expected: Expected, records: Iterable[Record]) -> list[str]:
    """Names of schemas passing in ``expected`` that do not pass in ``records``."""
    return sorted(
        r.name for r in records if not r.passed and bool(expected.get(r.name, {}).get("passed"))
    )


def unlisted(expected: Expected, records: Iterable[Record]) -> list[str]:
    """Names of schemas in ``records`` that ``expected`` does not list."""
    return sorted(r.name for r in records if r.name not in expected)


def merge_expected(expected: Expected, records: Iterable[Record]) -> tuple[Expected, list[str]]:
    """Fold ``records`` into ``expected`` without ever losing a pass.

    Returns
    -------
    (Expected, list[str])
        The updated mapping (a new dict), and the regressions (kept as passing in it).
    """
    records = list(records)
    lost = regressions(expected, records)
    merged = dict(expected)
    for r in records:
        if r.name in lost:
            continue
        merged[r.name] = {"passed": r.passed, "status": r.status}
    return merged, lost


def check_records(
    records: Iterable[Record], expected: Expected, *, require_listed: bool
) -> list[str]:
    """Every reason for a conformance run to fail, one line each (empty when it passes).

    A run fails on an invalid instance accepted, a valid instance rejected by a compiled
    schema, a crash (an exception that is not the engine's deliberate error, or a dead worker),
    a timeout, a compile over the bound, a regression against ``expected``, and, when
    ``require_listed``, a schema that ``expected`` does not list.
    """
    records = list(records)
    problems: list[str] = []
    for r in records:
        where = f"{r.name} [{r.engine}/{r.whitespace}]"
        if r.invalid_accepted:
            problems.append(f"{where}: {r.invalid_accepted} invalid instance(s) accepted")
        if r.valid_rejected:
            problems.append(f"{where}: {r.valid_rejected} valid instance(s) rejected")
        if r.status == "error" and r.error_kind != "engine":
            problems.append(f"{where}: {r.error_kind}: {r.error.splitlines()[0][:300]}")
        if r.status == "timeout":
            problems.append(f"{where}: timeout ({r.error})")
        if r.slow_compile:
            problems.append(
                f"{where}: compile took {r.compile_cpu_ms or 0:.0f} ms of CPU (bound 10 s)"
            )
        for f in r.failures:
            problems.append(f"{where}:   test {f['index']} valid={f['valid']} at {f['offset']}")
    problems.extend(
        f"{name}: regression (passing in the expected file)"
        for name in regressions(expected, records)
    )
    if require_listed:
        problems.extend(f"{name}: not in the expected file" for name in unlisted(expected, records))
    return problems
