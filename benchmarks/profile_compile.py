"""Where schema compilation spends its time: ``Grammar.from_json_schema`` + ``compile`` under
cProfile over a seeded sample of JSONSchemaBench dev schemas (the sample ``corral bench masks``
draws with the same seed), one shared :class:`corral.AutomataCache`, SmolLM2 vocabulary (its
trie built before timing). Prints compile p50/p90/p99 (milliseconds, under the profiler, so
above ``corral bench``'s figures) and the functions with the most internal time. Run from the
repository root::

    python benchmarks/profile_compile.py [--n 300] [--seed 0] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import time
from pathlib import Path

import corral
from corral.jsonschemabench.loader import list_files, load_case
from corral.jsonschemabench.masks import DEFAULT_SPLITS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    data = Path(os.environ.get("CORRAL_JSONSCHEMABENCH", "../shared/jsonschemabench"))
    tok = corral.Tokenizer.default()
    tok.token_trie()
    files = list_files(data, DEFAULT_SPLITS)
    cases = [load_case(s, p) for s, p in random.Random(args.seed).sample(files, args.n)]
    cache = corral.AutomataCache()
    times: list[float] = []
    profile = cProfile.Profile()
    profile.enable()
    for case in cases:
        start = time.perf_counter()
        try:
            corral.compile(corral.Grammar.from_json_schema(case.schema, cache=cache), tok)
        except corral.CorralError:
            continue
        times.append((time.perf_counter() - start) * 1e3)
    profile.disable()
    times.sort()
    q = {p: times[min(len(times) - 1, int(len(times) * p / 100))] for p in (50, 90, 99)}
    print(f"{len(times)} schemas compiled; ms p50 {q[50]:.2f} p90 {q[90]:.2f} p99 {q[99]:.2f}; "
          f"total {sum(times) / 1e3:.2f} s")  # fmt: skip
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
