"""``corral bench masks`` and ``corral bench generate``: the mask benchmark
(:mod:`corral.jsonschemabench.masks`) and the end-to-end generation benchmark
(:mod:`corral.jsonschemabench.generation`) from the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from corral.cli.exits import EXIT_OK, UsageError

__all__ = ["add_bench_parser", "cmd_bench"]


def add_bench_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``bench`` and its benchmarks, ``masks``, ``generate`` and ``infill``."""
    bench = sub.add_parser(
        "bench", help="benchmarks: 'bench masks' (mask and compile times against llguidance and "
        "XGrammar), 'bench generate' (end to end with SmolLM2)",
        description="Run a benchmark and write its results (JSON, Markdown table, PNG chart).",
    )  # fmt: skip
    which = bench.add_subparsers(
        dest="benchmark", required=True, metavar="BENCHMARK",
        help="the benchmark: masks, generate or infill",
    )  # fmt: skip
    masks = which.add_parser(
        "masks", help="mask, compile, accept and first-mask times: corral vs llguidance and "
        "XGrammar (where installed) on the same schemas and token paths",
        description="A seeded sample of JSONSchemaBench schemas, compiled by every engine for "
        "one tokenizer; the valid instances' token paths walked by all of them, single thread.",
    )  # fmt: skip
    _sample_args(masks, 60, "schemas in the sample")
    masks.add_argument(
        "--split", action="append", metavar="NAME",
        help="a split to sample (repeatable; default Glaiveai2K, Github_easy, Github_medium)",
    )  # fmt: skip
    masks.add_argument(
        "--instances", type=int, default=2, help="valid instances walked per schema (default 2)"
    )
    _tokenizer_arg(masks)
    masks.add_argument(
        "--engines", default="corral,llguidance,xgrammar",
        help="comma-separated engines (default all; missing packages are left out)",
    )  # fmt: skip
    masks.add_argument(
        "--cold", action="store_true",
        help="compile every schema cold (default: one AutomataCache for the run, as a server)",
    )  # fmt: skip
    masks.add_argument(
        "--out", default="benchmarks/results/masks", metavar="DIR",
        help="where to write masks.json/.md/.png (default benchmarks/results/masks)",
    )  # fmt: skip
    gen = which.add_parser(
        "generate", help="SmolLM2: corral vs llama.cpp's grammar (or XGrammar and llguidance "
        "on transformers) vs unconstrained",
        description="Greedy generation for a seeded sample of JSONSchemaBench dev schemas under "
        "each engine; coverage, time to first token, time per token, overhead.",
    )  # fmt: skip
    gen.add_argument(
        "--runtime", choices=("llama.cpp", "transformers"), default="llama.cpp",
        help="llama.cpp (default: corral vs llama.cpp's JSON-schema grammar) or transformers "
        "(corral vs XGrammar's and llguidance's processors, where installed)",
    )  # fmt: skip
    _sample_args(gen, 15, "schemas in the sample")
    gen.add_argument("--max-tokens", type=int, default=200, help="budget per output (default 200)")
    gen.add_argument("--model", default="smollm2", help="smollm2 (default) or a .gguf path")
    gen.add_argument(
        "--threads", type=int, default=None, help="llama.cpp or torch threads (default: cores)"
    )
    gen.add_argument(
        "--out", default="benchmarks/results/generation", metavar="DIR",
        help="where to write generation.json/.md/.png (generation_hf.* on transformers; default "
        "benchmarks/results/generation)",
    )  # fmt: skip
    infill = which.add_parser(
        "infill", help="infilling checks: valid documents with 1-3 spans removed (JSONSchemaBench "
        "instances, C-like and SQL words)",
        description="Exact completability checks (corral.infill) on templates cut from valid "
        "documents; every answer must be true. Time per check, timeouts, wrong answers.",
    )  # fmt: skip
    _sample_args(infill, 60, "schemas sampled; words of each grammar: n/3")
    infill.add_argument(
        "--tasks",
        default="jsonschema,c,sql",
        help="comma-separated: jsonschema, c, sql (default all)",
    )
    infill.add_argument(
        "--canvas", default="32,64", metavar="N,N",
        help="canvas lengths for the DLM-style tasks: documents padded to N tokens and placed "
        "in random order (default 32,64; 0: none)",
    )  # fmt: skip
    infill.add_argument(
        "--loops", type=int, default=3,
        help="diffusion decoding loops per task, constrained and not (default 3)",
    )  # fmt: skip
    _tokenizer_arg(infill)
    infill.add_argument(
        "--out", default="benchmarks/results/infill", metavar="DIR",
        help="where to write infill.json/.md/.png (default benchmarks/results/infill)",
    )  # fmt: skip


def _sample_args(p: argparse.ArgumentParser, n: int, what: str) -> None:
    """``--data``, ``--n`` and ``--seed``: the seeded sample of a benchmark."""
    p.add_argument("--data", metavar="DIR", help="JSONSchemaBench folder ($CORRAL_JSONSCHEMABENCH)")
    p.add_argument("--n", type=int, default=n, help=f"{what} (default {n})")
    p.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")


def _tokenizer_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tokenizer", default="smollm2", metavar="NAME|PATH",
        help="smollm2 (default), qwen, or a .gguf, tokenizer.json or .tiktoken path",
    )  # fmt: skip


