"""``corral bench masks``: corral, llguidance and XGrammar on the same schemas and token paths.

A seeded sample of JSONSchemaBench schemas (the given splits); the same tokenizer for every
engine (SmolLM2, Qwen or a file). Each engine compiles each schema (the tokenizer's own
structures built before timing starts); then up to ``instances`` valid test instances per
schema, serialized compactly in corral's canonical key order and tokenized by corral's encoder,
are walked by every engine — only schemas all of them compile, only paths all of them accept.
At each step each engine fills a one-row int32 bitmask (timed with ``perf_counter_ns``), the
masks are compared with corral's (bits past the vocabulary ignored), and the token is consumed
(timed).
Single thread, one process, engines interleaved step by step so that they see the same machine
state.

Reported per engine: compile and mask percentiles (p50/p90/p99/max), the first mask after
compile, accept time per token, masks that differ from corral's with the commonest differing
tokens, and the process's RSS before and after (with corral's :meth:`CompiledGrammar.memory_bytes`
summed over its grammars).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

import corral
from corral.errors import CorralError
from corral.grammars.json_schema import serialize_instance
from corral.jsonschemabench.engines import LLGUIDANCE_OPTIONS, llguidance_tokenizer
from corral.jsonschemabench.loader import list_files, load_case

__all__ = [
    "DEFAULT_SPLITS",
    "MaskBenchResult",
    "differing_tokens",
    "percentiles",
    "run_mask_bench",
]

DEFAULT_SPLITS = ("Glaiveai2K", "Github_easy", "Github_medium")


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """``count``, ``p50``, ``p90``, ``p99``, ``max`` of ``values`` (just ``count`` when empty)."""
    if not values:
        return {"count": 0}
    arr = np.asarray(values, dtype=float)
    return {
        "count": int(arr.shape[0]),
        "p50": float(np.percentile(arr, 50)),
        "p90": float(np.percentile(arr, 90)),
        "p99": float(np.percentile(arr, 99)),
        "max": float(arr.max()),
    }


@dataclass
class EngineTimes:
    """Microseconds per operation of one engine, and its masks' differences from corral's."""

    compile: list[float] = field(default_factory=list)
    first_mask: list[float] = field(default_factory=list)
    mask: list[float] = field(default_factory=list)
    accept: list[float] = field(default_factory=list)
    refused: int = 0
    differing_masks: int = 0
    differing_tokens: Counter[str] = field(default_factory=Counter)


@dataclass
class MaskBenchResult:
    """Everything one run measured (see the module docstring)."""

    engines: dict[str, EngineTimes]
    schemas: int
    paths: int
    paths_rejected: int
    rss_mb: tuple[float, float]
    corral_memory_mb: float
    args: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: percentiles per engine, ratios to llguidance and XGrammar."""
        out: dict[str, Any] = {
            "args": self.args,
            "schemas": self.schemas,
            "paths": self.paths,
            "paths_rejected": self.paths_rejected,
            "rss_mb": {"start": self.rss_mb[0], "end": self.rss_mb[1]},
            "corral_memory_bytes_mb": self.corral_memory_mb,
            "engines": {},
        }
        for name, t in self.engines.items():
            out["engines"][name] = {
                "compile_us": percentiles(t.compile),
                "first_mask_us": percentiles(t.first_mask),
                "mask_us": percentiles(t.mask),
                "accept_us": percentiles(t.accept),
                "refused": t.refused,
                "masks_differing_from_corral": t.differing_masks,
                "commonest_differing_tokens": t.differing_tokens.most_common(8),
            }
        ratios: dict[str, Any] = {}
        c = out["engines"].get("corral")
        for name, e in out["engines"].items():
            if name == "corral" or c is None:
                continue
            ratios[f"corral/{name}"] = {
                k: {q: c[k][q] / e[k][q] for q in ("p50", "p90", "p99", "max")
                    if e[k].get(q) and c[k].get(q) is not None}
                for k in ("compile_us", "first_mask_us", "mask_us", "accept_us")
            }  # fmt: skip
        out["ratios"] = ratios
        return out


