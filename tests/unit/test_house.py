"""The house rules, checked: floors (imports only run downwards) and no process-wide state.

Floors, bottom up: ``corral.errors``/``corral.limits``; ``corral.tokenizers`` and
``corral.automata``; ``corral.grammars``; ``corral.constraint_engine``; ``corral.backends`` and
``corral.infill``; ``corral.testing``, ``corral.jsonschemabench`` and ``corral.cli``. A module
may import from its own package and from lower floors only (function-level and ``TYPE_CHECKING``
imports included); only the package façade ``corral/__init__.py`` may import from every floor,
and only the top floors (testing, the benchmark harness, the CLI) may import the façade.

No module global is written after import: globals are never rebound (no ``global`` statement),
no function-level caches (``functools.lru_cache``/``cache``), and a real workload (front-ends,
JSON Schema in two drafts, compile, masks, rollback, completion) leaves every module's globals,
mutable containers included, exactly as they were.
"""

from __future__ import annotations

import ast
import copy
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import corral

SRC = Path(corral.__file__).resolve().parent

FLOORS = {
    "_native": 0,
    "errors": 0,
    "limits": 0,
    "tokenizers": 1,
    "automata": 1,
    "grammars": 2,
    "constraint_engine": 3,
    "infill": 4,
    "backends": 5,
    "testing": 6,
    "jsonschemabench": 6,
    "cli": 7,
}
FACADE_USERS = 6  # floors from which the façade ``corral`` (all floors below) may be imported


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out.append((".".join(["corral", *parts]), path))
    return out


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_pkg:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if target == "corral":
                found.extend((node.lineno, f"corral.{a.name}") for a in node.names)
    return [(line, name) for line, name in found if name == "corral" or name.startswith("corral.")]


def test_every_package_has_a_floor() -> None:
    for module, _ in _modules():
        pkg = _package(module)
        assert pkg is None or pkg in FLOORS or pkg == "__main__", module


def test_imports_only_run_downwards() -> None:
    wrong = []
    for module, path in _modules():
        pkg = _package(module)
        if pkg is None:  # the package façade: corral/__init__.py
            continue
        floor = FLOORS[pkg]
        for line, target in _imports(path, module):
            tpkg = _package(target)
            if tpkg is None:
                if floor < FACADE_USERS:
                    wrong.append(f"{module}:{line} imports the façade 'corral'")
                continue
            if tpkg == pkg:
                continue
            tfloor = FLOORS.get(tpkg)
            if tfloor is None or tfloor > floor or (tfloor == floor and tfloor != 0):
                wrong.append(f"{module}:{line} ({pkg}, floor {floor}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_global_statement_and_no_function_caches() -> None:
    wrong = []
    for module, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                wrong.append(f"{module}:{node.lineno}: global {', '.join(node.names)}")
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for dec in node.decorator_list:
                    name = ast.unparse(dec)
                    if "lru_cache" in name or name in ("cache", "functools.cache"):
                        wrong.append(f"{module}:{node.lineno}: @{name} on {node.name}")
    assert not wrong, "\n".join(wrong)


def _snapshot(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (dict, list, set, bytearray)) or type(value).__name__ in (
        "WeakKeyDictionary",
        "WeakValueDictionary",
        "OrderedDict",
        "defaultdict",
        "deque",
    ):
        try:
            return ("container", repr(copy.deepcopy(value)))
        except Exception:
            return ("container", repr(value))
    return ("id", id(value))


def _all_globals() -> dict[tuple[str, str], Any]:
    for info in pkgutil.walk_packages([str(SRC)], prefix="corral."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    out = {}
    for name, mod in sorted(
        (n, m) for n, m in __import__("sys").modules.items() if n.startswith("corral")
    ):
        for key, value in vars(mod).items():
            if key.startswith("__") and key.endswith("__"):
                continue
            out[(name, key)] = _snapshot(value)
    return out


def _workload() -> None:
    tok = corral.Tokenizer.default()
    grammars = [
        corral.Grammar.from_file(str(SRC / "grammars" / "library" / "json.lark")),
        corral.Grammar.from_file(str(SRC / "grammars" / "library" / "arithmetic.lark")),
        corral.Grammar.from_gbnf('root ::= "a" [0-9]+ | "b"'),
        corral.Grammar.from_regex(r"[a-z]{2,5}@(x|y)\.com"),
        corral.Grammar.from_choices(["red", "green", "blue"]),
        corral.Grammar.from_json_schema(
            {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "pattern": "^[a-c]+$", "maxLength": 4},
                    "b": {"type": "integer", "minimum": 3, "multipleOf": 2},
                    "c": {"oneOf": [{"type": "null"}, {"type": "number", "maximum": 1.5}]},
                },
                "required": ["a"],
            }
        ),
        corral.Grammar.from_json_schema(
            {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}
        ),
    ]
    for grammar in grammars:
        compiled = corral.compile(grammar, tok)
        matcher = corral.Matcher(compiled)
        bitmask = corral.allocate_token_bitmask(1, compiled.vocab_size)
        for _ in range(6):
            matcher.fill_next_token_bitmask(bitmask)
            allowed = matcher.allowed_tokens()
            if not allowed:
                break
            if not matcher.accept_token(allowed[len(allowed) // 2]):
                break
        matcher.forced_bytes()
        completion = getattr(matcher, "shortest_completion", None)
        if completion is not None:
            completion()
        matcher.rollback(1)


@pytest.mark.slow
def test_no_module_global_is_written_after_import() -> None:
    before = _all_globals()
    _workload()
    after = _all_globals()
    changed = sorted(
        f"{mod}.{name}"
        for key in before.keys() & after.keys()
        if before[key] != after[key]
        for mod, name in [key]
    )
    added = sorted(
        f"{m}.{n}" for m, n in after.keys() - before.keys() if m in {k[0] for k in before}
    )
    assert not changed and not added, f"changed: {changed}\nadded: {added}"
