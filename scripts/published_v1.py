"""Toloka's published API v1 OpenAPI document, reduced to what ``toloka_ext`` uses.

Toloka keeps the source of its API v1 reference in the public GitHub repository
``Toloka/docs`` (branch ``main``, file ``en/api/reference/fullApi.yaml``). That document is
OpenAPI 3.0.1 split over many files: ``$ref``s point into ``parts/``, ``responses/``,
``requests/`` and ``code-samples/`` (schemas, named examples, code samples, even a Markdown
description), some of them back into ``fullApi.yaml``. ``scripts/pull_spec.py --api v1``
uses :func:`pull_published` to turn it, in memory, into one small, self-contained,
deterministic document, which ``scripts/v1_compare.py`` then compares with the project's own
``openapi/v1.yaml``. The result is never stored: the project keeps no copy of the published
document, trimmed or not. How:

1. **Trim first.** Keep only the operations in :data:`USED_OPERATIONS` (the ones the client
   calls), matched by method and path template (``/tasks/{id}`` matches ``/tasks/{taskId}``),
   plus ``openapi``, ``info``, ``servers``, ``security``, ``externalDocs`` and the ``tags``
   the kept operations name. Everything else in the published document (``/pools``, ...)
   is never looked at, so a change or a broken ``$ref`` there cannot disturb the pull.
2. **Resolve every external ``$ref``** reachable from what was kept, each relative to the
   file it is written in (``./parts/api/additional.yaml#/components/schemas/HasMore`` from
   ``fullApi.yaml``, ``../../fullApi.yaml#/components/schemas/Settings`` from
   ``additional.yaml``), fetching each file once (over HTTP for a URL, from disk for
   ``--file``):

   - a ref to a component of any file (``<file>#/components/<kind>/<name>``) becomes an
     internal ref ``#/components/<kind>/<name>`` and the component is copied into the
     result (recursively, so ref cycles between components just become internal cycles).
     ``fullApi.yaml``'s own components keep their names; a component of another file
     whose name is taken gets ``_<file stem>`` appended;
   - any other ref (a whole file: named examples, code samples, a Markdown description;
     or a pointer to a non-component) is inlined. A chain of inlined refs that comes back
     to itself cannot be inlined and is an error (:class:`BundleError`).

   Only components that the kept operations reach end up in the result; siblings of an
   inlined ``$ref`` are dropped (OpenAPI 3.0 ignores them), siblings of a component ref are
   kept. Values that are data, not document structure (``example``, ``default``, ``enum``,
   ``const`` and an Example Object's ``value``), are copied as they are.

A target that cannot be fetched, read or parsed, a JSON pointer that leads nowhere, or an
inlining cycle raises :class:`BundleError`; ``pull_spec.py`` turns it into exit code 1 and
writes nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

__all__ = [
    "DEFAULT_URL",
    "LITERALS",
    "NAME_MAPS",
    "USED_OPERATIONS",
    "BundleError",
    "is_example_object",
    "pull_published",
]

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

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PATH_ITEM_KEYS = ("summary", "description", "servers", "parameters")
_TOP_LEVEL_KEYS = ("openapi", "info", "servers", "security", "externalDocs")
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_STRUCTURED = (".yaml", ".yml", ".json")

# Keys whose value is a map from names (property names, status codes, media types, ...) to
# objects, so a key such as "example" or "default" inside it is a name, not a keyword.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "paths",
        "schemas",
        "responses",
        "parameters",
        "examples",
        "requestBodies",
        "headers",
        "securitySchemes",
        "links",
        "callbacks",
        "content",
        "encoding",
        "variables",
        "$defs",
        "definitions",
        "dependentSchemas",
        "webhooks",
        "pathItems",
    }
)
# Keywords whose value is data: a "$ref" key inside it is data too.
LITERALS = frozenset({"example", "default", "enum", "const"})
_EXAMPLE_KEYS = frozenset({"summary", "description", "value", "externalValue"})

Load = Callable[[str], str]  # absolute URL (http(s):// or file://) -> text
Parse = Callable[[str], Any]  # text -> JSON/YAML value


class BundleError(Exception):
    """The published document cannot be made self-contained (one line, for stderr)."""


def _template(path: str) -> str:
    return _TEMPLATE.sub("{}", path)


_USED = {(method.lower(), _template(path)) for method, path in USED_OPERATIONS}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _tokens(fragment: str) -> list[str]:
    """JSON pointer tokens of a URL fragment (``""`` is the whole document)."""
    text = unquote(fragment)
    if text in ("", "/"):
        return [] if text == "" else [""]
    if not text.startswith("/"):
        raise ValueError(f"not a JSON pointer: #{fragment}")
    return [t.replace("~1", "/").replace("~0", "~") for t in text[1:].split("/")]


def _short(url: str) -> str:
    """A URL as the user knows it: a file:// URL as its path, no empty fragment."""
    url = url.removesuffix("#")
    parts = urlsplit(url)
    if parts.scheme != "file":
        return url
    return unquote(parts.path) + (f"#{parts.fragment}" if parts.fragment else "")


