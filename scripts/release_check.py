"""Before anything is published: the tag, the version, the changelog, the API baseline and
the README agree (the release workflow's first step).

    python scripts/release_check.py v0.2.0     # exit 0: ready; 1: what to fix, one per line

* the tag is ``v`` + ``toloka_ext/_version.py``'s version;
* CHANGELOG.md has a dated section for it (``## [0.2.0] - 2026-12-24``), not ``unreleased``;
* the API baseline (``api/``) records this version: ``make api-check ARGS=--write`` was run
  for the release, so the next release is checked against this one;
* the README no longer says the package is not on PyPI.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PUBLISHED = "not on PyPI yet"
"""The README's words while nothing is published (its install section says how else)."""


def problems(tag: str, root: Path = ROOT) -> list[str]:
    found: list[str] = []
    text = (root / "toloka_ext" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    version = match[1] if match else "?"
    if tag != f"v{version}":
        found.append(f"the tag {tag} is not v{version} (toloka_ext/_version.py)")
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    heading = re.search(rf"^## \[{re.escape(version)}\](.*)$", changelog, re.M)
    if heading is None:
        found.append(f"CHANGELOG.md has no section ## [{version}]")
    elif not re.fullmatch(r" - \d{4}-\d{2}-\d{2}\s*", heading[1]):
        found.append(
            f"CHANGELOG.md: ## [{version}]{heading[1]} is not dated (## [{version}] - YYYY-MM-DD)"
        )
    for name in ("toloka_ext.json", "cli.json"):
        try:
            recorded = json.loads((root / "api" / name).read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError) as exc:
            found.append(f"api/{name}: unreadable ({exc})")
            continue
        if recorded != version:
            found.append(
                f"api/{name} records {recorded}, not {version}: run make api-check ARGS=--write"
            )
    if NOT_PUBLISHED in (root / "README.md").read_text(encoding="utf-8"):
        found.append(f"README.md still says the package is {NOT_PUBLISHED!r}: update Install")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: release_check.py TAG", file=sys.stderr)
        return 2
    found = problems(args[0])
    for line in found:
        print(f"release_check: {line}", file=sys.stderr)
    if not found:
        print(f"release_check: {args[0]} is ready to publish")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
