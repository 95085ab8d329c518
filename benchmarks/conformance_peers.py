"""Run corral's conformance suite against other engines (llguidance, XGrammar).

The shipped grammars (``--part grammars``) and a seeded sample of JSONSchemaBench files
(``--part schemas``): every check of :func:`corral.testing.checks.run_conformance`, corral's
reference matcher (plus lark / ``jsonschema``) as the oracle, the SmolLM2 vocabulary. Schemas
corral does not compile are listed, not judged. One JSON line per report in ``OUT/PART.jsonl``;
the failures are printed as they come.

    python benchmarks/conformance_peers.py --part grammars --out /tmp/conf
    python benchmarks/conformance_peers.py --part schemas --n 100 --out /tmp/conf
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import corral  # noqa: E402
from corral.errors import CorralError  # noqa: E402
from corral.jsonschemabench.loader import find_data_dir, list_files, load_case  # noqa: E402
from corral.testing.checks import run_conformance  # noqa: E402
from corral.testing.engines import make_engine  # noqa: E402
from corral.testing.oracle import Oracle  # noqa: E402
from corral.testing.report import ConformanceReport  # noqa: E402
from corral.testing.sources import GrammarSource, resolve_sources  # noqa: E402

GRAMMAR_BOUNDS: dict[str, dict[str, int]] = {
    "json.lark": {"max_depth": 6},
    "json.gbnf": {"max_depth": 7},
    "arithmetic.lark": {"max_depth": 6},
    "sql.lark": {"max_depth": 3, "max_lexeme": 4},
    "c.lark": {"max_depth": 3, "max_lexeme": 4},
}


class _Timeout(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Timeout


def _emit(out: TextIO, reports: list[ConformanceReport], extra: dict[str, Any]) -> None:
    for r in reports:
        row = r.to_json()
        row.update(extra)
        out.write(json.dumps(row) + "\n")
        out.flush()
        if r.status != "pass":
            print(r.describe(), flush=True)


def run_grammars(engines: list[Any], tok: corral.Tokenizer, out: TextIO, examples: int) -> None:
    """Every check on every shipped grammar, canonical and random tokenizations."""
    for name in ("json", "arithmetic", "sql", "c"):
        for src in resolve_sources(name):
            oracle = Oracle(src, tok)
            for engine in engines:
                for splits in (False, True):
                    started = time.time()
                    reports = run_conformance(
                        engine, src, tok, examples=examples, seed=11, shrink_seconds=15,
                        oracle=oracle, random_splits=splits, **GRAMMAR_BOUNDS[src.name],
                    )  # fmt: skip
                    _emit(out, reports, {"random_splits": splits})
                    took = round(time.time() - started, 1)
                    print(engine.name, src.name, splits, took, [r.status for r in reports])


def run_schemas(
    engines: list[Any], tok: corral.Tokenizer, out: TextIO, n: int, seed: int, data: str | None
) -> None:
    """Every check on ``n`` JSONSchemaBench files drawn with ``random.Random(seed)``."""
    default = os.environ.get("CORRAL_JSONSCHEMABENCH") or ROOT.parent / "shared" / "jsonschemabench"
    files = list_files(find_data_dir(data or default))
    picked = sorted(random.Random(seed).sample(range(len(files)), n))
    signal.signal(signal.SIGALRM, _alarm)
    judged = 0
    for i in picked:
        split, path = files[i]
        case = load_case(split, path)
        src = GrammarSource.from_schema(case.schema, case.name)
        signal.alarm(30)
        try:
            oracle = Oracle(src, tok)
        except (CorralError, _Timeout) as exc:
            signal.alarm(0)
            row = {"grammar": case.name, "status": "corral-refused", "reason": str(exc)[:200]}
            out.write(json.dumps(row) + "\n")
            continue
        signal.alarm(0)
        judged += 1
        for engine in engines:
            signal.alarm(120)
            try:
                reports = run_conformance(
                    engine, src, tok, examples=6, seed=5, shrink_seconds=3, oracle=oracle,
                    random_splits=False, max_depth=5, max_steps=12,
                )  # fmt: skip
                _emit(out, reports, {})
            except _Timeout:
                row = {"grammar": case.name, "engine": engine.name, "status": "timeout"}
                out.write(json.dumps(row) + "\n")
            finally:
                signal.alarm(0)
    print(f"schemas judged (compiled by corral): {judged} of {n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("grammars", "schemas"), required=True)
    parser.add_argument("--engines", nargs="+", default=["llguidance", "xgrammar"])
    parser.add_argument("--n", type=int, default=100, help="schemas to sample")
    parser.add_argument("--seed", type=int, default=2026, help="schema sample seed")
    parser.add_argument("--examples", type=int, default=40, help="examples per grammar check")
    parser.add_argument(
        "--data", help="JSONSchemaBench directory (default: $CORRAL_JSONSCHEMABENCH, ../shared/...)"
    )
    parser.add_argument("--out", default="benchmarks/results", help="output directory")
    args = parser.parse_args()
    tok = corral.Tokenizer.default()
    engines = [make_engine(name, tok) for name in args.engines]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    with open(Path(args.out) / f"conformance_{args.part}.jsonl", "w", encoding="utf-8") as out:
        if args.part == "grammars":
            run_grammars(engines, tok, out, args.examples)
        else:
            run_schemas(engines, tok, out, args.n, args.seed, args.data)


if __name__ == "__main__":
    main()
