"""Benchmark the reference (pure-Python/NumPy) matcher: compile time, mask time, accept time.

For each tokenizer (``smollm2``: SmolLM2, 49,152 tokens; ``qwen``: Qwen2 ``qwen.tiktoken``,
about 151k tokens) this measures:

* **compile** — grammar (IR) to :class:`corral.CompiledGrammar`. The first compile for a
  tokenizer also builds its token trie (owned by the tokenizer afterwards,
  :meth:`corral.Tokenizer.token_trie`); the trie build is timed on its own, just before that
  compile, and the first compile is reported with and without it. A compile of a second grammar
  (default: the shipped ``json.gbnf``) shows the cost with the trie cached; both are cold
  otherwise (the process-wide caches of terminal automata are emptied first, where they have a
  ``cache_clear``). Repeated compiles of the main grammar show the fully cached cost.
  Compilation is lazy: lexer automata and trie walks are built into the compiled grammar's
  run-time cache by the first masks that need them, so that cost shows up in the mask times of
  the first document, not here. Parsing the grammar file (Lark/GBNF to IR) is timed once.
* **mask** — :meth:`corral.Matcher.fill_next_token_bitmask` into a row of
  :func:`corral.allocate_token_bitmask` ``(1, vocab)``, along realistic generation paths: N JSON
  documents (``json.dumps`` of varied, deterministic, realistic-looking objects — nested objects
  and arrays, strings with spaces, escapes and non-ASCII text, integers, floats with exponents,
  booleans, null — alternately compact and ``indent=2``, some with ``ensure_ascii``), each
  encoded with the tokenizer; at every token step the mask fill is timed with
  ``time.perf_counter_ns``, the token is checked to be allowed, then accepted. After the last
  token one more mask (end of sequence allowed) is timed and the end-of-sequence token accepted.
  All documents share one compiled grammar (a fresh matcher each), so the statistics include the
  warm-up of the lazily built caches (the first mask in each new kind of state); statistics of
  documents 2..N, and of the first document replayed at the end (same steps, warm caches; not
  counted in "all"), show the warm cache. For a grammar that does not accept the JSON documents
  (``--paths auto``), paths are instead random strings of the grammar drawn with
  :class:`corral.testing.derivations.DerivationSampler`.
* **accept** — :meth:`corral.Matcher.accept_token` per token, on the same paths.

Times are in microseconds (count, median, p90, p99, max). The garbage collector stays on during
timing (it is collected between documents). Prints a table and writes
``benchmarks/results/matcher.json`` with the machine (platform, CPU model, Python, NumPy).

Speed is measured here, never in the tests. Run from the repository root::

    python benchmarks/bench_matcher.py [--tokenizers smollm2 qwen] [--docs 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import corral  # noqa: E402
from corral.automata import regex as automata_regex  # noqa: E402
from corral.testing.derivations import DerivationSampler  # noqa: E402
from corral.tokenizers.token_trie import TokenTrie  # noqa: E402

LIBRARY = ROOT / "src" / "corral" / "grammars" / "library"
RESULTS = ROOT / "benchmarks" / "results" / "matcher.json"
TOKENIZERS: dict[str, Callable[[], corral.Tokenizer]] = {
    "smollm2": corral.Tokenizer.default,
    "qwen": corral.Tokenizer.qwen,
}
RECOMPILES = 5

# ----------------------------------------------------------------------------- documents
FIRST = [
    "Alice", "Bob", "José", "Zoë", "Łukasz", "Søren", "Aarav", "Mei", "Olga", "Chidi",
    "François", "Ingrid", "Yuki", "Ömer", "Priya", "Mateo",
]  # fmt: skip
LAST = [
    "Smith", "García", "Müller", "Nowak", "Tanaka", "Okafor", "Dubois", "Ivanova", "Østergaard",
    "Nguyễn", "O'Brien", "Silva", "Kim", "Rossi",
]  # fmt: skip
NATIVE_NAMES = ["王芳", "李雷", "佐藤 花子", "Дмитрий Петров", "Σοφία Παπαδοπούλου", "محمد علي"]
CITIES = [
    ("Berlin", "DE"), ("São Paulo", "BR"), ("Kraków", "PL"), ("Zürich", "CH"), ("東京", "JP"),
    ("New York", "US"), ("Reykjavík", "IS"), ("Montréal", "CA"), ("Cape Town", "ZA"),
    ("Lagos", "NG"), ("Málaga", "ES"), ("Seoul", "KR"),
]  # fmt: skip
WORDS = [
    "the", "quick", "service", "order", "was", "shipped", "today", "and", "will", "arrive",
    "within", "three", "business", "days", "please", "contact", "support", "if", "your",
    "package", "is", "damaged", "or", "missing", "items", "we", "appreciate", "patience",
    "during", "holiday", "season", "new", "features", "include", "dark", "mode", "faster",
    "sync", "improved", "search", "results", "for", "large", "accounts",
]  # fmt: skip
EXTRAS = ["🚀", "✓", "—", "€12", "naïve", "café", "½", "“smart quotes”", "°C", "→"]
STREETS = ["Main St", "Hauptstraße", "Rue de Rivoli", "Calle Mayor", "Elm Avenue", "ul. Długa"]
PRODUCTS = [
    "Wireless Mouse", "USB-C Cable (2 m)", "Noise-cancelling Headphones", "Café Latte Mug",
    "Mechanical Keyboard — TKL", "4K Monitor 27\"", "Standing Desk", "Notebook A5, dotted",
]  # fmt: skip
ROLES = ["admin", "editor", "viewer", "billing", "support"]
EVENTS = ["login", "logout", "purchase", "page_view", "error", "password_reset"]


def sentence(rng: random.Random, lo: int = 4, hi: int = 14) -> str:
    """A sentence of random words, sometimes with non-ASCII text, quotes or escapes."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words) + 1), rng.choice(EXTRAS))
    text = " ".join(words).capitalize() + rng.choice([".", "!", "?", "..."])
    roll = rng.random()
    if roll < 0.1:
        text += ' She said "thanks".'
    elif roll < 0.2:
        text += "\nSecond line:\ttabbed"
    elif roll < 0.25:
        text += " Path: C:\\Users\\data"
    return text


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(NATIVE_NAMES)
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def timestamp(rng: random.Random) -> str:
    return (
        f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    )


