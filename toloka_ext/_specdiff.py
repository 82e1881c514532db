"""Compare two OpenAPI 3.0 / 3.1 documents and classify each change *for clients*.

A focused stand-in for oasdiff (which cannot be installed here), whose rule ids it follows
(why not the npm differ api-smart-diff: docs/drift.md, "Why the project has its own
differ"). "Breaking" means a client that sends requests and parses responses by the old
document can fail against a server following the new one. Operations are matched by method
and path template, path parameters by position (``/runs/{runId}`` and ``/runs/{id}`` are
the same operation with the same parameter), as oasdiff does.

Levels: ``breaking`` (a client built from the old document can fail: exit code 4),
``warning`` (compatible for this project's client layer, but a client with closed enums
can fail: exit code 3), ``info`` (additive or relaxing: exit code 3). Usage::

    report = diff_specs(old_doc, new_doc)
    print(report.to_text())
    raise SystemExit(report.exit_code)

It ships in the wheel for ``toloka-ext spec diff|pull``; ``python -m toloka_ext._specdiff
OLD NEW`` runs it alone. Documents are read through :mod:`toloka_ext._openapi`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal

from ._openapi import METHODS, Document, load_text, ref_of, template

__all__ = [
    "EXIT_BREAKING",
    "EXIT_COMPATIBLE",
    "EXIT_NO_CHANGE",
    "RULES",
    "Change",
    "Level",
    "Reliance",
    "Report",
    "diff_specs",
]

Level = Literal["breaking", "warning", "info"]

EXIT_NO_CHANGE = 0
EXIT_COMPATIBLE = 3
EXIT_BREAKING = 4

_METHOD_ORDER = {m.upper(): i for i, m in enumerate(METHODS)}
_LEVEL_ORDER: dict[str, int] = {"breaking": 0, "warning": 1, "info": 2}
_MAX_DEPTH = 64

# rule id -> (level, one-line description). The single source of truth for classification.
RULES: dict[str, tuple[Level, str]] = {
    # operations
    "api-path-removed-without-deprecation": ("breaking", "path removed (all its operations)"),
    "api-path-removed-with-deprecation": ("breaking", "deprecated path removed"),
    "api-removed-without-deprecation": ("breaking", "operation removed"),
    "api-removed-with-deprecation": ("breaking", "deprecated operation removed"),
    "endpoint-added": ("info", "operation added"),
    "endpoint-deprecated": ("info", "operation deprecated"),
    "endpoint-reactivated": ("info", "operation no longer deprecated"),
    "api-operation-id-removed": ("warning", "operationId changed (generated names change)"),
    "api-operation-id-added": ("info", "operationId added"),
    # security
    "api-security-changed": (
        "breaking",
        "no security alternative of the old operation remains (credentials stop working)",
    ),
    "api-security-added": ("info", "security alternative added (an old one still works)"),
    "api-security-removed": ("info", "security alternative removed (another old one remains)"),
    "api-security-component-changed": (
        "breaking",
        "security scheme used by the operation changed (type, location, header name)",
    ),
    "api-security-component-removed": ("breaking", "security scheme definition removed"),
    # parameters
    "new-required-request-parameter": ("breaking", "required parameter added"),
    "new-optional-request-parameter": ("info", "optional parameter added"),
    "request-parameter-removed": ("warning", "parameter removed"),
    "request-parameter-became-required": ("breaking", "parameter became required"),
    "request-parameter-became-optional": ("info", "parameter became optional"),
    "request-parameter-type-changed": ("breaking", "parameter type changed"),
    "request-parameter-format-changed": ("breaking", "parameter format changed"),
    "request-parameter-enum-value-removed": ("breaking", "parameter enum value removed"),
    "request-parameter-enum-value-added": ("info", "parameter enum value added"),
    "request-parameter-became-nullable": ("info", "parameter became nullable"),
    "request-parameter-became-not-nullable": ("breaking", "parameter became not nullable"),
    # request body
    "request-body-added-required": ("breaking", "required request body added"),
    "request-body-added-optional": ("info", "optional request body added"),
    "request-body-removed": ("warning", "request body removed"),
    "request-body-became-required": ("breaking", "request body became required"),
    "request-body-became-optional": ("info", "request body became optional"),
    "request-media-type-removed": ("breaking", "request media type removed"),
    "request-media-type-added": ("info", "request media type added"),
    "request-body-type-changed": ("breaking", "request body type changed"),
    "new-required-request-property": ("breaking", "required request property added"),
    "new-optional-request-property": ("info", "optional request property added"),
    "request-property-removed": ("warning", "request property removed"),
    "request-property-became-required": ("breaking", "request property became required"),
    "request-property-became-optional": ("info", "request property became optional"),
    "request-property-type-changed": ("breaking", "request property type changed"),
    "request-property-format-changed": ("breaking", "request property format changed"),
    "request-property-enum-value-removed": ("breaking", "request enum value removed"),
    "request-property-enum-value-added": ("info", "request enum value added"),
    "request-property-became-nullable": ("info", "request property became nullable"),
    "request-property-became-not-nullable": ("breaking", "request property became not nullable"),
    "request-property-one-of-removed": ("breaking", "request oneOf/anyOf variant removed"),
    "request-property-one-of-added": ("info", "request oneOf/anyOf variant added"),
    # responses
    "response-success-status-removed": ("breaking", "success status removed"),
    "response-success-status-added": ("info", "success status added"),
    "response-non-success-status-removed": ("info", "error status removed"),
    "response-non-success-status-added": ("info", "error status added"),
    "response-media-type-removed": ("breaking", "response media type removed"),
    "response-media-type-added": ("info", "response media type added"),
    "response-body-type-changed": ("breaking", "response body type changed"),
    "response-required-property-removed": ("breaking", "required response property removed"),
    "response-optional-property-removed": ("info", "optional response property removed"),
    "response-required-property-added": ("info", "required response property added"),
    "response-optional-property-added": ("info", "optional response property added"),
    "response-property-became-optional": ("breaking", "response property became optional"),
    "response-property-became-required": ("info", "response property became required"),
    "response-property-type-changed": ("breaking", "response property type changed"),
    "response-property-format-changed": ("breaking", "response property format changed"),
    "response-property-enum-value-added": (
        "warning",
        "response enum value added (closed-enum clients fail; our layer tolerates it)",
    ),
    "response-property-enum-value-removed": ("info", "response enum value removed"),
    "response-property-enum-removed": (
        "warning",
        "response enum constraint dropped (any value may now arrive)",
    ),
    "response-property-became-nullable": ("breaking", "response property became nullable"),
    "response-property-became-not-nullable": ("info", "response property became not nullable"),
    "response-property-one-of-added": ("warning", "response oneOf/anyOf variant added"),
    "response-property-one-of-removed": ("info", "response oneOf/anyOf variant removed"),
    # formats: a request may no longer require one, a response may promise one
    "request-parameter-format-removed": ("info", "parameter format dropped (any string goes)"),
    "request-property-format-removed": ("info", "request property format dropped"),
    "response-property-format-added": ("info", "response property format added"),
    # what the client layer relies on (only with a Reliance: see diff_specs)
    "relied-request-parameter-removed": (
        "breaking",
        "a parameter the client sends was removed (it may be ignored or refused)",
    ),
    "relied-response-enum-value-removed": (
        "breaking",
        "a response enum value the client acts on was removed (e.g. the status it waits for)",
    ),
    "relied-response-property-removed": (
        "breaking",
        "an optional response property the client needs was removed (e.g. a paging total)",
    ),
}


# schema keyword (as a report words it) -> rule slug
_BOUND_KEYS = {
    "maximum": "max",
    "minimum": "min",
    "maxLength": "max-length",
    "minLength": "min-length",
    "maxItems": "max-items",
    "minItems": "min-items",
}
_REQUEST_KINDS = (("parameter", "parameter"), ("property", "request property"))
# Bounds and patterns: tightened on a request breaks a client that sends what was valid;
# relaxed on a response lets values arrive that the old document ruled out (a warning: this
# layer's models do not enforce bounds, a validating client fails). A table built at
# import, every rule pinned by tests/test_specdiff.py.
for _word, _slug in _BOUND_KEYS.items():
    _up = _slug.startswith("max")
    _tighter, _looser = ("decreased", "increased") if _up else ("increased", "decreased")
    for _kind, _what in _REQUEST_KINDS:
        RULES[f"request-{_kind}-{_slug}-{_tighter}"] = ("breaking", f"{_what} {_word} tightened")
        RULES[f"request-{_kind}-{_slug}-{_looser}"] = ("info", f"{_what} {_word} relaxed")
    RULES[f"response-property-{_slug}-{_looser}"] = (
        "warning",
        f"response {_word} relaxed (values the old document ruled out may arrive)",
    )
    RULES[f"response-property-{_slug}-{_tighter}"] = ("info", f"response {_word} tightened")
for _kind, _what in _REQUEST_KINDS:
    RULES[f"request-{_kind}-pattern-added"] = ("breaking", f"{_what} pattern added")
    RULES[f"request-{_kind}-pattern-changed"] = ("breaking", f"{_what} pattern changed")
    RULES[f"request-{_kind}-pattern-removed"] = ("info", f"{_what} pattern removed")
RULES["response-property-pattern-removed"] = ("warning", "response pattern removed")
RULES["response-property-pattern-changed"] = ("warning", "response pattern changed")
RULES["response-property-pattern-added"] = ("info", "response pattern added")


@dataclass(frozen=True)
class Reliance:
    """What the client layer relies on, so a change is judged by it (``diff_specs``).

    Computed from the code by ``scripts/public_usage.py`` (``reliance()``): ``methods`` maps
    an operationId to the public calls that reach it; ``parameters`` the ``"query offset"``
    / ``"path runId"`` it sends per operation; ``enum_values`` the values of a component
    enum (``RunStatus``) that its code acts on (the status it waits for); ``properties`` the
    response properties it needs per operation (``.pagination.total``, ``.downloadUrl``).
    """

    methods: Mapping[str, Sequence[str]] = field(default_factory=dict)
    parameters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    enum_values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    properties: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def reached(self, operation: str | None) -> bool:
        return operation is not None and bool(self.methods.get(operation))

    def callers(self, operation: str | None) -> str:
        calls = list(self.methods.get(operation or "", ()))
        shown = ", ".join(calls[:3]) + (f" and {len(calls) - 3} more" if len(calls) > 3 else "")
        return f" ({shown})" if shown else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "methods": {k: list(v) for k, v in sorted(self.methods.items())},
            "parameters": {k: sorted(v) for k, v in sorted(self.parameters.items())},
            "enum_values": {k: sorted(v) for k, v in sorted(self.enum_values.items())},
            "properties": {k: sorted(v) for k, v in sorted(self.properties.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reliance:
        def sets(key: str) -> dict[str, frozenset[str]]:
            return {str(k): frozenset(map(str, v)) for k, v in (data.get(key) or {}).items()}

        methods = {str(k): tuple(map(str, v)) for k, v in (data.get("methods") or {}).items()}
        return cls(methods, sets("parameters"), sets("enum_values"), sets("properties"))


@dataclass(frozen=True)
class Change:
    """One classified difference between two documents."""

    rule_id: str
    level: Level
    method: str
    path: str
    location: str
    detail: str

    @property
    def breaking(self) -> bool:
        return self.level == "breaking"

    def sort_key(self) -> tuple[int, str, int, str, str, str]:
        return (
            _LEVEL_ORDER[self.level],
            self.path,
            _METHOD_ORDER.get(self.method, 99),
            self.location,
            self.rule_id,
            self.detail,
        )

    def line(self) -> str:
        tag = {"breaking": "[BREAKING]", "warning": "[warning]", "info": "[compatible]"}
        where = f"{self.location}: " if self.location else ""
        return f"{tag[self.level]} {self.rule_id}  {self.method} {self.path}  {where}{self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "breaking": self.breaking}


@dataclass
class Report:
    """The sorted list of changes plus renderers and the exit code a scheduled job acts on."""

    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.level == "breaking"]

    @property
    def warnings(self) -> list[Change]:
        return [c for c in self.changes if c.level == "warning"]

    @property
    def compatible(self) -> list[Change]:
        """Every non-breaking change (warnings included)."""
        return [c for c in self.changes if c.level != "breaking"]

    @property
    def exit_code(self) -> int:
        if self.breaking:
            return EXIT_BREAKING
        return EXIT_COMPATIBLE if self.changes else EXIT_NO_CHANGE

    def counts(self) -> dict[str, int]:
        return {
            "breaking": len(self.breaking),
            "warning": len(self.warnings),
            "info": len(self.changes) - len(self.breaking) - len(self.warnings),
        }

    def summary(self) -> str:
        c = self.counts()
        return (
            f"Summary: {len(self.changes)} change(s): {c['breaking']} breaking, "
            f"{c['warning']} warning(s), {c['info']} compatible"
        )

    def to_text(self) -> str:
        out: list[str] = []
        groups = (
            ("breaking", "Breaking changes for clients"),
            ("warning", "Warnings (compatible for toloka_ext; closed-enum clients may fail)"),
            ("info", "Compatible changes"),
        )
        for level, title in groups:
            items = [c for c in self.changes if c.level == level]
            if items:
                out.append(f"{title} ({len(items)}):")
                out.extend(c.line() for c in items)
        if not self.changes:
            out.append("No API changes.")
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        out = ["# API change report", ""]
        for level, title in (
            ("breaking", "Breaking"),
            ("warning", "Warnings"),
            ("info", "Compatible"),
        ):
            items = [c for c in self.changes if c.level == level]
            if not items:
                continue
            out += [f"## {title} ({len(items)})", ""]
            out += ["| rule | operation | location | detail |", "|---|---|---|---|"]
            for c in items:
                cells = (c.rule_id, f"{c.method} {c.path}", c.location, c.detail)
                out.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
            out.append("")
        if not self.changes:
            out += ["No API changes.", ""]
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "changes": [c.as_dict() for c in self.changes],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _types(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) or "any"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --------------------------------------------------------------------------- schemas


@dataclass
class _View:
    """A schema flattened for comparison: refs resolved, allOf merged, nullability unified."""

    types: frozenset[str]  # empty = unconstrained; never contains "null"
    nullable: bool
    fmt: str | None
    enum: list[Any] | None
    properties: dict[str, Any]
    required: set[str]
    items: Any
    additional: Any
    variants: list[tuple[str, Any]]  # (match key, raw schema) of oneOf/anyOf
    read_only: bool
    write_only: bool
    ref: str | None
    bounds: dict[str, float] = field(default_factory=dict)
    pattern: str | None = None


def _is_null_schema(doc: Document, schema: Any) -> bool:
    resolved, _ = doc.resolve(schema)
    t = resolved.get("type")
    return t == "null" or t == ["null"] or resolved.get("enum") == [None]


def _type_set(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _view(doc: Document, schema: Any) -> _View:
    flat, ref = doc.merged(schema)
    types = _type_set(flat.get("type"))
    nullable = bool(flat.get("nullable")) or "null" in types
    types.discard("null")
    enum = flat.get("enum")
    if "const" in flat:
        enum = [flat["const"]]
    if isinstance(enum, list):
        if None in enum:
            nullable = True
        enum = [v for v in enum if v is not None]
    else:
        enum = None
    variants: list[tuple[str, Any]] = []
    for key in ("oneOf", "anyOf"):
        alts = flat.get(key)
        if not isinstance(alts, list):
            continue
        kept = []
        for alt in alts:
            if _is_null_schema(doc, alt):
                nullable = True
            else:
                kept.append(alt)
        if len(kept) == 1 and not types and "properties" not in flat:
            inner = _view(doc, kept[0])  # `anyOf: [X, null]` is just a nullable X
            inner.nullable = inner.nullable or nullable
            return inner
        for index, alt in enumerate(kept):
            variants.append((_variant_key(doc, alt, index), alt))
    properties = _mapping(flat.get("properties"))
    if not types:
        if properties or isinstance(flat.get("additionalProperties"), Mapping):
            types = {"object"}
        elif "items" in flat:
            types = {"array"}
    fmt = flat.get("format")
    return _View(
        types=frozenset(types),
        nullable=nullable,
        fmt=fmt if isinstance(fmt, str) else None,
        enum=enum,
        properties=properties,
        required={r for r in _list(flat.get("required")) if isinstance(r, str)},
        items=flat.get("items"),
        additional=flat.get("additionalProperties"),
        variants=variants,
        read_only=bool(flat.get("readOnly")),
        write_only=bool(flat.get("writeOnly")),
        ref=ref,
        bounds={
            k: flat[k]
            for k in _BOUND_KEYS
            if isinstance(flat.get(k), int | float) and not isinstance(flat.get(k), bool)
        },
        pattern=flat["pattern"] if isinstance(flat.get("pattern"), str) else None,
    )


def _variant_key(doc: Document, schema: Any, index: int) -> str:
    ref = ref_of(schema)
    if ref is not None:
        return ref.rsplit("/", 1)[-1]
    resolved, _ = doc.resolve(schema)
    if isinstance(resolved.get("title"), str):
        return str(resolved["title"])
    return f"#{index}"


@dataclass
class _Walk:
    """Context of one schema comparison (which side of the exchange, how to name rules)."""

    old: Document
    new: Document
    direction: Literal["request", "response"]
    kind: Literal["body", "parameter"]
    emit: Callable[[str, str, str], None]  # (rule_id, location, detail)
    reliance: Reliance | None = None
    operation: str | None = None

    def relies_on_property(self, spath: str) -> bool:
        """Whether the client needs the response property at ``spath`` (or one under it)."""
        if self.reliance is None or not self.reliance.reached(self.operation):
            return False
        needed = self.reliance.properties.get(self.operation or "", frozenset())
        return any(p == spath or p.startswith(spath + ".") for p in needed)

    def callers(self) -> str:
        """`` (client.runs.get, ...)``: the public calls that reach this operation."""
        assert self.reliance is not None  # only asked about what the reliance names
        return self.reliance.callers(self.operation)

    def relied_values(self, ref: str | None) -> frozenset[str]:
        """The values of the component enum ``ref`` the client acts on."""
        if ref is None or self.reliance is None or not self.reliance.reached(self.operation):
            return frozenset()
        return self.reliance.enum_values.get(ref.rsplit("/", 1)[-1], frozenset())

    def rule(self, suffix: str) -> str:
        """The rule id of a change to the schema itself (``type-changed``...): a parameter's
        are ``request-parameter-*``; a body's and its properties' ``<direction>-property-*``."""
        if self.kind == "parameter":
            return f"request-parameter-{suffix}"
        return f"{self.direction}-property-{suffix}"


def _compare_bounds(walk: _Walk, o: _View, n: _View, loc: str) -> None:
    """Bounds and patterns: each one that moved, as tightened or relaxed for its side."""
    for key, slug in _BOUND_KEYS.items():
        before, after = o.bounds.get(key), n.bounds.get(key)
        if before == after:
            continue
        upper = slug.startswith("max")
        # No bound is the loosest one: +inf for a maximum, -inf (or 0) for a minimum.
        unset = float("inf") if upper else float("-inf")
        old_v = unset if before is None else before
        new_v = unset if after is None else after
        went = "decreased" if new_v < old_v else "increased"
        shown = f"{key} {_show(before)} -> {_show(after)}"
        walk.emit(walk.rule(f"{slug}-{went}"), loc, shown)
    if o.pattern != n.pattern:
        what = "added" if o.pattern is None else "removed" if n.pattern is None else "changed"
        walk.emit(
            walk.rule(f"pattern-{what}"), loc, f"pattern {_show(o.pattern)} -> {_show(n.pattern)}"
        )


def _compare_schema(
    walk: _Walk,
    old: Any,
    new: Any,
    prefix: str,
    spath: str = "",
    stack: frozenset[tuple[str | None, str | None]] = frozenset(),
) -> None:
    """Compare two schemas; ``prefix`` names the place (``request body``), ``spath`` the path
    inside the schema (``.fields[].name``)."""
    o, n = _view(walk.old, old), _view(walk.new, new)
    if o.ref is not None or n.ref is not None:
        key = (o.ref, n.ref)
        if key in stack or len(stack) > _MAX_DEPTH:
            return
        stack = stack | {key}
    loc = f"{prefix} {spath}" if spath else prefix

    # types
    if o.types != n.types:
        shown = f"type {_types(o.types)} -> {_types(n.types)}"
        relaxed = (not n.types and walk.direction == "request") or (
            not o.types and walk.direction == "response"
        )
        if relaxed:
            pass  # the client still sends / reads something valid
        elif not spath and walk.kind == "body":
            walk.emit(f"{walk.direction}-body-type-changed", loc, shown)
        else:
            walk.emit(walk.rule("type-changed"), loc, shown)
        return  # below a type change, details are noise
    if o.fmt != n.fmt:
        shown = f"format {_show(o.fmt)} -> {_show(n.fmt)}"
        if n.fmt is None and walk.direction == "request":
            walk.emit(walk.rule("format-removed"), loc, shown)
        elif o.fmt is None and walk.direction == "response":
            walk.emit("response-property-format-added", loc, shown)
        else:
            walk.emit(walk.rule("format-changed"), loc, shown)
    _compare_bounds(walk, o, n, loc)
    if o.nullable != n.nullable:
        walk.emit(walk.rule("became-nullable" if n.nullable else "became-not-nullable"), loc, "")

    # enums
    if o.enum is not None and n.enum is not None:
        old_vals = {_show(v) for v in o.enum}
        new_vals = {_show(v) for v in n.enum}
        for shown_v in sorted(new_vals - old_vals):
            walk.emit(walk.rule("enum-value-added"), loc, f"enum value {shown_v} added")
        relied = {_show(v) for v in walk.relied_values(o.ref or n.ref)}
        added = sorted(new_vals - old_vals)
        for shown_v in sorted(old_vals - new_vals):
            if walk.direction == "response" and shown_v in relied:
                also = f"; added meanwhile: {', '.join(added)}" if added else ""
                walk.emit(
                    "relied-response-enum-value-removed",
                    loc,
                    f"enum value {shown_v} removed, which toloka_ext acts on{walk.callers()}{also}",
                )
                continue
            walk.emit(walk.rule("enum-value-removed"), loc, f"enum value {shown_v} removed")
    elif o.enum is not None and walk.direction == "response":
        walk.emit("response-property-enum-removed", loc, f"enum {_show(o.enum)} dropped")

    # object properties (readOnly ones are not sent, writeOnly ones are not received)
    def hidden(view: _View) -> bool:
        return view.read_only if walk.direction == "request" else view.write_only

    old_props = {k: v for k, v in o.properties.items() if not hidden(_view(walk.old, v))}
    new_props = {k: v for k, v in n.properties.items() if not hidden(_view(walk.new, v))}
    for name in sorted(old_props.keys() | new_props.keys()):
        sub = f"{spath}.{name}"
        sub_loc = f"{prefix} {sub}"
        was_req, is_req = name in o.required, name in n.required
        if name not in new_props:
            if walk.direction == "response":
                rule = f"response-{'required' if was_req else 'optional'}-property-removed"
                if not was_req and walk.relies_on_property(sub):
                    walk.emit(
                        "relied-response-property-removed",
                        sub_loc,
                        f"optional property removed, which toloka_ext needs{walk.callers()}",
                    )
                    continue
            else:
                rule = "request-property-removed"
            walk.emit(rule, sub_loc, f"{'required' if was_req else 'optional'} property removed")
        elif name not in old_props:
            if walk.direction == "response":
                rule = f"response-{'required' if is_req else 'optional'}-property-added"
            else:
                rule = f"new-{'required' if is_req else 'optional'}-request-property"
            walk.emit(rule, sub_loc, f"{'required' if is_req else 'optional'} property added")
        else:
            if was_req != is_req:
                suffix = "became-required" if is_req else "became-optional"
                walk.emit(f"{walk.direction}-property-{suffix}", sub_loc, "")
            _compare_schema(walk, old_props[name], new_props[name], prefix, sub, stack)

    # containers
    if o.items is not None or n.items is not None:
        # No `items` is an array of anything: the type rules say which side that breaks.
        old_items = {} if o.items is None else o.items
        new_items = {} if n.items is None else n.items
        _compare_schema(walk, old_items, new_items, prefix, f"{spath}[]", stack)
    if isinstance(o.additional, Mapping) and isinstance(n.additional, Mapping):
        _compare_schema(walk, o.additional, n.additional, prefix, f"{spath}.*", stack)

    # oneOf / anyOf variants, matched by $ref name, title or position
    if o.variants or n.variants:
        old_v, new_v = dict(o.variants), dict(n.variants)
        for vkey in sorted(old_v.keys() | new_v.keys()):
            if vkey not in new_v:
                walk.emit(
                    f"{walk.direction}-property-one-of-removed", loc, f"variant {vkey} removed"
                )
            elif vkey not in old_v:
                walk.emit(f"{walk.direction}-property-one-of-added", loc, f"variant {vkey} added")
            else:
                _compare_schema(walk, old_v[vkey], new_v[vkey], prefix, f"{spath}<{vkey}>", stack)


# --------------------------------------------------------------------------- operations


def _operations(doc: Document) -> dict[tuple[str, str], tuple[str, dict[str, Any], list[Any]]]:
    """(path template, METHOD) -> (path as written, operation, path-level parameters)."""
    return {
        (template(path), method.upper()): (path, op, shared)
        for path, method, op, shared in doc.operations()
    }


def _parameters(
    doc: Document,
    common: list[Any],
    op: Mapping[str, Any],
    rename: Mapping[str, str] | None = None,
) -> dict[tuple[str, str], Any]:
    """(in, name) -> parameter; ``rename`` maps this side's path parameter names to the
    other side's (a path parameter is its position in the template, as in oasdiff)."""
    params: dict[tuple[str, str], dict[str, Any]] = {}
    own = _list(op.get("parameters"))
    for raw in [*common, *own]:
        p, _ = doc.resolve(raw)
        name, where = p.get("name"), p.get("in")
        if isinstance(name, str) and isinstance(where, str):
            key_name = name.lower() if where == "header" else name
            if where == "path" and rename:
                key_name = rename.get(key_name, key_name)
            params[(where, key_name)] = p
    return params


