"""The infilling benchmark (``corral bench infill``): exact completability checks on real documents.

Tasks, MRI-style: a valid document with 1, 2 and 3 random spans (cut between characters)
replaced by holes — valid instances of a seeded sample of the JSONSchemaBench splits with their
schemas' grammars, and random words of the shipped C-like and SQL grammars (random allowed
tokens, then the shortest completion). Every such template is completable, so every answer must
be ``True``; a check past ``Limits.max_infill_work`` counts as a timeout. Per task and number of
spans: checks, time per check (p50, p99, max), timeouts and wrong answers; written as JSON,
Markdown and a PNG chart (time-per-check CDF per task, log scale).

What was loaded to set the tasks up (the dev set's cases, the grammars) is frozen out of the
garbage collector's generations before timing (``gc.freeze``), as a long-running server does
after start-up: otherwise every full collection during a check rescans those objects, and that
time is the harness's, not the check's.
"""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from corral.constraint_engine.compiler import CompiledGrammar, compile_grammar
from corral.constraint_engine.matcher import Matcher
from corral.errors import CorralError, LimitExceeded
from corral.grammars import library_path
from corral.grammars.ir import Grammar
from corral.grammars.json_schema import serialize_instance
from corral.infill import Hole, is_completable
from corral.infill.template import Part
from corral.jsonschemabench.canvas_bench import run_canvas_tasks
from corral.jsonschemabench.loader import iter_cases
from corral.tokenizers.base import Tokenizer

__all__ = ["TASKS", "random_words", "run_infill_bench", "spans_removed", "write_infill_results"]

TASKS = ("jsonschema", "c", "sql")
SPANS = (1, 2, 3)


def spans_removed(word: bytes, spans: int, rng: random.Random) -> list[Part]:
    """``word`` with ``spans`` random spans (cut between characters) replaced by holes."""
    bounds = [i for i in range(len(word) + 1) if i == len(word) or word[i] >> 6 != 2]
    cuts = sorted(rng.sample(bounds, min(2 * spans, len(bounds))))
    parts: list[Part] = [word[: cuts[0]]]
    for i in range(0, len(cuts) - 1, 2):
        parts += [Hole(), word[cuts[i + 1] : cuts[i + 2] if i + 2 < len(cuts) else None]]
    return parts


def random_words(
    cg: CompiledGrammar, rng: random.Random, n: int, max_tokens: int = 40
) -> list[bytes]:
    """Random words of a grammar: random allowed tokens (2 to ``max_tokens``), then the
    shortest completion."""
    got = []
    for _ in range(n):
        m = Matcher(cg)
        taken: list[int] = []
        for _ in range(rng.randrange(2, max_tokens)):
            ids = [t for t in m.allowed_tokens() if t not in cg.eos_ids]
            if not ids:
                break
            taken.append(rng.choice(ids))
            m.accept_token(taken[-1])
        rest = m.shortest_completion()
        if rest is not None:
            got.append(b"".join(cg.token_bytes(t) or b"" for t in taken) + rest)
    return got


