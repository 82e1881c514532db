"""Print the ``_snapshot.py`` module that ``generate.sh`` adds to the generated package.

It records which snapshot the code was generated from (``info.x-snapshot`` of the spec),
so errors about API drift can name the snapshot version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def render(spec_path: Path) -> str:
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    meta = dict(spec.get("info", {}).get("x-snapshot") or {})
    fields = {
        "api_version": str(spec.get("info", {}).get("version", "")),
        "source": str(meta.get("source", "")),
        "mode": str(meta.get("mode", "")),
        "date": str(meta.get("date", "")),
        "sha256": str(meta.get("sha256", "")),
    }
    body = "".join(f"    {k!r}: {v!r},\n" for k, v in fields.items())
    return (
        '"""Which OpenAPI snapshot this package was generated from (written by generate.sh)."""\n'
        "\n"
        f"SNAPSHOT: dict[str, str] = {{\n{body}}}\n"
        "\n"
        "SNAPSHOT_VERSION = f\"{SNAPSHOT['api_version']}@{SNAPSHOT['date']}"
        "#{SNAPSHOT['sha256'][:12]}\"\n"
    )


if __name__ == "__main__":
    sys.stdout.write(render(Path(sys.argv[1])))
