"""Tests of the conformance harness itself: loaders, sampling, report arithmetic, the pool."""

from __future__ import annotations

import json
import operator
import os
import time
from pathlib import Path

import pytest

from corral.jsonschemabench.expected import (
    Expected,
    check_records,
    load_expected,
    merge_expected,
    regressions,
    save_expected,
)
from corral.jsonschemabench.loader import (
    SPLITS,
    Case,
    TestInstance,
    every_kth,
    find_data_dir,
    iter_cases,
    list_files,
    load_case,
    stride_for,
)
from corral.jsonschemabench.pool import run_pool
from corral.jsonschemabench.report import (
    markdown_table,
    nearest_rank,
    refused_keywords,
    summarize,
    summarize_by,
)
from corral.jsonschemabench.runner import Record, Task, lost_record, run_case
from corral.jsonschemabench.test_suite import (
    find_sdist,
    keyword_table,
    load_suite,
    member_keyword,
)


def _rec(name: str, split: str = "A", **kw: object) -> Record:
    fields: dict[str, object] = {"status": "compiled", "passed": True}
    fields.update(kw)
    return Record("corral", "compact", split, name, **fields)  # type: ignore[arg-type]


def test_data_dir_has_every_split_and_8346_files() -> None:
    root = find_data_dir()
    files = list_files(root)
    assert len(files) == 8346
    assert {split for split, _ in files} == set(SPLITS)
    names = [p.stem for _, p in files]
    assert len(set(names)) == len(names)


def test_data_dir_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_JSONSCHEMABENCH", str(tmp_path))
    assert find_data_dir() == tmp_path
    monkeypatch.setenv("CORRAL_JSONSCHEMABENCH", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match="absent"):
        find_data_dir()
    monkeypatch.delenv("CORRAL_JSONSCHEMABENCH")
    with pytest.raises(FileNotFoundError, match="CORRAL_JSONSCHEMABENCH"):
        find_data_dir()
    assert find_data_dir(tmp_path) == tmp_path


def test_sdist_parameter_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sdist = tmp_path / "jsonschema.tar.gz"
    sdist.write_bytes(b"")
    assert find_sdist(sdist) == sdist
    monkeypatch.setenv("CORRAL_TEST_SUITE_SDIST", str(sdist))
    assert find_sdist() == sdist
    monkeypatch.delenv("CORRAL_TEST_SUITE_SDIST")
    with pytest.raises(FileNotFoundError, match="CORRAL_TEST_SUITE_SDIST"):
        find_sdist()
    with pytest.raises(FileNotFoundError, match="missing"):
        find_sdist(tmp_path / "absent.tar.gz")


def test_load_case_shape(tmp_path: Path) -> None:
    path = tmp_path / "S---x1.json"
    tests = [{"valid": True, "data": 1}, {"valid": False, "data": "a", "description": "d"}]
    path.write_text(json.dumps({"schema": {"type": "integer"}, "tests": tests}))
    case = load_case("S", path)
    assert case.name == "S---x1" and case.split == "S"
    assert case.schema == {"type": "integer"}
    assert [(t.valid, t.data, t.description) for t in case.tests] == [
        (True, 1, ""),
        (False, "a", "d"),
    ]
    path.write_text(json.dumps({"schema": {}, "tests": [{"data": 1}]}))
    with pytest.raises(ValueError, match="valid"):
        load_case("S", path)


def test_every_kth_is_per_split_and_deterministic() -> None:
    files = [("A", Path(f"a{i}")) for i in range(7)] + [("B", Path(f"b{i}")) for i in range(3)]
    kept = every_kth(files, 3)
    assert [p.name for _, p in kept] == ["a0", "a3", "a6", "b0"]
    assert every_kth(files, 1) == files
    with pytest.raises(ValueError):
        every_kth(files, 0)


def test_stride_for_gives_about_the_requested_size() -> None:
    files = list_files(find_data_dir())
    for size in (50, 300, 1000):
        stride = stride_for(files, size)
        assert len(every_kth(files, stride)) >= size
        assert len(every_kth(files, stride + 1)) < size
    assert stride_for(files[:10], 100) == 1


def test_iter_cases_sample_is_stable() -> None:
    first = [c.name for c in iter_cases(splits=["JME", "MCPspec"], stride=10)]
    again = [c.name for c in iter_cases(splits=["JME", "MCPspec"], stride=10)]
    assert first == again
    assert len(first) == 10 + 5
    assert first[0] == sorted(p.stem for _, p in list_files(find_data_dir(), ["JME"]))[0]
    with pytest.raises(ValueError, match="unknown split"):
        list(iter_cases(splits=["nope"]))