_TEMPLATE_NAME = re.compile(r"\{([^}/]*)\}")


def _path_renames(old_path: str, new_path: str) -> dict[str, str]:
    """Old path parameter name -> new one, by position (``/runs/{runId}`` -> ``/runs/{id}``)."""
    old_names = _TEMPLATE_NAME.findall(old_path)
    new_names = _TEMPLATE_NAME.findall(new_path)
    if len(old_names) != len(new_names):
        return {}
    return {o: n for o, n in zip(old_names, new_names, strict=True) if o != n}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def diff_specs(
    old: Mapping[str, Any], new: Mapping[str, Any], *, reliance: Reliance | None = None
) -> Report:
    """Compare two OpenAPI documents; return every change, classified and sorted.

    With a ``reliance`` (what the client layer sends, acts on and needs: see
    :class:`Reliance`), a change is also judged by it: a parameter the client sends, a
    response enum value it acts on or an optional response property it needs, removed
    (alone, or as part of a rename or a new paging scheme), is breaking.

    >>> diff_specs(old_doc, new_doc).exit_code  # 0 none, 3 compatible, 4 breaking
    """
    o_doc, n_doc = Document(old), Document(new)
    changes: list[Change] = []
    o_ops, n_ops = _operations(o_doc), _operations(n_doc)
    o_paths = {k[0] for k in o_ops}
    n_paths = {k[0] for k in n_ops}

    def add(method: str, path: str, rule_id: str, location: str, detail: str) -> None:
        level = RULES[rule_id][0]
        changes.append(Change(rule_id, level, method, path, location, detail or RULES[rule_id][1]))

    for key in sorted(o_ops.keys() | n_ops.keys()):
        method = key[1]
        if key not in n_ops:
            path, op, _ = o_ops[key]
            removed = "api-removed" if key[0] in n_paths else "api-path-removed"
            deprecation = "with" if op.get("deprecated") else "without"
            add(method, path, f"{removed}-{deprecation}-deprecation", "", "")
            continue
        if key not in o_ops:
            path, _, _ = n_ops[key]
            add(method, path, "endpoint-added", "", "new path" if key[0] not in o_paths else "")
            continue
        old_path, old_op, old_common = o_ops[key]
        path, new_op, new_common = n_ops[key]
        emit = partial(add, method, path)
        renames = _path_renames(old_path, path)
        _compare_operation(
            o_doc, n_doc, old_op, new_op, old_common, new_common, emit, renames, reliance
        )

    changes.sort(key=Change.sort_key)
    return Report(changes=changes)


