"""End-to-end generation benchmark: JSONSchemaBench schemas, SmolLM2, greedy decoding.

Modelled on the JSONSchemaBench paper (Geng et al. 2025, arXiv 2501.10868, §4): each schema is
put in a system message, the model generates with each engine, and the engines are compared on

* **declared coverage** — the engine accepted (compiled) the schema;
* **empirical coverage** — the output parses and ``Draft202012Validator`` with format checking
  accepts it (the validator the schema's ``$schema`` names, when it names one). JSON numbers
  are decimals but ``json.loads`` reads them as binary floats, under which ``multipleOf: 0.01``
  rejects ``10000.89``; the coverage with schema and output read as ``Decimal`` is reported
  beside it (``empirical_coverage_decimal``);
* **time to first token** (every condition evaluates the prompt afresh) and **time per output
  token**, and the overhead over unconstrained decoding of the same prompt in the same run (the
  median over schemas of the ratio of mean step times: prompts differ a lot in length, and so
  does the cost of a step); for corral also the share of tokens jump-forward
  evaluated without sampling and how often guaranteed completion fired.

Conditions on llama.cpp (llama-cpp-python's ``create_completion``, greedy): ``unconstrained``;
``llama.cpp grammar`` (``LlamaGrammar.from_json_schema``); ``corral`` (the
:class:`~corral.backends.llama_cpp.LlamaLogitsProcessor`); ``corral loop`` (corral's own
decoding loop with jump-forward). Every ``create_completion`` condition carries a timing
processor first in its list, which stamps each sampling step: per-token times are the gaps
between consecutive steps, the same measurement for every condition. corral's loop has no
processor chain: its per-token times are the gaps between the chunks it yields, a chunk of
``k`` jump-forward tokens counted as ``k`` tokens of a ``k``-th of its time
(:func:`loop_steps`).
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from corral.backends.api import Model, RunStats, generate
from corral.backends.llama_cpp import LlamaLogitsProcessor
from corral.errors import CorralError
from corral.grammars.ir import Grammar
from corral.jsonschemabench.loader import find_data_dir, list_files, load_case

__all__ = [
    "SYSTEM_PROMPT",
    "Outcome",
    "Stamps",
    "is_valid",
    "loop_steps",
    "measured",
    "prompt_text",
    "run_cases",
    "run_generation_bench",
    "sample_cases",
    "summarize",
    "write_results",
]

SYSTEM_PROMPT = (
    "You need to generate a JSON object that matches the schema below. Output only the JSON."
)
DEV_SPLITS = ("Glaiveai2K", "Github_easy", "Github_medium", "Github_trivial", "Snowplow")


@dataclass
class Outcome:
    """One schema under one condition."""

    schema: str
    condition: str
    compiled: bool
    valid: bool = False
    tokens: int = 0
    first_token_ms: float = 0.0
    step_ms: list[float] = field(default_factory=list)
    forced_tokens: int = 0
    completion_tokens: int = 0
    hit_max_tokens: bool = False
    error: str = ""
    valid_decimal: bool = False


def sample_cases(root: Path | None, n: int, seed: int) -> list[tuple[str, Any]]:
    """``n`` schemas of the dev splits drawn with ``seed`` (name, schema)."""
    files = list_files(find_data_dir(root), DEV_SPLITS)
    rng = random.Random(seed)
    picked = rng.sample(files, min(n, len(files)))
    out = []
    for split, path in picked:
        case = load_case(split, path)
        out.append((f"{split}/{case.name}", case.schema))
    return out


def is_valid(text: str, schema: Any, *, decimal: bool = False) -> bool:
    """Whether ``text`` is JSON that the schema's validator (format checks on) accepts; with
    ``decimal``, numbers of the schema and the text are read as :class:`decimal.Decimal`."""
    import jsonschema

    try:
        if decimal:
            value = json.loads(text, parse_float=Decimal)
            schema = json.loads(json.dumps(schema), parse_float=Decimal)
        else:
            value = json.loads(text)
    except ValueError:
        return False
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        return not any(True for _ in validator.iter_errors(value))
    except Exception:
        return False


def measured(
    name: str,
    schema: Any,
    max_tokens: int,
    condition: str,
    text: str,
    tokens: int,
    steps: list[float],
    first_ms: float,
    **counts: Any,
) -> Outcome:
    """The :class:`Outcome` of a compiled condition that produced ``text``."""
    return Outcome(name, condition, True, is_valid(text, schema), tokens, first_ms, steps,
                   valid_decimal=is_valid(text, schema, decimal=True),
                   hit_max_tokens=tokens >= max_tokens, **counts)  # fmt: skip


def loop_steps(stats: RunStats) -> list[float]:
    """Per-token times (ms) of corral's own loop from its chunk times: a chunk of ``k`` tokens
    (a jump-forward batch) counts as ``k`` tokens of a ``k``-th of its time each."""
    return [1000 * dt / k for dt, k in stats.steps if k > 0 for _ in range(k)]


class Stamps:
    """A no-op logits processor that records when each sampling step happens."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        self.times.append(time.perf_counter())
        return scores


