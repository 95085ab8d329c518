"""The ``format`` automata, built once, committed and shipped with corral as tables.

Building the automata of :mod:`~corral.grammars.json_schema.formats` takes 1-90 ms each (the
``time`` and ``date-time`` explorations have 11,000 states, ``hostname`` 23,810, the URI and
e-mail regexes are long), paid by the first schema that names the format in every process —
for the command line, every run. Their minimal automata are data: this module writes each
one's table over its byte classes, its classes and its accepting states into
``format_tables.npz`` (about 200 KB compressed), and reads one back in a millisecond or two.

The file is generated, never edited: ``python scripts/build_format_tables.py`` writes it
again from the constructions, and a test checks that every table in it equals what
the construction gives now, array for array. Minimisation numbers states and classes
canonically, so equal languages give equal arrays.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from corral.automata.dfa import ByteDFA

__all__ = ["TABLES_FILE", "load_format_table", "table_arrays", "write_format_tables"]

TABLES_FILE = "format_tables.npz"
"""The file name of the shipped tables, next to this module."""

_PARTS = ("table", "classes", "accepting")


def table_arrays(dfa: ByteDFA) -> dict[str, np.ndarray]:
    """The arrays that stand for ``dfa``: its table over byte classes (``int32``), the class
    of each byte (``uint8``) and its accepting states (``bool``)."""
    _width, classes, table = dfa.class_table()
    return {
        "table": np.ascontiguousarray(table, dtype=np.int32),
        "classes": np.ascontiguousarray(classes, dtype=np.uint8),
        "accepting": np.ascontiguousarray(dfa.accepting, dtype=bool),
    }


def load_format_table(name: str) -> ByteDFA | None:
    """The shipped automaton of format ``name``, or ``None`` when the file has none.

    Each call reads the file again (no module-level cache): callers that want to share the
    automaton keep it in their :class:`~corral.automata.cache.AutomataCache`.
    """
    source = resources.files(__package__).joinpath(TABLES_FILE)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return None
    with np.load(io.BytesIO(data), allow_pickle=False) as shipped:
        keys = [f"{name}/{part}" for part in _PARTS]
        if not all(key in shipped.files for key in keys):
            return None
        table, classes, accepting = (shipped[key] for key in keys)
    return ByteDFA.from_canonical(table, classes, accepting)


def write_format_tables(path: Path) -> list[str]:
    """Build every format's automaton from its definition and write the tables to ``path``.

    Returns
    -------
    list of str
        The formats written, sorted.
    """
    from corral.grammars.json_schema.formats import KNOWN_FORMATS, build_format_dfa

    arrays: dict[str, np.ndarray] = {}
    names = sorted(KNOWN_FORMATS)
    for name in names:
        dfa = build_format_dfa(name)
        assert dfa is not None
        for part, array in table_arrays(dfa).items():
            arrays[f"{name}/{part}"] = array
    with path.open("wb") as out:
        save: Any = np.savez_compressed  # its keyword arguments are the arrays' names
        save(out, **arrays)
    return names