def _compare_operation(
    o_doc: Document,
    n_doc: Document,
    old_op: Mapping[str, Any],
    new_op: Mapping[str, Any],
    old_common: list[Any],
    new_common: list[Any],
    emit: Callable[[str, str, str], None],
    renames: Mapping[str, str] | None = None,
    reliance: Reliance | None = None,
) -> None:
    op_id = old_op.get("operationId")
    operation = op_id if isinstance(op_id, str) else None
    # metadata
    if bool(old_op.get("deprecated")) != bool(new_op.get("deprecated")):
        emit("endpoint-deprecated" if new_op.get("deprecated") else "endpoint-reactivated", "", "")
    old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
    if old_id != new_id:
        if old_id is None:
            emit("api-operation-id-added", "", f"operationId {_show(new_id)}")
        else:
            emit("api-operation-id-removed", "", f"operationId {_show(old_id)} -> {_show(new_id)}")

    _compare_security(o_doc, n_doc, old_op, new_op, emit)

    # parameters
    o_params = _parameters(o_doc, old_common, old_op, renames)
    n_params = _parameters(n_doc, new_common, new_op)
    for where, name in sorted(o_params.keys() | n_params.keys()):
        loc = f"{where} {name}"
        if (where, name) not in n_params:
            sent = reliance.parameters.get(operation or "", ()) if reliance else ()
            if reliance is not None and reliance.reached(operation) and loc in sent:
                added = sorted(f"{w} {n}" for w, n in n_params.keys() - o_params.keys())
                also = f"; added meanwhile: {', '.join(added)}" if added else ""
                emit(
                    "relied-request-parameter-removed",
                    loc,
                    f"parameter removed, which toloka_ext sends{reliance.callers(operation)}{also}",
                )
                continue
            emit("request-parameter-removed", loc, "parameter removed")
            continue
        new_p = n_params[(where, name)]
        is_req = bool(new_p.get("required")) or where == "path"
        if (where, name) not in o_params:
            rule = "new-required-request-parameter" if is_req else "new-optional-request-parameter"
            emit(rule, loc, f"{'required' if is_req else 'optional'} parameter added")
            continue
        old_p = o_params[(where, name)]
        was_req = bool(old_p.get("required")) or where == "path"
        if was_req != is_req:
            emit(f"request-parameter-became-{'required' if is_req else 'optional'}", loc, "")
        walk = _Walk(o_doc, n_doc, "request", "parameter", emit)
        _compare_schema(walk, old_p.get("schema", {}), new_p.get("schema", {}), loc)

    # request body
    old_body, _ = o_doc.resolve(old_op.get("requestBody"))
    new_body, _ = n_doc.resolve(new_op.get("requestBody"))
    if old_body and not new_body:
        emit("request-body-removed", "request body", "")
    elif new_body and not old_body:
        required = bool(new_body.get("required"))
        emit("request-body-added-required" if required else "request-body-added-optional", "", "")
    elif old_body and new_body:
        was_req, is_req = bool(old_body.get("required")), bool(new_body.get("required"))
        if was_req != is_req:
            rule = "request-body-became-required" if is_req else "request-body-became-optional"
            emit(rule, "request body", "")
        _compare_content(o_doc, n_doc, old_body, new_body, "request", "request body", emit)

    # responses
    old_resps = _mapping(old_op.get("responses"))
    new_resps = _mapping(new_op.get("responses"))
    for status in sorted({str(s) for s in old_resps} | {str(s) for s in new_resps}):
        old_r = _lookup(old_resps, status)
        new_r = _lookup(new_resps, status)
        kind = "success" if status.startswith("2") else "non-success"
        if new_r is None:
            emit(f"response-{kind}-status-removed", f"response {status}", "")
        elif old_r is None:
            emit(f"response-{kind}-status-added", f"response {status}", "")
        else:
            old_res, _ = o_doc.resolve(old_r)
            new_res, _ = n_doc.resolve(new_r)
            _compare_content(
                o_doc,
                n_doc,
                old_res,
                new_res,
                "response",
                f"response {status} body",
                emit,
                reliance,
                operation,
            )


