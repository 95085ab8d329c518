"""The native engine against the reference, bit for bit.

Both engines compile the same grammar; seeded random walks drive a native and a reference
matcher side by side and compare, at every step, the mask (``allowed_token_mask`` and the packed
``fill_next_token_bitmask``), ``forced_bytes``, ``is_accepting``, ``num_bytes``, the answer to a
random token (allowed or not), ``valid_prefix_length`` of random bytes, and now and then
rollbacks and ``shortest_completion``. Any difference is a bug in one of them. Grammars: every
shipped grammar and the conformance sample of JSONSchemaBench schemas, in both whitespace modes.
"""

from __future__ import annotations

import functools
import random

import numpy as np
import pytest

from conftest import LIBRARY, library_grammar, smollm2
from corral import Grammar, Matcher, Tokenizer
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.constraint_engine.native_matcher import NativeMatcher
from corral.grammars import library_path
from helpers import sample_schemas

STEPS = 40
WALKS = 3


@functools.cache
def qwen() -> Tokenizer:
    return Tokenizer.qwen()


@functools.cache
def pair(key: str) -> tuple[CompiledGrammar, CompiledGrammar]:
    kind, _, name = key.partition(":")
    if kind == "lib":
        grammar = library_grammar(name)
    else:
        schemas = dict(sample_schemas())
        grammar = Grammar.from_json_schema(
            schemas[name], whitespace="flexible" if kind == "ws" else "compact"
        )
    tok = smollm2()
    return (
        compile_grammar(grammar, tok, engine="native"),
        compile_grammar(grammar, tok, engine="reference"),
    )


KEYS = [f"lib:{n}" for n in LIBRARY]


def schema_keys() -> list[str]:
    names = [name for name, _ in sample_schemas()]
    return [f"{mode}:{n}" for n in names for mode in ("compact", "ws")]


def same_state(nat: Matcher, ref: Matcher, where: str) -> np.ndarray:
    a, b = nat.allowed_token_mask(), ref.allowed_token_mask()
    if not np.array_equal(a, b):
        diff = np.flatnonzero(a != b)[:8].tolist()
        raise AssertionError(f"{where}: masks differ at tokens {diff}")
    words = (a.shape[0] + 31) // 32
    packed_n = np.full((2, words + 1), -1, dtype=np.int32)
    packed_r = np.full((2, words + 1), -1, dtype=np.int32)
    nat.fill_next_token_bitmask(packed_n, 1)
    ref.fill_next_token_bitmask(packed_r, 1)
    assert np.array_equal(packed_n, packed_r), f"{where}: packed bitmasks differ"
    assert nat.is_accepting() == ref.is_accepting(), where
    assert nat.is_terminated() == ref.is_terminated(), where
    assert nat.num_bytes == ref.num_bytes, where
    assert nat.forced_bytes() == ref.forced_bytes(), where
    return a


def walk(nat_cg: CompiledGrammar, ref_cg: CompiledGrammar, seed: int) -> int:
    rng = random.Random(seed)
    nat, ref = Matcher(nat_cg), Matcher(ref_cg)
    assert isinstance(nat, NativeMatcher) and not isinstance(ref, NativeMatcher)
    vocab = nat_cg.vocab_size
    steps = 0
    for step in range(STEPS):
        where = f"seed {seed} step {step}"
        mask = same_state(nat, ref, where)
        steps += 1
        probe = rng.randrange(vocab)
        got = nat.accept_token(probe)
        assert got == ref.accept_token(probe) == bool(mask[probe]), where
        if got:
            nat.rollback()
            ref.rollback()
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(6)))
        assert nat.valid_prefix_length(junk) == ref.valid_prefix_length(junk), where
        if step % 9 == 4:
            assert nat.shortest_completion() == ref.shortest_completion(), where
        allowed = np.flatnonzero(mask).tolist()
        if not allowed:
            break
        if rng.random() < 0.15 and step > 0:
            k = rng.randint(1, min(3, len(nat._marks)))
            nat.rollback(k)
            ref.rollback(k)
            continue
        tid = rng.choice(allowed)
        assert nat.accept_token(tid) and ref.accept_token(tid), where
        if nat.is_terminated():
            same_state(nat, ref, where + " (terminated)")
            break
    nat.reset()
    ref.reset()
    same_state(nat, ref, f"seed {seed} after reset")
    return steps


