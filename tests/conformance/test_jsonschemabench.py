"""JSONSchemaBench conformance of corral's JSON Schema compiler on a fixed sample.

The sample is every k-th schema of each split by sorted name (k from ``SAMPLE_SIZE``), run in
both whitespace modes, in ``SHARDS`` parts so that ``pytest -n 2`` runs them side by side; each
part runs its schemas in one worker process under a hard timeout. A part fails on any invalid
instance accepted, any valid instance rejected by a compiled schema, any crash or timeout, any
compile over 10 s of CPU time; in compact mode (the one the expected file records) also on any
schema of the sample missing from ``expected/jsonschemabench.json`` and on any schema passing
there that does not pass now. The whole set: ``python -m corral.jsonschemabench --full
--check-expected``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from corral.jsonschemabench.expected import check_records, load_expected
from corral.jsonschemabench.loader import Case, find_data_dir, iter_cases, list_files, stride_for
from corral.jsonschemabench.runner import make_tasks, run_cases

SAMPLE_SIZE = 800
SHARDS = 2
TIMEOUT_S = 40.0
EXPECTED = Path(__file__).parent / "expected" / "jsonschemabench.json"


@functools.cache
def _sample() -> tuple[Case, ...]:
    root = find_data_dir()
    return tuple(iter_cases(root, stride=stride_for(list_files(root), SAMPLE_SIZE)))


def test_sample_is_fixed_and_covered_by_expected_file() -> None:
    sample = _sample()
    assert len(sample) >= SAMPLE_SIZE
    assert len({c.split for c in sample}) == 11
    expected = load_expected(EXPECTED)
    missing = [c.name for c in sample if c.name not in expected]
    assert not missing, f"not in {EXPECTED.name}: {missing[:20]}"
    assert all(v["status"] == "compiled" for v in expected.values() if v["passed"])


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
def test_jsonschemabench_sample(whitespace: str, shard: int) -> None:
    cases = _sample()[shard::SHARDS]
    tasks = make_tasks(cases, ["corral"], [whitespace])
    records = run_cases(tasks, jobs=1, timeout=TIMEOUT_S)
    assert len(records) == len(cases)
    assert all(r.status in ("compiled", "refused", "error", "timeout") for r in records)
    assert all(r.passed == (r.status == "compiled" and not r.failures) for r in records)
    expected = load_expected(EXPECTED) if whitespace == "compact" else {}
    problems = check_records(records, expected, require_listed=whitespace == "compact")
    assert not problems, "\n".join(problems[:60])