def number(rng: random.Random) -> int | float:
    """An integer, a decimal, a negative, or a float whose repr has an exponent."""
    roll = rng.random()
    if roll < 0.35:
        return rng.randint(0, 10_000)
    if roll < 0.55:
        return round(rng.uniform(-500, 500), rng.randint(1, 4))
    if roll < 0.7:
        return -rng.randint(1, 99_999)
    if roll < 0.85:
        return rng.uniform(1, 9) * 10.0 ** rng.randint(-9, -5)
    if roll < 0.95:
        return rng.uniform(1, 9) * 10.0 ** rng.randint(16, 24)
    return 0


def address(rng: random.Random) -> dict[str, Any]:
    city, country = rng.choice(CITIES)
    return {
        "street": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
        "city": city,
        "postal_code": f"{rng.randint(1000, 99999)}",
        "country": country,
        "geo": {"lat": round(rng.uniform(-90, 90), 6), "lng": round(rng.uniform(-180, 180), 6)},
    }


def user(rng: random.Random) -> dict[str, Any]:
    name = person_name(rng)
    return {
        "id": rng.randint(1, 10**6),
        "username": f"{name.split()[0].lower()}_{rng.randint(1, 999)}",
        "name": name,
        "email": f"user{rng.randint(1, 9999)}@example.com",
        "age": rng.randint(18, 90) if rng.random() < 0.8 else None,
        "is_active": rng.random() < 0.7,
        "roles": rng.sample(ROLES, rng.randint(0, 3)),
        "address": address(rng),
        "preferences": {
            "theme": rng.choice(["dark", "light", "system"]),
            "language": rng.choice(["en-US", "de-DE", "pt-BR", "ja-JP", "pl-PL"]),
            "notifications": {"email": rng.random() < 0.5, "sms": rng.random() < 0.2},
        },
        "last_login": timestamp(rng) if rng.random() < 0.8 else None,
        "bio": sentence(rng),
    }


