"""Fuzz the native engine against the reference: random grammars, operations and arguments.

An input is a grammar selector byte (Lark grammars, shipped grammars, JSON Schemas with run-time
``uniqueItems``), then a stream of operations, each one byte followed by its
argument bytes: accept a token id (4 signed bytes, scaled so that negative ids, ids past the
vocabulary and ids near 2**40 all occur), accept raw bytes, roll back (possibly more steps than
were taken), reset, mask, forced bytes, valid prefix length, shortest completion. A native and a
reference matcher of the same grammar take every operation; any difference in their answers, or
any exception other than the documented ``ValueError`` / ``LimitExceeded``, is a finding (a
crash of the native code ends the process, which the fuzzer reports too). The whole input is
also given to the native canonicalizer of container items, which must agree with its twin.

    python tests/fuzz/fuzz_engine.py WORKDIR tests/fuzz/engine_corpus -max_total_time=60
    python tests/fuzz/fuzz_engine.py --replay FILE_OR_DIR ...
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from fuzz_frontends import replay  # one replay loop for both targets

GRAMMARS = (
    'start: item+\nitem: NUM | WORD | "(" start ")"\nNUM: /[0-9]+/\nWORD: /[a-z]+/\n%ignore /[ ]+/',
    'start: "a" start "b" |',
    'start: x x\nx: "ab" | "a" | "b" | "ba"',
    'start: s\ns: s "+" s | s "*" s | "(" s ")" | /[0-9]/',
)
LIBRARY = ("json.lark", "arithmetic.lark")
SCHEMAS = (  # run-time uniqueItems: item texts, and container items compared by value
    {"type": "array", "uniqueItems": True},
    {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
)
MAX_OPS = 40
MAX_MASKS = 8
"""Masks per input: the reference engine's cost 0.2-0.9 s each on SmolLM2's vocabulary, and
forty of them passed the fuzzer's 10-second bound per input (an input of ``(`` tokens, each
chosen from a mask); further mask operations count as operations and do nothing."""


def make_target(tokenizer: Any) -> Callable[[bytes], None]:
    """The fuzz target (module docstring)."""
    import numpy as np

    import corral
    from corral._native import engine_uq_canonical
    from corral.constraint_engine.unique_values import canonical
    from corral.errors import LimitExceeded
    from corral.grammars import library_path

    grammars = [corral.Grammar.from_lark(text) for text in GRAMMARS]
    grammars += [corral.Grammar.from_file(library_path(name)) for name in LIBRARY]
    grammars += [corral.Grammar.from_json_schema(schema) for schema in SCHEMAS]
    limits = corral.Limits(max_input_bytes=256, max_earley_set_work=20_000)
    pairs = [
        (corral.compile(g, tokenizer, engine="native", limits=limits),
         corral.compile(g, tokenizer, engine="reference", limits=limits))
        for g in grammars
    ]  # fmt: skip

    def both(nat: Any, ref: Any, name: str, *args: Any) -> Any:
        results = []
        for m in (nat, ref):
            try:
                results.append(("ok", getattr(m, name)(*args)))
            except (ValueError, LimitExceeded) as exc:
                results.append(("raised", type(exc).__name__))
        a, b = results
        if isinstance(a[1], np.ndarray):
            same = isinstance(b[1], np.ndarray) and np.array_equal(a[1], b[1])
        else:
            same = a == b
        if not same:
            raise AssertionError(f"{name}{args!r}: native {a!r} != reference {b!r}")
        return a[1]

    def target(data: bytes) -> None:
        if not data:
            return
        if canonical(data) != engine_uq_canonical(data):  # the C canonicalizer on any bytes
            raise AssertionError(f"canonical texts of {data!r} differ")
        nat_cg, ref_cg = pairs[data[0] % len(pairs)]
        nat, ref = corral.Matcher(nat_cg), corral.Matcher(ref_cg)
        i, ops, masks = 1, 0, 0
        while i < len(data) and ops < MAX_OPS:
            op, i, ops = data[i] % 8, i + 1, ops + 1
            arg = data[i : i + 4]
            if op == 0:
                raw = int.from_bytes(arg.ljust(4, b"\0"), "little", signed=True)
                tid = raw * (2**9 if raw & 1 else 1)
                both(nat, ref, "accept_token", tid)
                i += 4
            elif op == 1:
                n = arg[0] % 6 if arg else 0
                both(nat, ref, "accept_bytes", data[i + 1 : i + 1 + n])
                i += 1 + n
            elif op == 2:
                both(nat, ref, "rollback", arg[0] % 5 if arg else 1)
                i += 1
            elif op == 3:
                both(nat, ref, "reset")
            elif op == 4:
                masks += 1
                if masks <= MAX_MASKS:
                    allowed = both(nat, ref, "allowed_token_mask")
                    ids = np.flatnonzero(allowed)
                    if ids.shape[0] and arg:
                        both(nat, ref, "accept_token", int(ids[arg[0] % ids.shape[0]]))
                        i += 1
            elif op == 5:
                both(nat, ref, "forced_bytes")
            elif op == 6:
                n = arg[0] % 8 if arg else 0
                both(nat, ref, "valid_prefix_length", data[i + 1 : i + 1 + n])
                i += 1 + n
            else:
                both(nat, ref, "shortest_completion")
            both(nat, ref, "is_accepting")
            if nat.num_bytes != ref.num_bytes:
                raise AssertionError("num_bytes differ")

    return target


def main(argv: list[str]) -> int:
    if argv[:1] == ["--replay"]:
        import corral

        count = replay(argv[1:], make_target(corral.Tokenizer.default()))
        print(f"replayed {count} inputs")
        return 0
    import atheris

    with atheris.instrument_imports(include=["corral.constraint_engine.native_matcher"]):
        import corral
        import corral.constraint_engine.native_matcher
    target = make_target(corral.Tokenizer.default())
    atheris.Setup([sys.argv[0], *argv], target)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
