"""Canonical texts of JSON container items, for run-time ``uniqueItems`` over containers.

An array or object item of a ``uniqueItems`` array is written in free whitespace and, for an
object, in free member order, so its text is not canonical; its scalars are (corral writes each
scalar in one text, ``docs/design/json_schema.md``). Two such items are equal JSON values exactly
when their :func:`canonical` texts are equal: whitespace outside strings dropped and the members
of every object sorted by key text (byte order; keys are canonical strings), a key written twice
keeping its last value, as JSON parsers do. This is the executable specification of the native
``corral_uq_canonical`` (``csrc/engine_unique_values.c``); both work without recursion, so
nesting depth is bounded only by memory.

The algorithm: one pass splits the text into tokens (``[``, ``{``, ``]``, ``}``, keys and scalars)
and builds the tree as arrays of node records; a second, iterative post-order pass writes each
node's canonical text from its children's, sorting object members stably by key (merge sort)
and keeping the last of equal keys.
"""

from __future__ import annotations

__all__ = ["canonical"]

_WS = frozenset(b" \t\n\r,:")


def canonical(text: bytes) -> bytes:
    """The canonical text of the JSON value ``text`` (a value of corral's output language:
    canonical scalars, any whitespace, objects in any member order). Any other bytes give some
    text, the same as the native twin's, without error."""
    # nodes: kind (0 scalar, 1 array, 2 object), span of the scalar, key span, children
    kind: list[int] = []
    span: list[tuple[int, int]] = []
    key: list[tuple[int, int]] = []
    kids: list[list[int]] = []
    stack: list[int] = []
    pending_key = (-1, -1)
    i, n = 0, len(text)
    root = -1
    while i < n:
        b = text[i]
        if b in _WS:
            i += 1
            continue
        if b in (0x5D, 0x7D):
            if stack:
                stack.pop()
            i += 1
            continue
        end = i + 1
        if b == 0x22:
            while end < n and text[end] != 0x22:
                end += 2 if text[end] == 0x5C else 1
            end = end + 1 if end < n else n
        elif b not in (0x5B, 0x7B):
            while end < n and text[end] not in _WS and text[end] not in (0x5D, 0x7D):
                end += 1
        if stack and kind[stack[-1]] == 2 and pending_key[0] < 0:
            pending_key = (i, end)
            i = end
            continue
        node = len(kind)
        kind.append(1 if b == 0x5B else 2 if b == 0x7B else 0)
        span.append((i, end))
        key.append(pending_key)
        kids.append([])
        pending_key = (-1, -1)
        if stack:
            kids[stack[-1]].append(node)
        elif root < 0:
            root = node
        if b in (0x5B, 0x7B):
            stack.append(node)
        i = end
    if root < 0:
        return b""
    out: list[bytes] = [b""] * len(kind)
    todo = [(root, False)]
    while todo:
        node, ready = todo.pop()
        if kind[node] == 0:
            a, z = span[node]
            out[node] = text[a:z]
            continue
        if not ready:
            todo.append((node, True))
            todo.extend((c, False) for c in kids[node])
            continue
        if kind[node] == 1:
            out[node] = b"[" + b",".join(out[c] for c in kids[node]) + b"]"
            continue
        members = sorted(kids[node], key=lambda c: text[key[c][0] : key[c][1]])  # stable
        kept = [
            c
            for k, c in enumerate(members)
            if k + 1 == len(members)
            or text[key[c][0] : key[c][1]] != text[key[members[k + 1]][0] : key[members[k + 1]][1]]
        ]
        out[node] = (
            b"{" + b",".join(text[key[c][0] : key[c][1]] + b":" + out[c] for c in kept) + b"}"
        )
    return out[root]