def is_example_object(node: dict[str, Any]) -> bool:
    """An OpenAPI Example Object (its ``value`` is data, not document structure)."""
    keys = {k for k in node if not k.startswith("x-")}
    return "value" in keys and keys <= _EXAMPLE_KEYS


class _Bundler:
    def __init__(self, root_url: str, root: dict[str, Any], load: Load, parse: Parse) -> None:
        self.root_url = root_url
        self.load, self.parse = load, parse
        self.docs: dict[str, Any] = {root_url: root}
        # (file URL, kind, name) -> local component name; root components keep their names.
        self.local: dict[tuple[str, str, str], str] = {}
        self.taken: dict[tuple[str, str], tuple[str, str, str]] = {}
        for kind, group in _dict(root.get("components")).items():
            for name in _dict(group):
                self.taken[(kind, name)] = (root_url, kind, name)
        self.queue: list[tuple[str, str, str]] = []
        self.inlining: list[str] = []

    # ------------------------------------------------------------------ documents

    def document(self, url: str, *, structured: bool, referrer: str) -> Any:
        if url not in self.docs:
            try:
                text = self.load(url)
            except Exception as exc:  # the loader's own error, one line
                raise BundleError(f"cannot resolve {referrer}: {exc}") from exc
            if structured or urlsplit(url).path.lower().endswith(_STRUCTURED):
                try:
                    self.docs[url] = self.parse(text)
                except Exception as exc:
                    raise BundleError(
                        f"cannot resolve {referrer}: {_short(url)} is not JSON/YAML ({exc})"
                    ) from exc
            else:
                self.docs[url] = text  # e.g. a Markdown description
        return self.docs[url]

    def target(self, url: str, fragment: str, referrer: str) -> Any:
        node = self.document(url, structured=bool(fragment), referrer=referrer)
        try:
            tokens = _tokens(fragment)
        except ValueError as exc:
            raise BundleError(f"cannot resolve {referrer}: {exc}") from exc
        for token in tokens:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise BundleError(
                    f"cannot resolve {referrer}: {_short(url)} has nothing at #{fragment}"
                )
        return node

    # ------------------------------------------------------------------ components

    def component(self, url: str, kind: str, name: str) -> str:
        key = (url, kind, name)
        if key in self.local:
            return self.local[key]
        local = name
        if self.taken.get((kind, local), key) != key:
            stem = re.sub(r"[^A-Za-z0-9_.-]", "_", urlsplit(url).path.rsplit("/", 1)[-1])
            stem = stem.rsplit(".", 1)[0] or "external"
            local, n = f"{name}_{stem}", 2
            while (kind, local) in self.taken:
                local, n = f"{name}_{stem}_{n}", n + 1
        self.taken[(kind, local)] = key
        self.local[key] = local
        self.queue.append(key)
        return local

    def components(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        done = 0
        while done < len(self.queue):
            url, kind, name = self.queue[done]
            done += 1
            fragment = f"/components/{_escape(kind)}/{_escape(name)}"
            referrer = f"$ref {_short(url)}#{fragment}"
            value = self.target(url, fragment, referrer)
            out.setdefault(kind, {})[self.local[(url, kind, name)]] = self.walk(value, url)
        return {kind: dict(sorted(group.items())) for kind, group in sorted(out.items())}

    # ------------------------------------------------------------------ walking

    def ref(self, ref: str, base: str, *, names: bool = False) -> tuple[str | None, Any]:
        """(internal ref string, None) for a component; (None, inlined value) otherwise."""
        referrer = f"$ref {ref!r} in {_short(base)}"
        url, fragment = urldefrag(urljoin(base, ref))
        try:
            tokens = _tokens(fragment)
        except ValueError as exc:
            raise BundleError(f"cannot resolve {referrer}: {exc}") from exc
        if len(tokens) == 3 and tokens[0] == "components":
            self.target(url, fragment, referrer)  # fail early, naming the referrer
            local = self.component(url, tokens[1], tokens[2])
            return f"#/components/{_escape(tokens[1])}/{_escape(local)}", None
        key = f"{url}#{fragment}"
        if key in self.inlining:
            chain = [*self.inlining[self.inlining.index(key) :], key]
            raise BundleError(
                "$ref cycle cannot be inlined: " + " -> ".join(_short(k) for k in chain)
            )
        value = self.target(url, fragment, referrer)
        self.inlining.append(key)
        try:
            return None, self.walk(value, url, names=names)
        finally:
            self.inlining.pop()

    def walk(self, node: Any, base: str, *, names: bool = False) -> Any:
        """A copy of ``node`` (written in the file at ``base``) with every ref rewritten."""
        if isinstance(node, list):
            return [self.walk(item, base) for item in node]
        if not isinstance(node, dict):
            return copy.deepcopy(node)
        if isinstance(node.get("$ref"), str):
            internal, value = self.ref(node["$ref"], base, names=names)
            if internal is None:
                return value
            # Siblings of a component ref are kept as written.
            siblings = {k: self.walk(v, base) for k, v in node.items() if k != "$ref"}
            return {"$ref": internal, **siblings}
        out: dict[str, Any] = {}
        example = not names and is_example_object(node)
        for key, value in node.items():
            if names:
                out[key] = self.walk(value, base)
            elif key in LITERALS or (example and key == "value"):
                out[key] = copy.deepcopy(value)
            elif key == "examples" and isinstance(value, list):
                out[key] = copy.deepcopy(value)  # JSON Schema "examples": data
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = self.discriminator(value, base)
            else:
                out[key] = self.walk(value, base, names=key in NAME_MAPS)
        return out

    def discriminator(self, node: dict[str, Any], base: str) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in node.items() if k != "mapping"}
        mapping = node.get("mapping")
        if isinstance(mapping, dict):
            out["mapping"] = {}
            for value_name, target in mapping.items():
                if isinstance(target, str) and ("#" in target or "/" in target):
                    internal, _ = self.ref(target, base)
                    if internal is None:
                        raise BundleError(
                            f"discriminator mapping {target!r} in {_short(base)}"
                            " does not name a component"
                        )
                    target = internal
                out["mapping"][value_name] = target
        elif "mapping" in node:
            out["mapping"] = copy.deepcopy(mapping)
        return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _security_names(requirements: Any) -> Iterable[str]:
    if isinstance(requirements, list):
        for requirement in requirements:
            yield from _dict(requirement)


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
    root_url: str, root: dict[str, Any], *, load: Load, parse: Parse
) -> tuple[dict[str, Any], list[str]]:
    """The used operations of the published document ``root`` (fetched from ``root_url``),
    every external ``$ref`` resolved, as one self-contained document, and notes on what
    had to be repaired for it to be a valid document (:func:`dedupe_enums`).

    ``load`` fetches or reads any other file a ``$ref`` names (absolute URL in, text out);
    ``parse`` turns a JSON/YAML text into a value. Raises :class:`BundleError`.
    """
    bundler = _Bundler(root_url, root, load, parse)
    out: dict[str, Any] = {}
    for key in _TOP_LEVEL_KEYS:
        if key in root:
            out[key] = bundler.walk(root[key], root_url)

    paths: dict[str, Any] = {}
    tags_used: set[str] = set()
    security_used = set(_security_names(root.get("security")))
    for path, raw_item in _dict(root.get("paths")).items():
        kept_methods = [m for m in HTTP_METHODS if (m, _template(str(path))) in _USED]
        if not kept_methods:
            continue
        item, base = _dict(raw_item), root_url
        if isinstance(item.get("$ref"), str):  # a path item kept in another file
            base, fragment = urldefrag(urljoin(root_url, item["$ref"]))
            referrer = f"$ref {item['$ref']!r} of path {path}"
            item = _dict(bundler.target(base, fragment, referrer))
        ops = {m: item[m] for m in kept_methods if isinstance(item.get(m), dict)}
        if not ops:
            continue
        kept = {k: item[k] for k in _PATH_ITEM_KEYS if k in item}
        kept.update(ops)
        paths[str(path)] = bundler.walk(kept, base)
        for op in ops.values():
            tags_used.update(t for t in op.get("tags", []) if isinstance(t, str))
            security_used.update(_security_names(op.get("security")))
    tags = [t for t in root.get("tags", []) if _dict(t).get("name") in tags_used]
    if tags:
        out["tags"] = bundler.walk(tags, root_url)
    out["paths"] = paths

    schemes = _dict(_dict(root.get("components")).get("securitySchemes"))
    for name in sorted(security_used):
        if name in schemes:
            bundler.component(root_url, "securitySchemes", name)
    components = bundler.components()
    if components:
        out["components"] = components
    return out, dedupe_enums(out)
