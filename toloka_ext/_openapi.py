"""OpenAPI documents, read, resolved and walked: the one place that follows ``$ref``.

Every spec tool of the project reads documents through here (the generator's operation
table ``toloka_ext._optable``, the change report ``toloka_ext._specdiff``, ``pull-spec`` and
the v1 comparison in ``scripts/``): reading (:func:`load_text`: JSON, else YAML, dates kept
as strings); references, on ``referencing`` (:class:`Document` follows a ``$ref`` relative to
the file it is written in, cycles and dangling targets made safe; :func:`inline` replaces
every one; :func:`bundle` makes a document spread over files self-contained); structure (the
methods of a path item, :data:`METHODS`; each operation; path templates; ``allOf`` merged by
one rule, :func:`flatten`; which keys are data, not structure).

It imports nothing of ``toloka_ext``: ``scripts/snapshot_module.py`` loads it (with
``_optable.py``) by path, before the generated package it describes exists.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

__all__ = [
    "LITERALS",
    "METHODS",
    "NAME_MAPS",
    "Document",
    "RefCycleError",
    "RefError",
    "bundle",
    "flatten",
    "inline",
    "is_example_object",
    "load_text",
    "ref_of",
    "template",
]

# A path item's operations, in the order the OpenAPI specification lists them.
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keys whose value maps names (properties, status codes, media types...) to objects: a key
# such as "example" or "default" inside one is a name, not a keyword.
NAME_MAPS = frozenset(
    "properties patternProperties paths schemas responses parameters examples requestBodies"
    " headers securitySchemes links callbacks content encoding variables $defs definitions"
    " dependentSchemas webhooks pathItems".split()
)
# Keywords whose value is data: a "$ref" key inside it is data too.
LITERALS = frozenset({"example", "default", "enum", "const"})
_EXAMPLE_KEYS = frozenset({"summary", "description", "value", "externalValue"})
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_STRUCTURED = (".yaml", ".yml", ".json")
_MAX_DEPTH = 64  # deeper than this only a cycle goes

Load = Callable[[str], str]  # an absolute URI (http(s):// or file://) -> the text there
Parse = Callable[[str], Any]  # a JSON/YAML text -> its value


class RefError(ValueError):
    """A ``$ref`` that cannot be followed; the message is one line."""


class RefCycleError(RefError):
    """A ``$ref`` that leads back into itself cannot be inlined."""


def template(path: str) -> str:
    """A path with its parameters unnamed (``/runs/{runId}`` -> ``/runs/{}``): the same
    operation whatever its parameters are called, as oasdiff matches them."""
    return _TEMPLATE.sub("{}", path)


def load_text(text: str) -> Any:
    """JSON, else YAML (``2026-11-23`` stays a string). Raises ``ValueError`` or
    ``yaml.YAMLError``; ``ImportError`` when the text is not JSON and PyYAML is missing."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    return _yaml_load(text)


def _yaml_load(text: str) -> Any:
    global _LOADER
    import yaml

    if _LOADER is None:
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
        _LOADER = type("_Loader", (base,), {})
        _LOADER.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


_LOADER: Any = None


def ref_of(node: Any) -> str | None:
    """The ``$ref`` written on ``node`` (not followed), if it is a reference object."""
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        return str(node["$ref"])
    return None


def is_example_object(node: Mapping[str, Any]) -> bool:
    """An OpenAPI Example Object (its ``value`` is data, not document structure)."""
    keys = {k for k in node if not k.startswith("x-")}
    return "value" in keys and keys <= _EXAMPLE_KEYS


def short(url: str) -> str:
    """A URL as the user knows it: a file:// URL as its path, no empty fragment."""
    url = url.removesuffix("#")
    parts = urlsplit(url)
    if parts.scheme != "file":
        return url
    return unquote(parts.path) + (f"#{parts.fragment}" if parts.fragment else "")


def _target(base: str, ref: str) -> tuple[str, str]:
    """(the URI of the file ``ref`` names, written in the file at ``base``; its fragment)."""
    if ref.startswith("#"):
        return base, ref[1:]
    return urldefrag(urljoin(base, ref))


