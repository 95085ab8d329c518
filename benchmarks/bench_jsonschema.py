"""Benchmark JSON Schema support: corral and llguidance side by side on JSONSchemaBench.

For each schema of the chosen sample (every k-th file of each split by sorted name, see
:mod:`corral.jsonschemabench.loader`) or of the whole set, each engine compiles the schema for
the SmolLM2 vocabulary and is asked to accept each valid test instance and reject each invalid
one (compact serialization; corral also in flexible-whitespace mode). A schema passes when it
compiles and every verdict is right (the JSONSchemaBench rule, Geng et al. 2025,
arXiv:2501.10868). Each schema runs in a worker process under a hard timeout.

Reports per split and total: schemas, compiled, refused, errors, timeouts, passing, wrong
verdicts, compile time median and p99 (ms; nearest rank), and the keywords corral refuses.
Writes ``benchmarks/results/jsonschema.json`` (machine, tables, every record). Run from the
repository root::

    python benchmarks/bench_jsonschema.py [--full | --sample 1000] [--jobs 1]
        [--engine both] [--whitespace both]

Speed is measured here, never in the tests; other jobs on the machine skew compile times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from corral.jsonschemabench.__main__ import main as harness_main  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "jsonschema.json"


def machine() -> dict[str, object]:
    """Platform, CPU model and count, Python and engine versions."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        llg = version("llguidance")
    except Exception:
        llg = "not installed"
    return {
        "platform": platform.platform(),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "llguidance": llg,
    }


def main() -> int:
    """Parse the options, run the harness, add the machine to the results file."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true")
    size.add_argument("--sample", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--engine", choices=["corral", "llguidance", "both"], default="both")
    p.add_argument("--whitespace", choices=["compact", "flexible", "both"], default="both")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    argv = ["--engine", args.engine, "--whitespace", args.whitespace, "--jobs", str(args.jobs)]
    argv += ["--timeout", str(args.timeout), "--out", str(args.out), "--quiet"]
    argv += ["--full"] if args.full else ["--sample", str(args.sample)]
    status = harness_main(argv)
    payload = json.loads(args.out.read_text(encoding="utf-8"))
    payload["meta"]["machine"] = machine()
    args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
