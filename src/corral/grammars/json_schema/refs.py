"""Reference resolution for JSON Schema: ``$id`` base URIs, ``$anchor``, JSON pointers.

Follows JSON Schema Core 2020-12 §8.2 (base URI and embedded resources, RFC 3986 §5 reference
resolution) and RFC 6901 (JSON pointer). Every subschema of the root document is addressed by
its JSON pointer from the document root; ``$ref`` values resolve to such pointers. References to
any other document are refused (corral never reads the network or the disk at compile time).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from corral.limits import DEFAULT_LIMITS

__all__ = ["RefError", "Resolver", "escape_token", "join_pointer"]

ROOT_URI = "corral:root"
MAX_NODES = DEFAULT_LIMITS.max_schema_nodes
MAX_DEPTH = DEFAULT_LIMITS.max_schema_depth

# Keywords whose values are data, not schemas: never searched for $id/$anchor.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})


class RefError(ValueError):
    """A reference that cannot be resolved (remote, missing, malformed)."""


def escape_token(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901 §3)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """Append reference tokens to a JSON pointer."""
    return pointer + "".join("/" + escape_token(str(t)) for t in tokens)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class Resolver:
    """Index of one schema document: subschemas by pointer, base URIs, ids and anchors.

    Parameters
    ----------
    root:
        The root schema (a dict or a boolean).
    id_keyword:
        ``"$id"``, or ``"id"`` for draft 4 and earlier.
    max_nodes, max_depth:
        Bounds on the document (:class:`~corral.limits.Limits` ``max_schema_nodes`` and
        ``max_schema_depth``).
    """

    def __init__(
        self, root: Any, *, id_keyword: str = "$id", max_nodes: int = MAX_NODES,
        max_depth: int = MAX_DEPTH,
    ) -> None:  # fmt: skip
        self.root = root
        self.id_keyword = id_keyword
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.base: dict[str, str] = {}
        self.resources: dict[str, str] = {}  # absolute URI (no fragment) -> pointer
        self.anchors: dict[tuple[str, str], str] = {}
        self.n_nodes = 0
        self._index(root, "", ROOT_URI, 0)
        self.resources.setdefault(ROOT_URI, "")

    def _index(self, node: Any, pointer: str, base: str, depth: int) -> None:
        self.n_nodes += 1
        if self.n_nodes > self.max_nodes:
            raise RefError(f"schema too large (over {self.max_nodes} nodes)")
        if depth > self.max_depth:
            raise RefError(f"schema nested deeper than {self.max_depth} levels at {pointer or '/'}")
        if isinstance(node, dict):
            sid = node.get(self.id_keyword)
            if isinstance(sid, str):
                new_base, _ = urldefrag(urljoin(base, sid))
                if new_base:
                    base = new_base
                    self.resources.setdefault(base, pointer)
            self.base[pointer] = base
            anchor = node.get("$anchor")
            if isinstance(anchor, str):
                self.anchors.setdefault((base, anchor), pointer)
            # draft 6/7 spell a plain-name anchor as "$id": "#name"
            if isinstance(sid, str) and sid.startswith("#") and len(sid) > 1:
                self.anchors.setdefault((base, sid[1:]), pointer)
            for key, value in node.items():
                if key in _DATA_KEYWORDS:
                    continue
                if isinstance(value, (dict, list)):
                    self._index(value, join_pointer(pointer, key), base, depth + 1)
        elif isinstance(node, list):
            self.base[pointer] = base
            for i, value in enumerate(node):
                if isinstance(value, (dict, list)):
                    self._index(value, join_pointer(pointer, i), base, depth + 1)

    def get(self, pointer: str) -> Any:
        """The node at ``pointer`` (from the document root)."""
        node = self.root
        if pointer == "":
            return node
        for raw in pointer[1:].split("/"):
            token = _unescape(raw)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise RefError(f"JSON pointer {pointer!r} does not exist in the schema")
        return node

    def base_of(self, pointer: str) -> str:
        """Base URI in effect at ``pointer``."""
        while pointer not in self.base and pointer:
            pointer = pointer.rsplit("/", 1)[0]
        return self.base.get(pointer, ROOT_URI)

    def resolve(self, ref: str, at: str) -> str:
        """Resolve a ``$ref`` value found in the schema at ``at`` to a document pointer."""
        base = self.base_of(at)
        target = urljoin(base, ref) if not ref.startswith("#") else base + ref
        uri, fragment = urldefrag(target)
        if uri not in self.resources:
            raise RefError(f"remote or unknown reference {ref!r} (resolved to {uri or ref!r})")
        res_ptr = self.resources[uri]
        fragment = unquote(fragment)
        if fragment == "":
            pointer = res_ptr
        elif fragment.startswith("/"):
            pointer = res_ptr + fragment
        else:
            got = self.anchors.get((uri, fragment))
            if got is None:
                raise RefError(f"unknown anchor {fragment!r} in reference {ref!r}")
            pointer = got
        self.get(pointer)  # raises if missing
        return pointer