def order(rng: random.Random) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 5)):
        price = round(rng.uniform(1, 900), 2)
        items.append(
            {
                "sku": f"SKU-{rng.randint(10000, 99999)}",
                "name": rng.choice(PRODUCTS),
                "quantity": rng.randint(1, 4),
                "unit_price": price,
                "discount": round(rng.uniform(0, 0.3), 2) if rng.random() < 0.3 else None,
            }
        )
    total = round(sum(i["unit_price"] * i["quantity"] for i in items), 2)
    return {
        "order_id": f"ORD-{rng.randint(10**7, 10**8 - 1)}",
        "created_at": timestamp(rng),
        "customer": {"id": rng.randint(1, 10**6), "name": person_name(rng)},
        "items": items,
        "total": total,
        "currency": rng.choice(["EUR", "USD", "PLN", "JPY"]),
        "paid": rng.random() < 0.8,
        "shipping": {"method": rng.choice(["standard", "express"]), "address": address(rng)},
        "notes": sentence(rng) if rng.random() < 0.5 else None,
    }


def api_response(rng: random.Random) -> dict[str, Any]:
    data = [
        {
            "event": rng.choice(EVENTS),
            "user_id": rng.randint(1, 10**6),
            "at": timestamp(rng),
            "duration_ms": number(rng),
            "tags": [rng.choice(WORDS) for _ in range(rng.randint(0, 3))],
            "ok": rng.random() < 0.9,
        }
        for _ in range(rng.randint(1, 4))
    ]
    return {
        "status": "ok",
        "page": rng.randint(1, 20),
        "per_page": 25,
        "total": rng.randint(0, 5000),
        "data": data,
        "errors": [] if rng.random() < 0.7 else [{"code": 429, "message": sentence(rng, 3, 6)}],
        "meta": {
            "request_id": f"{rng.getrandbits(64):016x}",
            "elapsed_ms": round(rng.uniform(0.1, 250), 3),
            "version": "1.4.2",
        },
    }


def config(rng: random.Random) -> dict[str, Any]:
    return {
        "version": rng.randint(1, 5),
        "debug": rng.random() < 0.2,
        "database": {
            "host": rng.choice(["localhost", "db.internal", "10.0.3.17"]),
            "port": rng.choice([5432, 3306, 27017]),
            "pool": {"min": rng.randint(1, 4), "max": rng.randint(8, 64)},
            "timeout_s": round(rng.uniform(1, 60), 1),
        },
        "features": {f: rng.random() < 0.5 for f in ["search_v2", "dark_mode", "beta_sync"]},
        "allowed_origins": [f"https://{rng.choice(WORDS)}.example.org" for _ in range(2)],
        "retry": {"attempts": rng.randint(0, 5), "backoff": number(rng), "jitter": None},
        "description": sentence(rng, 3, 8),
    }


def measurements(rng: random.Random) -> dict[str, Any]:
    return {
        "sensor": f"{rng.choice(['thermo', 'hygro', 'baro'])}-{rng.randint(1, 99):02d}",
        "location": rng.choice(CITIES)[0],
        "unit": rng.choice(["°C", "%", "hPa"]),
        "calibrated": rng.random() < 0.5,
        "readings": [number(rng) for _ in range(rng.randint(3, 10))],
        "matrix": [[rng.randint(-9, 9) for _ in range(3)] for _ in range(rng.randint(1, 3))],
        "threshold": number(rng),
        "comment": None,
    }


KINDS = [user, order, api_response, config, measurements]


