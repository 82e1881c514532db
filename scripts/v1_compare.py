"""``openapi/v1.yaml`` against Toloka's published API v1 document: differences, classified.

Our v1 document deliberately differs from the published one in a few places, each listed
with its reason in ``openapi/v1-differences.yaml``. This module finds every difference, per
operation of ours (matched by method and path template), and tells which are listed:
``tests/test_v1_compare.py`` keeps the list honest, ``scripts/pull_spec.py --api v1``
reports what changed on Toloka's side (a difference not listed, or a listed one gone).

Compared: operationId, security, parameters, the request body (its top-level fields) and
the 2xx responses (fields all the way down, ``oneOf`` alternatives paired whatever their
order); not descriptions nor examples. A difference is named by ``what``, its path inside the
operation (``parameters[query:limit].schema.maximum``: the grammar is in the differences
file's header), with the value on each side, and classified by :data:`RULES`: ``breaking``
(exit code 4 of ``pull_spec.py``), else ``info`` or ``warning`` (exit code 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import combinations, permutations
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from urllib.request import url2pathname

from toloka_ext._openapi import Document, flatten, inline, load_text, template
from toloka_ext._specdiff import Change, Level, Report

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "openapi" / "v1.yaml"
DIFFERENCES = ROOT / "openapi" / "v1-differences.yaml"

# Facets compared on parameters and request bodies, and on response fields.
REQUEST_FACETS = ("type", "enum", "format", "minimum", "maximum", "additionalProperties")
RESPONSE_FACETS = ("type", "enum", "format")
# Width hints of numbers say nothing about the values the API accepts or sends.
WIDTH_FORMATS = {"int32", "int64", "float", "double"}
# Above this many alternatives, oneOf pairing is greedy instead of exhaustive (n! pairings).
_EXHAUSTIVE_ONE_OF = 5

Pair = tuple[Any, Any]  # (ours, published)
Found = dict[str, dict[str, Pair]]  # operation -> what -> (ours, published)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def resolve_file(path: Path = OURS) -> dict[str, Any]:
    """The document at ``path`` (by default ``openapi/v1.yaml``), every ``$ref`` inlined
    (the files it names read relative to it)."""

    def read(uri: str) -> str:
        return Path(url2pathname(urlsplit(uri).path)).read_text(encoding="utf-8")

    text = path.read_text(encoding="utf-8")
    return inline(load_text(text), uri=path.resolve().as_uri(), load=read)


# --------------------------------------------------------------------------- comparison


def operations(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], list[Any]]]:
    """``"GET /tasks/{}"`` -> (``"GET /tasks/{id}"``, operation, path-level parameters)."""
    return {
        f"{method.upper()} {template(path)}": (f"{method.upper()} {path}", op, shared)
        for path, method, op, shared in Document(doc).operations()
    }


def _merged(schema: Any) -> dict[str, Any]:
    """One schema for an ``allOf`` (the walker's one rule: ``toloka_ext._openapi.flatten``; no
    ``$ref`` to follow in a resolved document). Never changes ``schema``: resolved documents
    share nodes between their uses."""
    return flatten(schema, lambda node: (_dict(node), None))[0]


def _facet(schema: dict[str, Any], name: str) -> Any:
    value = schema.get(name)
    if name == "format" and value in WIDTH_FORMATS:
        return None
    if name == "enum" and isinstance(value, list):
        return sorted(value, key=repr)
    if name == "additionalProperties":
        return False if value is False else None  # an open object is the default
    return value


def _required(schema: dict[str, Any]) -> list[Any]:
    return sorted(_list(schema.get("required")), key=str)


def _walk(
    ours: Any, theirs: Any, path: str, out: dict[str, Pair], *, request: bool, depth: int | None
) -> None:
    """Compare two schemas; ``depth`` is how many levels of properties to go into."""
    o, t = _merged(ours), _merged(theirs)
    for name in REQUEST_FACETS if request else RESPONSE_FACETS:
        if _facet(o, name) != _facet(t, name):
            out[f"{path}.{name}"] = (_facet(o, name), _facet(t, name))
    if o.get("type") != t.get("type") or depth == 0:
        return
    inner = None if depth is None else depth - 1
    if request and _required(o) != _required(t):
        out[f"{path}.required"] = (_required(o), _required(t))
    if "oneOf" in o or "oneOf" in t:
        alternatives = _list(o.get("oneOf")), _list(t.get("oneOf"))
        out.update(_one_of(*alternatives, path, request, depth))
    if "items" in o or "items" in t:
        _walk(o.get("items"), t.get("items"), f"{path}.items", out, request=request, depth=depth)
    extra = o.get("additionalProperties"), t.get("additionalProperties")
    if isinstance(extra[0], dict) and isinstance(extra[1], dict):
        where = f"{path}.additionalProperties"
        _walk(extra[0], extra[1], where, out, request=request, depth=inner)
    elif isinstance(extra[0], dict) or isinstance(extra[1], dict):
        shown = ["schema" if isinstance(e, dict) else e for e in extra]
        out[f"{path}.additionalProperties"] = (shown[0], shown[1])
    mine, published = _dict(o.get("properties")), _dict(t.get("properties"))
    for name in sorted(mine.keys() | published.keys()):
        where = f"{path}.properties.{name}"
        if name not in published:
            out[where] = ("declared", "absent")
        elif name not in mine:
            out[where] = ("absent", "declared")
        else:
            _walk(mine[name], published[name], where, out, request=request, depth=inner)


def _pairings(ours: int, theirs: int) -> Iterator[list[tuple[int, int]]]:
    count = min(ours, theirs)
    if max(ours, theirs) > _EXHAUSTIVE_ONE_OF:  # n! pairings: pair by position instead
        yield [(i, i) for i in range(count)]
        return
    for mine in combinations(range(ours), count):
        for published in permutations(range(theirs), count):
            yield list(zip(mine, published, strict=True))


def _one_of(
    ours: list[Any], theirs: list[Any], path: str, request: bool, depth: int | None
) -> dict[str, Pair]:
    """Differences of two ``oneOf`` lists, whatever their order: each of our alternatives
    (``oneOf[<our index>]``) is paired with a published one of the same type, the pairing
    with the fewest differences winning."""
    best: tuple[int, dict[str, Pair]] | None = None
    for pairing in _pairings(len(ours), len(theirs)):
        found: dict[str, Pair] = {}
        retyped = 0
        for i, j in pairing:
            retyped += _merged(ours[i]).get("type") != _merged(theirs[j]).get("type")
            _walk(ours[i], theirs[j], f"{path}.oneOf[{i}]", found, request=request, depth=depth)
        for i in sorted(set(range(len(ours))) - {i for i, _ in pairing}):
            found[f"{path}.oneOf[{i}]"] = ("declared", "absent")
        if best is None or (retyped, len(found)) < (best[0], len(best[1])):
            best = retyped, found
    found = best[1] if best is not None else {}
    if len(ours) != len(theirs):
        found[f"{path}.oneOf"] = (len(ours), len(theirs))
    return found


def _parameters(op: dict[str, Any], shared: list[Any]) -> dict[str, dict[str, Any]]:
    params: dict[str, dict[str, Any]] = {}
    for p in [*shared, *_list(op.get("parameters"))]:  # the operation's own win
        if isinstance(p, dict) and "in" in p and "name" in p:
            params[f"{p['in']}:{p['name']}"] = p
    return params


def _is_required(parameter: dict[str, Any]) -> bool:
    return bool(parameter.get("required")) or parameter.get("in") == "path"


def _json_schema(node: Any) -> Any:
    return _dict(_dict(_dict(node).get("content")).get("application/json")).get("schema")


def _security(doc: dict[str, Any], op: dict[str, Any]) -> list[list[str]]:
    """The accepted credentials, each alternative as the schemes it needs (not their names)."""
    schemes = _dict(_dict(doc.get("components")).get("securitySchemes"))
    return [
        sorted(
            " ".join(
                str(_dict(schemes.get(name)).get(k, "")) for k in ("type", "in", "name", "scheme")
            ).strip()
            for name in _dict(alternative)
        )
        for alternative in _list(op.get("security", doc.get("security", [])))
    ]


def compare_operation(
    ours: dict[str, Any],
    theirs: dict[str, Any],
    shared: tuple[list[Any], list[Any]],
    security: tuple[list[list[str]], list[list[str]]],
) -> dict[str, Pair]:
    """The differences of one operation (both sides fully resolved), by ``what``."""
    out: dict[str, Pair] = {}
    if ours.get("operationId") != theirs.get("operationId"):
        out["operationId"] = (ours.get("operationId"), theirs.get("operationId"))
    if security[0] != security[1]:
        out["security"] = security
    # The alternatives as sets, apart from "security" (which also sees a repeated scheme,
    # such as ours' legacy OAuth next to the API key, both `Authorization` headers): a
    # listed "security" difference must not hide a change of the credentials accepted.
    accepted = tuple(sorted({" + ".join(a) or "(none)" for a in side}) for side in security)
    if accepted[0] != accepted[1]:
        out["security.schemes"] = accepted
    mine, published = _parameters(ours, shared[0]), _parameters(theirs, shared[1])
    for key in sorted(mine.keys() | published.keys()):
        where = f"parameters[{key}]"
        if key not in published:
            out[where] = ("declared", "absent")
        elif key not in mine:
            out[where] = ("absent", _declared(_is_required(published[key])))
        else:
            a, b = mine[key], published[key]
            if bool(a.get("required")) != bool(b.get("required")):
                out[f"{where}.required"] = (bool(a.get("required")), bool(b.get("required")))
            _walk(a.get("schema"), b.get("schema"), f"{where}.schema", out, request=True, depth=0)
    bodies = _dict(ours.get("requestBody")) or None, _dict(theirs.get("requestBody")) or None
    if bodies[0] is None and bodies[1] is not None:
        out["requestBody"] = ("absent", _declared(bool(bodies[1].get("required"))))
    elif bodies[0] is not None and bodies[1] is None:
        out["requestBody"] = ("declared", "absent")
    elif bodies[0] is not None and bodies[1] is not None:
        if bool(bodies[0].get("required")) != bool(bodies[1].get("required")):
            out["requestBody.required"] = (bodies[0].get("required"), bodies[1].get("required"))
        body = _json_schema(bodies[0]), _json_schema(bodies[1])
        _walk(*body, "requestBody.schema", out, request=True, depth=1)
    answers = [
        {str(s): r for s, r in _dict(op.get("responses")).items() if str(s).startswith("2")}
        for op in (ours, theirs)
    ]
    for status in sorted(answers[0].keys() | answers[1].keys()):
        where = f"responses.{status}"
        if status not in answers[1]:
            out[where] = ("declared", "absent")
        elif status not in answers[0]:
            out[where] = ("absent", "declared")
        else:
            a, b = _json_schema(answers[0][status]), _json_schema(answers[1][status])
            _walk(a, b, f"{where}.schema", out, request=False, depth=None)
    return out


def _declared(required: bool) -> str:
    return "declared, required" if required else "declared"


def differences(ours: dict[str, Any], published: dict[str, Any]) -> Found:
    """Every difference, per operation of ``ours`` (both documents fully resolved)."""
    theirs = operations(published)
    found: Found = {}
    for key, (name, op, shared) in operations(ours).items():
        if key not in theirs:
            found[name] = {"(operation)": ("declared", "absent")}
            continue
        _, other, other_shared = theirs[key]
        security = _security(ours, op), _security(published, other)
        found[name] = compare_operation(op, other, (shared, other_shared), security)
    return found


def listed_differences(path: Path = DIFFERENCES) -> dict[str, set[str]]:
    """The reviewed differences file: operation -> the ``what`` of each listed difference."""
    data = load_text(path.read_text(encoding="utf-8"))
    return {
        str(op): {str(e["what"]) for e in _list(entries)}
        for op, entries in _dict(_dict(data).get("operations")).items()
    }


def check(
    ours: dict[str, Any], published: dict[str, Any], listed: dict[str, set[str]] | None = None
) -> tuple[list[str], list[str]]:
    """(differences not listed, listed differences that do not exist), one line each;
    ``listed`` defaults to ``openapi/v1-differences.yaml``."""
    findings = compare(ours, published, listed_differences() if listed is None else listed)
    unlisted = [
        f"{f.operation}: {f.what}: ours {f.ours!r}, published {f.published!r}"
        for f in findings
        if not f.gone
    ]
    return unlisted, [f"{f.operation}: {f.what}" for f in findings if f.gone]


# --------------------------------------------------------------------------- classification

Side = Literal["operation", "request", "response", "listed"]
# Split a `what` on the dots that are not inside [...] (parameter names may hold dots).
_STEP = re.compile(r"\.(?![^\[]*\])")


def locate(what: str) -> tuple[Side, str]:
    """The side (operation, request, response) and kind (the ``kind`` column of :data:`RULES`,
    ``other`` when ``what`` does not parse) of a difference named ``what``."""
    if what in ("(operation)", "operationId", "security", "security.schemes"):
        return "operation", "operation" if what == "(operation)" else what
    steps = _STEP.split(what)
    head, rest = steps[0], steps[1:]
    if head.startswith("parameters["):
        if not rest:
            return "request", "parameter"
        if rest == ["required"]:
            return "request", "parameter.required"
        return "request", _schema_kind(rest[1:]) if rest[0] == "schema" else "other"
    if head == "requestBody":
        if not rest:
            return "request", "body"
        if rest == ["required"]:
            return "request", "body.required"
        return "request", _schema_kind(rest[1:]) if rest[0] == "schema" else "other"
    if head == "responses" and rest:
        if len(rest) == 1:
            return "response", "status"
        return "response", _schema_kind(rest[2:]) if rest[1] == "schema" else "other"
    return "operation", "other"


def _schema_kind(steps: list[str]) -> str:
    """The kind of the last step of a path inside a schema, read left to right (after
    ``properties`` comes a field name, whatever it is: a field may be called ``type``)."""
    i = 0
    while i < len(steps):
        step, last = steps[i], i == len(steps) - 1
        if step == "properties" and i + 1 < len(steps):
            if i + 1 == len(steps) - 1:
                return "property"
            i += 2
        elif step == "items" and not last:
            i += 1
        elif step == "additionalProperties":
            if last:
                return "additionalProperties"
            i += 1
        elif re.fullmatch(r"oneOf\[\d+\]", step):
            if last:
                return "alternative"
            i += 1
        elif last and step == "oneOf":
            return "alternatives"
        elif last and step in (*REQUEST_FACETS, "required"):
            return step
        else:
            return "other"
    return "other"


@dataclass(frozen=True)
class Rule:
    """One row of the classification table: a difference of ``kind`` on ``side`` for which
    ``when(ours, published)`` holds is ``name``, at ``level``."""

    name: str
    level: Level
    side: Side
    kind: str
    when: Callable[[Any, Any], bool]
    summary: str


def _always(ours: Any, published: Any) -> bool:  # noqa: ARG001
    return True


def _gone(ours: Any, published: Any) -> bool:
    return bool(ours == "declared" and published == "absent")


def _new_required(ours: Any, published: Any) -> bool:
    return bool(ours == "absent" and published == "declared, required")


def _new(ours: Any, published: Any) -> bool:
    return ours == "absent" and str(published).startswith("declared")


def _published_true(ours: Any, published: Any) -> bool:  # noqa: ARG001
    return bool(published)


def _more_required(ours: Any, published: Any) -> bool:
    return bool({str(v) for v in _list(published)} - {str(v) for v in _list(ours)})


def _values(enum: Any) -> set[str] | None:
    if not isinstance(enum, list):
        return None  # no enum: any value
    return {json.dumps(v, sort_keys=True, default=str) for v in enum}


def _enum_narrowed(ours: Any, published: Any) -> bool:
    """The published enum refuses a value ours may send (ours without an enum sends any)."""
    mine, theirs = _values(ours), _values(published)
    return theirs is not None and (mine is None or bool(mine - theirs))


def _enum_widened(ours: Any, published: Any) -> bool:
    """The published enum has a value ours does not (no published enum: any value)."""
    mine, theirs = _values(ours), _values(published)
    return mine is not None and (theirs is None or bool(theirs - mine))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bound_narrowed(higher_is_narrower: bool) -> Callable[[Any, Any], bool]:
    def narrowed(ours: Any, published: Any) -> bool:
        if published is None:
            return False
        mine, theirs = _number(ours), _number(published)
        if mine is None or theirs is None:
            return True  # a new bound, or one that is not a number: cannot show it is wider
        return theirs > mine if higher_is_narrower else theirs < mine

    return narrowed


def _closed(ours: Any, published: Any) -> bool:
    return published is False and ours is not False


def _schema_gone(ours: Any, published: Any) -> bool:
    return bool(ours == "schema" and published != "schema")


def _fewer(ours: Any, published: Any) -> bool:
    mine, theirs = _number(ours), _number(published)
    return mine is not None and theirs is not None and theirs < mine


def _more(ours: Any, published: Any) -> bool:
    mine, theirs = _number(ours), _number(published)
    return mine is not None and theirs is not None and theirs > mine


def _lost_credentials(ours: Any, published: Any) -> bool:
    return bool(set(_list(ours)) - set(_list(published)))


# The classification table, read top to bottom; the first row whose side, kind and
# condition match a new difference names it. "Breaking" is what can make the client fail:
# a request it sends refused, or an answer it reads no longer shaped as it expects.
RULES: tuple[Rule, ...] = (
    Rule("operation-gone", "breaking", "operation", "operation", _always, "the client calls it"),
    Rule("security-credentials-changed", "breaking", "operation", "security.schemes",
         _lost_credentials, "a credential the client sends is no longer accepted"),
    Rule("security-credentials-added", "info", "operation", "security.schemes", _always,
         "the published document accepts another credential as well"),
    Rule("security-changed", "breaking", "operation", "security", _always, "requirements changed"),
    Rule("operation-id-changed", "info", "operation", "operationId", _always, "calls go by path"),
    # request: parameters
    Rule("request-parameter-gone", "breaking", "request", "parameter", _gone, "refused or ignored"),
    Rule("request-parameter-added-required", "breaking", "request", "parameter", _new_required,
         "a required parameter the client does not send"),
    Rule("request-parameter-added", "info", "request", "parameter", _new, "optional: not sent"),
    Rule("request-parameter-became-required", "breaking", "request", "parameter.required",
         _published_true, "a parameter the client may omit became required"),
    Rule("request-parameter-became-optional", "info", "request", "parameter.required", _always,
         "a parameter became optional"),
    # request: body
    Rule("request-body-gone", "breaking", "request", "body", _gone, "the body sent is refused"),
    Rule("request-body-added-required", "breaking", "request", "body", _new_required, "not sent"),
    Rule("request-body-added", "info", "request", "body", _new, "an optional body, not sent"),
    Rule("request-body-became-required", "breaking", "request", "body.required",
         _published_true, "the request body became required"),
    Rule("request-body-became-optional", "info", "request", "body.required", _always,
         "the request body became optional"),
    # request: fields and values
    Rule("request-property-gone", "breaking", "request", "property", _gone, "refused or ignored"),
    Rule("request-property-added", "info", "request", "property", _always, "a field not sent"),
    Rule("request-property-became-required", "breaking", "request", "required", _more_required,
         "a field the client may omit is required (or appeared as required)"),
    Rule("request-property-became-optional", "info", "request", "required", _always,
         "a field became optional"),
    Rule("request-type-changed", "breaking", "request", "type", _always, "of a value sent"),
    Rule("request-format-changed", "breaking", "request", "format", _always, "of a value sent"),
    Rule("request-enum-value-removed", "breaking", "request", "enum", _enum_narrowed,
         "a value the client may send is no longer accepted"),
    Rule("request-enum-value-added", "info", "request", "enum", _always, "more values accepted"),
    Rule("request-minimum-raised", "breaking", "request", "minimum", _bound_narrowed(True),
         "a lower bound was raised (or added): a value the client may send is refused"),
    Rule("request-minimum-lowered", "info", "request", "minimum", _always, "lowered or dropped"),
    Rule("request-maximum-lowered", "breaking", "request", "maximum", _bound_narrowed(False),
         "an upper bound was lowered (or added): a value the client may send is refused"),
    Rule("request-maximum-raised", "info", "request", "maximum", _always, "raised or dropped"),
    Rule("request-object-closed", "breaking", "request", "additionalProperties", _closed,
         "unknown fields are refused"),
    Rule("request-object-opened", "info", "request", "additionalProperties", _always,
         "the object accepts other fields (or its map values changed shape)"),
    Rule("request-alternative-gone", "breaking", "request", "alternative", _always,
         "a shape of the body the client sends has no published counterpart"),
    Rule("request-alternatives-fewer", "breaking", "request", "alternatives", _fewer,
         "fewer shapes of the body are accepted"),
    Rule("request-alternatives-more", "info", "request", "alternatives", _always, "more shapes"),
    # responses
    Rule("response-status-gone", "breaking", "response", "status", _gone, "an expected 2xx"),
    Rule("response-status-added", "info", "response", "status", _always, "another 2xx status"),
    Rule("response-property-gone", "breaking", "response", "property", _gone, "a field it reads"),
    Rule("response-property-added", "info", "response", "property", _always, "kept as unknown key"),
    Rule("response-type-changed", "breaking", "response", "type", _always, "of a field read"),
    Rule("response-format-changed", "breaking", "response", "format", _always, "of a field read"),
    Rule("response-enum-value-added", "warning", "response", "enum", _enum_widened,
         "a value the client does not declare may arrive (it keeps unknown values)"),
    Rule("response-enum-value-removed", "info", "response", "enum", _always, "no longer sent"),
    Rule("response-map-gone", "breaking", "response", "additionalProperties", _schema_gone,
         "the map entries the client reads are not published"),
    Rule("response-map-changed", "info", "response", "additionalProperties", _always,
         "map entries are published where the client reads none"),
    Rule("response-alternative-gone", "breaking", "response", "alternative", _always,
         "an answer shape the client reads (one per mode it uses) is not published"),
    Rule("response-alternatives-more", "warning", "response", "alternatives", _more, "undeclared"),
    Rule("response-alternatives-fewer", "info", "response", "alternatives", _always,
         "fewer answer shapes are published (the gone one is reported on its own)"),
)  # fmt: skip

OTHER = Rule("difference-other", "warning", "operation", "other", _always, "review it")
GONE = Rule("listed-difference-gone", "info", "listed", "gone", _always, "review the entry")


def classify(what: str, ours: Any, published: Any) -> Rule:
    """The rule of :data:`RULES` that names a new difference (:data:`OTHER` when none)."""
    side, kind = locate(what)
    for rule in RULES:
        if rule.side == side and rule.kind == kind and rule.when(ours, published):
            return rule
    return OTHER


@dataclass(frozen=True)
class Finding:
    """A change on the published side: a new difference, or a listed one that is gone."""

    operation: str  # "GET /tasks/{id}", as ours names it
    what: str
    ours: Any
    published: Any
    rule: Rule

    @property
    def gone(self) -> bool:
        return self.rule is GONE

    def detail(self) -> str:
        if self.gone:
            return "listed in openapi/v1-differences.yaml, no longer found: review the entry"
        return f"ours {_show(self.ours)}, published {_show(self.published)}"

    def change(self) -> Change:
        method, _, path = self.operation.partition(" ")
        return Change(self.rule.name, self.rule.level, method, path, self.what, self.detail())


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def compare(
    ours: dict[str, Any], published: dict[str, Any], listed: dict[str, set[str]]
) -> list[Finding]:
    """Every difference not in ``listed`` (classified by :func:`classify`) and every listed
    difference that is gone (:data:`GONE`), ordered by operation and ``what``."""
    found = differences(ours, published)
    out = [
        Finding(op, what, pair[0], pair[1], classify(what, *pair))
        for op, diffs in found.items()
        for what, pair in diffs.items()
        if what not in listed.get(op, set())
    ]
    out += [
        Finding(op, what, None, None, GONE)
        for op, whats in listed.items()
        for what in whats
        if what not in found.get(op, {})
    ]
    return sorted(out, key=lambda f: (f.operation, f.what))


def report(findings: list[Finding]) -> Report:
    """The findings as a change report (``toloka_ext._specdiff``: text, Markdown, JSON, and
    the exit code: 4 if any is breaking, 3 if any at all, else 0)."""
    return Report(changes=sorted((f.change() for f in findings), key=Change.sort_key))
