"""Benchmark masks inside ``uniqueItems`` arrays (run-time check) against plain arrays.

For each item type (strings, integers, open objects: compared by value at their closing
bracket) one document — an array of distinct items — is encoded
with SmolLM2's tokenizer and walked token by token on both engines, timing
:meth:`corral.Matcher.fill_next_token_bitmask` at every step, once for the schema with
``uniqueItems: true`` and once without. Prints median, p99 and max in microseconds, and the ratio
of the medians (unique / plain), e.g.::

    python benchmarks/bench_unique_items.py --items 60
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import corral

DOCS = {
    "strings": lambda n: [f"item-{i}-{'x' * (i % 7)}" for i in range(n)],
    "integers": lambda n: list(range(100, 100 + n)),
    "objects": lambda n: [{"id": i, "tags": ["a", "b"][: i % 3]} for i in range(n)],
}
TYPES = {"strings": "string", "integers": "integer", "objects": "object"}


def walk(cg: corral.CompiledGrammar, ids: list[int]) -> list[float]:
    """Mask times (microseconds) along ``ids``."""
    m = corral.Matcher(cg)
    mask = corral.allocate_token_bitmask(1, cg.vocab_size)
    out = []
    for t in ids:
        start = time.perf_counter_ns()
        m.fill_next_token_bitmask(mask)
        out.append((time.perf_counter_ns() - start) / 1000)
        if not m.accept_token(t):
            raise AssertionError("the document was refused")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=60, help="items per document (default 60)")
    args = p.parse_args()
    tok = corral.Tokenizer.default()
    tok.token_trie()
    print(f"{'items':9} {'engine':10} {'check':7} {'p50 µs':>9} {'p99 µs':>9} {'max µs':>9}")
    for kind, make in DOCS.items():
        ids = list(tok.encode(json.dumps(make(args.items), separators=(",", ":")).encode()))
        for engine in ("native", "reference"):
            p50 = {}
            for unique in (False, True):
                schema = {"type": "array", "items": {"type": TYPES[kind]}, "uniqueItems": unique}
                cg = corral.compile(corral.Grammar.from_json_schema(schema), tok, engine=engine)
                times = np.array(walk(cg, ids))
                p50[unique] = float(np.percentile(times, 50))
                label = "unique" if unique else "plain"
                print(f"{kind:9} {engine:10} {label:7} {p50[unique]:9.1f} "
                      f"{np.percentile(times, 99):9.1f} {times.max():9.1f}")  # fmt: skip
            ratio = p50[True] / p50[False]
            print(f"{kind:9} {engine:10} ratio of medians unique/plain: {ratio:.1f}")


if __name__ == "__main__":
    main()
