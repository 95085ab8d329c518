"""Benchmark applying a token bitmask: the C kernel against the pure NumPy twin.

Times :func:`corral.constraint_engine.bitmask.apply_token_bitmask_inplace` (type checks in Python,
then C validation and kernel), the raw extension call (C only) and
:func:`~corral.constraint_engine.bitmask.apply_token_bitmask_inplace_py` on float32 logits of the
Qwen2 vocabulary size (151,936) and of 49,152 tokens, 1-D and in a batch of 8, with two kinds of
mask: ``random`` (every bit a coin flip, so every word has about 16 disallowed tokens) and
``sparse`` (1% of tokens allowed, typical of a grammar state). Prints a table of median and p99
times in microseconds and writes them to ``benchmarks/results/bitmask.json``.

Run from the repository root after ``python setup.py build_ext --inplace``::

    python benchmarks/bench_bitmask.py [--repeats N] [--warmup N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from corral.constraint_engine import bitmask  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bitmask.json"
VOCABS = (151_936, 49_152)
BATCHES = (None, 8)
MASKS = {"random": 0.5, "sparse": 0.01}


def make_case(
    rng: np.random.Generator, vocab: int, batch: int | None, allowed_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return float32 logits and a packed mask with the given fraction of allowed tokens."""
    rows = 1 if batch is None else batch
    logits = rng.standard_normal((rows, vocab)).astype(np.float32)
    mask = bitmask.pack_bitmask(rng.random((rows, vocab)) < allowed_fraction)
    if batch is None:
        return logits[0].copy(), mask[0].copy()
    return logits, mask


def time_call(fn: Callable[[], Any], repeats: int, warmup: int) -> dict[str, float]:
    """Time ``fn`` ``repeats`` times with perf_counter_ns; return statistics in microseconds."""
    for _ in range(warmup):
        fn()
    samples = np.empty(repeats, dtype=np.int64)
    for i in range(repeats):
        start = time.perf_counter_ns()
        fn()
        samples[i] = time.perf_counter_ns() - start
    us = samples / 1000.0
    return {
        "median_us": float(np.median(us)),
        "p99_us": float(np.percentile(us, 99)),
        "mean_us": float(us.mean()),
        "min_us": float(us.min()),
        "repeats": repeats,
    }


def run(repeats: int, warmup: int) -> list[dict[str, Any]]:
    """Time every configuration; return one record per (vocab, batch, mask)."""
    if not bitmask.HAS_NATIVE:
        raise SystemExit("the native extension is not built: python setup.py build_ext --inplace")
    from corral import _native

    rng = np.random.default_rng(0)
    records = []
    for vocab in VOCABS:
        for batch in BATCHES:
            for mask_name, fraction in MASKS.items():
                logits, mask = make_case(rng, vocab, batch, fraction)
                check = logits.copy()
                bitmask.apply_token_bitmask_inplace(logits, mask)
                bitmask.apply_token_bitmask_inplace_py(check, mask)
                assert np.array_equal(logits.view(np.uint32), check.view(np.uint32))
                impls: dict[str, Callable[[], Any]] = {
                    "native": partial(bitmask.apply_token_bitmask_inplace, logits, mask),
                    "raw": partial(_native.apply_token_bitmask_inplace, logits, mask),
                    "twin": partial(bitmask.apply_token_bitmask_inplace_py, logits, mask),
                }
                timings = {name: time_call(fn, repeats, warmup) for name, fn in impls.items()}
                records.append(
                    {
                        "vocab": vocab,
                        "batch": batch,
                        "shape": list(logits.shape),
                        "mask": mask_name,
                        "allowed_fraction": fraction,
                        "dtype": "float32",
                        "timings": timings,
                        "speedup_median": timings["twin"]["median_us"]
                        / timings["native"]["median_us"],
                    }
                )
    return records


def print_table(records: list[dict[str, Any]]) -> None:
    """Print median / p99 per configuration."""
    header = (
        f"{'shape':>12} {'mask':>7} | {'native med':>10} {'p99':>8} | {'raw med':>8} "
        f"{'p99':>8} | {'twin med':>9} {'p99':>9} | {'speedup':>7}"
    )
    print(header)
    print("-" * len(header))
    for rec in records:
        t = rec["timings"]
        shape = "x".join(str(s) for s in rec["shape"])
        print(
            f"{shape:>12} {rec['mask']:>7} | {t['native']['median_us']:>10.1f} "
            f"{t['native']['p99_us']:>8.1f} | {t['raw']['median_us']:>8.1f} "
            f"{t['raw']['p99_us']:>8.1f} | {t['twin']['median_us']:>9.1f} "
            f"{t['twin']['p99_us']:>9.1f} | {rec['speedup_median']:>6.1f}x"
        )
    print("times in µs (perf_counter_ns); raw = direct _native call without the Python type checks")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the benchmark, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1000, help="timed calls per case")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls per case")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args(argv)
    records = run(args.repeats, args.warmup)
    print_table(records)
    meta = {
        "benchmark": "apply_token_bitmask_inplace",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "repeats": args.repeats,
        "warmup": args.warmup,
        "unit": "microseconds",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": records}, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
