"""Numeric JSON Schema keywords as byte automata agree with exact decimal arithmetic.

``number_dfa`` must accept a JSON number text iff the text has the output shape (with any numeric
keyword: positional notation, no exponent, no negative zero) and its exact decimal value
satisfies every keyword. The oracle is :class:`fractions.Fraction` arithmetic on hypothesis-drawn
bounds, steps and texts (texts drawn near the bounds and near multiples, in the output shape and
in other RFC 8259 shapes); jsonschema's ``Draft202012Validator`` is a second oracle.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from corral.automata import ops
from corral.automata.cache import AutomataCache
from corral.grammars.json_schema.numbers import (
    NumberUnsupported,
    integer_type_regex,
    number_dfa,
    number_type_regex,
)

POSITIONAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
INTEGER = re.compile(integer_type_regex())
RFC_NUMBER = re.compile(number_type_regex())
SCHEMA_NAMES = {
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusive_maximum": "exclusiveMaximum",
    "multiple_of": "multipleOf",
}
Keywords = dict[str, Any]


def as_decimal(x: int | float | Decimal) -> Decimal:
    """The value the schema author wrote: floats through their shortest repr."""
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(x)


def exact(x: int | float | Decimal) -> Fraction:
    return Fraction(as_decimal(x))


def satisfies(v: Fraction, kw: Keywords) -> bool:
    checks = {
        "minimum": lambda b: v >= b,
        "maximum": lambda b: v <= b,
        "exclusive_minimum": lambda b: v > b,
        "exclusive_maximum": lambda b: v < b,
        "multiple_of": lambda b: (v / b).denominator == 1,
    }
    return all(checks[k](exact(x)) for k, x in kw.items())


def expected(text: str, integer: bool, kw: Keywords) -> bool:
    if not kw:
        return bool((INTEGER if integer else RFC_NUMBER).fullmatch(text))
    if not (INTEGER if integer else POSITIONAL).fullmatch(text):
        return False
    v = Fraction(text)
    return not (text.startswith("-") and v == 0) and satisfies(v, kw)


def dfa_for(integer: bool, kw: Keywords) -> Any:
    return number_dfa(integer=integer, **kw)


# --------------------------------------------------------------------------- strategies
small_decimals = st.integers(0, 4).flatmap(
    lambda places: st.decimals(
        min_value=-300, max_value=300, places=places, allow_nan=False, allow_infinity=False
    )
)
bound_values = st.one_of(
    st.integers(-1000, 1000),
    small_decimals,
    st.floats(-500, 500, allow_nan=False).map(lambda f: round(f, 3)),
    st.sampled_from([0, 0.0, -0.0, 1, -1, 0.5, -0.5, 10, 99.99, -0.001, 100, 1e-4]),
)
step_values = st.one_of(
    st.integers(1, 60),
    st.sampled_from(
        [0.5, 0.25, 0.1, 0.3, 0.01, 0.05, 0.75, 0.125, 1.25, 0.004, 12.5, 40, 100, 1.5, 0.0625]
    ),
    st.integers(1, 99).flatmap(lambda n: st.sampled_from([Decimal(n) / 10, Decimal(n) / 100])),
)


@st.composite
def keywords(draw: st.DrawFn) -> Keywords:
    kw: Keywords = {}
    for name in ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum"):
        if draw(st.integers(0, 2)) == 0:
            kw[name] = draw(bound_values)
    if draw(st.integers(0, 2)) == 0:
        kw["multiple_of"] = draw(step_values)
    return kw


def variants(d: Decimal, draw: st.DrawFn) -> list[str]:
    """Texts of the value ``d``: positional with extra zeros, and shapes that must be refused."""
    text = format(d, "f")
    zeros = "0" * draw(st.integers(1, 3))
    out = [text, text + zeros if "." in text else text + "." + zeros]
    shape = draw(st.integers(0, 7))
    if shape == 0:
        out.append(format(d, "e"))
    elif shape == 1:
        out.append("-" + text.lstrip("-"))  # includes "-0", "-0.00"
    elif shape == 2:
        out.append(text.replace("-", "-0") if text.startswith("-") else "0" + text)
    elif shape == 3:
        out.append(text + "e0")
    elif shape == 4:
        out.append(text + ".")
    elif shape == 5:
        out.append("+" + text)
    elif shape == 6:
        out.append(text.replace("0.", "."))
    return out


@st.composite
def texts_near(draw: st.DrawFn, kw: Keywords) -> list[str]:
    """Number texts at, just around, and far from the bounds and the multiples of the step."""
    anchors = [Decimal(0)] + [as_decimal(x) for x in kw.values()]
    out: list[str] = []
    with localcontext() as ctx:
        ctx.prec = 200
        for _ in range(12):
            base = draw(st.sampled_from(anchors))
            if "multiple_of" in kw and draw(st.booleans()):
                step = as_decimal(kw["multiple_of"])
                base = step * draw(st.integers(-30, 30)) + base * draw(st.sampled_from([0, 1]))
            delta = Decimal(draw(st.integers(-12, 12))).scaleb(-draw(st.integers(0, 4)))
            out.extend(variants(base + delta, draw))
        out.append(draw(st.from_regex(RFC_NUMBER, fullmatch=True)))
    return out


# --------------------------------------------------------------------------- properties
@settings(max_examples=250, deadline=None)
@given(integer=st.booleans(), kw=keywords(), data=st.data())
def test_dfa_agrees_with_exact_arithmetic(integer: bool, kw: Keywords, data: st.DataObject) -> None:
    dfa = dfa_for(integer, kw)
    for text in data.draw(texts_near(kw)):
        assert dfa.matches(text.encode()) == expected(text, integer, kw), (text, integer, kw)


@settings(max_examples=150, deadline=None)
@given(integer=st.booleans(), kw=keywords(), data=st.data())
def test_dfa_agrees_with_jsonschema(integer: bool, kw: Keywords, data: st.DataObject) -> None:
    dfa = dfa_for(integer, kw)
    schema = {"type": "integer" if integer else "number"}
    exact_schema = dict(schema) | {SCHEMA_NAMES[k]: exact(v) for k, v in kw.items()}
    exact_validator = Draft202012Validator(exact_schema)
    float_validator = Draft202012Validator(
        dict(schema) | {SCHEMA_NAMES[k]: v for k, v in kw.items()}
    )
    step = kw.get("multiple_of")
    # json.loads gives floats: rounding is monotonic, so with float or int bounds (not Decimal)
    # the inclusive/exclusive comparisons of these short texts survive it; float remainders
    # do not (0.3 % 0.1), so steps are only cross-checked on integers
    floats_exact = not any(isinstance(v, Decimal) for v in kw.values()) and (
        step is None or (integer and exact(step).denominator == 1)
    )
    for text in data.draw(texts_near(kw)):
        shape_ok = (INTEGER if integer else POSITIONAL).fullmatch(text)
        if not shape_ok or (text.startswith("-") and Fraction(text) == 0):
            if kw:
                assert not dfa.matches(text.encode()), text
            continue
        # with exact (Fraction) numbers on both sides, jsonschema is an exact oracle
        instance = json.loads(text, parse_float=Fraction)
        assert dfa.matches(text.encode()) == exact_validator.is_valid(instance), (text, kw)
        if dfa.matches(text.encode()) and floats_exact:
            assert float_validator.is_valid(json.loads(text)), (text, kw)


# --------------------------------------------------------------------------- edge cases
def accepts(dfa: Any, *texts: str) -> list[bool]:
    return [dfa.matches(t.encode()) for t in texts]


def test_unconstrained_shapes() -> None:
    number = number_dfa(integer=False)
    assert accepts(number, "0", "-0", "-0.0E+1", "1e5", "12.50", "-7") == [True] * 6
    assert accepts(number, "01", "1.", ".5", "+1", "1e", "") == [False] * 6
    integer = number_dfa(integer=True)
    assert accepts(integer, "0", "-12", "9007199254740993") == [True] * 3
    assert accepts(integer, "-0", "1.0", "1e2", "00") == [False] * 4


def test_zero_and_negative_zero() -> None:
    dfa = number_dfa(integer=False, minimum=0)
    assert accepts(dfa, "0", "0.0", "0.000", "3.5") == [True] * 4
    assert accepts(dfa, "-0", "-0.0", "-0.5", "0e0", "-1") == [False] * 5
    dfa = number_dfa(integer=False, maximum=0)
    assert accepts(dfa, "0", "0.00", "-0.01") == [True] * 3
    assert accepts(dfa, "-0", "-0.00", "0.01") == [False] * 3
    dfa = number_dfa(integer=True, exclusive_maximum=1, exclusive_minimum=-1)
    assert ops.finite_strings(dfa, 10) == [b"0"]


def test_equal_and_empty_ranges() -> None:
    dfa = number_dfa(integer=False, minimum=2.5, maximum=Decimal("2.50"))
    assert accepts(dfa, "2.5", "2.50", "2.500") == [True] * 3
    assert accepts(dfa, "2.51", "2.49", "2", "3") == [False] * 4
    assert ops.is_empty(number_dfa(integer=False, minimum=2.5, exclusive_maximum=2.5))
    assert ops.is_empty(number_dfa(integer=False, minimum=3, maximum=2))
    assert ops.is_empty(number_dfa(integer=True, minimum=1.5, maximum=1.9))
    assert ops.is_empty(number_dfa(integer=True, multiple_of=7, minimum=1, maximum=6))
    tie = number_dfa(integer=False, minimum=1, exclusive_minimum=1, maximum=5, exclusive_maximum=9)
    assert accepts(tie, "1", "1.0", "1.01", "5", "5.001") == [False, False, True, True, False]


def test_integer_with_fractional_bounds() -> None:
    dfa = number_dfa(integer=True, minimum=1.5, maximum=7.5)
    assert [t for t in map(str, range(-3, 12)) if dfa.matches(t.encode())] == [
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
    ]
    dfa = number_dfa(integer=True, exclusive_minimum=-2.5, exclusive_maximum=-0.5)
    assert ops.finite_strings(dfa, 10) == [b"-1", b"-2"]


def test_huge_and_tiny_bounds_stay_small() -> None:
    start = time.monotonic()
    big = number_dfa(integer=False, minimum=-1e308, maximum=1e308)
    assert big.n_states < 2_000
    top = "1" + "0" * 308
    assert accepts(big, top, "-" + top, top + ".0", "123", "-0.5") == [True] * 5
    assert accepts(big, top[:-1] + "1", "-" + top + ".01", top + "0") == [False] * 3
    tiny = number_dfa(integer=False, exclusive_minimum=5e-324)
    assert tiny.n_states < 1_000
    assert accepts(tiny, "0." + "0" * 323 + "51", "1") == [True, True]
    assert accepts(tiny, "0." + "0" * 323 + "5", "0." + "0" * 324 + "9", "0") == [False] * 3
    step = number_dfa(integer=False, minimum=0, multiple_of=1e-300)
    assert accepts(step, "0." + "0" * 299 + "1", "0." + "0" * 299 + "10", "7") == [True] * 3
    assert not step.matches(("0." + "0" * 300 + "1").encode())
    assert time.monotonic() - start < 30


def test_decimal_steps() -> None:
    dfa = number_dfa(integer=False, minimum=0, maximum=1, multiple_of=0.01)
    assert accepts(dfa, "0", "0.5", "0.50", "0.500", "0.07", "1.00", "1") == [True] * 7
    assert accepts(dfa, "0.505", "1.01", "-0.01", "0.001", "1e0") == [False] * 5
    tenth = number_dfa(integer=False, multiple_of=0.1)
    assert accepts(tenth, "0.3", "-0.7", "12.30") == [True] * 3  # exact, unlike 0.3 / 0.1 in floats
    whole = number_dfa(integer=False, multiple_of=5)
    assert accepts(whole, "10", "10.0", "-15.000", "0") == [True] * 4
    assert accepts(whole, "10.5", "12", "-0") == [False] * 3
    halves = number_dfa(integer=True, multiple_of=0.5)
    assert accepts(halves, "1", "-3", "0") == [True] * 3
    hundreds = number_dfa(integer=True, multiple_of=500, maximum=2000)
    assert accepts(hundreds, "0", "1500", "-2500", "2000") == [True] * 4
    assert accepts(hundreds, "250", "2500") == [False] * 2


def test_exact_decimal_inputs_beyond_float_precision() -> None:
    bound = Decimal("0.1000000000000000000000000000001")  # 31 digits, beyond the context
    dfa = number_dfa(integer=False, exclusive_minimum=bound)
    assert accepts(dfa, "0.10000000000000000000000000000011", "0.2") == [True] * 2
    assert accepts(dfa, "0.1000000000000000000000000000001", "0.1") == [False] * 2


def test_large_moduli() -> None:
    dfa = number_dfa(integer=True, multiple_of=9973, minimum=0, maximum=100_000)
    assert accepts(dfa, "0", "9973", "99730") == [True] * 3
    assert accepts(dfa, "9974", "-9973", "109703") == [False] * 3
    dfa = number_dfa(integer=False, multiple_of=99.73)
    assert accepts(dfa, "99.73", "-997.300", "0.0") == [True] * 3
    assert accepts(dfa, "9.973", "99.731") == [False] * 2
    with pytest.raises(NumberUnsupported) as info:  # the product with the range is too large
        number_dfa(integer=True, multiple_of=9973, maximum=10**20)
    assert info.value.keyword == "multipleOf"


@pytest.mark.parametrize(
    ("kw", "keyword"),
    [
        ({"multiple_of": 0}, "multipleOf"),
        ({"multiple_of": -2}, "multipleOf"),
        ({"multiple_of": float("inf")}, "multipleOf"),
        ({"multiple_of": float("nan")}, "multipleOf"),
        ({"multiple_of": 10_001}, "multipleOf"),
        ({"multiple_of": 0.9973}, "multipleOf"),
        ({"multiple_of": True}, "multipleOf"),
        ({"minimum": float("nan")}, "minimum"),
        ({"maximum": Decimal("Infinity")}, "maximum"),
        ({"exclusive_minimum": 10**1001}, "exclusiveMinimum"),
        ({"exclusive_maximum": "3"}, "exclusiveMaximum"),
    ],
)
def test_refusals_name_the_keyword(kw: Keywords, keyword: str) -> None:
    with pytest.raises(NumberUnsupported) as info:
        number_dfa(integer=False, **kw)
    assert info.value.keyword == keyword
    assert isinstance(info.value, ValueError)


def test_results_are_cached_in_an_explicit_cache() -> None:
    shared = AutomataCache()
    a = number_dfa(integer=False, minimum=1.5, multiple_of=0.5, cache=shared)
    b = number_dfa(integer=False, minimum=Decimal("1.50"), multiple_of=Decimal("0.5"), cache=shared)
    assert a is b
    assert number_dfa(integer=False, minimum=1.5) is not number_dfa(integer=False, minimum=1.5)
