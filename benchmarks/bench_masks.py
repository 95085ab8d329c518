"""Mask and compile time per JSON schema: corral and llguidance in one process, same token paths.

A seeded sample of JSONSchemaBench dev schemas (Glaiveai2K, Github_easy, Github_medium). Each
engine compiles each schema for the SmolLM2 vocabulary (corral's trie is built before timing
starts; llguidance's tokenizer likewise); then, for up to ``--instances`` valid test instances
per schema, the instance's compact text in corral's canonical key order is tokenized with the
SmolLM2 tokenizer, and only paths that *both* engines accept are timed: at every step each
engine fills a one-row int32 bitmask (timed with ``perf_counter_ns``) and consumes the token;
one more mask is timed after the last token. Single thread. Every corral mask is a first use of
its compiled grammar's run-time cache for some states (a fresh compile per schema), which is
what a server sees for new schemas.

Prints, per engine, compile p50/p99 and mask p50/p90/p99/max (microseconds), the ratios, and
writes ``benchmarks/results/masks.json``. Run from the repository root::

    python benchmarks/bench_masks.py [--n 60] [--seed 0] [--instances 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any, cast

from corral.jsonschemabench.masks import percentiles

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("Glaiveai2K", "Github_easy", "Github_medium")


def main(argv: list[str] | None = None) -> int:
    import llguidance
    import llguidance.numpy as llnp

    import corral
    from corral.errors import CorralError
    from corral.grammars.json_schema import serialize_instance
    from corral.jsonschemabench.engines import LLGUIDANCE_OPTIONS, llguidance_tokenizer
    from corral.jsonschemabench.loader import find_data_dir, list_files, load_case

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="JSONSchemaBench folder")
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "masks.json")
    args = p.parse_args(argv)

    tok = corral.Tokenizer.default()
    tok.token_trie()
    lltok = llguidance_tokenizer(tok)
    files = list_files(find_data_dir(args.data), SPLITS)
    picked = random.Random(args.seed).sample(files, min(args.n, len(files)))
    times: dict[str, dict[str, list[float]]] = {
        e: {"compile": [], "mask": []} for e in ("corral", "llguidance")
    }
    skipped = {"corral refuses": 0, "llguidance refuses": 0, "path rejected": 0}
    vocab = tok.vocab_size
    for split, path in picked:
        case = load_case(split, path)
        try:
            start = time.perf_counter_ns()
            cg = corral.compile(corral.Grammar.from_json_schema(case.schema), tok)
            c_compile = (time.perf_counter_ns() - start) / 1000
        except CorralError:
            skipped["corral refuses"] += 1
            continue
        start = time.perf_counter_ns()
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            case.schema, defaults=cast("Any", dict(LLGUIDANCE_OPTIONS))
        )
        proto = llguidance.LLMatcher(lltok, grammar, log_level=0)
        l_compile = (time.perf_counter_ns() - start) / 1000
        if proto.is_error():
            skipped["llguidance refuses"] += 1
            continue
        times["corral"]["compile"].append(c_compile)
        times["llguidance"]["compile"].append(l_compile)
        valid = [t.data for t in case.tests if t.valid][: args.instances]
        for data in valid:
            text = serialize_instance(data, case.schema, whitespace="compact")
            ids = tok.encode(text.encode("utf-8"))
            m = corral.Matcher(cg)
            lm = proto.deep_copy()
            if not (m.accept_bytes(text.encode("utf-8")) and m.is_accepting()):
                skipped["path rejected"] += 1
                continue
            if lm.try_consume_tokens(ids) != len(ids) or not lm.is_accepting():
                skipped["path rejected"] += 1
                continue
            m, lm = corral.Matcher(cg), proto.deep_copy()
            c_mask = corral.allocate_token_bitmask(1, vocab)
            l_mask = llnp.allocate_token_bitmask(1, vocab)
            for step in [*ids, None]:
                start = time.perf_counter_ns()
                m.fill_next_token_bitmask(c_mask, 0)
                mid = time.perf_counter_ns()
                llnp.fill_next_token_bitmask(lm, l_mask, 0)
                end = time.perf_counter_ns()
                times["corral"]["mask"].append((mid - start) / 1000)
                times["llguidance"]["mask"].append((end - mid) / 1000)
                if step is not None:
                    m.accept_token(step)
                    lm.consume_token(step)
    summary = {e: {k: percentiles(v) for k, v in per.items()} for e, per in times.items()}
    ratios = {
        k: {
            q: summary["corral"][k][q] / summary["llguidance"][k][q]
            for q in ("p50", "p99", "max")
            if summary["llguidance"][k].get(q)
        }
        for k in ("compile", "mask")
    }
    doc = {
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "args": {"n": args.n, "seed": args.seed, "instances": args.instances},
        "skipped": skipped,
        "summary_us": summary,
        "ratio_corral_over_llguidance": ratios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    for e, per in summary.items():
        for k, s in per.items():
            if s.get("count"):
                print(
                    f"{e:10s} {k:8s} n={s['count']:6d} p50 {s['p50']:9.1f} µs  "
                    f"p90 {s['p90']:9.1f}  p99 {s['p99']:10.1f}  max {s['max']:11.1f}"
                )
    for k, r in ratios.items():
        print(f"corral / llguidance {k}: " + "  ".join(f"{q} {v:.1f}x" for q, v in r.items()))
    print(f"skipped: {skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
