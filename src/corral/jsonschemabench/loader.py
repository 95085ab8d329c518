"""Load JSONSchemaBench cases: one JSON Schema with its valid and invalid test instances.

The data are the public JSONSchemaBench / MaskBench files (Geng et al. 2025, "Generating
Structured Outputs from Language Models: Benchmark and Studies", arXiv:2501.10868), one file per
schema, ``{"schema": ..., "tests": [{"valid": bool, "data": ...}, ...]}``, one folder per split.
They are read in place from a directory given as a parameter or by ``$CORRAL_JSONSCHEMABENCH``
(the command line defaults to ``../shared/jsonschemabench`` relative to the current directory)
and never copied.

The fixed samples are systematic samples (every k-th file of each split in sorted name order),
so that a sample is the same on every machine and keeps the proportions of the splits.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "SPLITS",
    "Case",
    "TestInstance",
    "every_kth",
    "find_data_dir",
    "iter_cases",
    "list_files",
    "load_case",
    "stride_for",
]

SPLITS: tuple[str, ...] = (
    "Github_trivial",
    "Github_easy",
    "Github_medium",
    "Glaiveai2K",
    "Snowplow",
    "WashingtonPost",
    "BFCL",
    "JME",
    "Handwritten",
    "Synthesized",
    "MCPspec",
)

ENV_VAR = "CORRAL_JSONSCHEMABENCH"


@dataclass(frozen=True)
class TestInstance:
    """One test instance of a schema: a JSON value and whether the schema accepts it."""

    __test__ = False  # not a pytest test class

    valid: bool
    data: Any
    description: str = ""


@dataclass(frozen=True)
class Case:
    """One benchmark schema with its test instances.

    Attributes
    ----------
    split:
        The split (folder) name, e.g. ``"Github_easy"``.
    name:
        The file's stem, unique over all splits, e.g. ``"Github_easy---o10008"``.
    schema:
        The JSON Schema (a ``dict`` or a ``bool``).
    tests:
        The test instances, possibly none.
    """

    split: str
    name: str
    schema: Any
    tests: tuple[TestInstance, ...]


def find_data_dir(root: Path | str | None = None) -> Path:
    """Locate the JSONSchemaBench directory.

    Parameters
    ----------
    root:
        The directory; ``$CORRAL_JSONSCHEMABENCH`` when ``None``.

    Returns
    -------
    Path
        The directory holding one folder per split.

    Raises
    ------
    FileNotFoundError
        If neither ``root`` nor the environment variable names an existing directory.
    """
    if root is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise FileNotFoundError(
                f"JSONSchemaBench data directory not given: pass it or set ${ENV_VAR}"
            )
        path, origin = Path(env), f"${ENV_VAR} = {env!r}"
    else:
        path, origin = Path(root), repr(str(root))
    if not path.is_dir():
        raise FileNotFoundError(f"JSONSchemaBench data directory {origin} is not a directory")
    return path


def list_files(root: Path, splits: Iterable[str] | None = None) -> list[tuple[str, Path]]:
    """List ``(split, file)`` pairs, splits in :data:`SPLITS` order, files sorted by name.

    Parameters
    ----------
    root:
        The data directory (see :func:`find_data_dir`).
    splits:
        The splits to list; all of :data:`SPLITS` when ``None``.

    Raises
    ------
    ValueError
        If a split is unknown or its folder is missing.
    """
    chosen = list(SPLITS) if splits is None else list(splits)
    unknown = [s for s in chosen if s not in SPLITS]
    if unknown:
        raise ValueError(f"unknown split(s) {unknown}; known: {', '.join(SPLITS)}")
    out: list[tuple[str, Path]] = []
    for split in chosen:
        folder = root / split
        if not folder.is_dir():
            raise ValueError(f"split folder {folder} is missing")
        out.extend((split, p) for p in sorted(folder.glob("*.json"), key=lambda p: p.name))
    return out


def every_kth(files: Sequence[tuple[str, Path]], k: int) -> list[tuple[str, Path]]:
    """Keep the 1st, (k+1)-th, (2k+1)-th, ... file of each split (a systematic sample).

    Parameters
    ----------
    files:
        ``(split, file)`` pairs as returned by :func:`list_files`.
    k:
        The stride, at least 1 (1 keeps everything).
    """
    if k < 1:
        raise ValueError(f"stride must be at least 1, not {k}")
    seen: dict[str, int] = {}
    out: list[tuple[str, Path]] = []
    for split, path in files:
        index = seen.get(split, 0)
        seen[split] = index + 1
        if index % k == 0:
            out.append((split, path))
    return out


def stride_for(files: Sequence[tuple[str, Path]], size: int) -> int:
    """The largest stride k for which :func:`every_kth` keeps at least ``size`` files.

    Keeping ``sum(ceil(n_split / k))`` files, it is 1 when ``size`` is at least the number of
    files.
    """
    if size < 1:
        raise ValueError(f"sample size must be at least 1, not {size}")
    counts: dict[str, int] = {}
    for split, _ in files:
        counts[split] = counts.get(split, 0) + 1
    k = max(1, len(files))
    while k > 1 and sum(math.ceil(n / k) for n in counts.values()) < size:
        k -= 1
    return k


def load_case(split: str, path: Path) -> Case:
    """Read one benchmark file.

    Raises
    ------
    ValueError
        If the file is not of the expected shape.
    """
    with path.open(encoding="utf-8") as f:
        raw = json.load(f)
    if not isinstance(raw, dict) or "schema" not in raw:
        raise ValueError(f"{path}: not a benchmark case (no 'schema')")
    tests_raw = raw.get("tests", [])
    if not isinstance(tests_raw, list):
        raise ValueError(f"{path}: 'tests' is not a list")
    tests: list[TestInstance] = []
    for i, t in enumerate(tests_raw):
        if not isinstance(t, dict) or not isinstance(t.get("valid"), bool) or "data" not in t:
            raise ValueError(f"{path}: test {i} lacks a boolean 'valid' or 'data'")
        tests.append(TestInstance(t["valid"], t["data"], str(t.get("description", ""))))
    return Case(split, path.stem, raw["schema"], tuple(tests))


def iter_cases(
    root: Path | None = None,
    splits: Iterable[str] | None = None,
    stride: int = 1,
) -> Iterator[Case]:
    """Iterate over the cases, splits in :data:`SPLITS` order, files by name.

    Parameters
    ----------
    root:
        The data directory; :func:`find_data_dir` when ``None``.
    splits:
        The splits; all when ``None``.
    stride:
        Keep every ``stride``-th file of each split (see :func:`every_kth`).
    """
    files = every_kth(list_files(root or find_data_dir(), splits), stride)
    for split, path in files:
        yield load_case(split, path)
