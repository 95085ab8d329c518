"""Command line: run JSONSchemaBench (or the JSON-Schema-Test-Suite) through corral/llguidance.

Usage::

    python -m corral.jsonschemabench [--dataset jsonschemabench|test-suite]
        [--engine corral|llguidance|both] [--whitespace compact|flexible|both] [--jobs N]
        [--sample K | --full] [--splits ...] [--timeout S] [--out results.json]
        [--update-expected] [--check-expected] [--data DIR] [--sdist FILE] [--expected FILE]

Paths default relative to the current directory (run it from the repository root): the
schemas in ``$CORRAL_JSONSCHEMABENCH`` or ``../shared/jsonschemabench``, the test-suite sdist in
``$CORRAL_TEST_SUITE_SDIST`` or ``.cache/jsonschema-<version>.tar.gz`` (downloaded there when
missing), the expected files in ``tests/conformance/expected/``.

Prints one markdown table per engine and whitespace mode (per split and total) and, for corral,
the keywords its refusals name. The expected-file options act on corral's compact records.
The exit status is 1 when ``--check-expected`` finds a problem or ``--update-expected`` finds a
regression.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from corral.jsonschemabench.expected import (
    check_records,
    load_expected,
    merge_expected,
    save_expected,
)
from corral.jsonschemabench.loader import (
    ENV_VAR,
    SPLITS,
    Case,
    find_data_dir,
    iter_cases,
    list_files,
    stride_for,
)
from corral.jsonschemabench.report import markdown_table, refused_keywords, summarize_by
from corral.jsonschemabench.runner import Record, make_tasks, run_cases
from corral.jsonschemabench.test_suite import (
    SDIST_ENV_VAR,
    SDIST_NAME,
    find_sdist,
    keyword_table,
    load_suite,
)

DEFAULT_DATA = Path("..") / "shared" / "jsonschemabench"
DEFAULT_SDIST = Path(".cache") / SDIST_NAME
DEFAULT_EXPECTED_DIR = Path("tests") / "conformance" / "expected"

EXPECTED_FILES = {
    "jsonschemabench": "jsonschemabench.json",
    "test-suite": "json_schema_test_suite.json",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m corral.jsonschemabench", description=__doc__)
    p.add_argument("--dataset", choices=sorted(EXPECTED_FILES), default="jsonschemabench")
    p.add_argument("--engine", choices=["corral", "llguidance", "both"], default="corral")
    p.add_argument("--whitespace", choices=["compact", "flexible", "both"], default="both")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--sample", type=int, default=300, metavar="K", help="about K schemas (default 300)"
    )
    size.add_argument("--full", action="store_true", help="every schema")
    p.add_argument("--splits", nargs="+", help="splits (or test-suite keywords) to run")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per schema (default 60)")
    p.add_argument("--memory-mb", type=int, default=6144, help="address-space limit per worker")
    p.add_argument("--out", type=Path, help="write all records and the tables as JSON")
    p.add_argument(
        "--expected", type=Path, help=f"expected file (default: under {DEFAULT_EXPECTED_DIR}/)"
    )
    p.add_argument("--data", type=Path, help=f"schemas (default: ${ENV_VAR} or {DEFAULT_DATA})")
    p.add_argument(
        "--sdist",
        type=Path,
        help=f"test-suite sdist (default: ${SDIST_ENV_VAR} or {DEFAULT_SDIST})",
    )
    p.add_argument("--update-expected", action="store_true")
    p.add_argument("--check-expected", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def _cases(args: argparse.Namespace) -> tuple[list[Case], list[str]]:
    if args.dataset == "test-suite":
        sdist = args.sdist or os.environ.get(SDIST_ENV_VAR) or DEFAULT_SDIST
        cases = load_suite(find_sdist(sdist, download=True), keywords=args.splits)
        return cases, []
    root = find_data_dir(args.data or os.environ.get(ENV_VAR) or DEFAULT_DATA)
    splits = args.splits or list(SPLITS)
    stride = 1 if args.full else stride_for(list_files(root, splits), args.sample)
    return list(iter_cases(root, splits, stride)), list(splits)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        cases, order = _cases(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    engines = ["corral", "llguidance"] if args.engine == "both" else [args.engine]
    modes = ["compact", "flexible"] if args.whitespace == "both" else [args.whitespace]
    wants_expected = args.update_expected or args.check_expected
    if wants_expected and ("corral" not in engines or "compact" not in modes):
        print("expected files need corral in compact mode", file=sys.stderr)
        return 2
    tasks = make_tasks(cases, engines, modes)
    started = time.monotonic()
    done = [0]

    def progress(_index: int, record: Record) -> None:
        done[0] += 1
        if not args.quiet and (done[0] % 100 == 0 or done[0] == len(tasks)):
            elapsed = time.monotonic() - started
            print(f"{done[0]}/{len(tasks)} tasks, {elapsed:.0f} s", file=sys.stderr)

    records = run_cases(
        tasks, jobs=args.jobs, timeout=args.timeout, memory_mb=args.memory_mb, progress=progress
    )
    wall = time.monotonic() - started
    tables: dict[str, str] = {}
    for engine in engines:
        for mode in modes if engine == "corral" else ["compact"]:
            group = [r for r in records if r.engine == engine and r.whitespace == mode]
            key = f"{engine} ({mode})"
            if args.dataset == "test-suite":
                tables[key] = keyword_table(group)
            else:
                tables[key] = markdown_table(summarize_by(group, order))
            if engine == "corral":
                tables[f"{key}: refused keywords"] = refused_keywords(group)
    print(f"{len(cases)} schemas, {len(tasks)} tasks, {wall:.0f} s wall, jobs={args.jobs}\n")
    for key, table in tables.items():
        print(f"## {key}\n\n{table}\n")
    status = 0
    main_records = [r for r in records if r.engine == "corral" and r.whitespace == "compact"]
    path = args.expected or DEFAULT_EXPECTED_DIR / EXPECTED_FILES[args.dataset]
    if args.check_expected:
        problems = check_records(main_records, load_expected(path), require_listed=False)
        for line in problems:
            print(f"FAIL {line}")
        print(f"check-expected: {len(problems)} problem(s) against {path}")
        status = 1 if problems else status
    if args.update_expected:
        merged, lost = merge_expected(load_expected(path), main_records)
        save_expected(path, merged)
        for name in lost:
            print(f"REGRESSION {name} (kept as passing in {path})")
        print(f"update-expected: {len(merged)} entries written to {path}")
        status = 1 if lost else status
    if args.out:
        meta = {
            "dataset": args.dataset,
            "schemas": len(cases),
            "jobs": args.jobs,
            "wall_s": round(wall, 1),
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
        payload = {"meta": meta, "tables": tables, "records": [r.to_json() for r in records]}
        args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
