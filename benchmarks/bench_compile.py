"""Schema compile time and memory, corral alone: ``Grammar.from_json_schema`` + ``compile`` over
the seeded sample of JSONSchemaBench dev schemas that ``corral bench masks`` draws, one shared
:class:`corral.AutomataCache` (a server's set-up), the trie built before timing.

Each pass runs in a fresh process, so every pass meets the schemas with a cold cache in the
same order. The machine is shared and noisy; the per-schema minimum over the passes is the
figure to compare between commits (``corral bench masks`` stays the place for ratios to the
other engines). RSS is the process's resident memory before the first schema and after the
last, with the compiled grammars dropped. Run from the repository root::

    python benchmarks/bench_compile.py [--tokenizer qwen] [--n 300] [--passes 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def one_pass(tokenizer: str, n: int, seed: int) -> dict[str, object]:
    """Compile the sample once, in this process: per schema (front-end, compile) seconds or
    ``None`` where corral refuses it, and the RSS in MiB before and after."""
    import psutil  # type: ignore[import-untyped]

    import corral
    from corral.cli.inputs import load_tokenizer
    from corral.jsonschemabench.loader import list_files, load_case
    from corral.jsonschemabench.masks import DEFAULT_SPLITS

    data = Path(os.environ.get("CORRAL_JSONSCHEMABENCH", "../shared/jsonschemabench"))
    tok = load_tokenizer(tokenizer)
    tok.token_trie()
    cases = [
        load_case(s, p) for s, p in random.Random(seed).sample(list_files(data, DEFAULT_SPLITS), n)
    ]
    cache = corral.AutomataCache()
    corral.compile(corral.Grammar.from_json_schema({"type": "string"}), tok)  # imports, trie
    gc.collect()
    rss = [psutil.Process().memory_info().rss / 2**20]
    times: list[tuple[float, float] | None] = []
    for case in cases:
        start = time.perf_counter()
        try:
            grammar = corral.Grammar.from_json_schema(case.schema, cache=cache)
            mid = time.perf_counter()
            corral.compile(grammar, tok)
        except (corral.GrammarError, ValueError, TypeError, RecursionError):
            times.append(None)
            continue
        times.append((mid - start, time.perf_counter() - mid))
    gc.collect()
    rss.append(psutil.Process().memory_info().rss / 2**20)
    return {"times": times, "rss_mb": rss, "cache_mib": cache.nbytes / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", default="qwen")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--one-pass", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_pass:
        json.dump(one_pass(args.tokenizer, args.n, args.seed), sys.stdout)
        return
    runs = []
    for _ in range(args.passes):
        out = subprocess.run(
            [sys.executable, __file__, "--one-pass", "--tokenizer", args.tokenizer,
             "--n", str(args.n), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout))
    ok = [i for i in range(args.n) if all(r["times"][i] is not None for r in runs)]
    per = np.array([[r["times"][i] for i in ok] for r in runs]) * 1e3  # passes x schemas x 2
    for label, t in (("first pass", per[0]), (f"min of {args.passes} passes", per.min(axis=0))):
        total = t.sum(axis=1)
        q = {p: float(np.percentile(total, p)) for p in (50, 90, 99)}
        print(f"{label}: compile p50 {q[50]:.2f} ms, p90 {q[90]:.1f} ms, p99 {q[99]:.1f} ms, "
              f"max {total.max():.1f} ms; front-end p50 {np.percentile(t[:, 0], 50):.2f} ms, "
              f"compile() p50 {np.percentile(t[:, 1], 50):.2f} ms; "
              f"all {total.sum() / 1e3:.2f} s")  # fmt: skip
    for k, r in enumerate(runs):
        before, after = r["rss_mb"]
        print(f"pass {k + 1}: RSS {before:.0f} -> {after:.0f} MiB (+{after - before:.0f}); "
              f"automata cache {r['cache_mib']:.1f} MiB counted")  # fmt: skip
    print(f"{len(ok)} of {args.n} schemas compiled in every pass ({args.tokenizer})")


if __name__ == "__main__":
    main()