class Document:
    """An OpenAPI document at ``uri`` and the files its ``$ref`` s reach, fetched by ``load``
    (each once; without it only the document's own references resolve)."""

    def __init__(
        self, contents: Any, *, uri: str = "", load: Load | None = None, parse: Parse = load_text
    ) -> None:
        self.contents = contents
        self.uri = uri
        self._load, self._parse = load, parse
        self._files: dict[str, Any] = {}
        self._registry: Registry[Any] = Registry(retrieve=self._retrieve).with_resource(  # type: ignore[call-arg]
            uri, Resource.opaque(contents)
        )
        self._found: dict[tuple[str, str], tuple[Any, str]] = {}

    def _retrieve(self, uri: str) -> Resource[Any]:
        if self._load is None:
            raise NoSuchResource(uri)
        if uri not in self._files:
            text = self._load(uri)
            if urlsplit(uri).path.lower().endswith(_STRUCTURED):
                try:
                    self._files[uri] = self._parse(text)
                except Exception as exc:  # the parser's own error, one line
                    raise RefError(f"{short(uri)} is not JSON/YAML ({exc})") from exc
            else:
                self._files[uri] = text  # e.g. a Markdown description
        return Resource.opaque(self._files[uri])

    def lookup(self, ref: str, base: str | None = None) -> tuple[Any, str]:
        """What ``ref`` (written in the file at ``base``, by default the document) points
        at, and the URI of the file that holds it. Raises :class:`RefError`."""
        base = self.uri if base is None else base
        key = (base, ref)
        if key not in self._found:
            uri, fragment = _target(base, ref)
            try:
                found = self._registry.resolver(base_uri=base).lookup(ref)
            except Unresolvable as exc:
                raise _ref_error(exc, ref, uri, fragment, self._load is None) from exc
            except (LookupError, TypeError, ValueError) as exc:  # e.g. a word as a list index
                raise RefError(f"{short(uri)} has nothing at #{fragment}") from exc
            self._found[key] = found.contents, uri
        return self._found[key]

    def resolve(self, node: Any, base: str | None = None) -> tuple[dict[str, Any], str | None]:
        """Follow a ``$ref`` chain from ``node``: the object it ends at with the siblings of
        each ``$ref`` over it (OpenAPI 3.1), and the last ``$ref`` followed. A cycle or a
        target that is missing or not an object gives the siblings alone (unconstrained)."""
        if not isinstance(node, Mapping):
            return {}, None
        where = self.uri if base is None else base
        seen: set[tuple[str, str]] = set()
        siblings: dict[str, Any] = {}
        last: str | None = None
        current: Mapping[str, Any] = node
        while isinstance(current.get("$ref"), str):
            ref: str = current["$ref"]
            siblings = {**{k: v for k, v in current.items() if k != "$ref"}, **siblings}
            if (where, ref) in seen:
                return siblings, ref
            seen.add((where, ref))
            last = ref
            try:
                target, where = self.lookup(ref, where)
            except RefError:
                return siblings, ref
            if not isinstance(target, Mapping):
                return siblings, ref
            current = target
        return {**current, **siblings}, last

    def merged(self, schema: Any) -> tuple[dict[str, Any], str | None]:
        """``schema`` with its references followed and its ``allOf`` merged (:func:`flatten`)."""
        return flatten(schema, self.resolve)

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any], list[Any]]]:
        """Each operation as ``(path as written, method, operation, the path item's own
        parameters)``, path items' references followed, in the order of the document."""
        paths = self.contents.get("paths") if isinstance(self.contents, Mapping) else None
        if not isinstance(paths, Mapping):
            return
        for path, raw in paths.items():
            item, _ = self.resolve(raw)
            shared = item.get("parameters")
            shared = shared if isinstance(shared, list) else []
            for method in METHODS:
                if isinstance(item.get(method), Mapping):
                    yield str(path), method, dict(item[method]), list(shared)


def _ref_error(exc: Unresolvable, ref: str, uri: str, fragment: str, no_load: bool) -> RefError:
    """One line for what stopped a lookup: the loader's or parser's own error, or the part of
    the target that is not there."""
    inner = exc.__cause__.__cause__ if exc.__cause__ is not None else None  # Unretrievable's
    if inner is not None:
        return RefError(str(inner))
    if no_load and not ref.startswith("#"):
        return RefError(f"$ref {ref!r} is not internal (#/...)")
    return RefError(f"{short(uri)} has nothing at #{fragment}")


# --------------------------------------------------------------------------- allOf