def cmd_bench(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``corral bench masks``, ``corral bench generate`` and ``corral bench infill``."""
    if args.benchmark == "masks":
        return _bench_masks(args, out, err)
    if args.benchmark == "infill":
        return _bench_infill(args, out, err)
    from corral.backends.api import Model, model_path
    from corral.jsonschemabench.generation import run_generation_bench, sample_cases, write_results

    if args.n < 1 or args.max_tokens < 1:
        raise UsageError("--n and --max-tokens must be at least 1")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be at least 1")
    cases = sample_cases(Path(args.data) if args.data else None, args.n, args.seed)
    path = model_path(args.model)

    def progress(done: int, total: int) -> None:
        err.write(f"\r{done}/{total} schemas")
        err.flush()

    meta: dict[str, Any] = {"n": args.n, "seed": args.seed, "max_tokens": args.max_tokens,
                            "model": args.model, "runtime": args.runtime}  # fmt: skip
    if args.runtime == "transformers":
        import torch

        from corral.backends.transformers import HFRuntime, load_hf
        from corral.jsonschemabench.generation_hf import run_hf_generation_bench

        if args.threads is not None:
            torch.set_num_threads(args.threads)
        model = Model(HFRuntime(*load_hf(path)))
        outcomes = run_hf_generation_bench(
            model, cases, max_tokens=args.max_tokens, progress=progress
        )
        meta["threads"], stem = torch.get_num_threads(), "generation_hf"
        title = "SmolLM2-135M (from the Q4_1 GGUF) on transformers, greedy, JSONSchemaBench sample"
    else:
        from corral.backends.llama_cpp import LlamaRuntime, load_llama

        llm = load_llama(path, n_ctx=4096, n_threads=args.threads)
        model = Model(LlamaRuntime(llm))
        outcomes = run_generation_bench(model, cases, max_tokens=args.max_tokens, progress=progress)
        meta["threads"], stem = getattr(llm, "n_threads", None), "generation"
        title = "SmolLM2-135M Q4_1 on llama.cpp, greedy, JSONSchemaBench sample"
    err.write("\n")
    summary = write_results(outcomes, Path(args.out), meta, stem=stem, title=title)
    out.write(json.dumps(summary, indent=1) + "\n")
    out.write(Path(args.out, f"{stem}.md").read_text())
    return EXIT_OK


def _bar(err: TextIO, what: str = "schemas") -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        err.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what}")
        err.flush()

    return progress


def _bench_masks(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from corral.cli.inputs import load_tokenizer
    from corral.jsonschemabench.loader import find_data_dir
    from corral.jsonschemabench.masks import DEFAULT_SPLITS, run_mask_bench
    from corral.jsonschemabench.masks_report import format_table, write_mask_results

    if args.n < 1 or args.instances < 1:
        raise UsageError("--n and --instances must be at least 1")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ("corral", "llguidance", "xgrammar")]
    if unknown or "corral" not in engines:
        raise UsageError("--engines takes corral (always) and llguidance, xgrammar")
    tok = load_tokenizer(args.tokenizer)
    data = find_data_dir(Path(args.data) if args.data else None)
    splits = tuple(args.split) if args.split else DEFAULT_SPLITS
    result = run_mask_bench(data, tok, splits=splits, n=args.n, seed=args.seed,
                            instances=args.instances, engines=engines,
                            progress=_bar(err), shared_automata=not args.cold)  # fmt: skip
    err.write("\n")
    command = "corral bench masks " + " ".join(
        [f"--tokenizer {args.tokenizer}", f"--n {args.n}", f"--seed {args.seed}",
         f"--instances {args.instances}", *(f"--split {s}" for s in splits),
         *(["--cold"] if args.cold else [])]
    )  # fmt: skip
    summary = write_mask_results(result, Path(args.out), command)
    out.write(format_table(summary) + "\n")
    return EXIT_OK


def _bench_infill(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from corral.cli.inputs import load_tokenizer
    from corral.infill.canvas import MAX_CANVAS
    from corral.jsonschemabench.infill_bench import TASKS, run_infill_bench, write_infill_results

    if args.n < 1:
        raise UsageError("--n must be at least 1")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks or any(t not in TASKS for t in tasks):
        raise UsageError(f"--tasks takes {', '.join(TASKS)}")
    try:
        canvas = [int(x) for x in args.canvas.split(",") if x.strip() and int(x) > 0]
    except ValueError:
        raise UsageError("--canvas takes comma-separated lengths, e.g. 32,64") from None
    if any(length > MAX_CANVAS for length in canvas) or args.loops < 0:
        raise UsageError(f"--canvas lengths are at most {MAX_CANVAS}, --loops at least 0")
    result = run_infill_bench(
        load_tokenizer(args.tokenizer), data=Path(args.data) if args.data else None, n=args.n,
        seed=args.seed, tasks=tasks, canvas=canvas, loops=args.loops,
        progress=_bar(err, "documents"),
    )  # fmt: skip
    err.write("\n")
    command = (f"corral bench infill --tokenizer {args.tokenizer} --n {args.n} "
               f"--seed {args.seed} --tasks {','.join(tasks)} "
               f"--canvas {','.join(map(str, canvas)) or 0} --loops {args.loops}")  # fmt: skip
    summary = write_infill_results(result, Path(args.out), command)
    out.write(summary["table"] + "\n")
    return EXIT_OK
