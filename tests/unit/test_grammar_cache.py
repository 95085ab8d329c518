"""Compiled grammars are immutable data; run-time caches are explicit, bounded, thread-safe."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import corral
from corral.constraint_engine.completion import shortest_completion
from corral.constraint_engine.mask_cache import MaskCache
from corral.errors import LimitExceeded
from corral.grammars.ir import Grammar, Rule, Terminal
from corral.limits import Limits

JSON = "src/corral/grammars/library/json.lark"


@pytest.fixture(scope="module")
def tok() -> corral.Tokenizer:
    return corral.Tokenizer.default()


def _numbers() -> Grammar:
    return corral.Grammar.from_lark(
        'start: "[" NUM ("," NUM)* "]"\nNUM: /[0-9]+/\n%ignore " "', source="<nums>"
    )


def test_grammar_cache_hits_misses_and_bound(tok: corral.Tokenizer) -> None:
    cache = corral.GrammarCache(max_entries=2)
    a = cache.compile(_numbers(), tok)
    assert cache.compile(_numbers(), tok) is a  # equal content, another object: a hit
    assert (cache.hits, cache.misses) == (1, 1)
    wider = cache.compile(_numbers(), tok, vocab_size=tok.vocab_size + 64)
    assert wider is not a and wider.vocab_size == tok.vocab_size + 64
    third = cache.compile(corral.Grammar.from_regex("[a-z]+"), tok)
    assert len(cache) == 2 and third is not a
    assert cache.compile(_numbers(), tok) is not a  # evicted (least recently used)
    with pytest.raises(ValueError):
        corral.GrammarCache(max_entries=0)


def test_grammar_cache_keys_limits(tok: corral.Tokenizer) -> None:
    cache = corral.GrammarCache()
    a = cache.compile(_numbers(), tok)
    assert cache.compile(_numbers(), tok, limits=Limits()) is a  # the default value
    tight = cache.compile(_numbers(), tok, limits=Limits(max_input_bytes=4))
    assert tight is not a and tight.limits.max_input_bytes == 4 and a.limits == Limits()
    assert cache.compile(_numbers(), tok, limits=Limits(max_input_bytes=4)) is tight
    with pytest.raises(LimitExceeded, match="max_input_bytes"):
        corral.Matcher(tight).accept_bytes(b"[1, 2]")
    assert corral.Matcher(a).accept_bytes(b"[1, 2]")


def test_fingerprint_is_content() -> None:
    fp = corral.grammar_fingerprint
    assert fp(_numbers()) == fp(_numbers())
    other = corral.Grammar.from_lark('start: "[" NUM "]"\nNUM: /[0-9]+/', source="<nums>")
    assert fp(other) != fp(_numbers())
    t1 = Grammar({"A": Terminal("A", "a")}, {"s": Rule("s", (("A",),))}, "s")
    t2 = Grammar({"A": Terminal("A", "a", flags="i")}, {"s": Rule("s", (("A",),))}, "s")
    assert fp(t1) != fp(t2)


def test_grammar_cache_threads(tok: corral.Tokenizer) -> None:
    cache = corral.GrammarCache(max_entries=4)
    got: list[corral.CompiledGrammar] = []

    def run() -> None:
        got.append(cache.compile(_numbers(), tok))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(g is got[0] for g in got)


def test_compiled_grammar_is_frozen(tok: corral.Tokenizer) -> None:
    cg = corral.compile(_numbers(), tok, engine="reference")  # reads the reference's stacks
    with pytest.raises(AttributeError):
        cg.vocab_size = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        cg.trie.node_byte[0] = 1
    with pytest.raises(ValueError):
        cg.trie.token_node[0] = 1
    m = corral.Matcher(cg)
    m.accept_bytes(b"[1")
    m.allowed_token_mask()
    (lexer,) = cg.lexers_for(cg.initial_set.expected)
    with pytest.raises(ValueError):
        lexer.table[0, 0] = 1
    allowed, _ = cg.root_walk(*m._threads[-1][0][1:])
    with pytest.raises(ValueError):
        allowed[0] = True


def test_masks_leave_compiled_grammar_and_grammar_unchanged(tok: corral.Tokenizer) -> None:
    grammar = corral.Grammar.from_file(JSON)
    before = (repr(grammar), list(grammar.warnings))
    cg = corral.compile(grammar, tok, engine="reference")  # reads the reference's stacks
    frozen = (
        cg.tables,
        cg.dfas,
        cg.trie,
        cg.initial_set,
        list(cg.initial_set.items),
        cg.initial_set.expected,
        cg.eos_ids,
    )
    m = corral.Matcher(cg)
    for chunk in (b'{"a', b'": [1, ', b'"x"', b"]}"):
        n = m.num_bytes
        sets = list(m._sets)
        m.allowed_token_mask()
        assert m.shortest_completion() is not None
        assert m.num_bytes == n and m._sets == sets  # a mask never touches the stacks
        assert m.accept_bytes(chunk)
    assert m.shortest_completion() == b""
    assert shortest_completion(m) == b""
    after = (
        cg.tables,
        cg.dfas,
        cg.trie,
        cg.initial_set,
        list(cg.initial_set.items),
        cg.initial_set.expected,
        cg.eos_ids,
    )
    assert all(x is y or x == y for x, y in zip(frozen, after, strict=True))
    assert (repr(grammar), list(grammar.warnings)) == before


def test_compile_twice_adds_no_warning(tok: corral.Tokenizer) -> None:
    grammar = corral.Grammar.from_lark('start: "a"\nunused: "b"', source="<w>")
    n = len(grammar.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corral.compile(grammar, tok)
        corral.compile(grammar, tok)
    assert len(grammar.warnings) == n


def test_shortest_completion_method(tok: corral.Tokenizer) -> None:
    m = corral.Matcher(corral.compile(_numbers(), tok))
    assert m.shortest_completion() == b"[0]"
    assert m.accept_bytes(b"[12, 3")
    assert m.shortest_completion() == b"]"
    assert m.num_bytes == 6
    assert m.accept_bytes(b"]")
    assert m.shortest_completion() == b""


def test_masks_from_threads_equal_sequential(tok: corral.Tokenizer) -> None:
    prefixes = [b'{"a": ', b'{"a": [1, 2', b'{"b": "x', b"[tr", b'{"k": {"z": nu', b"[1.5e"]
    reference = corral.compile(corral.Grammar.from_file(JSON), tok)
    expected = []
    for p in prefixes:
        m = corral.Matcher(reference)
        assert m.accept_bytes(p)
        expected.append(m.allowed_token_mask())
    shared = corral.compile(corral.Grammar.from_file(JSON), tok)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            m = corral.Matcher(shared)
            m.accept_bytes(prefixes[i])
            results[i] = m.allowed_token_mask()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prefixes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, mask in enumerate(expected):
        assert np.array_equal(results[i], mask), prefixes[i]


def test_mask_cache_bound_and_publish() -> None:
    cache = MaskCache(max_bytes=100)
    assert cache.get_or_build("a", lambda: "A", lambda _: 60) == "A"
    assert cache.get_or_build("a", lambda: "other", lambda _: 60) == "A"
    assert cache.get_or_build("b", lambda: "B", lambda _: 60) == "B"
    assert len(cache) == 1 and cache.evictions == 1 and cache.nbytes == 60
    assert cache.get_or_build("a", lambda: "A2", lambda _: 60) == "A2"
    assert (cache.hits, cache.misses) == (1, 3)
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


@pytest.mark.parametrize("engine", ["native", "reference"])
def test_mask_cache_evicted_walks_rebuild_same_masks(tok: corral.Tokenizer, engine: str) -> None:
    roomy = corral.compile(corral.Grammar.from_file(JSON), tok, engine=engine)
    tight = corral.compile(corral.Grammar.from_file(JSON), tok, cache_bytes=0, engine=engine)
    for p in (b'{"a": ', b'{"a": [1, 2', b'{"b": "x'):
        masks = []
        for cg in (roomy, tight):
            m = corral.Matcher(cg)
            assert m.accept_bytes(p)
            masks.append(m.allowed_token_mask())
        assert np.array_equal(masks[0], masks[1])
    if engine == "reference":  # the native root walks are cached with the trie instead
        assert tight.memory_bytes() < roomy.memory_bytes()
        assert len(tight.cache) == 1


def test_trie_belongs_to_tokenizer(tok: corral.Tokenizer) -> None:
    trie = tok.token_trie()
    assert tok.token_trie() is trie
    assert corral.compile(_numbers(), tok).trie is trie
