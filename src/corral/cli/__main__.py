"""``python -m corral.cli``: the ``corral`` command line."""

from __future__ import annotations

from corral.cli import main

raise SystemExit(main())