def _documents(
    task: str, tok: Tokenizer, data: Path | None, n: int, rng: random.Random
) -> list[tuple[CompiledGrammar, bytes]]:
    if task != "jsonschema":
        cg = compile_grammar(Grammar.from_file(library_path(f"{task}.lark")), tok)
        return [(cg, w) for w in random_words(cg, rng, max(1, n // 3))]
    cases = [c for c in iter_cases(data) if any(t.valid for t in c.tests)]
    out = []
    for case in rng.sample(cases, min(n, len(cases))):
        try:
            cg = compile_grammar(Grammar.from_json_schema(case.schema), tok)
        except CorralError:
            continue
        if cg.unique is None:  # run-time uniqueItems: not context-free, no infilling
            inst = next(t.data for t in case.tests if t.valid)
            out.append((cg, serialize_instance(inst, case.schema).encode()))
    return out


def run_infill_bench(
    tok: Tokenizer,
    *,
    data: Path | None = None,
    n: int = 60,
    seed: int = 0,
    tasks: Sequence[str] = TASKS,
    canvas: Sequence[int] = (),
    loops: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run the tasks; ``{task: {spans: {"ms": [...], "timeouts": k, "wrong": k}}}``, and with
    ``canvas`` lengths the canvas rows of :func:`.canvas_bench.run_canvas_tasks` too (keyed
    ``"replay N"`` and ``"loop N"``, ``loops`` decoding loops per task)."""
    rng = random.Random(seed)
    docs = {task: _documents(task, tok, data, n, rng) for task in tasks}
    gc.collect()
    gc.freeze()  # what was loaded to set up is not rescanned by collections while timing
    try:
        return _run(docs, tok, rng, canvas=canvas, loops=loops, seed=seed, progress=progress)
    finally:
        gc.unfreeze()


def _run(
    docs: dict[str, list[tuple[CompiledGrammar, bytes]]],
    tok: Tokenizer,
    rng: random.Random,
    *,
    canvas: Sequence[int],
    loops: int,
    seed: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    total = sum(len(d) for d in docs.values())
    done = 0
    result: dict[str, Any] = {}
    for task, items in docs.items():
        rows = result[task] = {s: {"ms": [], "timeouts": 0, "wrong": 0} for s in SPANS}
        for cg, word in items:
            for spans in SPANS:
                template = spans_removed(word, spans, rng)
                start = time.perf_counter()
                try:
                    ok = is_completable(cg, template)
                except LimitExceeded:
                    rows[spans]["timeouts"] += 1
                    continue
                rows[spans]["ms"].append((time.perf_counter() - start) * 1000)
                rows[spans]["wrong"] += not ok
            done += 1
            if progress is not None:
                progress(done, total)
    if canvas:
        more = run_canvas_tasks(docs, tok, canvas, loops=loops, seed=seed, progress=progress)
        for task, rows in more.items():
            result[task].update(rows)
    return result


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.array(ms) if ms else np.zeros(1)
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}  # fmt: skip


def write_infill_results(result: dict[str, Any], out_dir: Path, command: str) -> dict[str, Any]:
    """Write ``infill.json``, ``infill.md`` and (with matplotlib) ``infill.png``; the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"command": command, "tasks": {}}
    lines = [f"`{command}` — time per check, ms", "",
             "| task | spans | checks | p50 | p99 | max | timeouts | wrong |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    canvas = ["", "Canvases: time per placed token, ms (loop: constrained / unconstrained "
              "outputs in the language)", "",
              "| task | canvas | canvases | tokens | p50 | p99 | max | timeouts | wrong | "
              "in language |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for task, rows in result.items():
        summary["tasks"][task] = {}
        for spans, r in rows.items():
            s = {"checks": len(r["ms"]), **_stats(r["ms"]), "timeouts": r["timeouts"],
                 "wrong": r["wrong"]}  # fmt: skip
            s.update({k: v for k, v in r.items() if k not in ("ms", "timeouts", "wrong")})
            summary["tasks"][task][str(spans)] = s
            cells = (f"{s['checks']} | {s['p50']:.2f} | {s['p99']:.2f} | {s['max']:.2f} | "
                     f"{s['timeouts']} | {s['wrong']} |")  # fmt: skip
            if isinstance(spans, int):
                lines.append(f"| {task} | {spans} | {cells}")
                continue
            share = (f"{s['in_language']}/{s['canvases']} vs {s['free_in_language']}/"
                     f"{s['canvases']}" if "in_language" in s else "")  # fmt: skip
            canvas.append(f"| {task} | {spans} | {s['canvases']} | {cells} {share} |")
    if len(canvas) > 5:
        lines += canvas
    summary["table"] = "\n".join(lines)
    (out_dir / "infill.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out_dir / "infill.md").write_text(summary["table"] + "\n")
    _chart(result, out_dir / "infill.png")
    return summary


def _chart(result: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - matplotlib is a test dependency
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for task, rows in result.items():
        for kind, keep in (("templates", int), ("canvas tokens", str)):
            ms = np.sort(np.array([t for k, r in rows.items() if isinstance(k, keep)
                                   for t in r["ms"]]))  # fmt: skip
            if ms.size:
                ax.plot(ms, np.arange(1, ms.size + 1) / ms.size, label=f"{task}: {kind}")
    ax.set_xscale("log")
    ax.set_xlabel("time per check / per placed canvas token (ms, log scale)")
    ax.set_ylabel("share of checks")
    ax.set_title("corral infilling: templates (1-3 spans removed) and canvases")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
