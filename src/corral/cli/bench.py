"""``corral bench generate``: the end-to-end generation benchmark
(:mod:`corral.jsonschemabench.generation`) from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from corral.cli.exits import EXIT_OK, UsageError

__all__ = ["add_bench_parser", "cmd_bench"]


def add_bench_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``bench`` and its one benchmark, ``generate``."""
    bench = sub.add_parser(
        "bench", help="benchmarks: 'bench generate' compares engines end to end on JSONSchemaBench",
        description="Run a benchmark and write its results (JSON, Markdown table, PNG chart).",
    )  # fmt: skip
    which = bench.add_subparsers(
        dest="benchmark", required=True, metavar="BENCHMARK", help="the benchmark: generate"
    )
    gen = which.add_parser(
        "generate", help="SmolLM2 on llama.cpp: corral vs llama.cpp's grammar vs unconstrained",
        description="Greedy generation for a seeded sample of JSONSchemaBench dev schemas under "
        "each engine; coverage, time to first token, time per token, overhead.",
    )  # fmt: skip
    gen.add_argument(
        "--data", metavar="DIR", help="JSONSchemaBench folder ($CORRAL_JSONSCHEMABENCH)"
    )
    gen.add_argument("--n", type=int, default=15, help="schemas in the sample (default 15)")
    gen.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    gen.add_argument("--max-tokens", type=int, default=200, help="budget per output (default 200)")
    gen.add_argument("--model", default="smollm2", help="smollm2 (default) or a .gguf path")
    gen.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: cores)")
    gen.add_argument(
        "--out", default="benchmarks/results/generation", metavar="DIR",
        help="where to write generation.json/.md/.png (default benchmarks/results/generation)",
    )  # fmt: skip


def cmd_bench(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral bench generate``."""
    from corral.backends.api import Model, model_path
    from corral.backends.llama_cpp import LlamaRuntime, load_llama
    from corral.jsonschemabench.generation import run_generation_bench, sample_cases, write_results

    if args.n < 1 or args.max_tokens < 1:
        raise UsageError("--n and --max-tokens must be at least 1")
    cases = sample_cases(Path(args.data) if args.data else None, args.n, args.seed)
    llm = load_llama(model_path(args.model), n_ctx=4096, n_threads=args.threads)
    model = Model(LlamaRuntime(llm))

    def progress(done: int, total: int) -> None:
        err.write(f"\r{done}/{total} schemas")
        err.flush()

    outcomes = run_generation_bench(model, cases, max_tokens=args.max_tokens, progress=progress)
    err.write("\n")
    meta = {"n": args.n, "seed": args.seed, "max_tokens": args.max_tokens, "model": args.model,
            "threads": llm.n_threads if hasattr(llm, "n_threads") else None}  # fmt: skip
    summary = write_results(outcomes, Path(args.out), meta)
    out.write(json.dumps(summary, indent=1) + "\n")
    out.write(Path(args.out, "generation.md").read_text())
    return EXIT_OK
