"""``@corral.function`` and ``@corral.constrained`` with the real model."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Annotated, Any, Literal

import jsonschema
import pydantic
import pytest
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

import corral
from corral.backends.api import Model


class Pet(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=16)
    legs: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Opaque:
    """A class Pydantic cannot describe as JSON."""


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


ANNOTATIONS: list[tuple[Any, type | None]] = [
    (Pet, Pet),
    (Point, Point),
    (Movie, dict),
    (Literal["yes", "no"], str),
    (Color, Color),
    (int, int),
    (float, float),
    (bool, bool),
    (str, str),
    (list[int], list),
    (Annotated[str, corral.Regex(r"[A-Z]{3}-[0-9]{2}")], str),
]


@pytest.mark.parametrize(("annotation", "kind"), ANNOTATIONS, ids=[str(a) for a, _ in ANNOTATIONS])
def test_function_returns_typed_values(llama: Model, annotation: Any, kind: type) -> None:
    def ask(topic: str) -> Any:
        """Answer about {topic}."""

    ask.__annotations__["return"] = annotation
    fn = corral.function(llama, max_tokens=40)(ask)
    value = fn("cats")
    assert isinstance(value, kind)
    if annotation is Movie:
        assert set(value) == {"title", "year"}
    if kind is list:
        assert all(isinstance(v, int) for v in value)
    if annotation is not Movie and kind is str and annotation is not str:
        assert value in ("yes", "no") or len(value) == 6


def test_function_prompt_template_and_fields(llama: Model) -> None:
    @corral.function(
        llama, prompt="How many legs has a {animal}? Reply with a number.", max_tokens=6
    )
    def legs(animal: str) -> int: ...

    assert isinstance(legs("spider"), int)
    assert legs.__name__ == "legs"


def test_bad_annotations_raise_at_decoration(llama: Model) -> None:
    deco = corral.function(llama)

    def no_return(x: int):  # type: ignore[no-untyped-def]
        """Text."""

    with pytest.raises(TypeError, match="return annotation"):
        deco(no_return)

    def returns_none() -> None:
        """Text."""

    with pytest.raises(TypeError, match="cannot constrain"):
        deco(returns_none)

    def returns_opaque() -> Opaque:
        """Text."""

    with pytest.raises(TypeError, match="cannot describe"):
        deco(returns_opaque)

    def undocumented() -> int: ...

    with pytest.raises(TypeError, match="docstring"):
        deco(undocumented)

    def bad_field(x: int) -> int:
        """About {y}."""

    with pytest.raises(TypeError, match=r"\['y'\]"):
        deco(bad_field)

    def bad_regex() -> Annotated[str, corral.Regex("(")]:
        """Text."""

    with pytest.raises(TypeError, match="Regex"):
        deco(bad_regex)

    def regex_on_int() -> Annotated[int, corral.Regex("[0-9]")]:
        """Text."""

    with pytest.raises(TypeError, match="exactly one str"):
        deco(regex_on_int)


SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def test_constrained_injects_a_fresh_llama_processor(llama: Model) -> None:
    llm = llama.runtime.llm

    @corral.constrained(schema=SCHEMA, model=llama, max_tokens=16)
    def ask(prompt: str, logits_processor: Any = None) -> str:
        out = llm.create_completion(
            prompt, max_tokens=16, temperature=0.0, logits_processor=logits_processor
        )
        return str(out["choices"][0]["text"])

    for prompt in ("Is water wet? ", "Is fire cold? "):
        jsonschema.validate(json.loads(ask(prompt)), SCHEMA)


def test_constrained_injects_an_hf_processor(hf: Model) -> None:
    model, tok = hf.runtime.model, hf.runtime.hf_tokenizer

    @corral.constrained(regex=r"[0-9]{1,3}", model=hf, max_tokens=5)
    def ask(prompt: str, logits_processor: Any = None) -> str:
        batch = tok(prompt, return_tensors="pt")
        out = model.generate(
            **batch, max_new_tokens=5, do_sample=False, logits_processor=logits_processor
        )
        ids = [t for t in out[0, batch["input_ids"].shape[1] :].tolist() if t != tok.eos_token_id]
        return str(tok.decode(ids))

    assert ask("Count: ").isdigit()


def test_constrained_needs_a_processor_parameter(llama: Model) -> None:
    with pytest.raises(TypeError, match="logits_processor"):

        @corral.constrained(regex="a", model=llama)
        def f(prompt: str) -> str:
            return prompt