@pytest.mark.parametrize("key", KEYS)
def test_library_grammars_bit_for_bit(key: str) -> None:
    nat_cg, ref_cg = pair(key)
    assert nat_cg.engine == "native" and ref_cg.engine == "reference"
    assert sum(walk(nat_cg, ref_cg, seed) for seed in range(WALKS)) >= WALKS


@pytest.mark.parametrize("key", schema_keys())
def test_schema_sample_bit_for_bit(key: str) -> None:
    nat_cg, ref_cg = pair(key)
    assert sum(walk(nat_cg, ref_cg, seed) for seed in range(WALKS)) >= WALKS


def test_accept_bytes_and_rollback_agree() -> None:
    nat_cg, ref_cg = pair("lib:json.lark")
    nat, ref = Matcher(nat_cg), Matcher(ref_cg)
    text = b'{"a": [1, 2.5e3, "x\\u00e9", true, null], "b": {}}'
    for cut in range(0, len(text), 3):
        assert nat.accept_bytes(text[cut : cut + 3]) == ref.accept_bytes(text[cut : cut + 3])
        same_state(nat, ref, f"after {cut + 3} bytes")
    assert nat.is_accepting() and ref.is_accepting()
    nat.rollback(5)
    ref.rollback(5)
    same_state(nat, ref, "after rollback")
    assert not nat.accept_bytes(b"}}}") and not ref.accept_bytes(b"}}}")
    same_state(nat, ref, "after a refused chunk")


SLICE_CASES = {
    "short": Grammar.from_json_schema({"type": "string", "maxLength": 3}),
    "bounded": Grammar.from_json_schema({"type": "string", "minLength": 2, "maxLength": 40}),
    "free": Grammar.from_json_schema({"type": "string"}),
    "items": Grammar.from_json_schema(
        {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 4}
    ),
    "regex": Grammar.from_regex('"[ -!#-\\[\\]-~]{0,12}"'),
    "tail": Grammar.from_regex("[a-z]{2}[ -~]{0,30}"),
    "contains": Grammar.from_json_schema({"type": "string", "pattern": "\\d{2}-\\d{2}"}),
    "class": Grammar.from_json_schema(
        {"type": "string", "pattern": "^[\\w.\\- ]+$", "maxLength": 32}
    ),
    "class_free": Grammar.from_json_schema({"type": "string", "pattern": "^[a-z0-9_]*$"}),
    "contains_word": Grammar.from_json_schema(
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "the"}}}
    ),
}


@pytest.mark.parametrize("name", list(SLICE_CASES))
def test_plain_text_slices_bit_for_bit(name: str) -> None:
    """Automata that treat every plain byte (printable ASCII but '"' and '\\') alike take the
    precomputed slice of plain tokens in the native root walks (csrc/engine_slices.c): same
    masks as the reference, chains that die before the longest token included; so do the
    states of a "contains ..." automaton part way into the sought text, walked from the
    restart state's walk but for the letters that go on matching; and the states of an
    automaton that steps one set of ASCII bytes alike and kills the rest (a character class with
    a length bound), walked from that set's class slice."""
    tok = smollm2()
    grammar = SLICE_CASES[name]
    nat_cg = compile_grammar(grammar, tok, engine="native")
    ref_cg = compile_grammar(grammar, tok, engine="reference")
    assert sum(walk(nat_cg, ref_cg, seed) for seed in range(2 * WALKS)) >= WALKS


@pytest.mark.parametrize("name", ["bounded", "items", "tail", "contains", "class"])
def test_plain_text_slices_bit_for_bit_on_qwen(name: str) -> None:
    """The same on the Qwen vocabulary, where two fifths of the trie is non-ASCII: tokens of
    whole UTF-8 characters and tokens cut inside one (counted as a character) are in the slice;
    tokens of malformed UTF-8 leave it (the frontier)."""
    tok = qwen()
    grammar = SLICE_CASES[name]
    nat_cg = compile_grammar(grammar, tok, engine="native")
    ref_cg = compile_grammar(grammar, tok, engine="reference")
    assert sum(walk(nat_cg, ref_cg, seed) for seed in range(WALKS + 1)) >= WALKS


