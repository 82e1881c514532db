"""Toloka's published API v1 OpenAPI document, reduced to what ``toloka_ext`` uses.

Its source is ``en/api/reference/fullApi.yaml`` of the public repository ``Toloka/docs``
(branch ``main``): OpenAPI 3.0.1 split over many files by ``$ref`` s, some pointing back into
``fullApi.yaml``. :func:`pull_published` makes it, in memory, one small self-contained
document: the operations of :data:`USED_OPERATIONS` only (so a broken ``$ref`` elsewhere
cannot disturb the pull), every ``$ref`` they reach resolved (``toloka_ext._openapi.bundle``),
repaired where it would not be valid (:func:`dedupe_enums`). ``scripts/pull_spec.py --api v1``
compares it with ``openapi/v1.yaml``; it is never stored. Failures raise ``RefError``.
"""

from __future__ import annotations

import json
from typing import Any

from toloka_ext._openapi import Load, Parse, bundle, load_text, template

__all__ = ["DEFAULT_URL", "USED_OPERATIONS", "dedupe_enums", "pull_published"]

# The raw file behind Toloka's API v1 reference (public repository Toloka/docs, branch main).
DEFAULT_URL = "https://raw.githubusercontent.com/Toloka/docs/main/en/api/reference/fullApi.yaml"

# (METHOD, path template) of every API v1 operation toloka_ext calls.
USED_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("POST", "/tasks"),
    ("GET", "/tasks"),
    ("GET", "/tasks/{id}"),
    ("PATCH", "/tasks/{id}"),
    ("PATCH", "/tasks/{id}/set-overlap-or-min"),
    ("GET", "/operations"),
    ("GET", "/operations/{id}"),
    ("GET", "/operations/{id}/log"),
)

_USED = {(method.lower(), template(path)) for method, path in USED_OPERATIONS}


def dedupe_enums(node: Any, where: str = "$") -> list[str]:
    """Drop repeated values from every ``enum`` list in place (first occurrence kept).

    An enum is a set of allowed values, so a repeated value means nothing, but the OpenAPI
    3.0 schema requires unique items and the published document repeats some (language
    codes ``ID``, ``HE``, ``YI`` in ``AdditionalLanguage``). Returns one note per list fixed.
    """
    notes: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            notes += dedupe_enums(item, f"{where}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}"
            if key == "enum" and isinstance(value, list):
                seen: set[str] = set()
                unique: list[Any] = []
                repeated: list[Any] = []
                for item in value:
                    marker = json.dumps(item, sort_keys=True)
                    (repeated if marker in seen else unique).append(item)
                    seen.add(marker)
                if repeated:
                    node[key] = unique
                    shown = ", ".join(json.dumps(r, ensure_ascii=False) for r in repeated)
                    notes.append(f"repeated enum values dropped at {here}: {shown}")
            else:
                notes += dedupe_enums(value, here)
    return notes


def pull_published(
    root_url: str, root: dict[str, Any], *, load: Load, parse: Parse = load_text
) -> tuple[dict[str, Any], list[str]]:
    """The used operations of ``root`` (fetched from ``root_url``; ``load`` fetches the files
    its ``$ref`` s name) as one self-contained document, and the notes of :func:`dedupe_enums`."""

    def keep(method: str, path: str) -> bool:
        return (method, template(path)) in _USED

    out = bundle(root_url, root, keep=keep, load=load, parse=parse)
    return out, dedupe_enums(out)
