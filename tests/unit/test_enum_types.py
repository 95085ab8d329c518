"""Enum and const candidates checked by type without ``jsonschema``
(:func:`corral.grammars.json_schema.finite.by_type`): wherever it answers, every draft's
``jsonschema`` validator gives the same answer, and schemas it decides do not import
``jsonschema``."""

from __future__ import annotations

import subprocess
import sys

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.grammars.json_schema.finite import by_type
from corral.limits import DEFAULT_LIMITS, Budget

NAMES = ["null", "boolean", "integer", "number", "string", "array", "object"]
VALIDATORS = {3: jsonschema.Draft3Validator, 4: jsonschema.Draft4Validator,
              6: jsonschema.Draft6Validator, 7: jsonschema.Draft7Validator,
              2020: jsonschema.Draft202012Validator}  # fmt: skip

values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from([0.0, 2.0, -1.5, 1e300])
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner,
                                                                 max_size=2),
    max_leaves=4,
)  # fmt: skip
type_specs = st.sampled_from(NAMES) | st.lists(st.sampled_from(NAMES), max_size=3)
bounds = st.integers(0, 4) | st.sampled_from([2.0, True, -1, "2", None])
nodes = st.fixed_dictionaries(
    {},
    optional={"type": type_specs, "x-note": st.just(1), "readonly": st.just(True),
              "minLength": bounds, "maxLength": bounds,
              "not": st.sampled_from([{}, True, False, {"type": "string"}])},
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(nodes, min_size=1, max_size=2),
    st.lists(values, max_size=6),
    st.sampled_from(sorted(VALIDATORS)),
)
def test_by_type_agrees_with_each_draft(
    rest: list[dict[str, object]], cands: list[object], draft: int
) -> None:
    kept = by_type(rest, cands, Budget.start(DEFAULT_LIMITS), draft)
    if kept is None:
        # left to jsonschema: a bound that is no int >= 0, a ``not`` that is not trivially
        # true there, or (draft 3) a ``not`` jsonschema's Draft3Validator ignores
        odd = [r[k] for r in rest for k in ("minLength", "maxLength") if k in r]
        assert any(type(b) is not int or b < 0 for b in odd) or any("not" in r for r in rest)
        return
    validators = [VALIDATORS[draft](r) for r in rest]
    assert kept == [v for v in cands if all(val.is_valid(v) for val in validators)], draft


def test_other_keywords_go_to_jsonschema() -> None:
    budget = Budget.start(DEFAULT_LIMITS)
    assert by_type([{"type": "string", "pattern": "a"}], ["a"], budget) is None
    assert by_type([{"minLength": 2.0}], ["a"], budget) is None  # no int: left to jsonschema
    assert by_type([{"minLength": 1}, {"maxLength": 2}], ["", "ab", "abc", 7], budget) == [
        "ab",
        7,
    ]
    assert by_type([{"type": {"type": "string"}}], ["a"], budget) is None  # draft 3's schemas
    assert by_type([{"type": "any"}], ["a"], budget) is None
    assert by_type([{"type": "integer"}], [1.0], budget, 4) == []  # not an integer in draft 4
    assert by_type([{"type": "integer"}], [1.0], budget, 6) == [1.0]  # one from draft 6 on
    assert by_type([{"not": {}, "type": "integer"}], [1, "a"], budget, 7) == []
    assert by_type([{"not": {}}], [1], budget, 3) is None  # no ``not`` in draft 3
    assert by_type([{"not": {"type": "string"}}], [1], budget) is None
    assert by_type([{"type": "integer"}], [True, 1, 1.5], budget) == [1]
    assert by_type([{"readonly": True}], [1, "a"], budget) == [1, "a"]


def test_a_typed_enum_compiles_without_importing_jsonschema() -> None:
    code = (
        "import sys, corral\n"
        "corral.Grammar.from_json_schema({'type': ['string', 'null'], 'enum': ['a', 1, None]})\n"
        "assert 'jsonschema' not in sys.modules\n"
        "corral.Grammar.from_json_schema({'type': 'string', 'maxLength': 1, 'enum': ['a', 'bc']})\n"
        "assert 'jsonschema' not in sys.modules\n"
        "corral.Grammar.from_json_schema({'type': 'string', 'pattern': 'b', 'enum': ['a', 'bc']})\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
