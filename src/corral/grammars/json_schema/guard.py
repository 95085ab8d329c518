"""Bounds checked on a JSON Schema document before anything else reads it.

Decoding JSON text, walking the document, comparing and printing values all recurse or grow with
the input. :func:`load_schema` decodes schema text within the size bound and turns a too-deep
text (which would end the decoder in :class:`RecursionError`) or an integer too long for Python's
``int`` ↔ ``str`` conversion into a :class:`~corral.errors.GrammarError` with line and column.
:func:`check_document` then walks the whole document without recursion, so that everything
after it may recurse safely: nesting (schemas and data values alike) within
:attr:`~corral.limits.Limits.max_schema_depth`, integers within
:attr:`~corral.limits.Limits.max_number_digits`, ``enum`` arrays within
:attr:`~corral.limits.Limits.max_enum_values`, and the deadline checked as it goes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from corral.automata.nesting import deepest_point, line_column
from corral.errors import GrammarError
from corral.grammars.json_schema.refs import escape_token
from corral.limits import DEFAULT_LIMITS, Budget, Limits

__all__ = ["check_document", "load_schema", "short_pointer"]

_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.?)*(?:"|\Z)|[\[\]{}]', re.S)
_LONG_INT = re.compile(r"-?[0-9]{%d,}")
_LOG2_10 = 3.3219280948873626


def short_pointer(pointer: str, most: int = 80) -> str:
    """``pointer`` for a message: ``/`` for the root, elided in the middle when long."""
    if not pointer:
        return "/"
    if len(pointer) <= most:
        return pointer
    return pointer[: most // 2] + "/.../" + pointer[-most // 2 :]


def load_schema(schema: Any, limits: Limits | None = None) -> Any:
    """``schema`` decoded if it is JSON text (``str`` or ``bytes``), else ``schema`` itself.

    Raises
    ------
    GrammarError
        Text longer than ``max_schema_bytes``, not valid JSON, nested deeper than
        ``max_schema_depth`` or holding an integer longer than ``max_number_digits``.
    """
    if not isinstance(schema, (str, bytes)):
        return schema
    lim = limits if limits is not None else DEFAULT_LIMITS
    if len(schema) > lim.max_schema_bytes:
        raise GrammarError(
            f"JSON Schema larger than {lim.max_schema_bytes} bytes (Limits.max_schema_bytes)"
        )
    try:
        return json.loads(schema)
    except json.JSONDecodeError as exc:
        raise GrammarError(f"JSON Schema is not valid JSON: {exc}") from None
    except (RecursionError, ValueError):
        text = schema if isinstance(schema, str) else schema.decode("utf-8", "replace")
    where = deepest_point(text, _JSON_TOKENS, lim.max_schema_depth)
    what = f"nested deeper than {lim.max_schema_depth} (Limits.max_schema_depth)"
    if where is None:
        long = re.compile(_LONG_INT.pattern % (lim.max_number_digits + 1)).search(text)
        if long is None:
            raise GrammarError("JSON Schema text nested too deeply for the JSON decoder")
        where = long.start()
        what = f"an integer longer than {lim.max_number_digits} digits (Limits.max_number_digits)"
    line, col = line_column(text, where)
    raise GrammarError(
        f"JSON Schema text: {what} at line {line} column {col}", line=line, column=col
    )


def check_document(root: Any, limits: Limits, budget: Budget | None = None) -> None:
    """Walk the whole document (schemas and data values) iteratively and check its bounds.

    Raises
    ------
    GrammarError
        Nesting deeper than ``max_schema_depth``, an integer with more than
        ``max_number_digits`` digits or an ``enum`` of more than ``max_enum_values`` values,
        with the JSON pointer (also in the error's ``pointer`` attribute).
    DeadlineExceeded
        When ``budget``'s deadline passes.
    """
    max_bits = int(limits.max_number_digits * _LOG2_10) + 1
    stack: list[tuple[Any, str, int]] = [(root, "", 0)]
    steps = 0
    while stack:
        node, ptr, depth = stack.pop()
        steps += 1
        if budget is not None and steps & 4095 == 0:
            budget.check()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        elif isinstance(node, int) and not isinstance(node, bool):
            if node.bit_length() > max_bits:
                _fail(ptr, f"an integer longer than {limits.max_number_digits} digits "
                      "(Limits.max_number_digits)")  # fmt: skip
            continue
        else:
            continue
        if depth > limits.max_schema_depth:
            _fail(ptr, f"nested deeper than {limits.max_schema_depth} (Limits.max_schema_depth)")
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and len(enum) > limits.max_enum_values:
                _fail(ptr, f"an enum of {len(enum)} values, more than {limits.max_enum_values} "
                      "(Limits.max_enum_values)")  # fmt: skip
        for key, value in items:
            if isinstance(value, (dict, list, int)):
                stack.append((value, f"{ptr}/{escape_token(str(key))}", depth + 1))


def _fail(ptr: str, what: str) -> None:
    raise GrammarError(f"JSON Schema: {what} at {short_pointer(ptr)}", pointer=ptr)