def test_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert nearest_rank(values, 0.99) == 99.0
    assert nearest_rank(values, 0.5) == 50.0
    assert nearest_rank(values, 1.0) == 100.0
    assert nearest_rank([3.0, 1.0, 2.0], 0.99) == 3.0
    assert nearest_rank([], 0.5) is None


def test_summary_arithmetic() -> None:
    records = [
        _rec("a", compile_ms=1.0, n_valid=2, n_invalid=1),
        _rec("b", compile_ms=3.0, passed=False, valid_rejected=2, invalid_accepted=1),
        _rec("c", status="refused", passed=False, refused=[{"keyword": "not"}]),
        _rec("d", "B", status="error", error_kind="engine", passed=False),
        _rec("e", "B", status="error", error_kind="crash", passed=False),
        _rec("f", "B", status="timeout", passed=False),
        _rec("g", "B", compile_ms=12_000.0, slow_compile=True, unserializable=1),
    ]
    total = summarize(records)
    assert (total.schemas, total.compiled, total.refused) == (7, 3, 1)
    assert (total.errors, total.crashes, total.timeouts) == (2, 1, 1)
    assert (total.passing, total.valid_rejected, total.invalid_accepted) == (2, 2, 1)
    assert (total.schemas_wrong, total.unserializable, total.slow) == (1, 1, 1)
    assert total.compile_median == 3.0
    assert total.compile_p99 == 12_000.0
    by = summarize_by(records, order=["B", "A", "Z"])
    assert [s.label for s in by] == ["B", "A", "total"]
    assert by[0].schemas + by[1].schemas == by[2].schemas
    table = markdown_table(by)
    assert table.splitlines()[-1].startswith("| total | 7 | 3 | 1 | 2 (1 crashes) | 1 | 2 | 28.6 |")
    assert "| not | 1 |" in refused_keywords(records)


def test_expected_never_loses_a_pass(tmp_path: Path) -> None:
    path = tmp_path / "exp.json"
    assert load_expected(path) == {}
    expected: Expected = {"a": {"passed": True, "status": "compiled"}, "b": {"passed": False}}
    records = [
        _rec("a", passed=False, status="refused"),
        _rec("b"),
        _rec("c", passed=False, status="refused"),
    ]
    assert regressions(expected, records) == ["a"]
    merged, lost = merge_expected(expected, records)
    assert lost == ["a"]
    assert merged["a"]["passed"] is True
    assert merged["b"] == {"passed": True, "status": "compiled"}
    assert merged["c"] == {"passed": False, "status": "refused"}
    save_expected(path, merged)
    assert load_expected(path) == merged
    problems = check_records(records, expected, require_listed=True)
    assert any("a: regression" in p for p in problems)
    assert any("c: not in the expected file" in p for p in problems)


def test_check_records_flags_every_failure_kind() -> None:
    records = [
        _rec("ok"),
        _rec("inv", passed=False, invalid_accepted=1),
        _rec("val", passed=False, valid_rejected=1),
        _rec("crash", status="error", error_kind="crash", error="KeyError: x", passed=False),
        _rec("eng", status="error", error_kind="engine", error="GrammarError", passed=False),
        _rec("slow", compile_ms=11_000.0, slow_compile=True),
        _rec("late", status="timeout", error="over 5 s", passed=False),
    ]
    flagged = {p.split(" ")[0] for p in check_records(records, {}, require_listed=False)}
    assert flagged == {"inv", "val", "crash", "slow", "late"}


def _lost(task: float, status: str, message: str) -> str:
    return f"{status}:{task}"


def test_pool_kills_runaway_task_and_continues() -> None:
    started = time.monotonic()
    out = run_pool(time.sleep, [0.0, 60.0, 0.0, 0.0], jobs=2, timeout=2.0, on_lost=_lost)
    assert out == [None, "timeout:60.0", None, None]
    assert time.monotonic() - started < 45


def test_pool_replaces_dead_worker() -> None:
    out = run_pool(os._exit, [3, 3], jobs=1, timeout=20.0, on_lost=_lost)
    assert out == ["error:3", "error:3"]