_SCHEME_KEYS = ("type", "in", "name", "scheme", "bearerFormat", "openIdConnectUrl")


def _alternatives(doc: Document, op: Mapping[str, Any]) -> set[frozenset[str]]:
    """Security requirement alternatives (OR of ANDs) of an operation; {frozenset()} = no auth."""
    reqs = op.get("security", doc.contents.get("security"))
    if not isinstance(reqs, list) or not reqs:
        return {frozenset()}
    return {frozenset(r) if isinstance(r, Mapping) else frozenset() for r in reqs}


def _scheme(doc: Document, name: str) -> dict[str, Any] | None:
    schemes = _mapping(_mapping(doc.contents.get("components")).get("securitySchemes"))
    if name not in schemes:
        return None
    resolved, _ = doc.resolve(schemes[name])
    return {k: resolved.get(k) for k in _SCHEME_KEYS}


def _compare_security(
    o_doc: Document,
    n_doc: Document,
    old_op: Mapping[str, Any],
    new_op: Mapping[str, Any],
    emit: Callable[[str, str, str], None],
) -> None:
    def show(alt: frozenset[str]) -> str:
        return " + ".join(sorted(alt)) or "(none)"

    old_alts, new_alts = _alternatives(o_doc, old_op), _alternatives(n_doc, new_op)
    if old_alts != new_alts:
        if not old_alts & new_alts:
            olds = ", ".join(sorted(map(show, old_alts)))
            news = ", ".join(sorted(map(show, new_alts)))
            emit("api-security-changed", "security", f"{olds} -> {news}")
        else:
            for alt in sorted(new_alts - old_alts, key=show):
                emit("api-security-added", "security", f"alternative {show(alt)} added")
            for alt in sorted(old_alts - new_alts, key=show):
                emit("api-security-removed", "security", f"alternative {show(alt)} removed")
    for name in sorted(set().union(*(old_alts & new_alts))):
        old_s, new_s = _scheme(o_doc, name), _scheme(n_doc, name)
        if old_s is not None and new_s is None:
            emit("api-security-component-removed", f"security {name}", "scheme definition removed")
        elif old_s is not None and new_s is not None and old_s != new_s:
            diffs = [
                f"{k} {_show(old_s[k])} -> {_show(new_s[k])}"
                for k in _SCHEME_KEYS
                if old_s[k] != new_s[k]
            ]
            emit("api-security-component-changed", f"security {name}", "; ".join(diffs))