@pytest.mark.parametrize("tokenizer", ["smollm2", "qwen"])
def test_contains_walks_derived_from_the_restart_state(tokenizer: str) -> None:
    """Through the sought text of an unanchored pattern, byte by byte: every state part way
    into it takes its root walk from the restart state's walk (csrc/engine_walks.c,
    derived_walk), with the subtrees of the first bytes that go on matching walked in full;
    the masks are the reference's at each step, also where a match restarts or overlaps."""
    tok = smollm2() if tokenizer == "smollm2" else qwen()
    grammar = Grammar.from_json_schema({"type": "string", "pattern": "\\d{2}-\\d{2}-x"})
    nat_cg = compile_grammar(grammar, tok, engine="native")
    ref_cg = compile_grammar(grammar, tok, engine="reference")
    for text in [b'"12-34-x', b'"a1-12-12-x', b'"9912-3', b'"12-34-"']:
        nat, ref = Matcher(nat_cg), Matcher(ref_cg)
        for k in range(len(text)):
            got = nat.accept_bytes(text[k : k + 1])
            assert got == ref.accept_bytes(text[k : k + 1]), (text, k)
            if not got:
                break
            same_state(nat, ref, f"{text[: k + 1]!r}")


@pytest.mark.parametrize("tokenizer", ["smollm2", "qwen"])
def test_long_string_block_ends_inside_plain_tokens(tokenizer: str) -> None:
    """A very long string is counted in blocks of 256 characters (one lexeme each): near a
    block's end the lexeme ends inside plain tokens, which the native walk takes from the
    slice (the plain nodes of that many characters) instead of walking the whole trie; the
    masks are the reference's at every step up to and past the end."""
    tok = smollm2() if tokenizer == "smollm2" else qwen()
    grammar = Grammar.from_json_schema({"type": "string", "maxLength": 5000})
    nat_cg = compile_grammar(grammar, tok, engine="native")
    ref_cg = compile_grammar(grammar, tok, engine="reference")
    nat, ref = Matcher(nat_cg), Matcher(ref_cg)
    head = b'"' + b"ab c" * 60
    assert nat.accept_bytes(head) and ref.accept_bytes(head)
    for k, byte in enumerate(b"defg hi\xc3\xa9jk lmnopq rst"):
        same_state(nat, ref, f"{len(head) + k} bytes")
        assert nat.accept_bytes(bytes([byte])) and ref.accept_bytes(bytes([byte]))
    same_state(nat, ref, "past the block")


GROUP_CASES = {
    # after A, B treats every plain character alike: the group is one slice row
    "uniform": "start: A B?\nA: /.{3}/\nB: /.{1,9}/\n",
    # after A, B keeps only some characters: the group's nodes are walked one by one
    "not_uniform": "start: A B\nA: /.{3}/\nB: /[a-z0-9 ]+/\n",
    # after A only "," goes on, itself plain text
    "again": 'start: A ("," A)*\nA: /.{2}/\n',
}


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_lexeme_ends_grouped_at_plain_character_counts(name: str) -> None:
    """A lone thread that treats plain text alike and whose lexeme ends after k characters
    leaves the plain nodes of k characters to the mask as one group (csrc/engine_mask.c,
    walk_group): one slice row where every configuration after it treats plain text alike,
    else the nodes one by one; same masks as the reference on random walks, both
    vocabularies."""
    grammar = Grammar.from_lark(GROUP_CASES[name])
    for tok in (smollm2(), qwen()):
        nat_cg = compile_grammar(grammar, tok, engine="native")
        ref_cg = compile_grammar(grammar, tok, engine="reference")
        assert sum(walk(nat_cg, ref_cg, seed) for seed in range(WALKS)) >= WALKS


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.lark", b"int main(void) { return abc"),
        ("c.lark", b"int main(void) { return abcdefgh_2"),
        ("sql.lark", b"SELECT ab"),
        ("sql.lark", b"SELECT whole_thing1"),
    ],
)
def test_identifier_ends_everywhere_bit_for_bit(name: str, text: bytes) -> None:
    """Inside an identifier the lexeme may end at every node of a word: tens of thousands of
    injections per mask, out of order across threads (radix-sorted by node, csrc/engine_mask.c
    sort_inj), and one lexeme end met node after node (with_fresh's last answer)."""
    grammar = Grammar.from_file(library_path(name))
    tok = smollm2()
    nat, ref = (Matcher(compile_grammar(grammar, tok, engine=e)) for e in ("native", "reference"))
    start = text.rfind(b" ") + 1
    assert nat.accept_bytes(text[:start]) and ref.accept_bytes(text[:start])
    for k in range(start, len(text)):
        assert nat.accept_bytes(text[k : k + 1]) and ref.accept_bytes(text[k : k + 1])
        same_state(nat, ref, f"{name}: {text[: k + 1]!r}")


