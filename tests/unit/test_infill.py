"""Infilling (``corral.infill``): exact completability of templates, against a brute-force oracle.

The oracle lists every word of a small grammar up to a length by growing prefixes the matcher
accepts, and says whether one of them fits the template. ``is_completable`` must agree wherever
the oracle finds a word, and every completion ``complete`` returns must be accepted by the
matcher and keep the fixed parts in order.
"""

from __future__ import annotations

import functools
import gc
import io
import itertools
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from conftest import ENGINES, LIBRARY, compiled_library, smollm2
from corral import Grammar, Matcher, Tokenizer
from corral import compile as compile_grammar
from corral.cli import main
from corral.constraint_engine.compiler import CompiledGrammar
from corral.errors import GrammarError, LimitExceeded
from corral.infill import Hole, complete, is_completable
from corral.infill.chart import Chart
from corral.infill.fill import fill_template
from corral.infill.template import Part, pattern_of
from corral.jsonschemabench.infill_bench import random_words, spans_removed
from corral.limits import Limits
from helpers import PERSON_SCHEMA

SMALL = {
    "nested": ('start: "a" start "b" | "c"\n', b"abc"),
    "list": ('start: item ("," item)*\nitem: /[ab]+/ | "(" start ")"\n%ignore " "\n', b"ab,() "),
    "sum": ('start: expr\nexpr: expr "+" term | term\nterm: /[0-9]/ | "(" expr ")"\n', b"1+()"),
    "optional": ('start: "x"? "y"* ("z" | "zz")\n', b"xyz"),
}
MAX_LEN = 7


@functools.cache
def small(name: str, engine: str = "reference") -> CompiledGrammar:
    return compile_grammar(Grammar.from_lark(SMALL[name][0]), smollm2(), engine=engine)


@functools.cache
def words(name: str) -> tuple[bytes, ...]:
    """Every word of the grammar up to ``MAX_LEN`` bytes (prefixes grown through the matcher)."""
    cg, alphabet = small(name), SMALL[name][1]
    out: list[bytes] = []
    frontier = [b""]
    while frontier:
        nxt = []
        for w in frontier:
            m = Matcher(cg)
            if not m.accept_bytes(w):
                continue
            if m.is_accepting():
                out.append(w)
            if len(w) < MAX_LEN:
                nxt.extend(w + bytes([b]) for b in alphabet)
        frontier = nxt
    return tuple(out)


def fits(template: Sequence[Part], text: bytes) -> bool:
    regex = b"".join(
        b".*" if isinstance(p, Hole) else re.escape(p.encode() if isinstance(p, str) else p)
        for p in template
    )
    return re.fullmatch(regex, text, re.S) is not None


def check(cg: CompiledGrammar, template: Sequence[Part]) -> bool:
    """``is_completable``, with its completion checked when there is one."""
    got = is_completable(cg, template)
    text = complete(cg, template)
    assert (text is not None) is got, template
    if text is not None:
        m = Matcher(cg)
        assert m.accept_bytes(text) and m.is_accepting(), (template, text)
        assert fits(template, text), (template, text)
    return got


def templates(name: str) -> st.SearchStrategy[list[Part]]:
    """Templates cut from a word of the grammar (holes over random spans), sometimes mutated."""
    alphabet = SMALL[name][1]

    @st.composite
    def build(draw: st.DrawFn) -> list[Part]:
        word = draw(st.sampled_from(words(name)))
        cuts = sorted(draw(st.lists(st.integers(0, len(word)), max_size=6)))
        parts: list[Part] = []
        last = 0
        for i, c in enumerate(cuts):
            if i % 2 == 0:
                parts.append(word[last:c])
            else:
                parts.append(Hole())
            last = c
        parts.append(word[last:])
        if draw(st.booleans()):
            k = draw(st.integers(0, len(parts) - 1))
            if not isinstance(parts[k], Hole):
                noise = draw(st.lists(st.sampled_from(list(alphabet)), max_size=2).map(bytes))
                parts[k] = parts[k] + noise  # type: ignore[operator]
        return parts

    return build()


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_agrees_with_the_brute_force_oracle(name: str, data: st.DataObject) -> None:
    template = data.draw(templates(name))
    found = any(fits(template, w) for w in words(name))
    got = check(small(name), template)
    if found:
        assert got, template


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_templates_agree_with_the_oracle(name: str, data: st.DataObject) -> None:
    """Templates of random bytes and holes (mostly not completable)."""
    alphabet = SMALL[name][1]
    parts = data.draw(st.lists(st.one_of(
        st.just(Hole()),
        st.lists(st.sampled_from(list(alphabet)), max_size=3).map(bytes),
    ), max_size=5))  # fmt: skip
    found = any(fits(parts, w) for w in words(name))
    got = check(small(name), parts)
    if found:
        assert got, parts


