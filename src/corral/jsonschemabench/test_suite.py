"""The JSON-Schema-Test-Suite, draft 2020-12, as benchmark cases.

The official suite (https://github.com/json-schema-org/JSON-Schema-Test-Suite) ships inside the
``jsonschema`` source distribution under ``json/tests/``. Each file is a list of groups
``{"description", "schema", "tests": [{"description", "data", "valid"}]}``; each group becomes
one :class:`~corral.jsonschemabench.loader.Case` whose split is the file's keyword (its name
without ``.json``; ``format/<name>`` for the optional format-assertion files) and whose name is
``<keyword>#<group index>``.

corral asserts ``format`` (the draft 2020-12 format-assertion vocabulary, the semantics the
optional format files test), whereas ``format.json`` checks the default annotation-only
semantics: its 19 instances described "invalid <format> string is only an annotation by
default" are labelled valid. With ``format_assertion=True`` (the default) those instances are
relabelled invalid, as they are under format assertion; nothing is dropped.

The sdist's path is a parameter or ``$CORRAL_TEST_SUITE_SDIST`` (the command line defaults to
``.cache/jsonschema-<version>.tar.gz`` relative to the current directory and fetches it there
with ``pip download`` when missing); it is read in place with :mod:`tarfile`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from corral.jsonschemabench.loader import Case, TestInstance
from corral.jsonschemabench.report import Summary, summarize_by
from corral.jsonschemabench.runner import Record

__all__ = [
    "FORMATS",
    "JSONSCHEMA_VERSION",
    "SDIST_ENV_VAR",
    "SDIST_NAME",
    "find_sdist",
    "keyword_table",
    "load_suite",
    "member_keyword",
]

JSONSCHEMA_VERSION = "4.26.0"
FORMATS: tuple[str, ...] = (
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
    "uri",
    "uri-reference",
)
_DRAFT_DIR = "json/tests/draft2020-12/"
SDIST_ENV_VAR = "CORRAL_TEST_SUITE_SDIST"
SDIST_NAME = f"jsonschema-{JSONSCHEMA_VERSION}.tar.gz"


def find_sdist(path: Path | str | None = None, *, download: bool = False) -> Path:
    """Return the path of the ``jsonschema`` sdist holding the test suite.

    Parameters
    ----------
    path:
        The sdist file (``jsonschema-<JSONSCHEMA_VERSION>.tar.gz``); ``$CORRAL_TEST_SUITE_SDIST``
        when ``None``.
    download:
        Whether to fetch the sdist into the file's folder with ``pip download`` when missing.

    Raises
    ------
    FileNotFoundError
        If no path is given or set, or the file is missing and could not be downloaded.
    """
    if path is None:
        env = os.environ.get(SDIST_ENV_VAR)
        if not env:
            raise FileNotFoundError(
                f"JSON-Schema-Test-Suite sdist not given: pass its path or set ${SDIST_ENV_VAR} "
                f"(a {SDIST_NAME} from: pip download --no-deps --no-binary=:all: "
                f"jsonschema=={JSONSCHEMA_VERSION})"
            )
        path = env
    file = Path(path)
    if file.is_file():
        return file
    folder = file.parent
    if download:
        folder.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary=:all:",
            f"jsonschema=={JSONSCHEMA_VERSION}",
            "-d",
            str(folder),
        ]
        subprocess.run(command, check=False, capture_output=True, timeout=300)
        if file.is_file():
            return file
    raise FileNotFoundError(
        f"{file} missing; run: pip download --no-deps --no-binary=:all: "
        f"jsonschema=={JSONSCHEMA_VERSION} -d {folder}"
    )


def member_keyword(member: str) -> str | None:
    """The keyword of an sdist member's path, or ``None`` when the member is not loaded.

    ``.../json/tests/draft2020-12/<keyword>.json`` gives ``<keyword>``;
    ``.../draft2020-12/optional/format/<f>.json`` gives ``format/<f>`` for ``f`` in
    :data:`FORMATS`; anything else gives ``None``.
    """
    _, sep, rest = member.partition(_DRAFT_DIR)
    if not sep or not rest.endswith(".json"):
        return None
    stem = rest[: -len(".json")]
    if "/" not in stem:
        return stem
    if stem.startswith("optional/format/") and stem.count("/") == 2:
        fmt = stem.rsplit("/", 1)[1]
        return f"format/{fmt}" if fmt in FORMATS else None
    return None


ANNOTATION_ONLY_SUFFIX = "is only an annotation by default"


def _label(keyword: str, test: dict[str, object], format_assertion: bool) -> bool:
    description = str(test.get("description", ""))
    if format_assertion and keyword == "format" and description.endswith(ANNOTATION_ONLY_SUFFIX):
        return False
    return bool(test["valid"])


def load_suite(
    sdist: Path | None = None,
    keywords: Iterable[str] | None = None,
    *,
    format_assertion: bool = True,
) -> list[Case]:
    """Load the draft 2020-12 cases (and the chosen optional format files).

    Parameters
    ----------
    sdist:
        The ``jsonschema`` sdist; :func:`find_sdist` when ``None``.
    keywords:
        Keep only these keywords (file names); all when ``None``.
    format_assertion:
        Label ``format.json``'s annotation-only instances invalid (see the module docstring).

    Returns
    -------
    list[Case]
        Ordered by keyword, then group index.
    """
    wanted = None if keywords is None else set(keywords)
    files: dict[str, list[object]] = {}
    with tarfile.open(sdist or find_sdist(), "r:gz") as tar:
        for member in tar.getmembers():
            keyword = member_keyword(member.name)
            if keyword is None or (wanted is not None and keyword not in wanted):
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            files[keyword] = json.loads(handle.read().decode("utf-8"))
    if wanted is not None and wanted - files.keys():
        raise ValueError(f"unknown keyword file(s): {sorted(wanted - files.keys())}")
    cases: list[Case] = []
    for keyword in sorted(files):
        groups = files[keyword]
        if not isinstance(groups, list):
            raise ValueError(f"{keyword}: expected a list of groups")
        for index, group in enumerate(groups):
            if not isinstance(group, dict):
                raise ValueError(f"{keyword}#{index}: expected an object")
            tests = tuple(
                TestInstance(
                    _label(keyword, t, format_assertion), t["data"], str(t.get("description", ""))
                )
                for t in group["tests"]
            )
            cases.append(Case(keyword, f"{keyword}#{index}", group["schema"], tests))
    return cases


KEYWORD_COLUMNS = (
    "keyword",
    "schemas",
    "cases",
    "compiled",
    "refused",
    "errors",
    "timeouts",
    "passing schemas",
    "wrong verdicts",
)


def keyword_table(records: Sequence[Record]) -> str:
    """A markdown table per keyword file: schemas, test cases, compiled, refused, passing.

    "cases" counts test instances; "wrong verdicts" counts valid instances rejected plus
    invalid instances accepted, over compiled schemas.
    """
    by_keyword: list[Summary] = summarize_by(records)
    cases: dict[str, int] = {}
    for r in records:
        cases[r.split] = cases.get(r.split, 0) + r.n_valid + r.n_invalid
    cases["total"] = sum(r.n_valid + r.n_invalid for r in records)
    lines = ["| " + " | ".join(KEYWORD_COLUMNS) + " |", "|" + "---|" * len(KEYWORD_COLUMNS)]
    for s in by_keyword:
        cells = [
            s.label,
            str(s.schemas),
            str(cases.get(s.label, 0)),
            str(s.compiled),
            str(s.refused),
            str(s.errors),
            str(s.timeouts),
            str(s.passing),
            str(s.valid_rejected + s.invalid_accepted),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