LOOPS = [
    # no letter goes on after the lexeme: the walks below its ends are the frontier's
    ('start: NAME (" " NAME)*\nNAME: /[a-z_0-9]+/\n', b"ab cdefgh x"),
    ('start: NAME ("," NAME)*\nNAME: /[a-z]+/\n%ignore " "\n', b"ab , cdefgh"),
    # a letter goes on (a new NAME, a CODE): the ends are injections, as before; "ted" after
    # "abc" needs the NAME to end inside the token (abct + ed)
    ("start: (NAME | NUM)+\nNAME: /[a-z]+/\nNUM: /[0-9]+/\n", b"abc12de345"),
    ('start: NAME CODE ";"\nNAME: /[a-z]+/\nCODE: /e[a-z]/\n', b"abcdf"),
]


# tokens that cross a lexeme end inside a word (large vocabularies split words from
# punctuation, so few of theirs do): "ted;" after "abc" is abct + ed + ";"
CROSSING = [b"ted;", b"ed;", b"ab,", b"x, y", b"ab cd", b"de1", b"12ab", b"efgh"]


@functools.cache
def crossing() -> Tokenizer:
    letters = [bytes([b]) for b in b"abcdefghijklmnopqrstuvwxyz0123456789 ,;"]
    return Tokenizer.from_token_bytes([b"<eos>", *letters, *CROSSING], special_ids=[0], eos_ids=[0])


@pytest.mark.parametrize("tokenizer", ["smollm2", "qwen", "crossing"])
@pytest.mark.parametrize(("grammar_text", "text"), LOOPS)
def test_lexeme_ends_on_every_class_path(tokenizer: str, grammar_text: str, text: bytes) -> None:
    """A thread in an accepting loop over a byte class C (an identifier past its keywords) ends
    its lexeme at every node of a C path; the cached walk leaves those ends out, and the mask
    walks the nodes that leave C from the configuration after the lexeme when no byte of C goes
    on there (csrc/engine_mask_regions.c corral_class_ends), or injects the ends when one does."""
    tok = {"smollm2": smollm2, "qwen": qwen, "crossing": crossing}[tokenizer]()
    grammar = Grammar.from_lark(grammar_text)
    nat, ref = (Matcher(compile_grammar(grammar, tok, engine=e)) for e in ("native", "reference"))
    for k in range(len(text)):
        assert nat.accept_bytes(text[k : k + 1]) and ref.accept_bytes(text[k : k + 1])
        same_state(nat, ref, f"{grammar_text!r}: {text[: k + 1]!r}")


# words sharing their first letter: a subtrie large enough to be covered as a region
WORDS = ["b" + a + b for a in "aeiouy" for b in ("b", "ck", "d", "ll", "mp", "nd", "rst", "t", "x")]


@functools.cache
def regions() -> Tokenizer:
    """A vocabulary with a large subtrie of words below "q," and "q, ", and words that go on
    past a comma (exits of one child, and of many)."""
    letters = [bytes([b]) for b in b"abcdefghijklmnopqrstuvwxyz ,;"]
    below = [b"q," + w.encode() for w in WORDS] + [b"q, " + w.encode() for w in WORDS]
    past = [b"q," + w.encode() + b",z" for w in WORDS[::3]]
    past += [b"q," + w.encode() + b", " + v.encode() for w in WORDS[::5] for v in WORDS[:3]]
    return Tokenizer.from_token_bytes(
        [b"<eos>", *letters, *below, *past, b"q,", b"q, "], special_ids=[0], eos_ids=[0]
    )


