"""Benchmark infilling checks (``corral.infill.is_completable``) on real documents.

Tasks (MRI-style: 1, 2 and 3 random spans of a valid document replaced by holes, cut between
characters): valid instances of a seeded sample of the JSONSchemaBench dev splits, each with its
schema's compiled grammar (SmolLM2 vocabulary), and random words of the shipped C-like and SQL
grammars. Every such template is completable, so every answer must be ``True``; a check past
``Limits.max_infill_work`` counts as a timeout. Prints, per task and number of spans, the
median, p99 and max time per check in milliseconds, the timeouts and the wrong answers::

    python benchmarks/bench_infill.py --n 60
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np

import corral
from corral.errors import CorralError, LimitExceeded
from corral.grammars import library_path
from corral.grammars.json_schema import serialize_instance
from corral.infill import Hole, is_completable
from corral.jsonschemabench.loader import iter_cases


def templates(word: bytes, spans: int, rng: random.Random) -> list[Any]:
    """``word`` with ``spans`` random spans (between characters) replaced by holes."""
    bounds = [i for i in range(len(word) + 1) if i == len(word) or word[i] >> 6 != 2]
    cuts = sorted(rng.sample(bounds, min(2 * spans, len(bounds))))
    parts: list[Any] = [word[: cuts[0]]]
    for i in range(0, len(cuts) - 1, 2):
        parts += [Hole(), word[cuts[i + 1] : cuts[i + 2] if i + 2 < len(cuts) else None]]
    return parts


def run(cg: corral.CompiledGrammar, word: bytes, rng: random.Random, out: dict[int, Any]) -> None:
    for spans in (1, 2, 3):
        t = templates(word, spans, rng)
        start = time.perf_counter()
        try:
            ok = is_completable(cg, t)
        except LimitExceeded:
            out[spans]["timeouts"] += 1
            continue
        out[spans]["ms"].append((time.perf_counter() - start) * 1000)
        out[spans]["wrong"] += not ok


def words(cg: corral.CompiledGrammar, rng: random.Random, n: int) -> list[bytes]:
    """Random words of a grammar: random allowed tokens, then the shortest completion."""
    got = []
    for _ in range(n):
        m = corral.Matcher(cg)
        taken = []
        for _ in range(rng.randrange(4, 40)):
            ids = [t for t in m.allowed_tokens() if t not in cg.eos_ids]
            if not ids:
                break
            taken.append(rng.choice(ids))
            m.accept_token(taken[-1])
        rest = m.shortest_completion()
        if rest is not None:
            got.append(b"".join(cg.token_bytes(t) or b"" for t in taken) + rest)
    return got


def report(name: str, out: dict[int, Any]) -> None:
    for spans, r in out.items():
        ms = np.array(r["ms"]) if r["ms"] else np.zeros(1)
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"{name:12} {spans:5} {len(r['ms']):6} {p50:9.2f} {p99:9.2f} {ms.max():9.2f} "
              f"{r['timeouts']:8} {r['wrong']:6}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=60, help="schemas (and grammar words) to sample")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    tok = corral.Tokenizer.default()
    print(f"{'task':12} {'spans':>5} {'checks':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} "
          f"{'timeouts':>8} {'wrong':>6}")  # fmt: skip
    cases = [c for c in iter_cases(stride=1) if any(t.valid for t in c.tests)]
    out: dict[int, Any] = {s: {"ms": [], "timeouts": 0, "wrong": 0} for s in (1, 2, 3)}
    for case in rng.sample(cases, min(args.n, len(cases))):
        try:
            cg = corral.compile(corral.Grammar.from_json_schema(case.schema), tok)
        except CorralError:
            continue
        if cg.unique is not None:
            continue
        inst = next(t.data for t in case.tests if t.valid)
        word = serialize_instance(inst, case.schema).encode()
        run(cg, word, rng, out)
    report("jsonschema", out)
    for name in ("c", "sql"):
        cg = corral.compile(corral.Grammar.from_file(library_path(f"{name}.lark")), tok)
        out = {s: {"ms": [], "timeouts": 0, "wrong": 0} for s in (1, 2, 3)}
        for word in words(cg, rng, args.n // 3):
            run(cg, word, rng, out)
        report(name, out)
    print(json.dumps({"seed": args.seed, "n": args.n}))


if __name__ == "__main__":
    main()