def _completion(
    llm: Any, prompt: str, max_tokens: int, extra: list[Any], grammar: Any
) -> tuple[str, int, list[float], float]:
    from llama_cpp import LogitsProcessorList

    stamps = Stamps()
    llm.reset()  # every condition evaluates the prompt: time to first token is comparable
    start = time.perf_counter()
    out = llm.create_completion(
        prompt,
        max_tokens=max_tokens,
        temperature=0.0,
        logits_processor=LogitsProcessorList([stamps, *extra]),
        grammar=grammar,
    )
    end = time.perf_counter()
    times = [start, *stamps.times, end]
    steps = [1000 * (b - a) for a, b in itertools.pairwise(times[1:])]
    first = 1000 * (times[1] - start) if len(times) > 2 else 1000 * (end - start)
    return out["choices"][0]["text"], int(out["usage"]["completion_tokens"]), steps, first


def _check_llama_grammar(llm: Any, grammar: Any) -> None:
    """Raise if llama.cpp cannot parse the grammar: its sampler chain would silently run
    without it (llama-cpp-python adds the NULL sampler that a failed parse returns)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    sampler = llama_cpp.llama_sampler_init_grammar(
        vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
    )
    if not sampler:
        raise ValueError("llama.cpp could not parse the grammar it generated from the schema")
    llama_cpp.llama_sampler_free(sampler)


def _llama_conditions(
    model: Model, name: str, schema: Any, prompt: str, max_tokens: int
) -> Iterator[Outcome]:
    from llama_cpp.llama_grammar import LlamaGrammar

    outcome = functools.partial(measured, name, schema, max_tokens)

    llm = model.runtime.llm
    yield outcome("unconstrained", *_completion(llm, prompt, max_tokens, [], None))
    try:
        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        _check_llama_grammar(llm, grammar)
    except Exception as exc:  # any failure of the peer counts as "not compiled"
        yield Outcome(name, "llama.cpp grammar", False, error=f"{type(exc).__name__}: {exc}"[:200])
    else:
        yield outcome("llama.cpp grammar", *_completion(llm, prompt, max_tokens, [], grammar))
    try:
        compiled = model.compile(Grammar.from_json_schema(schema))
    except CorralError as exc:
        for cond in ("corral", "corral loop"):
            yield Outcome(name, cond, False, error=str(exc)[:200])
        return
    proc = LlamaLogitsProcessor(compiled, max_tokens=max_tokens)
    result = _completion(llm, prompt, max_tokens, [proc], None)
    yield outcome("corral", *result, completion_tokens=proc.steering.stats.completion_tokens)
    stats = RunStats()
    text = generate(model, prompt, grammar=compiled.grammar, max_tokens=max_tokens, chat=False,
                    stats=stats)  # fmt: skip
    g = stats.generation
    per = loop_steps(stats)
    yield outcome("corral loop", text, g.tokens, per,
                  1000 * stats.first_token_seconds, forced_tokens=g.forced_tokens,
                  completion_tokens=g.completion_tokens)  # fmt: skip


def prompt_text(model: Model, schema: Any) -> str:
    """The paper's prompt: the system message and the schema as the user message, under the
    model's chat template (plain lines without one)."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": json.dumps(schema)},
    ]
    text: str | None = model.runtime.chat_prompt(messages)
    return text if text is not None else f"{SYSTEM_PROMPT}\n{json.dumps(schema)}\n"


def run_generation_bench(
    model: Model,
    cases: Sequence[tuple[str, Any]],
    *,
    max_tokens: int = 200,
    progress: Any = None,
) -> list[Outcome]:
    """Run every condition on every case, conditions interleaved per schema."""
    return run_cases(
        model,
        cases,
        lambda name, schema, prompt: _llama_conditions(model, name, schema, prompt, max_tokens),
        progress,
    )


