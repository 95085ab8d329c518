"""Lowering of :class:`~corral.grammars.json_schema.algebra.Lang` values to corral's grammar IR.

Each conjunction of subschemas becomes one rule (so recursive schemas give recursive rules);
scalars become one terminal carrying their prebuilt automaton; an object specification becomes a
chain of rules that walks the declared properties in order (each present or, if optional,
skipped) and then any number of undeclared members, with the member count tracked in the rule
names when ``minProperties``/``maxProperties`` apply; arrays likewise track the position (for
``prefixItems`` and ``minItems``/``maxItems``) and the ``contains`` counts. Separators are placed
by the "first member or not" state, the standard way to write comma lists without empty items.
Unproductive symbols are removed at the end (Hopcroft & Ullman 1979, §4.4), which is where empty
subschemas (``false``, contradictory ``allOf``) disappear.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import product

from corral.automata.dfa import ByteDFA
from corral.automata.ops import is_empty
from corral.automata.regex import compile_regex, literal_dfa
from corral.grammars.ir import Grammar, Rule, Terminal, productive_symbols
from corral.grammars.json_schema.algebra import (
    ArraySpec,
    Conj,
    Lang,
    ObjectSpec,
    Refuse,
    conj_and,
)
from corral.grammars.json_schema.long_strings import (
    BLOCK,
    long_string_rules,
    string_block,
    string_tail,
)
from corral.grammars.json_schema.objects import key_in, set_bits, witness_value
from corral.grammars.json_schema.protocols import LangSource
from corral.grammars.json_schema.unique_emit import unique_items
from corral.grammars.json_schema.values import json_text

__all__ = ["BLOCK", "Emitter", "string_block", "string_tail"]


_WS = "[ \\t\\n\\r]"
_PUNCT = {"{": "LBRACE", "}": "RBRACE", "[": "LBRACK", "]": "RBRACK", ",": "COMMA", ":": "COLON"}

Alt = tuple[str, ...]


class Emitter:
    """Builds the IR grammar for one :class:`~corral.grammars.json_schema.builder.LangBuilder`.

    Parameters
    ----------
    builder:
        Where languages come from (and where refusals are recorded).
    whitespace:
        ``"compact"`` (no whitespace anywhere) or ``"flexible"`` (runs of at most
        ``max_whitespace`` of space, tab, CR, LF around every structural character and around
        the whole value).
    max_whitespace:
        Longest whitespace run in flexible mode.
    """

    def __init__(self, builder: LangSource, whitespace: str = "compact", max_whitespace: int = 16):
        if whitespace not in ("compact", "flexible"):
            raise ValueError(f"whitespace must be 'compact' or 'flexible', not {whitespace!r}")
        self.b = builder
        self.max_count = builder.ctx.limits.max_count_states
        self.flexible = whitespace == "flexible"
        self.max_ws = int(max_whitespace)
        self.terminals: dict[str, Terminal] = {}
        self.rules: dict[str, list[Alt]] = {}
        self._conj: dict[Conj, str] = {}
        self._queue: list[tuple[str, Conj]] = []
        self._dfa_names: dict[int, str] = {}
        self._keep: list[ByteDFA] = []
        self._specs: dict[object, str] = {}
        self._lits: dict[str, str] = {}
        self._n = 0
        self.unique: list[str] = []
        self.unique_close: list[str] = []

    # ------------------------------------------------------------------ names
    def _fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def punct(self, ch: str) -> str:
        """The terminal of a structural character (with whitespace in flexible mode)."""
        name = _PUNCT[ch]
        if name not in self.terminals:
            if self.flexible:
                k = self.max_ws
                pat = f"{_WS}{{0,{k}}}\\{ch}{_WS}{{0,{k}}}"
                self.terminals[name] = Terminal(name, pat, dfa=self._shared(pat, False))
            else:
                self.terminals[name] = Terminal(name, ch, literal=True, dfa=self._shared(ch, True))
        return name

    def _shared(self, text: str, literal: bool) -> ByteDFA:
        """The automaton of a literal or of a regex, one object per content through the
        automata cache: compiling it again for every schema, and cutting it to each
        tokenizer's bytes again (which the compiler keeps with the automaton), would cost
        more than the rest of a small schema's compile."""
        ctx = self.b.ctx
        if literal:
            return ctx.memo(("literal", text), lambda: literal_dfa(text, budget=ctx.budget))
        return ctx.memo(
            ("regex", text), lambda: compile_regex(text, "JSON Schema", budget=ctx.budget)
        )

    def closer(self, ch: str) -> str:
        """The item-closing terminal of ``ch`` (``]`` or ``}``): the punctuation's language,
        listed in ``Grammar.unique_close`` (``docs/design/unique_items.md``)."""
        name = "CLOSE_" + _PUNCT[ch]
        if name not in self.terminals:
            self.terminals[name] = replace(self.terminals[self.punct(ch)], name=name)
            self.unique_close.append(name)
        return name

    def literal(self, text: str) -> str:
        """A literal terminal."""
        got = self._lits.get(text)
        if got is None:
            got = self._fresh("L")
            self.terminals[got] = Terminal(got, text, literal=True, dfa=self._shared(text, True))
            self._lits[text] = got
        return got

    def dfa_terminal(self, dfa: ByteDFA, what: str) -> str:
        """A terminal carrying a prebuilt automaton (deduplicated by identity)."""
        got = self._dfa_names.get(id(dfa))
        if got is None:
            got = self._fresh("T")
            self.terminals[got] = Terminal(got, f"<{what}>", dfa=dfa)
            self._dfa_names[id(dfa)] = got
            self._keep.append(dfa)
        return got

    def key(self, name: str) -> Alt:
        """Symbols of a declared key and its colon."""
        text = json_text(name)
        if self.flexible:
            return (self.literal(text), self.punct(":"))
        return (self.literal(text + ":"),)

    # ------------------------------------------------------------------ values
    def value(self, conj: Conj) -> str:
        """The rule of a conjunction of subschemas (built later, so recursion is fine)."""
        got = self._conj.get(conj)
        if got is None:
            got = self._fresh("v")
            self._conj[conj] = got
            self.rules[got] = []
            self._queue.append((got, conj))
        return got

    def _lang_rule(self, name: str, lang: Lang) -> None:
        alts: list[Alt] = []
        if not is_empty(lang.scalar):
            alts.append((self.dfa_terminal(lang.scalar, "scalar"),))
        for spec in lang.objects:
            try:
                alts.append((self.obj(spec),))
            except Refuse as exc:  # only after merges; the relaxed spec is larger (lenient)
                self.b.refuse("", exc.keyword, f"{exc.reason} (after merging subschemas)")
                alts.append((self.obj(replace(spec, min_props=0, max_props=None)),))
        for lo, hi in lang.long_strings:
            alts.append((self.long_string(lo, hi),))
        for arr in lang.arrays:
            try:
                alts.append((self.arr(arr),))
            except Refuse as exc:
                self.b.refuse("", exc.keyword, f"{exc.reason} (after merging subschemas)")
                relaxed = ArraySpec(arr.prefix, arr.items)
                alts.append((self.arr(relaxed),))
        self.rules[name] = alts

    def build(self, root: Conj, source: str) -> Grammar:
        """Emit everything reachable from ``root`` and return the validated grammar."""
        top = self.value(root)
        while self._queue:
            name, conj = self._queue.pop()
            try:
                lang = self.b.lang_of(conj)
            except Refuse as exc:
                self.b.refuse(conj[0] if conj else "", exc.keyword, exc.reason)
                lang = self.b.ctx.any_lang()
            self._lang_rule(name, lang)
        if self.flexible:
            ws = "WS"
            pat = f"{_WS}{{1,{self.max_ws}}}"
            self.terminals[ws] = Terminal(ws, pat, dfa=self._shared(pat, False))
            self.rules["start"] = [(top,), (ws, top), (top, ws), (ws, top, ws)]
        else:
            self.rules["start"] = [(top,)]
        return self._finish(source)

    # ------------------------------------------------------------------ long strings
    def long_string(self, lo: int, hi: int | None) -> str:
        """Strings of ``lo``..``hi`` code points, too long for one automaton: blocks of exactly
        :data:`BLOCK` characters counted in binary by rules, then a tail of fewer characters and
        the closing quote (see :mod:`~corral.grammars.json_schema.long_strings`)."""
        key = ("long", lo, hi)
        got = self._specs.get(key)
        if got is not None:
            return got
        name = self._fresh("s")
        self._specs[key] = name
        if (hi if hi is not None else lo) // BLOCK > self.max_count:
            raise Refuse("maxLength", "string length bound too large")
        rules = long_string_rules(self.b.ctx, name, self.literal('"'), lo, hi, self.dfa_terminal)
        self.rules.update(rules)
        return name

    # ------------------------------------------------------------------ objects
    def obj(self, spec: ObjectSpec, close: str | None = None) -> str:
        """The rule of an object specification: states (property index, member count, set of
        :class:`~.algebra.Exists` constraints met); a member may witness any subset of the
        constraints its key can meet, its value then in the conjunction of theirs
        (:func:`~.objects.witness_value`, shared with the serializer). ``close``: the terminal
        of its ``}`` (default the punctuation; an item-closing one under ``uniqueItems``)."""
        memo_key = spec if close is None else (spec, close)
        got = self._specs.get(memo_key)
        if got is not None:
            return got
        name = self._fresh("o")
        self._specs[memo_key] = name
        shut = self.punct("}") if close is None else close
        props, lo, hi, exists = spec.props, spec.min_props, spec.max_props, spec.exists
        n, full = len(props), spec.all_exists
        if hi is not None and not spec.regions:
            hi = min(hi, n)
        cap = hi if hi is not None else max(lo, 1)
        counted = lo > 0 or hi is not None
        if (counted or exists) and (n + 1) * (cap + 1) * (full + 1) > self.max_count:
            raise Refuse("maxProperties" if counted else "not",
                         "member count too large to track exactly")  # fmt: skip
        memo: dict[tuple[int, int, int], str] = {}
        items: dict[int, str] = {}
        comma = self.punct(",")

        def item(met: int) -> str:
            """The undeclared-member rule that meets exactly the constraints in ``met``."""
            got = items.get(met)
            if got is None:
                got = items[met] = self._fresh("e")
                alts: list[Alt] = []
                for r in spec.regions:
                    keys = r.keys
                    for j in set_bits(met):
                        keys = self.b.ctx.dfa_and(keys, exists[j].keys)
                    if not is_empty(keys):
                        alts.append((self.dfa_terminal(keys, "key"), self.punct(":"),
                                     self.value(witness_value(r.value, spec, met))))  # fmt: skip
                self.rules[got] = alts
            return got

        def nxt(c: int) -> int:
            return c + 1 if hi is not None else min(c + 1, cap)

        pending: list[tuple[int, int, int]] = []

        def state(i: int, c: int, s: int) -> str:
            got = memo.get((i, c, s))
            if got is None:
                got = memo[(i, c, s)] = f"{name}_{i}_{c}_{s}"
                pending.append((i, c, s))
            return got

        def build(i: int, c: int, s: int) -> None:
            rn = memo[(i, c, s)]
            alts: list[Alt] = []
            sep: Alt = (comma,) if c > 0 else ()
            can_add = hi is None or c < hi
            if i < n:
                p = props[i]
                if can_add:
                    fits = sum(1 << j for j, e in enumerate(exists)
                               if not s >> j & 1 and key_in(e.keys, p.name))  # fmt: skip
                    for met in _subsets(fits):
                        alts.append(sep + self.key(p.name) + (
                            self.value(witness_value(p.value, spec, met)),
                            state(i + 1, nxt(c), s | met)))  # fmt: skip
                if not p.required:
                    alts.append((state(i + 1, c, s),))
            else:
                if c >= lo and s == full:
                    alts.append((shut,))
                if spec.regions and can_add:
                    for met in _subsets(full & ~s):
                        alts.append((*sep, item(met), state(i, nxt(c), s | met)))
            self.rules[rn] = alts

        self.rules[name] = [(self.punct("{"), state(0, 0, 0))]
        while pending:
            build(*pending.pop())
        return name

    # ------------------------------------------------------------------ arrays
    def arr(self, spec: ArraySpec, close: str | None = None) -> str:
        """The rule of an array specification; ``close`` as in :meth:`obj`."""
        memo_key = spec if close is None else (spec, close)
        got = self._specs.get(memo_key)
        if got is not None:
            return got
        name = self._fresh("a")
        self._specs[memo_key] = name
        shut = self.punct("]") if close is None else close
        if spec.unique and not (spec.max_items is not None and spec.max_items <= 1):
            if close is not None:
                raise Refuse("uniqueItems", "uniqueItems arrays as items of uniqueItems arrays")
            self.rules[name] = [(self.punct("["), unique_items(self, spec))]
            return name
        n_pre, lo, hi = len(spec.prefix), spec.min_items, spec.max_items
        cons = [(c, mn, mx) for c, mn, mx in spec.contains if mn > 0 or mx is not None]
        if len(cons) > 3:
            raise Refuse("contains", "more than three contains constraints on one array")
        k = hi if hi is not None else max(n_pre, lo, 1)
        caps = [mx + 1 if mx is not None else mn for _, mn, mx in cons]
        total = k + 1
        for c in caps:
            total *= c + 1
        if total > self.max_count:
            raise Refuse("maxItems" if hi is not None else "minItems",
                         "array length too large to track exactly")  # fmt: skip
        negs = [self.b.negate(c) if mx is not None else None for c, _, mx in cons]
        comma = self.punct(",")
        memo: dict[tuple[int, tuple[int, ...]], str] = {}

        def elem_alts(i: int) -> Iterator[tuple[Conj, tuple[int, ...]]]:
            base = spec.prefix[i] if i < n_pre else spec.items
            if base is None:
                return
            for mask in product((0, 1), repeat=len(cons)):
                conj = base
                for j, bit in enumerate(mask):
                    if bit:
                        conj = conj_and(conj, cons[j][0])
                    elif negs[j] is not None:
                        conj = conj_and(conj, negs[j])  # type: ignore[arg-type]
                yield conj, mask

        pending: list[tuple[int, tuple[int, ...]]] = []

        def state(i: int, cnt: tuple[int, ...]) -> str:
            got = memo.get((i, cnt))
            if got is None:
                got = memo[(i, cnt)] = f"{name}_{i}_{'_'.join(map(str, cnt))}"
                pending.append((i, cnt))
            return got

        def build(i: int, cnt: tuple[int, ...]) -> None:
            rn = memo[(i, cnt)]
            alts: list[Alt] = []
            if i >= lo and all(c >= mn for c, (_, mn, _) in zip(cnt, cons, strict=True)):
                alts.append((shut,))
            if hi is None or i < hi:
                sep: Alt = (comma,) if i > 0 else ()
                ni = i + 1 if hi is not None else min(i + 1, k)
                for conj, mask in elem_alts(i):
                    new = []
                    ok = True
                    for j, bit in enumerate(mask):
                        c = cnt[j] + bit
                        _, mn, mx = cons[j]
                        if mx is not None and c > mx:
                            ok = False
                        new.append(c if mx is not None else min(c, mn))
                    if ok:
                        alts.append((*sep, self.value(conj), state(ni, tuple(new))))
            self.rules[rn] = alts

        self.rules[name] = [(self.punct("["), state(0, (0,) * len(cons)))]
        while pending:
            build(*pending.pop())
        return name

    # ------------------------------------------------------------------ finishing
    def _finish(self, source: str) -> Grammar:
        """The grammar of the rules that are productive and reachable through productive
        alternatives, and of the terminals they use: sound by construction, so it is not
        validated here (every rule derives a string, every symbol is defined and reached);
        :func:`corral.compile` checks it, as it checks every grammar."""
        productive = productive_symbols(self.terminals, self.rules.items())
        if "start" not in productive:
            return Grammar.empty(source, "the schema admits no JSON value")
        reach: set[str] = set()
        todo = ["start"]
        while todo:
            sym = todo.pop()
            if sym in reach:
                continue
            reach.add(sym)
            for a in self.rules.get(sym, []):
                if productive.issuperset(a):
                    todo.extend(a)
        rules = {
            rn: Rule(rn, tuple(a for a in alts if productive.issuperset(a)))
            for rn, alts in self.rules.items()
            if rn in reach and rn in productive
        }
        terms = {t: v for t, v in self.terminals.items() if t in reach}
        unique = tuple(u for u in self.unique if u in terms)
        close = tuple(u for u in self.unique_close if u in terms)
        return Grammar(terms, rules, "start", source=source, unique=unique, unique_close=close)


def _subsets(mask: int) -> Iterator[int]:
    """Every subset of ``mask`` (the empty one first)."""
    sub = 0
    while True:
        yield sub
        if sub == mask:
            return
        sub = (sub - mask) & mask
