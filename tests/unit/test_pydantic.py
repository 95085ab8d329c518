"""``Grammar.from_pydantic``: pydantic v2 models and types compile to exact grammars.

Valid instances come from ``model.model_dump(mode="json")`` of constructed models; written with
``serialize_instance`` against the model's JSON Schema they must be accepted (compact and
flexible). Invalid instances (labelled invalid by jsonschema against the same schema) must be
rejected.
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import pydantic
import pytest
from jsonschema import Draft202012Validator

from conftest import smollm2
from corral import Grammar, Matcher
from corral import compile as compile_grammar
from corral.constraint_engine.compiler import CompiledGrammar
from corral.grammars.json_schema import serialize_instance

Score = Annotated[int, pydantic.Field(ge=0, le=100)]


class Color(str, enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    street: str
    zip: Annotated[str, pydantic.StringConstraints(pattern=r"^[0-9]{5}$")]


class Person(pydantic.BaseModel):
    name: Annotated[str, pydantic.StringConstraints(min_length=1, max_length=20)]
    age: Optional[int] = None  # noqa: UP045 (the Optional spelling is what is tested)
    kind: Literal["a", "b"] = "a"
    scores: Annotated[list[Score], pydantic.Field(min_length=1, max_length=3)]
    color: Color
    address: Address
    previous: Address | None = None


class Cat(pydantic.BaseModel):
    pet_type: Literal["cat"]
    lives: Annotated[int, pydantic.Field(ge=1, le=9)]


class Dog(pydantic.BaseModel):
    pet_type: Literal["dog"]
    good: bool


class Owner(pydantic.BaseModel):
    pet: Union[Cat, Dog] = pydantic.Field(discriminator="pet_type")  # noqa: UP007
    when: datetime.date
    id: uuid.UUID


class Node(pydantic.BaseModel):
    value: float
    children: list[Node] = []


ADDRESS = Address(street="Main St 1", zip="12345")
VALID: dict[str, tuple[Any, list[Any]]] = {
    "person": (Person, [
        Person(name="Ann", scores=[0], color=Color.RED, address=ADDRESS),
        Person(name="Bob", age=41, kind="b", scores=[100, 5, 7], color=Color.GREEN,
               address=ADDRESS, previous=Address(street="", zip="00000")),
        Person(name="Émilie 😀", age=-3, scores=[50], color=Color.RED, address=ADDRESS),
    ]),
    "owner": (Owner, [
        Owner(pet=Cat(pet_type="cat", lives=9), when=datetime.date(2024, 2, 29),
              id=uuid.UUID("12345678-1234-5678-1234-567812345678")),
        Owner(pet=Dog(pet_type="dog", good=True), when=datetime.date(1999, 1, 1), id=uuid.uuid4()),
    ]),
    "node": (Node, [
        Node(value=1.5),
        Node(value=-2, children=[Node(value=0.25, children=[Node(value=3)]), Node(value=1e-3)]),
    ]),
}  # fmt: skip
INVALID: dict[str, list[Any]] = {
    "person": [
        {"name": "", "scores": [1], "color": "red", "address": {"street": "s", "zip": "12345"}},
        {"name": "A", "scores": [], "color": "red", "address": {"street": "s", "zip": "12345"}},
        {"name": "A", "scores": [101], "color": "red", "address": {"street": "s", "zip": "12345"}},
        {"name": "A", "scores": [1, 2, 3, 4], "color": "red",
         "address": {"street": "s", "zip": "12345"}},
        {"name": "A", "scores": [1], "color": "blue", "address": {"street": "s", "zip": "12345"}},
        {"name": "A", "scores": [1], "color": "red", "address": {"street": "s", "zip": "1234"}},
        {"name": "A", "scores": [1], "color": "red",
         "address": {"street": "s", "zip": "12345", "x": 1}},
        {"name": "A", "scores": [1], "color": "red", "address": {"street": "s", "zip": "12345"},
         "kind": "c"},
        {"name": "A", "scores": [1], "color": "red", "address": {"street": "s", "zip": "12345"},
         "age": 1.5},
        {"name": "A", "scores": [1], "color": "red"},
    ],
    "owner": [
        {"pet": {"pet_type": "cat", "lives": 10}, "when": "2024-01-01",
         "id": "12345678-1234-5678-1234-567812345678"},
        {"pet": {"pet_type": "dog", "lives": 3}, "when": "2024-01-01",
         "id": "12345678-1234-5678-1234-567812345678"},
        {"pet": {"pet_type": "cat", "lives": 3}, "when": "2023-02-29",
         "id": "12345678-1234-5678-1234-567812345678"},
        {"pet": {"pet_type": "cat", "lives": 3}, "when": "2024-01-01", "id": "1234"},
    ],
    "node": [{"value": "1"}, {"value": 1, "children": [{}]}, {"children": []}],
}  # fmt: skip


@functools.cache
def schema_of(name: str) -> Any:
    return pydantic.TypeAdapter(VALID[name][0]).json_schema()


@functools.cache
def compiled(name: str, whitespace: str) -> CompiledGrammar:
    grammar = Grammar.from_pydantic(VALID[name][0], whitespace=whitespace)
    return compile_grammar(grammar, smollm2())


def accepts(name: str, text: str, whitespace: str) -> bool:
    m = Matcher(compiled(name, whitespace))
    return m.accept_bytes(text.encode("utf-8")) and m.is_accepting()


@pytest.mark.parametrize("whitespace", ["compact", "flexible"])
@pytest.mark.parametrize("name", list(VALID))
def test_model_dumps_are_accepted(name: str, whitespace: str) -> None:
    schema = schema_of(name)
    for model in VALID[name][1]:
        instance = model.model_dump(mode="json")
        assert Draft202012Validator(schema).is_valid(instance)
        text = serialize_instance(instance, schema, whitespace=whitespace)
        assert accepts(name, text, whitespace), text


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_instances_are_rejected(name: str) -> None:
    schema = schema_of(name)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for instance in INVALID[name]:
        assert not validator.is_valid(instance), instance
        for whitespace in ("compact", "flexible"):
            for text in (serialize_instance(instance, schema, whitespace=whitespace),
                         json.dumps(instance, separators=(",", ":"))):  # fmt: skip
                assert not accepts(name, text, whitespace), text


def test_plain_types() -> None:
    grammar = Grammar.from_pydantic(list[Annotated[int, pydantic.Field(multiple_of=5)]])
    cg = compile_grammar(grammar, smollm2())
    for text, ok in [("[]", True), ("[5,-10,0]", True), ("[3]", False), ('["5"]', False)]:
        m = Matcher(cg)
        assert (m.accept_bytes(text.encode()) and m.is_accepting()) is ok, text


def test_extra_fields_follow_the_model_config() -> None:
    open_text = '{"street":"s","zip":"12345"}'
    assert accepts("person", serialize_instance(
        {"name": "A", "scores": [1], "color": "red", "address": json.loads(open_text),
         "extra": [1, {"k": None}]}, schema_of("person")), "compact")  # fmt: skip
