"""Compare two OpenAPI 3.0 / 3.1 documents and classify each change *for clients*.

The differ moved into the package as :mod:`toloka_ext._specdiff` (the wheel's
``toloka-ext spec diff|pull`` uses it). This module *is* that module under its old name:
``from scripts.specdiff import X`` (any name), patching ``scripts.specdiff.X`` and
``python scripts/specdiff.py OLD NEW [--format text|markdown|json]`` / ``--rules`` behave
exactly as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/specdiff.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toloka_ext import _specdiff

if __name__ == "__main__":
    raise SystemExit(_specdiff.main())

# One module object under both names, so a test that patches one patches the other.
sys.modules[__name__] = _specdiff