def _lookup(responses: Mapping[Any, Any], status: str) -> Any:
    for key, value in responses.items():
        if str(key) == status:
            return value
    return None


def _compare_content(
    o_doc: Document,
    n_doc: Document,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    direction: Literal["request", "response"],
    loc: str,
    emit: Callable[[str, str, str], None],
    reliance: Reliance | None = None,
    operation: str | None = None,
) -> None:
    old_c, new_c = _mapping(old.get("content")), _mapping(new.get("content"))
    for media in sorted(old_c.keys() | new_c.keys()):
        where = loc if len(old_c.keys() | new_c.keys()) == 1 else f"{loc} ({media})"
        if media not in new_c:
            rule = f"{direction}-media-type-removed"
            if direction == "response" and not loc.startswith("response 2"):
                continue  # an error body format vanishing does not break a client call
            emit(rule, where, f"media type {media} removed")
        elif media not in old_c:
            emit(f"{direction}-media-type-added", where, f"media type {media} added")
        else:
            old_m, _ = o_doc.resolve(old_c[media])
            new_m, _ = n_doc.resolve(new_c[media])
            if "schema" in old_m or "schema" in new_m:
                walk = _Walk(o_doc, n_doc, direction, "body", emit, reliance, operation)
                _compare_schema(walk, old_m.get("schema", {}), new_m.get("schema", {}), where)


def iter_rules() -> Iterator[tuple[str, Level, str]]:
    """Every rule id this module can report, with its level and description."""
    for rule_id, (level, text) in sorted(RULES.items()):
        yield rule_id, level, text


def main(argv: list[str] | None = None) -> int:
    """``python -m toloka_ext._specdiff OLD NEW [--format text|markdown|json]`` or ``--rules``."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="specdiff.py", description=__doc__.splitlines()[0])
    parser.add_argument("old", nargs="?")
    parser.add_argument("new", nargs="?")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument("--rules", action="store_true", help="list the rules and exit")
    args = parser.parse_args(argv)
    if args.rules:
        for rule_id, level, text in iter_rules():
            print(f"{level:9} {rule_id:45} {text}")  # noqa: T201 - the command's output
        return 0
    if not (args.old and args.new):
        parser.error("OLD and NEW are required")
    docs = [load_text(Path(p).read_text(encoding="utf-8")) for p in (args.old, args.new)]
    report = diff_specs(docs[0], docs[1])
    render = {"text": report.to_text, "markdown": report.to_markdown, "json": report.to_json}
    sys.stdout.write(render[args.format]())
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
