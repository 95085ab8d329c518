"""The JSON Schema vocabulary as corral sees it: which keywords are assertions, which annotations.

Draft 2020-12 (Core §7.7, Validation §6–§9), with the draft 4/6/7/2019-09 spellings that the same
validators accept. Annotation and content keywords never constrain a value (Validation §8–§9), so
ignoring them is exact; unknown keywords are ignored by every validator as well.
"""

from __future__ import annotations

import re
from typing import Any

from corral.errors import GrammarError

__all__ = [
    "ANNOTATIONS",
    "ASSERTIONS",
    "KNOWN_META",
    "NOT_IN_DRAFT",
    "STRUCTURAL",
    "check_shapes",
    "draft_of",
]

ANNOTATIONS = frozenset(
    {
        "title", "description", "default", "examples", "example", "$comment", "deprecated",
        "readOnly", "writeOnly", "contentMediaType", "contentEncoding", "contentSchema",
        "$schema", "$id", "id", "$anchor", "$vocabulary", "$dynamicAnchor", "$recursiveAnchor",
        "$defs", "definitions", "discriminator", "nullable_annotation", "markdownDescription",
        "x-", "errorMessage",
    }
)  # fmt: skip

ASSERTIONS = frozenset(
    {
        "type", "enum", "const", "properties", "required", "additionalProperties",
        "patternProperties", "propertyNames", "minProperties", "maxProperties",
        "dependentRequired", "dependentSchemas", "dependencies", "items", "prefixItems",
        "additionalItems", "minItems", "maxItems", "contains", "minContains", "maxContains",
        "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "anyOf", "allOf", "oneOf", "not",
        "if", "then", "else", "$ref", "$dynamicRef", "$recursiveRef", "unevaluatedProperties",
        "unevaluatedItems",
    }
)  # fmt: skip

# Keywords whose handling is structural (they are reported where they take effect).
STRUCTURAL = frozenset({"$defs", "definitions", "then", "else"})


def draft_of(root: object) -> int:
    """The draft year/number a schema declares with ``$schema`` (2020 when absent or unknown)."""
    if not isinstance(root, dict):
        return 2020
    uri = root.get("$schema")
    if not isinstance(uri, str):
        return 2020
    for tag, draft in (("draft-03", 3), ("draft-04", 4), ("draft-06", 6), ("draft-07", 7)):
        if tag in uri:
            return draft
    if "2019-09" in uri:
        return 2019
    return 2020


KNOWN_META = re.compile(
    r"^https?://json-schema\.org/(draft-0[3467]/schema|draft/(2019-09|2020-12)/schema)#?$"
)
_LATER = frozenset({"dependentRequired", "dependentSchemas", "prefixItems", "minContains",
                    "maxContains", "unevaluatedItems", "unevaluatedProperties",
                    "$dynamicRef", "$recursiveRef"})  # fmt: skip
NOT_IN_DRAFT: dict[int, frozenset[str]] = {
    3: _LATER | {"const", "contains", "propertyNames", "if", "then", "else"},
    4: _LATER | {"const", "contains", "propertyNames", "if", "then", "else"},
    6: _LATER | {"if", "then", "else"},
    7: _LATER,
    2019: frozenset({"prefixItems", "$dynamicRef"}),
}
"""Keywords a validator of the declared draft does not know, hence ignores (as jsonschema's)."""

_COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
           "minContains", "maxContains")  # fmt: skip
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMAS = ("not", "if", "then", "else", "additionalProperties", "propertyNames", "contains",
            "additionalItems", "unevaluatedItems", "unevaluatedProperties")  # fmt: skip


def check_shapes(node: dict[str, Any], ptr: str) -> None:
    """Malformed keyword values raise :class:`GrammarError` (a schema, not a guess)."""

    def bad(kw: str, what: str) -> GrammarError:
        return GrammarError(f"{ptr or '/'}: '{kw}' must be {what}, not {node[kw]!r:.60}")

    for kw in _SCHEMA_LISTS:
        v = node.get(kw)
        if kw in node and not (isinstance(v, list) and v and
                               all(isinstance(x, (dict, bool)) for x in v)):  # fmt: skip
            raise bad(kw, "a non-empty array of schemas")
    for kw in _SCHEMA_MAPS:
        v = node.get(kw)
        if kw in node and not (isinstance(v, dict) and
                               all(isinstance(x, (dict, bool)) for x in v.values())):  # fmt: skip
            raise bad(kw, "an object of schemas")
    for kw in _SCHEMAS:
        if kw in node and not isinstance(node[kw], (dict, bool)):
            raise bad(kw, "a schema")
    items = node.get("items")
    if "items" in node and not isinstance(items, (dict, bool, list)):
        raise bad("items", "a schema")
    req = node.get("required")
    if "required" in node and not isinstance(req, (list, bool)):
        raise bad("required", "an array of strings")
    if "enum" in node and not isinstance(node["enum"], list):
        raise bad("enum", "an array")
    for kw in _COUNTS:
        v = node.get(kw)
        if kw in node and (isinstance(v, bool) or not isinstance(v, (int, float))
                           or v != int(v) or v < 0):  # fmt: skip
            raise bad(kw, "a non-negative integer")