@pytest.mark.parametrize(
    "grammar_text",
    [
        'start: NAME ("," NAME)*\nNAME: /[a-z]+/\n%ignore " "\n',
        'start: NAME ("," NAME)* ";"\nNAME: /[a-z]+/\n%ignore " "\n',
        'start: NAME ("," NAME NAME?)*\nNAME: /[a-z]+/\n%ignore " "\n',
    ],
)
def test_word_regions_bit_for_bit(grammar_text: str) -> None:
    """Below a lexeme end, a configuration that every word byte leads back to itself (a NAME
    that may end anywhere, only a comma after it) covers its word paths at once: their tokens
    by node ranges between the trie's word exits, each exit walked from it
    (csrc/engine_mask_regions.c corral_word_region). The third grammar lets a NAME follow a
    NAME: no region there."""
    tok = regions()
    grammar = Grammar.from_lark(grammar_text)
    nat, ref = (Matcher(compile_grammar(grammar, tok, engine=e)) for e in ("native", "reference"))
    for k, b in enumerate(b"ab , cd,e"):
        assert nat.accept_bytes(bytes([b])) and ref.accept_bytes(bytes([b]))
        mask = same_state(nat, ref, f"{grammar_text!r}: byte {k}")
        assert mask.any()


@pytest.mark.parametrize("back", ["rollback", "reset"])
def test_kept_mask_is_not_served_after_its_sets_change(back: str) -> None:
    """A costly mask is kept for the threads it came from (the same threads give the same mask
    while the sets they read stand: csrc/engine_mask.c kept_mask). After a rollback the same
    set ids and threads come back with other items ("a …" against "b …": the tokens ';"'
    against ";'" after the words), and the kept mask must not be served."""
    grammar = Grammar.from_lark(
        'start: "a" NAME+ ";" "\\"" | "b" NAME+ ";" "\'"\nNAME: /[a-z]+/\n%ignore " "\n'
    )
    tok = smollm2()
    nat, ref = (Matcher(compile_grammar(grammar, tok, engine=e)) for e in ("native", "reference"))
    for text in (b"a foo bar", b"b foo bar", b"a foo bar"):
        # no mask on the way: the first one asked meets the threads of the mask kept before
        for k in range(len(text)):
            assert nat.accept_bytes(text[k : k + 1]) and ref.accept_bytes(text[k : k + 1])
            if k >= len(text) - 2:
                same_state(nat, ref, f"{back}: {text[: k + 1]!r}")
        if back == "rollback":
            nat.rollback(len(text))
            ref.rollback(len(text))
        else:
            nat.reset()
            ref.reset()


def test_first_mask_is_kept_with_the_grammar() -> None:
    """Every matcher of a grammar starts in one state, so its first mask is kept with the
    compiled grammar (csrc/engine_first_mask.c) and counted in ``memory_bytes``: a second
    matcher, a reset one and one rolled back to the start get it, equal to the reference's;
    after a byte the state differs and the mask is computed."""
    grammar = Grammar.from_lark('start: "[" NAME ("," NAME)* "]"\nNAME: /[a-z]+/\n%ignore " "\n')
    tok = smollm2()
    compiled = compile_grammar(grammar, tok, engine="native")
    ref = Matcher(compile_grammar(grammar, tok, engine="reference"))
    before = compiled.memory_bytes()
    first = Matcher(compiled)
    same_state(first, ref, "first matcher")
    assert compiled.memory_bytes() - before == 4 * ((tok.vocab_size + 31) // 32)
    second = Matcher(compiled)
    same_state(second, ref, "second matcher")
    assert second.accept_bytes(b"[ab") and ref.accept_bytes(b"[ab")
    same_state(second, ref, "after [ab")
    second.rollback(1)
    ref.rollback(1)
    same_state(second, ref, "rolled back to the start")
    assert first.accept_bytes(b" ") and ref.accept_bytes(b" ")
    same_state(first, ref, "after a space")
    first.reset()
    ref.rollback(1)
    same_state(first, ref, "reset")