def flatten(
    schema: Any, resolve: Callable[[Any], tuple[dict[str, Any], str | None]], depth: int = 0
) -> tuple[dict[str, Any], str | None]:
    """One schema for ``schema`` and its ``allOf`` parts (each resolved by ``resolve`` and
    flattened in turn), and the ``$ref`` that names it (a lone part's, if ``schema`` has
    none). Every part must hold, so: properties are joined (a name in two parts must satisfy
    both: ``allOf`` of the two), ``required`` lists joined, enums narrowed to the values all
    parts allow; any other keyword is the first part's that has it (``schema``'s own first).
    """
    resolved, ref = resolve(schema)
    parts = resolved.get("allOf")
    if not isinstance(parts, list) or depth > _MAX_DEPTH:
        return resolved, ref
    out: dict[str, Any] = {k: v for k, v in resolved.items() if k != "allOf"}
    for part in parts:
        flat, part_ref = flatten(part, resolve, depth + 1)
        for key, value in flat.items():
            if key == "properties" and isinstance(value, Mapping):
                props = dict(out.get("properties") or {})
                for name, sub in value.items():
                    props[name] = {"allOf": [props[name], sub]} if name in props else sub
                out["properties"] = props
            elif key == "required" and isinstance(value, list):
                out["required"] = list(dict.fromkeys([*(out.get("required") or []), *value]))
            elif key == "enum" and isinstance(value, list) and isinstance(out.get("enum"), list):
                out["enum"] = [v for v in out["enum"] if v in value]
            else:
                out.setdefault(key, value)
        if ref is None and len(parts) == 1:
            ref = part_ref
    return out, ref


# --------------------------------------------------------------------------- inlining


def inline(
    contents: Any, *, uri: str = "", load: Load | None = None, keep_cycles: bool = False
) -> Any:
    """``contents`` (the document at ``uri``) with every ``$ref`` replaced by what it points
    at, in this file or (through ``load``) another (a whole non-JSON/YAML file: its text).
    Data values are kept as they are; a reference reached twice is one shared object; one
    that leads back into itself raises :class:`RefCycleError`, or with ``keep_cycles`` stays
    ``{"$ref": ...}``. Without ``load``, a reference to another file raises :class:`RefError`.
    """
    doc = Document(contents, uri=uri, load=load)
    done: dict[tuple[str, str], Any] = {}

    def follow(stack: tuple[tuple[str, str], ...]) -> OnRef:
        def on_ref(node: dict[str, Any], base: str, _names: bool) -> Any:
            key = _target(base, node["$ref"])
            if key in stack:
                if keep_cycles:
                    return {"$ref": node["$ref"]}
                raise RefCycleError(f"$ref cycle through {short(key[0])}#{key[1]}")
            if key not in done:
                found, where = doc.lookup(node["$ref"], base)
                done[key] = _copy(found, where, follow((*stack, key)))
            return done[key]

        return on_ref

    return _copy(contents, uri, follow(()))


OnRef = Callable[[dict[str, Any], str, bool], Any]  # (reference object, its file, names?)


