"""MkDocs hooks of this site (``hooks:`` in mkdocs.yml).

``docs/mutation.md`` is written separately from the rest of the site; it joins the
"Design" section of the navigation when it exists, so that the strict build neither
fails on a missing page nor leaves the page out of the navigation once it is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPTIONAL_PAGES = {"Design": [("Mutation testing", "mutation.md")]}


def on_config(config: Any) -> Any:
    docs = Path(config["docs_dir"])
    for entry in config["nav"] or ():
        if not isinstance(entry, dict):
            continue
        for section, pages in entry.items():
            for title, page in OPTIONAL_PAGES.get(section, ()):
                if (docs / page).exists() and {title: page} not in pages:
                    pages.append({title: page})
    return config