def json_documents(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` deterministic JSON texts with a label each (kind and layout)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)] if i < len(KINDS) else rng.choice(KINDS)
        obj: Any = kind(rng)
        if rng.random() < 0.15:
            obj = [obj, kind(rng)]  # a top-level array now and then
        ascii_only = i % 3 == 2
        if i % 2 == 0:
            text = json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)
            layout = "compact"
        else:
            text = json.dumps(obj, indent=2, ensure_ascii=ascii_only)
            layout = "indent2"
        docs.append((text, f"{kind.__name__}/{layout}{'/ascii' if ascii_only else ''}"))
    return docs


def derivation_documents(grammar: corral.Grammar, n: int, seed: int) -> list[tuple[bytes, str]]:
    """``n`` random strings of ``grammar`` (for grammars that do not accept the JSON documents)."""
    rng = random.Random(seed)
    sampler = DerivationSampler(grammar)
    docs = []
    for i in range(n):
        best = sampler.sample(rng)
        for _ in range(8):  # prefer paths of some length
            if len(best) >= 64:
                break
            other = sampler.sample(rng)
            best = other if len(other) > len(best) else best
        docs.append((best, f"derivation/{i}"))
    return docs


# ----------------------------------------------------------------------------- statistics
def summarize(ns: np.ndarray) -> dict[str, float | int]:
    """Count, median, p90, p99, max and mean of nanosecond samples, in microseconds."""
    if ns.shape[0] == 0:
        return {"count": 0}
    us = ns / 1000.0
    return {
        "count": int(us.shape[0]),
        "median_us": float(np.median(us)),
        "p90_us": float(np.percentile(us, 90)),
        "p99_us": float(np.percentile(us, 99)),
        "max_us": float(us.max()),
        "mean_us": float(us.mean()),
        "total_s": float(us.sum() / 1e6),
    }


def ms_since(start: int) -> float:
    return (time.perf_counter_ns() - start) / 1e6


def machine_info() -> dict[str, Any]:
    """Platform, CPU model, core count, Python and NumPy versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": np.__version__,
        "corral": corral.__version__,
    }


# ----------------------------------------------------------------------------- benchmark
def clear_automaton_caches() -> None:
    """Empty the process-wide caches of terminal automata, for a cold compile."""
    for fn in (automata_regex.compile_regex, automata_regex.literal_dfa):
        clear = getattr(fn, "cache_clear", None)
        if clear is not None:
            clear()


def time_trie_build(tok: corral.Tokenizer) -> tuple[float, str]:
    """Milliseconds to build ``tok``'s token trie, and how they were taken."""
    start = time.perf_counter_ns()
    if getattr(tok, "_trie", None) is None:
        tok.token_trie()
        return ms_since(start), "first Tokenizer.token_trie() call, before the first compile"
    TokenTrie.build(tok.all_token_bytes(), tok.special_token_ids)
    return ms_since(start), "standalone TokenTrie.build (the tokenizer had its trie)"


def bench_compile(
    tok: corral.Tokenizer, grammar: corral.Grammar, second: corral.Grammar
) -> tuple[corral.CompiledGrammar, corral.CompiledGrammar, dict[str, Any]]:
    """Time the compiles; return the first compiled grammar, a spare one, and the timings.

    The tokenizer's trie is built (and timed) just before the first compile, which is reported
    with the trie build added. The terminal automata caches are emptied before the first and
    the second grammar's compile, so both are cold but for the trie; the recompiles of the main
    grammar reuse everything the library caches.
    """
    clear_automaton_caches()
    gc.collect()
    trie_ms, trie_how = time_trie_build(tok)
    start = time.perf_counter_ns()
    compiled = corral.compile(grammar, tok)
    first_ms = ms_since(start) + trie_ms
    clear_automaton_caches()
    gc.collect()
    start = time.perf_counter_ns()
    corral.compile(second, tok)
    second_ms = ms_since(start)
    recompile = []
    spare = compiled
    for _ in range(RECOMPILES):
        start = time.perf_counter_ns()
        spare = corral.compile(grammar, tok)
        recompile.append(ms_since(start))
    return (
        compiled,
        spare,
        {
            "first_compile_ms": first_ms,
            "trie_build_ms": trie_ms,
            "trie_build_timed": trie_how,
            "first_compile_minus_trie_ms": first_ms - trie_ms,
            "second_grammar_compile_ms": second_ms,
            "recompile_median_ms": float(np.median(recompile)),
            "recompile_count": RECOMPILES,
            "trie_nodes": compiled.trie.n_nodes,
            "stats": compiled.stats(),
        },
    )


def grammar_accepts(compiled: corral.CompiledGrammar, data: bytes) -> bool:
    m = corral.Matcher(compiled)
    return m.accept_bytes(data) and m.is_accepting()


def time_path(
    compiled: corral.CompiledGrammar, ids: list[int], label: str, bitmask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Time each mask fill and accept along one path (and end of sequence); ns per step."""
    eos = compiled.eos_ids[0] if compiled.eos_ids else None
    steps = [*ids, eos] if eos is not None else list(ids)
    masks = np.zeros(len(steps), dtype=np.int64)
    accepts = np.zeros(len(steps), dtype=np.int64)
    matcher = corral.Matcher(compiled)
    clock = time.perf_counter_ns
    gc.collect()
    for k, tid in enumerate(steps):
        t0 = clock()
        matcher.fill_next_token_bitmask(bitmask, 0)
        t1 = clock()
        masks[k] = t1 - t0
        if not (int(bitmask[0, tid >> 5]) >> (tid & 31)) & 1:
            raise SystemExit(f"{label}: token {tid} at step {k} is not allowed by the mask")
        t0 = clock()
        ok = matcher.accept_token(tid)
        t1 = clock()
        accepts[k] = t1 - t0
        if not ok:
            raise SystemExit(f"{label}: token {tid} at step {k} was refused")
    if eos is not None and not matcher.is_terminated():
        raise SystemExit(f"{label}: end of sequence not reached")
    return masks, accepts


def run_paths(
    compiled: corral.CompiledGrammar, paths: list[tuple[list[int], str]]
) -> dict[str, Any]:
    """Time every mask fill and accept along ``paths``; return statistics and per-document rows.

    Afterwards the first path is replayed once more (not counted in ``all``): the same steps as
    its first, cold run, now with every cache the other paths warmed.
    """
    bitmask = corral.allocate_token_bitmask(1, compiled.vocab_size)
    mask_ns: list[np.ndarray] = []
    accept_ns: list[np.ndarray] = []
    per_doc = []
    for ids, label in paths:
        masks, accepts = time_path(compiled, ids, label, bitmask)
        mask_ns.append(masks)
        accept_ns.append(accepts)
        per_doc.append(
            {
                "label": label,
                "tokens": len(ids),
                "mask_median_us": float(np.median(masks)) / 1000.0,
                "mask_max_us": float(masks.max()) / 1000.0,
                "mask_total_s": float(masks.sum()) / 1e9,
            }
        )
    replay_masks, replay_accepts = time_path(compiled, *paths[0], bitmask)
    all_masks = np.concatenate(mask_ns)
    warm_masks = np.concatenate(mask_ns[1:]) if len(mask_ns) > 1 else all_masks[:0]
    all_accepts = np.concatenate(accept_ns)
    warm_accepts = np.concatenate(accept_ns[1:]) if len(accept_ns) > 1 else all_accepts[:0]
    return {
        "mask": {
            "all": summarize(all_masks),
            "first_document": summarize(mask_ns[0]),
            "after_first_document": summarize(warm_masks),
            "first_document_replayed": summarize(replay_masks),
            "very_first_mask_us": float(all_masks[0]) / 1000.0,
        },
        "accept": {
            "all": summarize(all_accepts),
            "after_first_document": summarize(warm_accepts),
            "first_document_replayed": summarize(replay_accepts),
        },
        "per_document": per_doc,
    }


def bench_tokenizer(
    name: str, grammar: corral.Grammar, second: corral.Grammar, args: argparse.Namespace
) -> dict[str, Any]:
    """Compile, build the paths and time them for one tokenizer."""
    wall = time.perf_counter_ns()
    start = time.perf_counter_ns()
    tok = TOKENIZERS[name]()
    load_ms = ms_since(start)
    compiled, spare, compile_rec = bench_compile(tok, grammar, second)

    docs: list[tuple[bytes, str]] = []
    source = args.paths
    if source in ("auto", "json"):
        docs = [(t.encode("utf-8"), label) for t, label in json_documents(args.docs, args.seed)]
        rejected = [label for data, label in docs if not grammar_accepts(spare, data)]
        if rejected and source == "json":
            raise SystemExit(f"the grammar rejects JSON documents: {rejected[:5]}")
        source = "derivations" if rejected else "json"
    if source == "derivations":
        docs = derivation_documents(grammar, args.docs, args.seed)
    paths = []
    for data, label in docs:
        ids = tok.encode(data)
        if tok.decode(ids) != data:
            raise SystemExit(f"{label}: tokenization does not round-trip")
        paths.append((ids, label))
    timings = run_paths(compiled, paths)
    return {
        "tokenizer": name,
        "tokenizer_name": tok.name,
        "vocab_size": compiled.vocab_size,
        "tokenizer_load_ms": load_ms,
        "compile": compile_rec,
        "paths": {
            "source": source,
            "documents": len(paths),
            "tokens": sum(len(ids) for ids, _ in paths),
            "bytes": sum(len(data) for data, _ in docs),
            "steps_per_document": "tokens + 1 (end of sequence)" if compiled.eos_ids else "tokens",
        },
        **timings,
        "wall_s": (time.perf_counter_ns() - wall) / 1e9,
    }


# ----------------------------------------------------------------------------- report
def print_report(records: list[dict[str, Any]]) -> None:
    """Print compile times and the mask/accept statistics per tokenizer."""
    print()
    print(
        f"{'tokenizer':>9} {'vocab':>7} | {'1st compile':>11} {'trie':>8} {'2nd gram':>8} "
        f"{'recompile':>9}   (ms)"
    )
    for r in records:
        c = r["compile"]
        print(
            f"{r['tokenizer']:>9} {r['vocab_size']:>7} | {c['first_compile_ms']:>11.1f} "
            f"{c['trie_build_ms']:>8.1f} {c['second_grammar_compile_ms']:>8.1f} "
            f"{c['recompile_median_ms']:>9.1f}"
        )
    print()
    header = (
        f"{'tokenizer':>9} {'op':>6} {'subset':>11} | {'count':>6} {'median':>9} {'p90':>9} "
        f"{'p99':>9} {'max':>9}   (µs)"
    )
    print(header)
    print("-" * len(header))
    for r in records:
        rows = [
            ("mask", "all", r["mask"]["all"]),
            ("mask", "first doc", r["mask"]["first_document"]),
            ("mask", "docs 2..N", r["mask"]["after_first_document"]),
            ("mask", "doc 1 again", r["mask"]["first_document_replayed"]),
            ("accept", "all", r["accept"]["all"]),
            ("accept", "docs 2..N", r["accept"]["after_first_document"]),
        ]
        for op, subset, s in rows:
            if not s["count"]:
                continue
            print(
                f"{r['tokenizer']:>9} {op:>6} {subset:>11} | {s['count']:>6} "
                f"{s['median_us']:>9.1f} {s['p90_us']:>9.1f} {s['p99_us']:>9.1f} "
                f"{s['max_us']:>9.1f}"
            )
    print()
    for r in records:
        p = r["paths"]
        print(
            f"{r['tokenizer']}: {p['documents']} {p['source']} documents, {p['tokens']} tokens, "
            f"{p['bytes']} bytes; very first mask {r['mask']['very_first_mask_us'] / 1000:.1f} ms;"
            f" tokenizer load {r['tokenizer_load_ms']:.0f} ms; wall {r['wall_s']:.1f} s"
        )


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the benchmark, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tokenizers", nargs="+", choices=sorted(TOKENIZERS), default=["smollm2", "qwen"]
    )
    parser.add_argument("--grammar", default=str(LIBRARY / "json.lark"), help=".lark or .gbnf")
    parser.add_argument(
        "--second-grammar",
        default=str(LIBRARY / "json.gbnf"),
        help="grammar compiled after the first (token trie cached)",
    )
    parser.add_argument("--docs", type=int, default=30, help="documents (generation paths)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the document generator")
    parser.add_argument(
        "--paths",
        choices=["auto", "json", "derivations"],
        default="auto",
        help="JSON documents, random strings of the grammar, or JSON if the grammar accepts it",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error("--docs must be at least 1")

    wall = time.perf_counter_ns()
    start = time.perf_counter_ns()
    grammar = corral.Grammar.from_file(args.grammar)
    parse_ms = ms_since(start)
    second = corral.Grammar.from_file(args.second_grammar)
    records = []
    for name in args.tokenizers:
        print(f"[{name}] compiling and timing {args.docs} documents ...", flush=True)
        records.append(bench_tokenizer(name, grammar, second, args))
    print_report(records)
    meta = {
        "benchmark": "reference matcher: compile, fill_next_token_bitmask, accept_token",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]) if argv is None else None,
        "grammar": os.path.relpath(args.grammar, ROOT),
        "second_grammar": os.path.relpath(args.second_grammar, ROOT),
        "grammar_parse_ms": parse_ms,
        "docs": args.docs,
        "seed": args.seed,
        "paths": args.paths,
        "unit": "microseconds unless the key says otherwise",
        "wall_s": (time.perf_counter_ns() - wall) / 1e9,
        **machine_info(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": records}, indent=2) + "\n")
    print(f"grammar parse {parse_ms:.1f} ms; total wall {meta['wall_s']:.1f} s")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