def _copy(
    node: Any,
    base: str,
    on_ref: OnRef,
    *,
    names: bool = False,
    deep: bool = False,
    discriminator: Callable[[dict[str, Any], str], Any] | None = None,
) -> Any:
    """A copy of ``node`` (written in the file at ``base``), each reference object replaced
    by ``on_ref(node, base, names)``; ``names``: ``node``'s keys are names (of properties,
    responses...), not keywords. Data values are kept as they are (``deep``: deep copies);
    a ``discriminator`` goes to its own function when given."""

    def again(value: Any, nested: bool = False) -> Any:
        return _copy(value, base, on_ref, names=nested, deep=deep, discriminator=discriminator)

    if isinstance(node, list):
        return [again(v) for v in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        return on_ref(node, base, names)
    example = not names and is_example_object(node)
    out: dict[str, Any] = {}
    for key, value in node.items():
        # Data: a literal keyword, an Example Object's value, a JSON Schema "examples" list.
        data = key in LITERALS or (example and key == "value")
        data = data or (key == "examples" and isinstance(value, list))
        if names:
            out[key] = again(value)
        elif data:
            out[key] = copy.deepcopy(value) if deep else value
        elif key == "discriminator" and discriminator is not None and isinstance(value, dict):
            out[key] = discriminator(value, base)
        else:
            out[key] = again(value, key in NAME_MAPS)
    return out


# --------------------------------------------------------------------------- bundling

_PATH_ITEM_KEYS = ("summary", "description", "servers", "parameters")
_TOP_LEVEL_KEYS = ("openapi", "info", "servers", "security", "externalDocs")


def bundle(
    root_url: str,
    root: dict[str, Any],
    *,
    keep: Callable[[str, str], bool],
    load: Load,
    parse: Parse = load_text,
) -> dict[str, Any]:
    """The operations of ``root`` (the document at ``root_url``) that ``keep(method, path)``
    keeps, as one self-contained document: the top-level facts, those operations, the tags
    and security schemes they name, every component they reach; nothing else is looked at.

    A reference to a component of any file becomes an internal one and the component is
    copied (cycles between components stay cycles; another file's component whose name is
    taken gets ``_<file stem>`` appended); any other reference is inlined, its siblings
    dropped, and raises :class:`RefCycleError` if it comes back to itself. Raises
    :class:`RefError` (one line) for a target that cannot be fetched, read or found.
    """
    bundler = _Bundler(Document(root, uri=root_url, load=load, parse=parse), root)
    out: dict[str, Any] = {}
    for key in _TOP_LEVEL_KEYS:
        if key in root:
            out[key] = bundler.walk(root[key], root_url)
    paths: dict[str, Any] = {}
    tags_used: set[str] = set()
    security_used = set(_security_names(root.get("security")))
    for path, raw_item in _dict(root.get("paths")).items():
        kept_methods = [m for m in METHODS if keep(m, str(path))]
        if not kept_methods:
            continue
        item, base = _dict(raw_item), root_url
        if isinstance(item.get("$ref"), str):  # a path item kept in another file
            found, base = bundler.target(
                item["$ref"], root_url, f"$ref {item['$ref']!r} of path {path}"
            )
            item = _dict(found)
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
    return out


class _Bundler:
    def __init__(self, doc: Document, root: dict[str, Any]) -> None:
        self.doc = doc
        # (file URL, kind, name) -> local component name; root components keep their names.
        self.local: dict[tuple[str, str, str], str] = {}
        self.taken: dict[tuple[str, str], tuple[str, str, str]] = {}
        for kind, group in _dict(root.get("components")).items():
            for name in _dict(group):
                self.taken[(kind, name)] = (doc.uri, kind, name)
        self.queue: list[tuple[str, str, str]] = []
        self.inlining: list[str] = []

    def target(self, ref: str, base: str, referrer: str) -> tuple[Any, str]:
        try:
            return self.doc.lookup(ref, base)
        except RefError as exc:
            raise RefError(f"cannot resolve {referrer}: {exc}") from exc

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
            ref = f"#/components/{_escape(kind)}/{_escape(name)}"
            value, _ = self.target(ref, url, f"$ref {short(url)}{ref}")
            out.setdefault(kind, {})[self.local[(url, kind, name)]] = self.walk(value, url)
        return {kind: dict(sorted(group.items())) for kind, group in sorted(out.items())}

    def ref(self, ref: str, base: str, *, names: bool = False) -> tuple[str | None, Any]:
        """(internal ref string, None) for a component; (None, inlined value) otherwise."""
        referrer = f"$ref {ref!r} in {short(base)}"
        url, fragment = _target(base, ref)
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in unquote(fragment).split("/")]
        if len(tokens) == 4 and tokens[:2] == ["", "components"]:
            self.target(ref, base, referrer)  # fail early, naming the referrer
            local = self.component(url, tokens[2], tokens[3])
            return f"#/components/{_escape(tokens[2])}/{_escape(local)}", None
        key = f"{url}#{fragment}"
        if key in self.inlining:
            chain = [*self.inlining[self.inlining.index(key) :], key]
            raise RefCycleError(
                "$ref cycle cannot be inlined: " + " -> ".join(short(k) for k in chain)
            )
        value, where = self.target(ref, base, referrer)
        self.inlining.append(key)
        try:
            return None, self.walk(value, where, names=names)
        finally:
            self.inlining.pop()

    def walk(self, node: Any, base: str, *, names: bool = False) -> Any:
        """A copy of ``node`` (written in the file at ``base``) with every ref rewritten."""
        return _copy(node, base, self.on_ref, names=names, deep=True, discriminator=self.mapping)

    def on_ref(self, node: dict[str, Any], base: str, names: bool) -> Any:
        internal, value = self.ref(node["$ref"], base, names=names)
        if internal is None:
            return value
        # Siblings of a component ref are kept as written.
        siblings = {k: self.walk(v, base) for k, v in node.items() if k != "$ref"}
        return {"$ref": internal, **siblings}

    def mapping(self, node: dict[str, Any], base: str) -> dict[str, Any]:
        """A discriminator, its mapping's references made internal."""
        out = {k: copy.deepcopy(v) for k, v in node.items() if k != "mapping"}
        mapping = node.get("mapping")
        if isinstance(mapping, dict):
            out["mapping"] = {}
            for value_name, target in mapping.items():
                if isinstance(target, str) and ("#" in target or "/" in target):
                    internal, _ = self.ref(target, base)
                    if internal is None:
                        raise RefError(
                            f"discriminator mapping {target!r} in {short(base)}"
                            " does not name a component"
                        )
                    target = internal
                out["mapping"][value_name] = target
        elif "mapping" in node:
            out["mapping"] = copy.deepcopy(mapping)
        return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _security_names(requirements: Any) -> Iterable[str]:
    if isinstance(requirements, list):
        for requirement in requirements:
            yield from _dict(requirement)
