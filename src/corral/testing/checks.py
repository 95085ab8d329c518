"""The conformance checks: soundness, compliance and forced bytes, for any engine.

* **Soundness** — random derivations of the grammar (:class:`DerivationSampler`), tokenized
  canonically and at random, are fed token by token: every token must be in the engine's mask
  and accepted, the end must be accepting with EOS allowed, and EOS must terminate.
* **Compliance** (no overreach) — random walks over the engine's allowed tokens: each token must
  keep the output completable (corral's oracle), EOS must be allowed exactly when the oracle says
  the output is complete, and the walk, finished by the oracle's shortest completion, must be
  accepted by the engine and by an independent parser. For JSON Schemas, where engines
  legitimately differ in output shape (whitespace, key order, number forms), a walk that leaves
  corral's shape is finished by the engine itself and judged by :mod:`jsonschema` alone.
* **Forced bytes** — along derivations, the engine's forced bytes must be a prefix of what the
  derivation takes next, and empty where the string is complete.

Only the public matcher API is used (:mod:`corral.testing.engines`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from corral.errors import CorralError
from corral.testing.derivations import DerivationSampler
from corral.testing.engines import Engine, EngineMatcher, Unsupported
from corral.testing.oracle import Oracle, Vocabulary
from corral.testing.picking import choose_token as _choose
from corral.testing.picking import closing_token as _closer
from corral.testing.report import ConformanceReport, Counterexample, Status, show
from corral.testing.search import search
from corral.testing.shrink import shrink_text
from corral.testing.sources import GrammarSource
from corral.tokenizers import Tokenizer

__all__ = [
    "CHECKS",
    "ConformanceContext",
    "check_compliance",
    "check_forced_bytes",
    "check_soundness",
    "run_conformance",
]

CHECKS: tuple[str, ...] = ("soundness", "compliance", "forced_bytes")


class ConformanceContext:
    """One engine, one grammar, one tokenizer: compiled once, shared by the checks.

    Parameters
    ----------
    engine:
        The engine under test.
    source:
        The grammar.
    tokenizer:
        The tokenizer the engine was built with.
    max_depth, max_lexeme:
        Derivation bounds (see :class:`DerivationSampler`).
    max_steps:
        Random steps per compliance walk.
    random_splits:
        Also feed derivations in a random (non-canonical) tokenization; engines that allow only
        canonical tokenizations in places (llguidance where bytes are forced) fail with it.
    oracle:
        A ready oracle for ``source`` (built here when ``None``).
    """

    def __init__(
        self,
        engine: Engine,
        source: GrammarSource,
        tokenizer: Tokenizer,
        *,
        max_depth: int = 6,
        max_lexeme: int = 8,
        max_steps: int = 12,
        random_splits: bool = True,
        oracle: Oracle | None = None,
    ) -> None:
        self.engine = engine
        self.source = source
        self.tokenizer = tokenizer
        self.oracle = oracle or Oracle(source, tokenizer)
        self.vocab = Vocabulary(tokenizer)
        self.token_bytes = tokenizer.all_token_bytes()
        self.sampler = DerivationSampler(
            self.oracle.grammar,
            max_depth=max_depth,
            max_lexeme=max_lexeme,
            byte_ok=self.vocab.spellable,
        )
        self.max_steps = max_steps
        self.random_splits = random_splits
        self.handle = engine.compile(source)
        self.words = (engine.vocab_size + 31) // 32
        self.eos = sorted(engine.eos_token_ids)

    def matcher(self) -> EngineMatcher:
        """A fresh matcher of the engine under test."""
        return self.engine.new_matcher(self.handle)

    def allowed(self, m: EngineMatcher) -> np.ndarray:
        """The token ids ``m`` allows, ascending."""
        mask = np.zeros((1, self.words), dtype=np.int32)
        m.fill_next_token_bitmask(mask)
        bits = np.unpackbits(mask.view(np.uint8), bitorder="little")
        return np.flatnonzero(bits[: self.engine.vocab_size])

    def feed(
        self, text: bytes, ids: Sequence[int], check: str, how: str = "given"
    ) -> Counterexample | None:
        """Feed a string of the language; the first failure of ``check`` (see the module).

        ``how`` names the tokenization in the description (``"canonical"``, ``"random"``).
        """
        m = self.matcher()
        pos = 0
        for k, tid in enumerate(ids):
            tb = self.token_bytes[tid]
            if check == "forced_bytes":
                forced = m.forced_bytes()
                if not text[pos:].startswith(forced):
                    return Counterexample(
                        check,
                        f"forced bytes {show(forced)} after {show(text[:pos])}, but "
                        f"{show(text)} (in the language) continues with {show(text[pos:])}",
                        text,
                        tuple(ids[:k]),
                    )
                if not m.accept_token(tid):
                    return None  # a soundness failure; not this check's business
            else:
                allowed = tid in set(self.allowed(m).tolist())
                accepted = allowed and m.accept_token(tid)
                if not accepted:
                    why = "not in the mask" if not allowed else "in the mask but refused"
                    return Counterexample(
                        check,
                        f"{show(text)} is in the language, but token #{k} {tid} {show(tb)} is "
                        f"{why} after {show(text[:pos])} ({how} tokenization)",
                        text,
                        tuple(ids[: k + 1]),
                    )
            pos += len(tb)
        return self._finish(m, text, tuple(ids), check)

    def _finish(
        self, m: EngineMatcher, text: bytes, ids: tuple[int, ...], check: str
    ) -> Counterexample | None:
        if check == "forced_bytes":
            forced = m.forced_bytes()
            if forced:
                why = f"forced bytes {show(forced)} at the end of complete {show(text)}"
                return Counterexample(check, why + " (EOS may come instead)", text, ids)
            return None
        problem = ""
        if not m.is_accepting():
            problem = "is not accepting"
        elif not set(self.eos) & set(self.allowed(m).tolist()):
            problem = "is accepting but EOS is not in the mask"
        elif not m.accept_token(self.eos[0]):
            problem = "refuses EOS"
        elif not m.is_terminated():
            problem = "is not terminated after EOS"
        if problem:
            return Counterexample(
                check, f"complete string {show(text)}: the engine {problem}", text, ids
            )
        return None

    def soundness(self, rng: random.Random) -> Counterexample | None:
        """One derivation, canonical then random tokenization."""
        return self._derivation(rng, "soundness")

    def forced(self, rng: random.Random) -> Counterexample | None:
        """One derivation, forced bytes checked at each token boundary."""
        return self._derivation(rng, "forced_bytes")

    def _derivation(self, rng: random.Random, check: str) -> Counterexample | None:
        text = self.sampler.sample(rng)
        if any(b not in self.vocab.spellable for b in text):
            return None
        splits: list[tuple[str, list[int] | None]] = [("canonical", self.vocab.encode(text))]
        if self.random_splits:
            splits.append(("random", self.vocab.random_split(text, rng)))
        for how, ids in splits:
            if ids is None or self.vocab.spell(ids) != text:
                continue
            found = self.feed(text, ids, check, how)
            if found is not None:
                return found
        return None

    def compliance(self, rng: random.Random) -> Counterexample | None:
        """One random walk over the engine's allowed tokens (see the module docstring)."""
        m, om = self.matcher(), self.oracle.matcher()
        schema = self.source.kind == "json_schema"
        out, ids = bytearray(), list[int]()
        in_sync = True

        def fail(why: str) -> Counterexample:
            return Counterexample("compliance", why, bytes(out), tuple(ids))

        for _ in range(rng.randint(0, self.max_steps)):
            allowed = self.allowed(m)
            if allowed.size == 0:
                return fail(f"dead end: no token allowed after {show(bytes(out))}")
            eos_ok = bool(set(self.eos) & set(allowed.tolist()))
            if in_sync and not schema and eos_ok != om.is_accepting():
                state = "complete" if om.is_accepting() else "incomplete"
                verb = "allowed" if eos_ok else "not allowed"
                return fail(f"EOS {verb} after {show(bytes(out))}, which is {state}")
            if schema and eos_ok:
                verdict = self.oracle.schema_verdict(bytes(out).decode("utf-8", "replace"))
                if verdict:
                    return fail(f"EOS allowed after {show(bytes(out))}: {verdict}")
            tid = _choose(allowed, self.token_bytes, rng)
            ids.append(tid)
            if tid in self.engine.eos_token_ids:
                if not m.accept_token(tid) or not m.is_terminated():
                    return fail(f"EOS in the mask after {show(bytes(out))} but not terminating")
                return self._judge(bytes(out), in_sync, fail)
            tb = self.token_bytes[tid]
            if not m.accept_token(tid):
                return fail(f"token {tid} {show(tb)} in the mask after {show(bytes(out))} refused")
            if in_sync and not om.accept_bytes(tb):
                if not schema:
                    return fail(
                        f"token {tid} {show(tb)} allowed after {show(bytes(out))}, but no string "
                        "of the language starts with that (corral oracle)"
                    )
                in_sync = False
            out += tb
        return self._complete(m, om, out, ids, in_sync, fail)

    def _complete(
        self,
        m: EngineMatcher,
        om: object,
        out: bytearray,
        ids: list[int],
        in_sync: bool,
        fail: Callable[[str], Counterexample],
    ) -> Counterexample | None:
        schema = self.source.kind == "json_schema"
        if in_sync:
            tail = self.oracle.shortest_completion(om)  # type: ignore[arg-type]
            if tail is None:
                return fail(f"corral oracle: {show(bytes(out))} has no completion")
            tail_ids = self.vocab.encode(tail)
            for k, tid in enumerate(tail_ids):
                if tid not in set(self.allowed(m).tolist()) or not m.accept_token(tid):
                    if schema:  # engines' output shapes differ: let the engine finish
                        m.rollback(k)
                        break
                    return fail(
                        f"after {show(bytes(out))} the engine refuses the completion "
                        f"{show(tail)} at its token {show(self.token_bytes[tid])}"
                    )
            else:
                out += tail
                ids += tail_ids
                eos_allowed = set(self.eos) & set(self.allowed(m).tolist())
                if not eos_allowed or not m.accept_token(self.eos[0]):
                    return fail(f"complete {show(bytes(out))}: EOS not allowed")
                return self._judge(bytes(out), True, fail)
        for _ in range(64):  # the engine finishes the walk itself (JSON Schema only)
            allowed = self.allowed(m)
            if allowed.size == 0:
                return fail(f"dead end: no token allowed after {show(bytes(out))}")
            if set(self.eos) & set(allowed.tolist()):
                m.accept_token(self.eos[0])
                return self._judge(bytes(out), False, fail)
            tid = _closer(allowed, self.token_bytes)
            if not m.accept_token(tid):
                return fail(f"token {show(self.token_bytes[tid])} in the mask refused")
            ids.append(tid)
            out += self.token_bytes[tid]
        return None  # not finished: not judged

    def _judge(
        self, text: bytes, in_sync: bool, fail: Callable[[str], Counterexample]
    ) -> Counterexample | None:
        if in_sync and not self.oracle.in_language(text):
            return fail(f"EOS accepted after {show(text)}, which is incomplete (corral oracle)")
        verdict = self.oracle.independent_verdict(text)
        if verdict:
            return fail(f"the engine completed {show(text)}: {verdict}")
        return None