class _Engine:
    """One engine's compile / new matcher / fill / accept, timed by the caller."""

    def __init__(self, name: str, tok: corral.Tokenizer, shared: bool) -> None:
        self.name = name
        self._automata = corral.AutomataCache() if shared else None
        self.vocab = tok.vocab_size
        self.words = (tok.vocab_size + 31) // 32
        if name == "llguidance":
            import llguidance
            import llguidance.numpy as llnp

            self._ll, self._llnp, self._lltok = llguidance, llnp, llguidance_tokenizer(tok)
        elif name == "xgrammar":
            import torch
            import xgrammar as xgr

            special = tok.special_token_ids
            vocab = [b"" if i in special else b for i, b in enumerate(tok.all_token_bytes())]
            info = xgr.TokenizerInfo(vocab, vocab_type=xgr.VocabType.RAW,
                                     vocab_size=tok.vocab_size,
                                     stop_token_ids=list(tok.eos_token_ids))  # fmt: skip
            self._xgr, self._torch = xgr, torch
            self._compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=False)
        self._tok = tok

    def compile(self, schema: Any) -> Any | None:
        """A compiled handle, or ``None`` when the engine refuses the schema."""
        try:
            if self.name == "corral":
                grammar = corral.Grammar.from_json_schema(schema, cache=self._automata)
                return corral.compile(grammar, self._tok)
            if self.name == "llguidance":
                ll = self._ll
                grammar = ll.LLMatcher.grammar_from_json_schema(
                    schema, defaults=cast("Any", dict(LLGUIDANCE_OPTIONS))
                )
                proto = ll.LLMatcher(self._lltok, grammar, log_level=0)
                return None if proto.is_error() else proto
            import json

            return self._compiler.compile_json_schema(
                json.dumps(schema), any_whitespace=False, separators=(",", ":"), strict_mode=False
            )
        except (CorralError, RuntimeError, ValueError, TypeError, RecursionError):
            return None

    def matcher(self, handle: Any) -> Any:
        if self.name == "corral":
            return corral.Matcher(handle)
        if self.name == "llguidance":
            return handle.deep_copy()
        return self._xgr.GrammarMatcher(handle)

    def new_mask(self) -> Any:
        if self.name == "xgrammar":
            return self._torch.zeros((1, self.words), dtype=self._torch.int32)
        return np.zeros((1, self.words), dtype=np.int32)

    def filler(self) -> Callable[[Any, Any], None]:
        if self.name == "corral":
            return lambda m, mask: m.fill_next_token_bitmask(mask, 0)
        if self.name == "llguidance":
            llnp = self._llnp
            return lambda m, mask: llnp.fill_next_token_bitmask(m, mask, 0)
        return lambda m, mask: m.fill_next_token_bitmask(mask, 0)

    def accepts(self, handle: Any, ids: list[int]) -> bool:
        m = self.matcher(handle)
        if self.name == "llguidance":
            return bool(m.try_consume_tokens(ids) == len(ids) and m.is_accepting())
        if self.name == "corral":
            return all(m.accept_token(t) for t in ids) and m.is_accepting()
        eos = self._tok.eos_token_ids[0]
        return all(m.accept_token(t) for t in ids) and bool(m.accept_token(eos))

    def consume(self, m: Any, token: int) -> None:
        if self.name == "llguidance":
            m.consume_token(token)
        else:
            m.accept_token(token)

    def row(self, mask: Any) -> np.ndarray:
        arr: np.ndarray = mask.numpy()[0] if self.name == "xgrammar" else mask[0]
        out = arr.view(np.uint32).copy()
        word, tail = divmod(self.vocab, 32)
        if tail:
            out[word] &= np.uint32((1 << tail) - 1)
            word += 1
        out[word:] = 0
        return out


def _rss_mb() -> float:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - psutil is a test dependency
        return float("nan")
    return float(psutil.Process().memory_info().rss) / 2**20


def available_engines(wanted: Sequence[str]) -> list[str]:
    """The engines of ``wanted`` whose package is installed (corral always)."""
    import importlib.util

    out = []
    for name in wanted:
        module = {"corral": "corral", "llguidance": "llguidance", "xgrammar": "xgrammar"}[name]
        if name == "corral" or importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


def differing_tokens(
    row: np.ndarray, corral_row: np.ndarray, limit: int = 16
) -> list[tuple[int, bool]]:
    """The first ``limit`` token ids whose bits differ between two ``uint32`` mask rows, each
    with whether corral's row has it. Only the differing words are unpacked: unpacking whole
    rows (151,851 bytes on Qwen) between two timed masks evicted the caches of whichever
    engine was timed next."""
    xor = row ^ corral_row
    out: list[tuple[int, bool]] = []
    for w in np.flatnonzero(xor).tolist():
        bits, mine = int(xor[w]), int(corral_row[w])
        for b in range(32):
            if bits >> b & 1:
                out.append((32 * w + b, bool(mine >> b & 1)))
                if len(out) == limit:
                    return out
    return out