@pytest.mark.parametrize("engine", ENGINES)
def test_context_free_counting_across_holes(engine: str) -> None:
    cg = small("nested", engine)
    assert check(cg, ["aa", Hole(), "bb"])
    assert not check(cg, ["aaa", Hole(), "cbb"])  # a^3 c b^3: two b's are too few
    assert check(cg, ["aaa", Hole(), "cbb", Hole()])
    assert not check(cg, [Hole(), "ca", Hole()])
    assert complete(cg, ["aa", Hole()]) == b"aacbb"


@pytest.mark.parametrize("name", LIBRARY)
def test_words_of_shipped_grammars_with_spans_removed(name: str) -> None:
    """Random words (random allowed tokens, then the shortest completion), with random spans
    replaced by holes, are completable, and completions keep every fixed part."""
    cg = compiled_library(name)
    rng = random.Random(name)
    words = random_words(cg, rng, 4, max_tokens=14)
    assert len(words) == 4
    for word in words:
        for spans in (1, 2, 3):
            parts = spans_removed(word, spans, rng)
            assert check(cg, parts), (word, parts)


def test_json_schema_templates() -> None:
    schema = {"type": "object", "additionalProperties": False, "required": ["name", "age"],
              "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}  # fmt: skip
    cg = compile_grammar(Grammar.from_json_schema(schema), smollm2())
    text = complete(cg, ['{"name":', Hole(), ',"age":', Hole(), "}"])
    assert text is not None and set(json.loads(text)) == {"name", "age"}
    assert not check(cg, ['{"age":', Hole()])  # "age" after "name" only
    assert not check(cg, ['{"name":', Hole(), ',"age":"', Hole()])  # an integer, not a string
    assert check(cg, ['{"name":"', Hole(), '"age":-', Hole()])


def test_bad_templates_are_refused() -> None:
    cg = small("nested")
    with pytest.raises(TypeError):
        is_completable(cg, b"abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        is_completable(cg, ["a", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="not valid UTF-8"):
        is_completable(cg, [b"\xff", Hole()])
    with pytest.raises(ValueError, match="max_input_bytes"):
        pattern_of(["a" * 20], Limits(max_input_bytes=10), cg.trie)
    with pytest.raises(ValueError, match="between 0 and"):
        Hole(tokens=-1)
    with pytest.raises(ValueError, match="between 0 and"):
        Hole(max_tokens=10**9)
    with pytest.raises(TypeError, match="must be an int"):
        Hole(tokens=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not both"):
        Hole(tokens=1, max_tokens=2)


def test_work_is_bounded() -> None:
    g = Grammar.from_lark('start: x+\nx: "a" | "aa" | "b" x "c"\n')
    cg = compile_grammar(g, smollm2(), limits=Limits(max_infill_work=500))
    with pytest.raises(LimitExceeded, match="max_infill_work"):
        is_completable(cg, ["a", Hole(), "b" * 40, Hole(), "c" * 40])


def test_charts_are_freed_without_the_collector() -> None:
    """A chart, finished or stopped at the work bound, holds no cycle: it is freed when its
    last reference goes (a timed-out chart of millions of items once waited for the garbage
    collector, a 600 ms pause in a later check)."""
    g = Grammar.from_lark('start: x+\nx: "a" | "aa" | "b" x "c"\n')
    tight = compile_grammar(g, smollm2(), limits=Limits(max_infill_work=500))
    cg = compile_grammar(g, smollm2())

    def charts() -> int:
        return sum(isinstance(o, Chart) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = charts()
        chart = Chart(cg, pattern_of(["a", Hole(), "c"], cg.limits, cg.trie))
        assert chart.completable and charts() == before + 1
        del chart
        assert charts() == before
        with pytest.raises(LimitExceeded):
            is_completable(tight, ["a", Hole(), "b" * 40, Hole(), "c" * 40])
        assert charts() == before
    finally:
        gc.enable()


def test_unique_and_empty_grammars() -> None:
    unique = Grammar.from_json_schema({"type": "array", "items": {"type": "integer"},
                                       "uniqueItems": True})  # fmt: skip
    with pytest.raises(GrammarError, match="uniqueItems"):
        is_completable(compile_grammar(unique, smollm2()), [Hole()])
    empty = compile_grammar(Grammar.from_json_schema(False), smollm2())
    assert not is_completable(empty, [Hole()]) and complete(empty, [Hole()]) is None


# ------------------------------------------------------------------ token-count holes
VOCAB = [
    b"a",
    b"b",
    b"c",
    b"ab",
    b"cb",
    b"bb",
    b"aac",
    b"x",
    b"yz",
    b"z",
    b"(",
    b"),",
    b" ",
    b"<eos>",
]
EOS = len(VOCAB) - 1


@functools.cache
def tiny(name: str, engine: str = "reference") -> CompiledGrammar:
    """A small grammar compiled for a tiny vocabulary (the last id: end of sequence)."""
    tok = Tokenizer.from_token_bytes(VOCAB, eos_ids=[EOS])
    return compile_grammar(Grammar.from_lark(SMALL[name][0]), tok, engine=engine)


def token_oracle(cg: CompiledGrammar, template: Sequence[Part]) -> bool:
    """Every filling of the token holes by vocabulary tokens (end of sequence excluded),
    checked by the matcher."""
    options: list[list[bytes]] = []
    for part in template:
        if isinstance(part, Hole):
            counts = [part.tokens] if part.tokens is not None else range((part.max_tokens or 0) + 1)
            seqs = [
                b"".join(seq) for n in counts for seq in itertools.product(VOCAB[:EOS], repeat=n)
            ]
            options.append(sorted(set(seqs)))
        else:
            options.append([part.encode() if isinstance(part, str) else part])
    for choice in itertools.product(*options):
        m = Matcher(cg)
        if m.accept_bytes(b"".join(choice)) and m.is_accepting():
            return True
    return False


@pytest.mark.parametrize("name", ["nested", "optional", "list"])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_token_holes_agree_with_the_oracle(name: str, data: st.DataObject) -> None:
    alphabet = list(SMALL[name][1])
    hole = st.builds(Hole, tokens=st.integers(0, 2)) | st.builds(Hole, max_tokens=st.integers(0, 2))
    parts = data.draw(st.lists(
        hole | st.lists(st.sampled_from(alphabet), max_size=3).map(bytes), max_size=4,
    ))  # fmt: skip
    fillings = 1
    for p in parts:
        if isinstance(p, Hole):
            n = p.tokens if p.tokens is not None else p.max_tokens
            fillings *= sum((len(VOCAB) - 1) ** k for k in range((n or 0) + 1))
    assume(fillings <= 3000)  # the oracle tries them all
    cg = tiny(name)
    assert check(cg, parts) is token_oracle(cg, parts), parts


@pytest.mark.parametrize("engine", ENGINES)
def test_token_holes_count_tokens_not_bytes(engine: str) -> None:
    cg = tiny("nested", engine)
    assert check(cg, ["a", Hole(tokens=1), "b"])  # "c"
    assert check(cg, [Hole(tokens=1)])  # "c"
    assert check(cg, [Hole(tokens=2)])  # "a" + "cb", "aac" + "bb"
    assert not check(cg, ["aa", Hole(tokens=1)])  # "cbb" is not one token
    assert check(cg, ["aa", Hole(tokens=2)])  # "cb" + "b"
    assert not check(cg, ["aa", Hole(max_tokens=1)])
    assert complete(cg, ["aa", Hole(tokens=2)]) == b"aacbb"


# ------------------------------------------------------------------ template filling
class SyntheticRuntime:
    """A seeded stand-in for a model (``start``/``eval`` -> logits): random scores, or an
    adversarial one that prefers tokens full of brackets and quotes."""

    def __init__(self, vocab: int, seed: int, adversarial: bool = False) -> None:
        self.rng = np.random.default_rng(seed)
        self.vocab = vocab
        self.bias = np.zeros(vocab)
        if adversarial:
            for t, b in enumerate(smollm2().token_bytes_tuple()[:vocab]):
                self.bias[t] = 5.0 * sum(b.count(c) for c in b'{}[]",:')
        self.fed: list[int] = []

    def start(self, ids: Sequence[int]) -> np.ndarray:
        self.fed = list(ids)
        return self.rng.normal(size=self.vocab) + self.bias

    def eval(self, ids: Sequence[int]) -> np.ndarray:
        self.fed += list(ids)
        return self.rng.normal(size=self.vocab) + self.bias


PERSON = PERSON_SCHEMA
PERSON_TEMPLATE: list[Part] = ['{"name":', Hole(), ',"tags":[', Hole(), '],"age":', Hole(), "}"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("adversarial", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_template_filling_stays_in_the_language(engine: str, adversarial: bool, seed: int) -> None:
    """Whatever the proposals, the filled template is complete, valid and keeps its parts."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON), smollm2(), engine=engine)
    runtime = SyntheticRuntime(cg.vocab_size, seed, adversarial)
    text = fill_template(runtime, [1, 2], cg, PERSON_TEMPLATE, max_tokens_per_hole=8)
    m = Matcher(cg)
    assert m.accept_bytes(text) and m.is_accepting(), text
    assert fits(PERSON_TEMPLATE, text), text
    Draft202012Validator(PERSON).validate(json.loads(text))
    assert runtime.fed[:2] == [1, 2]


@pytest.mark.parametrize("adversarial", [False, True])
def test_template_filling_with_masks(adversarial: bool) -> None:
    """With ``masks=True`` each step takes the best token of the exact mask: the text is
    still complete, valid, and keeps its parts."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON), smollm2())
    runtime = SyntheticRuntime(cg.vocab_size, 5, adversarial)
    text = fill_template(runtime, [], cg, PERSON_TEMPLATE, max_tokens_per_hole=6, masks=True)
    m = Matcher(cg)
    assert m.accept_bytes(text) and m.is_accepting(), text
    assert fits(PERSON_TEMPLATE, text), text
    Draft202012Validator(PERSON).validate(json.loads(text))


def test_template_filling_refuses_what_cannot_be_filled() -> None:
    cg = compile_grammar(Grammar.from_json_schema(PERSON), smollm2())
    runtime = SyntheticRuntime(cg.vocab_size, 0)
    with pytest.raises(GrammarError, match="no completion"):
        fill_template(runtime, [], cg, ['{"age":', Hole()])
    with pytest.raises(GrammarError, match="token-count holes"):
        fill_template(runtime, [], cg, ['{"name":', Hole(tokens=2), "}"])


def test_bench_infill_command(tmp_path: Path) -> None:
    """``corral bench infill``: every template cut from a valid document is completable."""
    out = io.StringIO()
    code = main(["bench", "infill", "--n", "3", "--tasks", "jsonschema,c", "--canvas", "0",
                 "--out", str(tmp_path)], out=out)  # fmt: skip
    assert code == 0 and "| jsonschema | 1 |" in out.getvalue()
    summary = json.loads((tmp_path / "infill.json").read_text())
    rows = [r for task in summary["tasks"].values() for r in task.values()]
    assert rows and all(r["wrong"] == 0 and r["timeouts"] == 0 for r in rows)
    assert sum(r["checks"] for r in rows) > 0
    assert (tmp_path / "infill.png").stat().st_size > 0
    assert main(["bench", "infill", "--tasks", "rust"], out=io.StringIO()) == 2
    assert main(["bench", "infill", "--canvas", "x"], out=io.StringIO()) == 2


def test_bench_infill_canvases(tmp_path: Path) -> None:
    """The DLM-style rows: documents placed in random order on canvases (every placement
    accepted, the text is the document) and the diffusion loops (constrained by masks and by
    checked proposals: in the language)."""
    out = io.StringIO()
    code = main(["bench", "infill", "--n", "2", "--tasks", "jsonschema", "--canvas", "32",
                 "--loops", "1", "--out", str(tmp_path)], out=out)  # fmt: skip
    assert code == 0 and "| jsonschema | replay 32 |" in out.getvalue()
    rows = json.loads((tmp_path / "infill.json").read_text())["tasks"]["jsonschema"]
    replay = rows["replay 32"]
    assert replay["canvases"] > 0 and replay["checks"] > 0
    assert replay["wrong"] == 0 and replay["timeouts"] == 0
    for name in ("loop 32", "loop 32 propose"):  # masks, checked proposals
        loop = rows[name]
        assert loop["canvases"] == 1 and loop["in_language"] == 1 and loop["wrong"] == 0, name
        assert loop["checks"] > 0
    assert "| jsonschema | loop 32 propose |" in out.getvalue()


def test_fixed_parts_as_token_ids() -> None:
    """A fixed part may be token ids (their bytes may cut a character); ids that are not text
    tokens of the vocabulary are refused clearly."""
    cg = compile_grammar(Grammar.from_json_schema(PERSON), smollm2())
    tok = smollm2()
    head = tok.encode('{"name":"Al')
    assert is_completable(cg, [head, Hole(), ',"age":', Hole(), "}"])
    text = complete(cg, [tuple(head), Hole(), "}"])
    assert text is not None and text.startswith(b'{"name":"Al')
    assert not is_completable(cg, [tok.encode('{"nome":'), Hole()])
    cut = next(
        i for i, b in enumerate(tok.token_bytes_tuple()) if b and b[0] >= 0xE0 and len(b) == 1
    )
    assert is_completable(cg, ['{"name":"', [cut], Hole()])  # the rest of the character follows
    for bad in ([-1], [cg.vocab_size], [2**40], list(cg.eos_ids)):
        with pytest.raises(ValueError, match="not a text token"):
            is_completable(cg, [bad, Hole()])
    with pytest.raises(TypeError, match="token ids are ints"):
        is_completable(cg, [["a"], Hole()])  # type: ignore[list-item]