def test_suite_member_keywords() -> None:
    base = "jsonschema-4.26.0/json/tests/draft2020-12/"
    assert member_keyword(base + "type.json") == "type"
    assert member_keyword(base + "optional/format/date-time.json") == "format/date-time"
    assert member_keyword(base + "optional/format/idn-email.json") is None
    assert member_keyword(base + "optional/bignum.json") is None
    assert member_keyword("jsonschema-4.26.0/json/tests/draft7/type.json") is None
    assert member_keyword("jsonschema-4.26.0/json/remotes/draft2020-12/tree.json") is None


def test_keyword_table_counts_cases() -> None:
    records = [
        _rec("type#0", "type", n_valid=2, n_invalid=3),
        _rec("type#1", "type", status="refused", passed=False, n_valid=1),
        _rec("not#0", "not", passed=False, n_valid=1, n_invalid=1, invalid_accepted=1),
    ]
    lines = keyword_table(records).splitlines()
    assert lines[2] == "| type | 2 | 6 | 1 | 1 | 0 | 0 | 1 | 0 |"
    assert lines[3] == "| not | 1 | 2 | 1 | 0 | 0 | 0 | 0 | 1 |"
    assert lines[4] == "| total | 3 | 8 | 2 | 1 | 0 | 0 | 1 | 1 |"


@pytest.mark.parametrize("engine", ["corral", "llguidance"])
def test_run_case_counts_wrong_verdicts(engine: str) -> None:
    tests = (
        TestInstance(True, 12),
        TestInstance(False, "a"),
        TestInstance(False, 7),  # mislabelled: must count as an invalid instance accepted
        TestInstance(True, [1]),  # mislabelled: must count as a valid instance rejected
        TestInstance(True, float("nan")),
    )
    case = Case("S", "S---int", {"type": "integer"}, tests)
    r = run_case(Task(case, engine, "compact"))
    assert r.status == "compiled" and r.error == ""
    assert (r.n_valid, r.n_invalid, r.unserializable) == (3, 2, 1)
    assert (r.valid_rejected, r.invalid_accepted) == (1, 1)
    assert not r.passed
    assert [(f["index"], f["valid"]) for f in r.failures] == [(2, False), (3, True)]
    assert r.failures[1]["offset"] == 0
    good = run_case(Task(Case("S", "S---ok", {"type": "integer"}, tests[:2]), engine))
    assert good.passed and good.compile_ms is not None and not good.slow_compile


def test_run_case_refusal_and_lost_records() -> None:
    case = Case("S", "S---u", {"type": "array", "items": {"type": "integer"}, "x": 1}, ())
    r = run_case(Task(case, "nope"))
    assert (r.status, r.error_kind, r.passed) == ("error", "crash", False)
    assert "unknown engine" in r.error
    one = Case("S", "S---t", {}, (TestInstance(True, 1),))
    lost = lost_record(Task(one, "corral"), "timeout", "")
    assert (lost.status, lost.passed, lost.n_valid, lost.compile_ms) == ("timeout", False, 1, None)
    dead = lost_record(Task(case, "corral"), "error", "worker died (-9)")
    assert (dead.status, dead.error_kind, dead.passed) == ("error", "worker", False)


def test_format_assertion_relabels_only_annotation_instances() -> None:
    asserted = load_suite(keywords=["format"])
    plain = load_suite(keywords=["format"], format_assertion=False)
    assert [c.name for c in asserted] == [c.name for c in plain]
    changed = [
        (a.description, b.valid)
        for ca, cb in zip(asserted, plain, strict=True)
        for a, b in zip(ca.tests, cb.tests, strict=True)
        if a.valid != b.valid
    ]
    assert len(changed) == 19
    assert all(d.endswith("is only an annotation by default") and v for d, v in changed)


def test_pool_recycles_flagged_workers_and_retries_once_fresh() -> None:
    calls: list[int] = []

    def flagged(result: int) -> bool:
        calls.append(result)
        return result < 0

    def never_lost(task: int, status: str, message: str) -> int:
        raise AssertionError(f"task {task} lost: {status} {message}")

    out = run_pool(
        operator.neg,
        [-1, 2, -3, 4],
        jobs=1,
        timeout=20.0,
        on_lost=never_lost,
        recycle=flagged,
        max_tasks=2,
    )
    assert out == [1, -2, 3, -4]
    # -2 and -4 are each flagged on a worker that had run a task before: each is rerun once
    # on a fresh worker, whose (flagged again) result is kept
    assert calls == [1, -2, -2, 3, -4, -4]