def _run(
    ctx: ConformanceContext, check: str, examples: int, seed: int, shrink_seconds: float
) -> ConformanceReport:
    name, grammar = ctx.engine.name, ctx.source.name
    if isinstance(ctx.handle, Unsupported):
        return ConformanceReport(name, grammar, check, 0, "unsupported", reason=ctx.handle.reason)
    if check == "forced_bytes" and not ctx.engine.supports_forced_bytes:
        return ConformanceReport(name, grammar, check, 0, "unsupported", reason="no forced bytes")
    prop = {"soundness": ctx.soundness, "compliance": ctx.compliance, "forced_bytes": ctx.forced}
    try:
        result = search(prop[check], examples=examples, seed=seed, shrink_seconds=shrink_seconds)
    except (RuntimeError, ValueError, CorralError) as exc:
        return ConformanceReport(name, grammar, check, 0, "error", reason=f"{exc}")
    found = result.counterexample
    if found is not None and check != "compliance":  # delete what plays no part in it
        found = shrink_text(
            found,
            lambda t: ctx.feed(t, ctx.vocab.encode(t), check, "canonical"),
            ctx.oracle.in_language,
            seconds=shrink_seconds / 2,
        )
    status: Status = "fail" if found else "pass"
    return ConformanceReport(name, grammar, check, result.examples, status, found)


