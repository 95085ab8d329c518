"""The official JSON-Schema-Test-Suite (draft 2020-12 and chosen format files) against corral.

Every group's schema is compiled by corral (compact whitespace); every test instance must get
the right verdict, or the schema must be refused (``UnsupportedSchemaError``) or rejected with
a clear ``CorralError``. The run fails on any wrong verdict, crash, timeout or compile over
10 s, on any group missing from ``expected/json_schema_test_suite.json``, and on any group that
passes there but not now. The suite is read from the ``jsonschema`` sdist in ``.cache/``
(downloaded with pip when missing).
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from corral.jsonschemabench.expected import check_records, load_expected
from corral.jsonschemabench.loader import Case
from corral.jsonschemabench.runner import make_tasks, run_cases
from corral.jsonschemabench.test_suite import FORMATS, load_suite

SHARDS = 2
TIMEOUT_S = 40.0
EXPECTED = Path(__file__).parent / "expected" / "json_schema_test_suite.json"


@functools.cache
def _suite() -> tuple[Case, ...]:
    return tuple(load_suite())


def test_suite_loads_draft2020_12_and_formats() -> None:
    cases = _suite()
    keywords = {c.split for c in cases}
    assert {"type", "properties", "ref", "enum", "format"} <= keywords
    assert {f"format/{f}" for f in FORMATS} <= keywords
    assert not any(k.startswith("optional") for k in keywords)
    assert len(cases) > 300
    assert sum(len(c.tests) for c in cases) > 1200
    expected = load_expected(EXPECTED)
    missing = [c.name for c in cases if c.name not in expected]
    assert not missing, f"not in {EXPECTED.name}: {missing[:20]}"


@pytest.mark.parametrize("shard", range(SHARDS))
def test_json_schema_test_suite(shard: int) -> None:
    cases = _suite()[shard::SHARDS]
    records = run_cases(make_tasks(cases, ["corral"], ["compact"]), jobs=1, timeout=TIMEOUT_S)
    assert len(records) == len(cases)
    problems = check_records(records, load_expected(EXPECTED), require_listed=True)
    assert not problems, "\n".join(problems[:60])