def run_cases(
    model: Model,
    cases: Sequence[tuple[str, Any]],
    conditions: Callable[[str, Any, str], Iterable[Outcome]],
    progress: Any = None,
) -> list[Outcome]:
    """``conditions(name, schema, prompt)`` for each case in turn, with the paper's prompt;
    ``progress(done, total)`` after each."""
    outcomes: list[Outcome] = []
    for k, (name, schema) in enumerate(cases):
        outcomes.extend(conditions(name, schema, prompt_text(model, schema)))
        if progress is not None:
            progress(k + 1, len(cases))
    return outcomes


def summarize(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per condition: coverage, timing percentiles and overhead against unconstrained."""
    by: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by.setdefault(o.condition, []).append(o)
    base_steps = [s for o in by.get("unconstrained", []) for s in o.step_ms]
    base_mean = {
        o.schema: float(np.mean(o.step_ms)) for o in by.get("unconstrained", []) if o.step_ms
    }
    table: dict[str, dict[str, Any]] = {}
    for cond, rows in by.items():
        steps = [s for o in rows for s in o.step_ms]
        compiled = [o for o in rows if o.compiled]
        tokens = sum(o.tokens for o in compiled)
        mean = float(np.mean(steps)) if steps else float("nan")
        ratios = [
            float(np.mean(o.step_ms)) / base_mean[o.schema]
            for o in compiled
            if o.step_ms and o.schema in base_mean
        ]
        table[cond] = {
            "schemas": len(rows),
            "declared_coverage": len(compiled) / len(rows),
            "empirical_coverage": sum(o.valid for o in rows) / len(rows),
            "empirical_coverage_decimal": sum(o.valid_decimal for o in rows) / len(rows),
            "valid_of_compiled": sum(o.valid for o in compiled) / max(1, len(compiled)),
            "valid_of_compiled_decimal": sum(o.valid_decimal for o in compiled)
            / max(1, len(compiled)),
            "first_token_ms_p50": float(np.median([o.first_token_ms for o in compiled]))
            if compiled
            else float("nan"),
            "token_ms_mean": mean,
            "token_ms_p50": float(np.percentile(steps, 50)) if steps else float("nan"),
            "token_ms_p99": float(np.percentile(steps, 99)) if steps else float("nan"),
            "overhead_vs_unconstrained": float(np.median(ratios)) if ratios else float("nan"),
            "step_overhead_ms_p99": float(np.percentile(steps, 99))
            - float(np.percentile(base_steps, 99))
            if steps and base_steps
            else float("nan"),
            "forced_share": sum(o.forced_tokens for o in compiled) / max(1, tokens),
            "completion_fired": sum(o.completion_tokens > 0 for o in compiled),
            "hit_max_tokens": sum(o.hit_max_tokens for o in compiled),
        }
    return table


def write_results(
    outcomes: Sequence[Outcome],
    out_dir: Path,
    meta: dict[str, Any],
    *,
    stem: str = "generation",
    title: str = "SmolLM2-135M Q4_1 on llama.cpp, greedy, JSONSchemaBench sample",
) -> dict[str, Any]:
    """Write ``{stem}.json`` (outcomes and summary), ``{stem}.md`` and, with matplotlib
    installed, ``{stem}.png``; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(outcomes)
    doc = {"meta": meta, "summary": summary, "outcomes": [asdict(o) for o in outcomes]}
    (out_dir / f"{stem}.json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = [
        "| condition | declared | empirical | empirical (decimal) | valid/compiled | "
        "ttft p50 ms | ms/token | overhead | p99 ms/token | forced share | completion fired | "
        "hit max_tokens |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cond, s in summary.items():
        lines.append(
            f"| {cond} | {s['declared_coverage']:.0%} | {s['empirical_coverage']:.0%} | "
            f"{s['empirical_coverage_decimal']:.0%} | "
            f"{s['valid_of_compiled']:.0%} | {s['first_token_ms_p50']:.0f} | "
            f"{s['token_ms_mean']:.2f} | {s['overhead_vs_unconstrained']:.3f}x | "
            f"{s['token_ms_p99']:.2f} | {s['forced_share']:.0%} | {s['completion_fired']} | "
            f"{s['hit_max_tokens']} |"
        )
    (out_dir / f"{stem}.md").write_text("\n".join(lines) + "\n")
    _chart(summary, out_dir / f"{stem}.png", title)
    return summary


def _chart(summary: dict[str, dict[str, Any]], path: Path, title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = list(summary)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.bar(names, [100 * summary[n]["empirical_coverage"] for n in names], color="tab:green")
    ax1.set_ylabel("empirical coverage (%)")
    ax1.set_ylim(0, 100)
    ax2.bar(names, [summary[n]["token_ms_mean"] for n in names], color="tab:blue")
    ax2.set_ylabel("ms per output token")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