def check_soundness(
    ctx: ConformanceContext, *, examples: int = 50, seed: int = 0, shrink_seconds: float = 20.0
) -> ConformanceReport:
    """Random derivations must be accepted token by token (see the module docstring)."""
    return _run(ctx, "soundness", examples, seed, shrink_seconds)


def check_compliance(
    ctx: ConformanceContext, *, examples: int = 50, seed: int = 0, shrink_seconds: float = 20.0
) -> ConformanceReport:
    """Random walks over allowed tokens must stay in the language (see the module docstring)."""
    return _run(ctx, "compliance", examples, seed, shrink_seconds)


def check_forced_bytes(
    ctx: ConformanceContext, *, examples: int = 50, seed: int = 0, shrink_seconds: float = 20.0
) -> ConformanceReport:
    """Forced bytes must be taken by every valid continuation (see the module docstring)."""
    return _run(ctx, "forced_bytes", examples, seed, shrink_seconds)


def run_conformance(
    engine: Engine,
    source: GrammarSource,
    tokenizer: Tokenizer,
    *,
    checks: Sequence[str] = CHECKS,
    examples: int = 50,
    seed: int = 0,
    shrink_seconds: float = 20.0,
    oracle: Oracle | None = None,
    **bounds: Any,
) -> list[ConformanceReport]:
    """Run ``checks`` of ``engine`` on ``source``: one report per check.

    Parameters
    ----------
    engine:
        The engine under test (see :mod:`corral.testing.engines`).
    source:
        The grammar.
    tokenizer:
        The tokenizer the engine was built with.
    checks:
        Names from :data:`CHECKS`.
    examples:
        Derivations or walks per check.
    seed:
        Hypothesis's seed.
    shrink_seconds:
        Time allowed per check for shrinking a counterexample.
    oracle:
        A ready oracle for ``source`` (to share between engines).
    **bounds:
        ``max_depth``, ``max_lexeme``, ``max_steps``, ``random_splits`` for
        :class:`ConformanceContext`.
    """
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {', '.join(CHECKS)}")
    ctx = ConformanceContext(engine, source, tokenizer, oracle=oracle, **bounds)
    return [_run(ctx, c, examples, seed, shrink_seconds) for c in checks]
