"""Mask times on the shipped CFGs (json, arithmetic, sql, c): native vs reference engine, and
llguidance where it takes the grammar.

Seeded random walks (uniform among allowed tokens, EOS excluded) of ``--steps`` tokens per
grammar on the SmolLM2 vocabulary (or ``--tokenizer qwen``); at every step both corral engines
fill a one-row int32 bitmask (timed with ``perf_counter_ns``, single thread) and the masks are
compared bit for bit. The walk is chosen on the reference engine's masks; the native engine and
llguidance (its Lark dialect, same vocabulary) then step through it, timed step by step with
nothing heavy in between (choosing among 150,000 allowed tokens between two masks leaves the
CPU caches cold, several times a mask's own cost), llguidance until it refuses one of the walk's
tokens (its lexer is greedy where corral's keeps every split). Prints p50/p99/max per grammar
and engine, and the native engine's on the steps llguidance was timed on with the ratios, and
writes ``benchmarks/results/cfg_masks.json``::

    python benchmarks/bench_cfg_masks.py [--steps 200] [--walks 3] [--tokenizer smollm2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import corral
from corral.cli.inputs import load_tokenizer
from corral.grammars import library_path

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = ("json.lark", "arithmetic.lark", "sql.lark", "c.lark")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--walks", type=int, default=3)
    p.add_argument("--tokenizer", default="smollm2")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cfg_masks.json")
    args = p.parse_args(argv)
    tok = load_tokenizer(args.tokenizer)
    tok.token_trie()
    try:
        import llguidance
        import llguidance.numpy as llnp

        from corral.jsonschemabench.engines import llguidance_tokenizer

        lltok = llguidance_tokenizer(tok)
    except ImportError:
        llguidance = None
    eos = set(tok.eos_token_ids)
    doc: dict[str, object] = {"args": vars(args) | {"out": str(args.out)}, "grammars": {}}
    for name in GRAMMARS:
        grammar = corral.Grammar.from_file(library_path(name))
        cgs = {e: corral.compile(grammar, tok, engine=e) for e in ("native", "reference")}
        times: dict[str, list[float]] = {e: [] for e in (*cgs, "llguidance")}
        shared: list[float] = []  # native, on the steps llguidance was timed on too
        ll_proto = None
        if llguidance is not None:
            text = Path(library_path(name)).read_text()
            ll_proto = llguidance.LLMatcher(lltok, llguidance.grammar_from("lark", text),
                                            log_level=0)  # fmt: skip
            if ll_proto.is_error():
                ll_proto = None
        for walk in range(args.walks):
            # the walk, chosen on the reference engine's masks (timed as it goes): the engines
            # timed next then step through it with nothing heavy in between, as a decoder does
            rng = np.random.default_rng(walk)
            reference = corral.Matcher(cgs["reference"])
            mask = corral.allocate_token_bitmask(1, tok.vocab_size)
            path: list[int] = []
            rows: list[np.ndarray] = []
            for _ in range(args.steps):
                start = time.perf_counter_ns()
                reference.fill_next_token_bitmask(mask)
                times["reference"].append((time.perf_counter_ns() - start) / 1000)
                rows.append(mask.copy())
                allowed = [t for t in np.flatnonzero(reference.allowed_token_mask())
                           if t not in eos]  # fmt: skip
                if not allowed:
                    break
                path.append(int(rng.choice(allowed)))
                assert reference.accept_token(path[-1])
            native = corral.Matcher(cgs["native"])
            lm = ll_proto.deep_copy() if ll_proto is not None else None
            ll_mask = corral.allocate_token_bitmask(1, tok.vocab_size)
            for step, row in enumerate(rows):
                start = time.perf_counter_ns()
                native.fill_next_token_bitmask(mask)
                times["native"].append((time.perf_counter_ns() - start) / 1000)
                if lm is not None:
                    shared.append(times["native"][-1])
                    start = time.perf_counter_ns()
                    llnp.fill_next_token_bitmask(lm, ll_mask, 0)
                    times["llguidance"].append((time.perf_counter_ns() - start) / 1000)
                assert np.array_equal(mask, row), name
                if step == len(path):
                    break
                assert native.accept_token(path[step])
                if lm is not None and not lm.consume_token(path[step]):
                    lm = None  # llguidance refuses a token corral allows: its timings stop
        row: dict[str, dict[str, float]] = {}
        for e, values in (*times.items(), ("native_on_llguidance_steps", shared)):
            if not values:
                continue
            arr = np.asarray(values)
            row[e] = {"count": int(arr.shape[0]), "p50": float(np.percentile(arr, 50)),
                      "p99": float(np.percentile(arr, 99)), "max": float(arr.max())}  # fmt: skip
            print(f"{name:16s} {e[:10]:10s} n={arr.shape[0]:5d} p50 {row[e]['p50']:9.1f} µs  "
                  f"p99 {row[e]['p99']:9.1f}  max {row[e]['max']:9.1f}")  # fmt: skip
        if shared:  # the same steps: native against llguidance
            mine, theirs = row["native_on_llguidance_steps"], row["llguidance"]
            row["ratio_to_llguidance"] = {q: mine[q] / theirs[q] for q in ("p50", "p99", "max")}
            print(
                f"{name:16s} native / llguidance on the same {len(shared)} steps: "
                + ", ".join(f"{q} {v:.2f}x" for q, v in row["ratio_to_llguidance"].items())
            )
        doc["grammars"][name] = row  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
