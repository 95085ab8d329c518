"""Write ``src/corral/grammars/json_schema/format_tables.npz`` again from the ``format``
constructions (after changing one of them; a unit test fails until the file is rewritten)::

    python scripts/build_format_tables.py [PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

from corral.grammars.json_schema.format_tables import TABLES_FILE, write_format_tables

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Write the tables to ``PATH`` (default: next to the module that reads them)."""
    default = ROOT / "src" / "corral" / "grammars" / "json_schema" / TABLES_FILE
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    names = write_format_tables(path)
    print(f"{path}: {len(names)} formats ({', '.join(names)})")


if __name__ == "__main__":
    main()
