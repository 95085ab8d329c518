"""The JSON Schema vocabulary as corral sees it: which keywords are assertions, which annotations.

Draft 2020-12 (Core §7.7, Validation §6–§9), with the draft 4/6/7/2019-09 spellings that the same
validators accept. Annotation and content keywords never constrain a value (Validation §8–§9), so
ignoring them is exact; unknown keywords are ignored by every validator as well.
"""

from __future__ import annotations

__all__ = ["ANNOTATIONS", "ASSERTIONS", "STRUCTURAL", "draft_of"]

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