def run_mask_bench(
    data: Path,
    tok: corral.Tokenizer,
    *,
    splits: Sequence[str] = DEFAULT_SPLITS,
    n: int = 60,
    seed: int = 0,
    instances: int = 2,
    engines: Sequence[str] = ("corral", "llguidance", "xgrammar"),
    progress: Callable[[int, int], None] | None = None,
    shared_automata: bool = True,
) -> MaskBenchResult:
    """Run the benchmark (module docstring) on ``n`` schemas drawn with ``seed``.

    With ``shared_automata``, corral's JSON Schema compiler keeps one
    :class:`corral.AutomataCache` for the run (a server's set-up: string, format and pattern
    automata shared between schemas); without, every schema is compiled cold.
    """
    tok.token_trie()
    names = available_engines(engines)
    runners = [_Engine(name, tok, shared_automata) for name in names]
    times = {name: EngineTimes() for name in names}
    files = list_files(data, splits)
    picked = random.Random(seed).sample(files, min(n, len(files)))
    rss_start = _rss_mb()
    vocab_words = (tok.vocab_size + 31) // 32
    n_paths = rejected = schemas = refused_by_some = 0
    corral_mem = 0
    for done, (split, path) in enumerate(picked):
        if progress is not None:
            progress(done, len(picked))
        case = load_case(split, path)
        handles: dict[str, Any] = {}
        for r in runners:
            start = time.perf_counter_ns()
            h = r.compile(case.schema)
            took = (time.perf_counter_ns() - start) / 1000
            if h is None:
                times[r.name].refused += 1
            else:
                handles[r.name] = h
                times[r.name].compile.append(took)
        if "corral" not in handles:
            continue
        schemas += 1
        corral_mem += handles["corral"].memory_bytes()
        if len(handles) < len(runners):
            refused_by_some += 1  # paths are walked only where every engine compiled
            continue
        live = runners
        for data_ in [t.data for t in case.tests if t.valid][:instances]:
            text = serialize_instance(data_, case.schema, whitespace="compact").encode("utf-8")
            ids = list(tok.encode(text))
            if not all(r.accepts(handles[r.name], ids) for r in live):
                rejected += 1
                continue
            n_paths += 1
            ms = {r.name: r.matcher(handles[r.name]) for r in live}
            masks = {r.name: r.new_mask() for r in live}
            fills = {r.name: r.filler() for r in live}
            for step, token in enumerate([*ids, None]):
                rows: dict[str, np.ndarray] = {}
                turn = step % len(live)  # each engine in turn goes first after the comparison
                for r in [*live[turn:], *live[:turn]]:
                    start = time.perf_counter_ns()
                    fills[r.name](ms[r.name], masks[r.name])
                    took = (time.perf_counter_ns() - start) / 1000
                    (times[r.name].first_mask if step == 0 else times[r.name].mask).append(took)
                    rows[r.name] = r.row(masks[r.name])[:vocab_words]
                for name, row in rows.items():
                    if name == "corral" or np.array_equal(row, rows["corral"]):
                        continue
                    times[name].differing_masks += 1
                    for tid, corral_has in differing_tokens(row, rows["corral"]):
                        who = "corral only" if corral_has else f"{name} only"
                        times[name].differing_tokens[f"{tok.token_bytes(tid)!r} ({who})"] += 1
                if token is None:
                    break
                for r in live:
                    start = time.perf_counter_ns()
                    r.consume(ms[r.name], token)
                    times[r.name].accept.append((time.perf_counter_ns() - start) / 1000)
    if progress is not None:
        progress(len(picked), len(picked))
    args = {"splits": list(splits), "n": n, "seed": seed, "instances": instances,
            "tokenizer": tok.name, "vocab_size": tok.vocab_size, "engines": names,
            "corral_shared_automata": shared_automata}  # fmt: skip
    args["schemas_refused_by_another_engine"] = refused_by_some
    return MaskBenchResult(times, schemas, n_paths, rejected, (rss_start, _rss_mb()),
                           corral_mem / 2**20, args)  # fmt: skip
