# ruff: noqa: E501 - the expected report lines are kept whole, as a user reads them
"""``toloka_ext._specdiff``: every rule as a user reads it, and the report around it.

One edit of a small document (``tests/fixtures/specs/base_v30.yaml``) per case, and the exact
report lines it must produce: rule id, level, operation, place and words (``pull-spec`` and
``toloka-ext spec diff`` print them; a scheduled job acts on the exit code they add up to).
Exact lines, because mutation testing (docs/mutation.md) found that a rule renamed, a
location dropped or a condition flipped went unnoticed by tests that only checked a verdict.
Then the renderings, the command line, and what the client relies on (``Reliance``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from toloka_ext._specdiff import RULES, Reliance, Report, diff_specs, main

SPECS = Path(__file__).parent / "fixtures" / "specs"
BASE = SPECS / "base_v30.yaml"
RUNS = "/projects/{projectId}/runs"
RUN = "/runs/{runId}"
D = dict[str, Any]
Edit = Callable[[D], object] | None


def load(name: str = "base_v30.yaml") -> D:
    doc: D = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def base() -> D:
    return load()


def changed(doc: D, edit: Callable[[D], object]) -> D:
    new = copy.deepcopy(doc)
    edit(new)
    return new


# --------------------------------------------------------------- every rule as a user reads it
# ``old`` and ``new`` are each the base with their own edit (``None``: the base itself).


def s(d: D, name: str) -> D:
    return d["components"]["schemas"][name]


def cr(d: D) -> D:
    """The properties of the request body (``CreateRun``)."""
    return s(d, "CreateRun")["properties"]


def rp(d: D) -> D:
    """The properties of a run (``Run``), in three operations' responses."""
    return s(d, "Run")["properties"]


def rl(d: D) -> D:
    """The properties of a list of runs (``RunList``), in one operation's response."""
    return s(d, "RunList")["properties"]


def op(d: D, path: str, method: str) -> D:
    return d["paths"][path][method]


def params(d: D) -> list:
    return op(d, RUNS, "get")["parameters"]


def body(d: D) -> D:
    return op(d, RUNS, "post")["requestBody"]


def ok(d: D) -> D:
    return op(d, RUN, "get")["responses"]["200"]


def ref(name: str) -> D:
    return {"$ref": f"#/components/schemas/{name}"}


def one_of(**types: str) -> D:
    """Variants named by their titles."""
    return {"oneOf": [{"title": title, "type": t} for title, t in types.items()]}


def inline_enum(d: D) -> None:
    params(d)[1]["schema"] = {"type": "string", "enum": ["a", "b"]}


CASES: dict[str, tuple[Edit, Edit]] = {}


def case(name: str, new: Edit, old: Edit = None) -> None:
    CASES[name] = (old, new)


# operations
case("operation deprecated", lambda d: op(d, RUN, "get").update(deprecated=True))
case("operation reactivated", None, lambda d: op(d, RUN, "get").update(deprecated=True))
case("operationId changed", lambda d: op(d, RUN, "get").update(operationId="fetchRun"))
case("operationId added", None, lambda d: op(d, RUN, "get").pop("operationId"))
case("operationId dropped", lambda d: op(d, RUN, "get").pop("operationId"))
case("operation removed", lambda d: d["paths"][RUN].pop("delete"))
case(
    "deprecated operation removed",
    lambda d: d["paths"][RUN].pop("delete"),
    lambda d: op(d, RUN, "delete").update(deprecated=True),
)
case("path removed", lambda d: d["paths"].pop(RUN))
case(
    "deprecated path removed",
    lambda d: d["paths"].pop(RUN),
    lambda d: [op(d, RUN, m).update(deprecated=True) for m in ("get", "delete")],
)
NO_CONTENT = {"204": {"description": "ok"}}
case("operation added", lambda d: d["paths"][RUN].update(patch={"responses": NO_CONTENT}))
case("path added", lambda d: d["paths"].update({"/health": {"get": {"responses": NO_CONTENT}}}))
# parameters
case("parameter removed", lambda d: params(d).pop(0))
case(
    "parameters added",
    lambda d: params(d).extend(
        [
            {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
            {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
        ]
    ),
)
case("parameter became required", lambda d: params(d)[0].update(required=True))
case("parameter became optional", None, lambda d: params(d)[0].update(required=True))
case(
    "parameter type and format",
    lambda d: params(d)[0].update(schema={"type": "string", "format": "uuid"}),
)
case(
    "parameter format",
    lambda d: params(d)[0]["schema"].update(format="int64"),
    lambda d: params(d)[0]["schema"].update(format="int32"),
)
case(
    "parameter enum",
    lambda d: (inline_enum(d), params(d)[1]["schema"].update(enum=["b", "c"])),
    inline_enum,
)
case(
    "parameter nullable",
    lambda d: (inline_enum(d), params(d)[1]["schema"].update(nullable=True)),
    inline_enum,
)
case(
    "parameter not nullable",
    inline_enum,
    lambda d: (inline_enum(d), params(d)[1]["schema"].update(nullable=True)),
)
# request body
OBJECT_BODY = {"content": {"application/json": {"schema": {"type": "object"}}}}
case("request body removed", lambda d: op(d, RUNS, "post").pop("requestBody"))
case(
    "required request body added",
    lambda d: op(d, RUN, "delete").update(requestBody={"required": True, **OBJECT_BODY}),
)
case("optional request body added", lambda d: op(d, RUN, "delete").update(requestBody=OBJECT_BODY))
case("request body became optional", lambda d: body(d).update(required=False))
case("request body became required", None, lambda d: body(d).update(required=False))
case(
    "request media types",
    lambda d: body(d).update(
        content={"application/merge-patch+json": body(d)["content"]["application/json"]}
    ),
)
case(
    "request body type",
    lambda d: body(d)["content"]["application/json"].update(
        schema={"type": "array", "items": {"type": "string"}}
    ),
)
case(
    "request properties added",
    lambda d: (
        cr(d).update(tag={"type": "string"}, owner={"type": "string"}),
        s(d, "CreateRun")["required"].append("owner"),
    ),
)
case("request property removed", lambda d: cr(d).pop("itemLimit"))
case(
    "request property became required", lambda d: s(d, "CreateRun")["required"].append("itemLimit")
)
case("request property became optional", lambda d: s(d, "CreateRun").update(required=[]))
case(
    "request property type and format",
    lambda d: cr(d).update(
        itemLimit={"type": "string"}, pipelineId={"type": "string", "format": "uuid"}
    ),
)
case(
    "request enum values",
    lambda d: cr(d)["fields"]["items"]["properties"]["type"].update(enum=["text", "html"]),
)
case("request nullable", lambda d: cr(d)["itemLimit"].update(nullable=True))
case("request not nullable", None, lambda d: cr(d)["itemLimit"].update(nullable=True))
# responses
case(
    "success status",
    lambda d: op(d, RUNS, "post")["responses"].update(
        {"202": op(d, RUNS, "post")["responses"].pop("201")}
    ),
)
case(
    "error status",
    lambda d: op(d, RUN, "get")["responses"].update(
        {"410": op(d, RUN, "get")["responses"].pop("404")}
    ),
)
case(
    "response media types",
    lambda d: ok(d).update(content={"application/x-ndjson": ok(d)["content"]["application/json"]}),
)
case(
    "response body type",
    lambda d: ok(d)["content"]["application/json"].update(schema={"type": "string"}),
)
case("response properties removed", lambda d: [rl(d).pop(k) for k in ("items", "hasMore")])
case(
    "response properties added",
    lambda d: (
        rl(d).update(a={"type": "string"}, b={"type": "string"}),
        s(d, "RunList")["required"].append("a"),
    ),
)
case("response property became optional", lambda d: s(d, "RunList").update(required=[]))
case("response property became required", lambda d: s(d, "RunList")["required"].append("hasMore"))
case(
    "response property type and format",
    lambda d: rp(d).update(
        id={"type": "integer"}, finishedAt={"type": "string", "format": "date", "nullable": True}
    ),
)
case(
    "response enum value added and removed",
    lambda d: s(d, "RunStatus").update(enum=["running", "completed", "cancelled"]),
)
case("response enum dropped", lambda d: rp(d)["kind"].pop("enum"))
case("response nullable", lambda d: rl(d)["hasMore"].update(nullable=True))
case("response not nullable", None, lambda d: rl(d)["hasMore"].update(nullable=True))


# more: no-change edits and security
def rename_run(d: D) -> None:
    item = d["paths"].pop(RUN)
    item["parameters"][0]["name"] = "id"
    d["paths"]["/runs/{id}"] = item


case("path parameter renamed", rename_run)
case(
    "request oneOf",
    lambda d: cr(d).update(itemLimit=one_of(Count="integer", Flag="boolean")),
    lambda d: cr(d).update(itemLimit=one_of(Count="integer", Name="string")),
)
case(
    "response oneOf",
    lambda d: rl(d).update(hasMore=one_of(Text="string", Code="integer")),
    lambda d: rl(d).update(hasMore=one_of(Text="string", Flag="boolean")),
)
case(
    "oneOf variant changed",
    lambda d: rl(d).update(hasMore=one_of(Text="string", Code="string")),
    lambda d: rl(d).update(hasMore=one_of(Text="string", Code="integer")),
)


def secured(d: D, *alternatives: dict) -> None:
    d["components"]["securitySchemes"] = {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization"},
        "OAuth": {"type": "http", "scheme": "bearer"},
    }
    d["security"] = list(alternatives) or [{"ApiKey": []}]


def schemes(d: D) -> D:
    return d["components"]["securitySchemes"]


def on_delete(*alternatives: dict[str, list[str]]) -> Edit:
    """The schemes of ``secured``, ``alternatives`` required by one operation (cancelRun)."""
    return lambda d: (
        secured(d, *alternatives),
        op(d, RUN, "delete").update(security=d.pop("security")),
    )


case("security alternative added", on_delete({"ApiKey": []}, {"OAuth": []}), on_delete())
case("security alternative removed", on_delete(), on_delete({"ApiKey": []}, {"OAuth": []}))
case("security changed", on_delete({"OAuth": []}), on_delete())
case(
    "security scheme changed",
    lambda d: (on_delete()(d), schemes(d)["ApiKey"].update({"in": "query", "name": "key"})),
    on_delete(),
)
# a scheme required by every operation: each one breaks
case("security scheme removed", lambda d: (secured(d), schemes(d).pop("ApiKey")), secured)
case(
    "operation security overrides",
    lambda d: (secured(d), op(d, RUN, "delete").update(security=[{"OAuth": []}])),
    secured,
)
case(
    "security required where none was",
    secured,
    lambda d: (secured(d), op(d, RUN, "delete").update(security=[])),
)


# -- how documents are read: refs, allOf, null variants, renamed path parameters
def extended_run(d: D) -> None:
    run = s(d, "Run")
    d["components"]["schemas"]["Run"] = {
        "allOf": [run, {"properties": {"extra": {"type": "string"}}, "required": ["extra"]}]
    }


case("allOf part adds a required property", extended_run)
case("$ref with a sibling", lambda d: rp(d).update(status={**ref("RunStatus"), "nullable": True}))


def escaped_refs(code_type: str) -> Edit:
    def edit(d: D) -> None:
        d["components"]["schemas"]["Meta/V1"] = {
            "type": "object",
            "properties": {"a": {"type": code_type}},
        }
        d["components"]["schemas"]["Holder"] = {
            "allOf": [{"type": "object", "properties": {"b": {"type": code_type}}}]
        }
        cr(d).update(meta=ref("Meta~1V1"), held=ref("Holder/allOf/0"))

    return edit


case("refs through escaped names and list items", escaped_refs("integer"), escaped_refs("string"))


def nullable_note(null: D) -> Edit:
    return lambda d: rp(d).update(note={"oneOf": [{"type": "string"}, null]})


case("a null variant spelled as a type list", nullable_note({"type": ["null"]}))
case("a null variant spelled as an enum", nullable_note({"enum": [None]}))
case(
    "a null variant removed",
    lambda d: rp(d)["note"].pop("nullable"),
    nullable_note({"type": "null"}),
)


def targets(*names: str) -> Edit:
    return lambda d: cr(d).update(target={"oneOf": [ref(n) for n in names]})


case("variants named by their $ref", targets("Run", "RunList"), targets("Run", "Error", "RunList"))
case(
    "a type among several dropped",
    lambda d: cr(d)["itemLimit"].update(type="string"),
    lambda d: cr(d)["itemLimit"].update(type=["integer", "string"]),
)
case(
    "values shown as JSON",
    lambda d: cr(d)["fields"]["items"]["properties"]["type"]["enum"].extend(
        ["é", {"b": 1, "a": 2}]
    ),
)


def items_path(run_param: str) -> Edit:
    def edit(d: D) -> None:
        d["paths"]["/projects/{projectId}/runs/{" + run_param + "}/items"] = {
            "parameters": [
                {"name": "projectId", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": run_param, "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": {"operationId": "listItems", "responses": {"200": {"description": "ok"}}},
        }

    return edit


case("one of two path parameters renamed", items_path("id"), items_path("runId"))
case(
    "a header parameter's name in another case",
    lambda d: params(d).append({"name": "x-trace", "in": "header", "schema": {"type": "string"}}),
    lambda d: params(d).append({"name": "X-Trace", "in": "header", "schema": {"type": "string"}}),
)


# -- what is sent or received, and types implied rather than written
def read_only_id(d: D) -> None:
    cr(d)["id"] = {"type": "string", "readOnly": True}
    s(d, "CreateRun")["required"].append("id")


def write_only_secret(d: D) -> None:
    rp(d)["secret"] = {"type": "string", "writeOnly": True}
    s(d, "Run")["required"].append("secret")


def labels(value_type: str) -> Edit:
    return lambda d: cr(d).update(labels={"additionalProperties": {"type": value_type}})


case("a readOnly property is not sent", read_only_id)
case("a writeOnly property is not received", write_only_secret)
case("a map's value type", labels("integer"), labels("string"))
case(
    "types implied by properties, items and additionalProperties",
    lambda d: cr(d).update(
        fields={"items": cr(d)["fields"]["items"]},
        meta={"properties": {"a": {"type": "string"}}},
        labels={"additionalProperties": {"type": "string"}},
    ),
    lambda d: cr(d).update(
        meta={"type": "object", "properties": {"a": {"type": "string"}}},
        labels={"type": "object", "additionalProperties": {"type": "string"}},
    ),
)
case(
    "an array became a string",
    lambda d: cr(d).update(fields={"type": "string"}),
    lambda d: cr(d)["fields"].pop("type"),
)
case(
    "a const value",
    lambda d: rp(d).update(kind={"type": "string", "const": "batch"}),
    lambda d: rp(d).update(kind={"type": "string", "const": "manual"}),
)
case("a schema wrapped in allOf", lambda d: cr(d).update(fields={"allOf": [cr(d)["fields"]]}))
case(
    "properties next to allOf",
    lambda d: d["components"]["schemas"].update(
        Run={
            "allOf": [ref("Progress")],
            "properties": {"runId": {"type": "string"}},
            "required": ["runId"],
        }
    ),
    lambda d: d["components"]["schemas"].update(Run={"allOf": [ref("Progress")]}),
)
case(
    "unnamed variants matched by position",
    lambda d: rp(d).update(note={"oneOf": [{"type": "string"}, {"type": "integer"}]}),
    lambda d: rp(d).update(
        note={"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}
    ),
)


# -- parameters, bodies and media types at their edges
def path_param_required(flag: bool | None) -> Edit:
    def edit(d: D) -> None:
        param = d["paths"][RUN]["parameters"][0]
        param.pop("required")
        if flag is not None:
            param["required"] = flag

    return edit


case(
    "a path parameter is required, said or not",
    path_param_required(True),
    path_param_required(None),
)
case(
    "a parameter removed and the next one changed",
    lambda d: (params(d).pop(0), params(d)[0].update(required=True)),
)
case("a parameter's type no longer constrained", lambda d: params(d)[0].update(schema={}))
case(
    "a request body schema where there was none",
    None,
    lambda d: body(d)["content"]["application/json"].pop("schema"),
)
case(
    "an error body in another media type",
    lambda d: d["components"]["responses"]["NotFound"].update(
        content={"application/problem+json": {"schema": ref("Error")}}
    ),
)


def dangling(d: D) -> None:
    d["components"]["schemas"]["Holder"] = {"allOf": [{"type": "object"}]}
    d["components"]["schemas"]["a~b"] = {"type": "object", "properties": {"c": {"type": "string"}}}
    cr(d).update(gone=ref("Holder/allOf/1"), tilde=ref("a~0b"))


def dangling_changed(d: D) -> None:
    dangling(d)
    d["components"]["schemas"]["a~b"]["properties"]["c"]["type"] = "integer"


case("refs past a list's end, or through a tilde", dangling_changed, dangling)


# -- security alternatives of several schemes
def two_schemes(*alternatives: dict[str, list[str]]) -> Edit:
    return lambda d: (
        on_delete(*alternatives)(d),
        schemes(d).update(Basic={"type": "http", "scheme": "basic"}),
    )


case(
    "schemes required together, and alternatives",
    two_schemes({"Basic": []}),
    two_schemes({"ApiKey": [], "OAuth": []}, {"OAuth": []}),
)
case(
    "alternatives added in order",
    two_schemes({"ApiKey": []}, {"OAuth": []}, {"Basic": []}),
    two_schemes({"ApiKey": []}),
)
case(
    "a new alternative's scheme redefined",
    lambda d: (
        two_schemes({"ApiKey": []}, {"OAuth": []})(d),
        schemes(d)["OAuth"].update(scheme="digest"),
    ),
    two_schemes({"ApiKey": []}),
)


# -- the other way round, and recursion
case(
    "a path parameter's required flag dropped", path_param_required(None), path_param_required(True)
)
case(
    "alternatives replaced", two_schemes({"ApiKey": []}, {"OAuth": []}), two_schemes({"Basic": []})
)
case("a readOnly property dropped from a request", None, read_only_id)
case("a response type implied by its properties", lambda d: s(d, "Progress").pop("type"))
case(
    "variants added to a typed schema",
    lambda d: rl(d).update(
        hasMore={
            "type": "string",
            "oneOf": [{"title": "Short", "maxLength": 10}, {"title": "Long", "minLength": 11}],
        }
    ),
    lambda d: rl(d).update(hasMore={"type": "string"}),
)


def tree(name_type: str) -> Edit:
    def edit(d: D) -> None:
        d["components"]["schemas"]["Node"] = {
            "type": "object",
            "properties": {"name": {"type": name_type}},
            "additionalProperties": ref("Node"),
        }
        cr(d)["tree"] = ref("Node")

    return edit


def expression(number_type: str) -> Edit:
    def edit(d: D) -> None:
        args = {"args": {"type": "array", "items": ref("Expr")}}
        d["components"]["schemas"]["Expr"] = {
            "oneOf": [
                {"title": "Num", "type": number_type},
                {"title": "Sum", "type": "object", "properties": args},
            ]
        }
        rp(d)["expr"] = ref("Expr")

    return edit


case("a recursive map", tree("integer"), tree("string"))
case("recursive variants", expression("integer"), expression("string"))


# bounds, patterns and formats: tightened on a request breaks, relaxed on a response warns
def run_path_param(d: D) -> D:
    schema: D = d["paths"][RUN]["parameters"][0]["schema"]
    return schema


def bounded(number: D, length: D, items: D) -> Edit:
    """Every bound on each side of the exchange: query ``limit``, path ``runId`` and query
    ``ids``; request ``itemLimit``, ``pipelineId``, ``fields``; response ``RunList.total``,
    ``.cursor`` and ``.items``."""

    def edit(d: D) -> None:
        params(d)[0]["schema"] = {"type": "integer", **number}
        run_path_param(d).update(length)
        ids = {"type": "array", "items": {"type": "string"}, **items}
        params(d).append({"name": "ids", "in": "query", "schema": ids})
        cr(d)["itemLimit"].update(number)
        cr(d)["pipelineId"].update(length)
        cr(d)["fields"].update(items)
        rl(d).update(total={"type": "integer", **number}, cursor={"type": "string", **length})
        rl(d)["items"].update(items)

    return edit


LOOSE = bounded({"minimum": 1}, {}, {"maxItems": 10})
TIGHT = bounded(
    {"minimum": 5, "maximum": 50}, {"minLength": 3, "maxLength": 40}, {"minItems": 1, "maxItems": 5}
)
case("bounds tightened", TIGHT, LOOSE)
case("bounds relaxed", LOOSE, TIGHT)


def patterned(pattern: str | None, fmt: str | None) -> Edit:
    def edit(d: D) -> None:
        rl(d)["cursor"] = {"type": "string"}
        for schema in (run_path_param(d), cr(d)["pipelineId"], rl(d)["cursor"]):
            schema.update({"pattern": pattern} if pattern else {})
            schema.update({"format": fmt} if fmt else {})

    return edit


case("patterns added", patterned("^[a-z-]+$", None), patterned(None, None))
case("patterns changed", patterned("^[a-z0-9-]+$", None), patterned("^[a-z-]+$", None))
case("patterns removed", patterned(None, None), patterned("^[a-z-]+$", None))
case("formats dropped", patterned(None, None), patterned(None, "uuid"))
case("formats added", patterned(None, "uuid"), patterned(None, None))


# what the client relies on (these cases run with RELIED as the reliance)
def cursor_paging(d: D) -> None:
    params(d)[0:1] = [{"name": "pageToken", "in": "query", "schema": {"type": "string"}}]
    s(d, "RunList")["properties"].pop("hasMore")
    s(d, "RunList")["properties"]["nextPageToken"] = {"type": "string"}


case(
    "a status the client waits for renamed",
    lambda d: s(d, "RunStatus").update(enum=["running", "succeeded", "failed"]),
)
case("a new paging scheme", cursor_paging)


# -- verdicts first pinned alone (before this table), and what mutation testing found untested
case("nothing changed", lambda d: None)


def run_state(*values: str, named: bool = False) -> Edit:
    def edit(d: D) -> None:
        schema: D = {
            "type": "object",
            "properties": {"state": {"type": "string", "enum": list(values)}},
        }
        if named:
            d["components"]["schemas"]["RunView"] = schema
            schema = ref("RunView")
        ok(d)["content"]["application/json"]["schema"] = schema

    return edit


case(
    "an inline enum made a component, a value added",
    run_state("running", "done", "paused", named=True),
    run_state("running", "done"),
)


def error_code_renamed(d: D) -> None:
    s(d, "Error")["properties"]["errorCode"] = s(d, "Error")["properties"].pop("code")
    s(d, "Error")["required"] = ["errorCode"]


def run_in_two_parts(d: D) -> None:
    progress = {"progress": copy.deepcopy(s(d, "Progress"))}  # a $ref inlined
    del rp(d)["progress"]
    d["components"]["schemas"].update(
        RunBase={"type": "object", "required": ["id", "status"], "properties": rp(d)},
        Run={
            "allOf": [
                ref("RunBase"),
                {"type": "object", "required": ["progress"], "properties": progress},
            ]
        },
    )


case("an error body's required property renamed", error_code_renamed)
case("a schema split into allOf parts, a $ref inlined", run_in_two_parts)
case(
    "a renamed path parameter retyped",
    lambda d: (
        rename_run(d),
        d["paths"]["/runs/{id}"]["parameters"][0]["schema"].update(type="integer"),
    ),
)
case(
    "a security scheme no operation uses removed",
    lambda d: (secured(d), schemes(d).pop("OAuth")),
    secured,
)


def fields(d: D) -> D:
    return cr(d)["fields"]


def run_items(d: D) -> D:
    return s(d, "RunList")["properties"]["items"]


# an array without `items` holds anything: breaking where a client sends or reads the array
case("a request array's items schema added", None, lambda d: fields(d).pop("items"))
case("a request array's items schema dropped", lambda d: fields(d).pop("items"))
case("a response array's items schema dropped", lambda d: run_items(d).pop("items"))
case("a response array's items schema added", None, lambda d: run_items(d).pop("items"))


def narrowed_status(d: D) -> None:
    # every allOf part holds: the values allowed are those all parts allow
    params(d)[1]["schema"] = {"allOf": [ref("RunStatus"), {"enum": ["running", "failed"]}]}


def status_variants(*extra: D) -> Edit:
    variants = one_of(Name="string")
    return lambda d: params(d)[1].update(schema={"allOf": [variants, *extra]})


def create_run_in_parts(d: D) -> None:
    first = {
        "type": "object",
        "required": ["pipelineId"],
        "properties": {"pipelineId": {"type": "string"}},
    }
    second = {"required": ["itemLimit"], "properties": {"itemLimit": {"type": "integer"}}}
    d["components"]["schemas"]["CreateRun"] = {"allOf": [first, second]}


case("an allOf part narrowing an enum", narrowed_status)
case("an allOf part no longer narrowing an enum", None, narrowed_status)
case(
    "a later allOf part's variants are not the schema's",
    status_variants(one_of(Number="integer")),
    status_variants(),
)
case("allOf parts' required lists joined", create_run_in_parts)


def _expected(text: str) -> dict[str, list[str]]:
    """Each case's report: ``== name``, then its lines in order (none: no change)."""
    cases: dict[str, list[str]] = {}
    for line in text.strip().splitlines():
        if line.startswith("== "):
            cases[line[3:]] = []
        else:
            cases[list(cases)[-1]].append(line)
    return cases


EXPECTED = _expected("""
== operation deprecated
[compatible] endpoint-deprecated  GET /runs/{runId}  operation deprecated
== operation reactivated
[compatible] endpoint-reactivated  GET /runs/{runId}  operation no longer deprecated
== operationId changed
[warning] api-operation-id-removed  GET /runs/{runId}  operationId "getRun" -> "fetchRun"
== operationId added
[compatible] api-operation-id-added  GET /runs/{runId}  operationId "getRun"
== operationId dropped
[warning] api-operation-id-removed  GET /runs/{runId}  operationId "getRun" -> null
== operation removed
[BREAKING] api-removed-without-deprecation  DELETE /runs/{runId}  operation removed
== deprecated operation removed
[BREAKING] api-removed-with-deprecation  DELETE /runs/{runId}  deprecated operation removed
== path removed
[BREAKING] api-path-removed-without-deprecation  GET /runs/{runId}  path removed (all its operations)
[BREAKING] api-path-removed-without-deprecation  DELETE /runs/{runId}  path removed (all its operations)
== deprecated path removed
[BREAKING] api-path-removed-with-deprecation  GET /runs/{runId}  deprecated path removed
[BREAKING] api-path-removed-with-deprecation  DELETE /runs/{runId}  deprecated path removed
== operation added
[compatible] endpoint-added  PATCH /runs/{runId}  operation added
== path added
[compatible] endpoint-added  GET /health  new path
== parameter removed
[warning] request-parameter-removed  GET /projects/{projectId}/runs  query limit: parameter removed
== parameters added
[BREAKING] new-required-request-parameter  GET /projects/{projectId}/runs  query q: required parameter added
[compatible] new-optional-request-parameter  GET /projects/{projectId}/runs  header x-trace: optional parameter added
== parameter became required
[BREAKING] request-parameter-became-required  GET /projects/{projectId}/runs  query limit: parameter became required
== parameter became optional
[compatible] request-parameter-became-optional  GET /projects/{projectId}/runs  query limit: parameter became optional
== parameter type and format
[BREAKING] request-parameter-type-changed  GET /projects/{projectId}/runs  query limit: type integer -> string
== parameter format
[BREAKING] request-parameter-format-changed  GET /projects/{projectId}/runs  query limit: format "int32" -> "int64"
== parameter enum
[BREAKING] request-parameter-enum-value-removed  GET /projects/{projectId}/runs  query status: enum value "a" removed
[compatible] request-parameter-enum-value-added  GET /projects/{projectId}/runs  query status: enum value "c" added
== parameter nullable
[compatible] request-parameter-became-nullable  GET /projects/{projectId}/runs  query status: parameter became nullable
== parameter not nullable
[BREAKING] request-parameter-became-not-nullable  GET /projects/{projectId}/runs  query status: parameter became not nullable
== request body removed
[warning] request-body-removed  POST /projects/{projectId}/runs  request body: request body removed
== required request body added
[BREAKING] request-body-added-required  DELETE /runs/{runId}  required request body added
== optional request body added
[compatible] request-body-added-optional  DELETE /runs/{runId}  optional request body added
== request body became optional
[compatible] request-body-became-optional  POST /projects/{projectId}/runs  request body: request body became optional
== request body became required
[BREAKING] request-body-became-required  POST /projects/{projectId}/runs  request body: request body became required
== request media types
[BREAKING] request-media-type-removed  POST /projects/{projectId}/runs  request body (application/json): media type application/json removed
[compatible] request-media-type-added  POST /projects/{projectId}/runs  request body (application/merge-patch+json): media type application/merge-patch+json added
== request body type
[BREAKING] request-body-type-changed  POST /projects/{projectId}/runs  request body: type object -> array
== request properties added
[BREAKING] new-required-request-property  POST /projects/{projectId}/runs  request body .owner: required property added
[compatible] new-optional-request-property  POST /projects/{projectId}/runs  request body .tag: optional property added
== request property removed
[warning] request-property-removed  POST /projects/{projectId}/runs  request body .itemLimit: optional property removed
== request property became required
[BREAKING] request-property-became-required  POST /projects/{projectId}/runs  request body .itemLimit: request property became required
== request property became optional
[compatible] request-property-became-optional  POST /projects/{projectId}/runs  request body .pipelineId: request property became optional
== request property type and format
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .itemLimit: type integer -> string
[BREAKING] request-property-format-changed  POST /projects/{projectId}/runs  request body .pipelineId: format null -> "uuid"
== request enum values
[BREAKING] request-property-enum-value-removed  POST /projects/{projectId}/runs  request body .fields[].type: enum value "json" removed
[BREAKING] request-property-enum-value-removed  POST /projects/{projectId}/runs  request body .fields[].type: enum value "url" removed
[compatible] request-property-enum-value-added  POST /projects/{projectId}/runs  request body .fields[].type: enum value "html" added
== request nullable
[compatible] request-property-became-nullable  POST /projects/{projectId}/runs  request body .itemLimit: request property became nullable
== request not nullable
[BREAKING] request-property-became-not-nullable  POST /projects/{projectId}/runs  request body .itemLimit: request property became not nullable
== success status
[BREAKING] response-success-status-removed  POST /projects/{projectId}/runs  response 201: success status removed
[compatible] response-success-status-added  POST /projects/{projectId}/runs  response 202: success status added
== error status
[compatible] response-non-success-status-removed  GET /runs/{runId}  response 404: error status removed
[compatible] response-non-success-status-added  GET /runs/{runId}  response 410: error status added
== response media types
[BREAKING] response-media-type-removed  GET /runs/{runId}  response 200 body (application/json): media type application/json removed
[compatible] response-media-type-added  GET /runs/{runId}  response 200 body (application/x-ndjson): media type application/x-ndjson added
== response body type
[BREAKING] response-body-type-changed  GET /runs/{runId}  response 200 body: type object -> string
== response properties removed
[BREAKING] response-required-property-removed  GET /projects/{projectId}/runs  response 200 body .items: required property removed
[compatible] response-optional-property-removed  GET /projects/{projectId}/runs  response 200 body .hasMore: optional property removed
== response properties added
[compatible] response-required-property-added  GET /projects/{projectId}/runs  response 200 body .a: required property added
[compatible] response-optional-property-added  GET /projects/{projectId}/runs  response 200 body .b: optional property added
== response property became optional
[BREAKING] response-property-became-optional  GET /projects/{projectId}/runs  response 200 body .items: response property became optional
== response property became required
[compatible] response-property-became-required  GET /projects/{projectId}/runs  response 200 body .hasMore: response property became required
== response property type and format
[BREAKING] response-property-format-changed  GET /projects/{projectId}/runs  response 200 body .items[].finishedAt: format "date-time" -> "date"
[BREAKING] response-property-type-changed  GET /projects/{projectId}/runs  response 200 body .items[].id: type string -> integer
[BREAKING] response-property-format-changed  POST /projects/{projectId}/runs  response 201 body .finishedAt: format "date-time" -> "date"
[BREAKING] response-property-type-changed  POST /projects/{projectId}/runs  response 201 body .id: type string -> integer
[BREAKING] response-property-format-changed  GET /runs/{runId}  response 200 body .finishedAt: format "date-time" -> "date"
[BREAKING] response-property-type-changed  GET /runs/{runId}  response 200 body .id: type string -> integer
== response enum value added and removed
[BREAKING] request-parameter-enum-value-removed  GET /projects/{projectId}/runs  query status: enum value "failed" removed
[warning] response-property-enum-value-added  GET /projects/{projectId}/runs  response 200 body .items[].status: enum value "cancelled" added
[warning] response-property-enum-value-added  POST /projects/{projectId}/runs  response 201 body .status: enum value "cancelled" added
[warning] response-property-enum-value-added  GET /runs/{runId}  response 200 body .status: enum value "cancelled" added
[compatible] request-parameter-enum-value-added  GET /projects/{projectId}/runs  query status: enum value "cancelled" added
[compatible] response-property-enum-value-removed  GET /projects/{projectId}/runs  response 200 body .items[].status: enum value "failed" removed
[compatible] response-property-enum-value-removed  POST /projects/{projectId}/runs  response 201 body .status: enum value "failed" removed
[compatible] response-property-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "failed" removed
== response enum dropped
[warning] response-property-enum-removed  GET /projects/{projectId}/runs  response 200 body .items[].kind: enum ["manual", "scheduled"] dropped
[warning] response-property-enum-removed  POST /projects/{projectId}/runs  response 201 body .kind: enum ["manual", "scheduled"] dropped
[warning] response-property-enum-removed  GET /runs/{runId}  response 200 body .kind: enum ["manual", "scheduled"] dropped
== response nullable
[BREAKING] response-property-became-nullable  GET /projects/{projectId}/runs  response 200 body .hasMore: response property became nullable
== response not nullable
[compatible] response-property-became-not-nullable  GET /projects/{projectId}/runs  response 200 body .hasMore: response property became not nullable
== path parameter renamed
== request oneOf
[BREAKING] request-property-one-of-removed  POST /projects/{projectId}/runs  request body .itemLimit: variant Name removed
[compatible] request-property-one-of-added  POST /projects/{projectId}/runs  request body .itemLimit: variant Flag added
== response oneOf
[warning] response-property-one-of-added  GET /projects/{projectId}/runs  response 200 body .hasMore: variant Code added
[compatible] response-property-one-of-removed  GET /projects/{projectId}/runs  response 200 body .hasMore: variant Flag removed
== oneOf variant changed
[BREAKING] response-property-type-changed  GET /projects/{projectId}/runs  response 200 body .hasMore<Code>: type integer -> string
== security alternative added
[compatible] api-security-added  DELETE /runs/{runId}  security: alternative OAuth added
== security alternative removed
[compatible] api-security-removed  DELETE /runs/{runId}  security: alternative OAuth removed
== security changed
[BREAKING] api-security-changed  DELETE /runs/{runId}  security: ApiKey -> OAuth
== security scheme changed
[BREAKING] api-security-component-changed  DELETE /runs/{runId}  security ApiKey: in "header" -> "query"; name "Authorization" -> "key"
== security scheme removed
[BREAKING] api-security-component-removed  GET /projects/{projectId}/runs  security ApiKey: scheme definition removed
[BREAKING] api-security-component-removed  POST /projects/{projectId}/runs  security ApiKey: scheme definition removed
[BREAKING] api-security-component-removed  GET /runs/{runId}  security ApiKey: scheme definition removed
[BREAKING] api-security-component-removed  DELETE /runs/{runId}  security ApiKey: scheme definition removed
== operation security overrides
[BREAKING] api-security-changed  DELETE /runs/{runId}  security: ApiKey -> OAuth
== security required where none was
[BREAKING] api-security-changed  DELETE /runs/{runId}  security: (none) -> ApiKey
== allOf part adds a required property
[compatible] response-required-property-added  GET /projects/{projectId}/runs  response 200 body .items[].extra: required property added
[compatible] response-required-property-added  POST /projects/{projectId}/runs  response 201 body .extra: required property added
[compatible] response-required-property-added  GET /runs/{runId}  response 200 body .extra: required property added
== $ref with a sibling
[BREAKING] response-property-became-nullable  GET /projects/{projectId}/runs  response 200 body .items[].status: response property became nullable
[BREAKING] response-property-became-nullable  POST /projects/{projectId}/runs  response 201 body .status: response property became nullable
[BREAKING] response-property-became-nullable  GET /runs/{runId}  response 200 body .status: response property became nullable
== refs through escaped names and list items
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .held.b: type string -> integer
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .meta.a: type string -> integer
== a null variant spelled as a type list
== a null variant spelled as an enum
== a null variant removed
[compatible] response-property-became-not-nullable  GET /projects/{projectId}/runs  response 200 body .items[].note: response property became not nullable
[compatible] response-property-became-not-nullable  POST /projects/{projectId}/runs  response 201 body .note: response property became not nullable
[compatible] response-property-became-not-nullable  GET /runs/{runId}  response 200 body .note: response property became not nullable
== variants named by their $ref
[BREAKING] request-property-one-of-removed  POST /projects/{projectId}/runs  request body .target: variant Error removed
== a type among several dropped
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .itemLimit: type integer|string -> string
== values shown as JSON
[compatible] request-property-enum-value-added  POST /projects/{projectId}/runs  request body .fields[].type: enum value "é" added
[compatible] request-property-enum-value-added  POST /projects/{projectId}/runs  request body .fields[].type: enum value {"a": 2, "b": 1} added
== one of two path parameters renamed
== a header parameter's name in another case
== a readOnly property is not sent
== a writeOnly property is not received
== a map's value type
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .labels.*: type string -> integer
== types implied by properties, items and additionalProperties
== an array became a string
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .fields: type array -> string
== a const value
[warning] response-property-enum-value-added  GET /projects/{projectId}/runs  response 200 body .items[].kind: enum value "batch" added
[warning] response-property-enum-value-added  POST /projects/{projectId}/runs  response 201 body .kind: enum value "batch" added
[warning] response-property-enum-value-added  GET /runs/{runId}  response 200 body .kind: enum value "batch" added
[compatible] response-property-enum-value-removed  GET /projects/{projectId}/runs  response 200 body .items[].kind: enum value "manual" removed
[compatible] response-property-enum-value-removed  POST /projects/{projectId}/runs  response 201 body .kind: enum value "manual" removed
[compatible] response-property-enum-value-removed  GET /runs/{runId}  response 200 body .kind: enum value "manual" removed
== a schema wrapped in allOf
== properties next to allOf
[compatible] response-required-property-added  GET /projects/{projectId}/runs  response 200 body .items[].runId: required property added
[compatible] response-required-property-added  POST /projects/{projectId}/runs  response 201 body .runId: required property added
[compatible] response-required-property-added  GET /runs/{runId}  response 200 body .runId: required property added
== unnamed variants matched by position
[compatible] response-property-one-of-removed  GET /projects/{projectId}/runs  response 200 body .items[].note: variant #2 removed
[compatible] response-property-one-of-removed  POST /projects/{projectId}/runs  response 201 body .note: variant #2 removed
[compatible] response-property-one-of-removed  GET /runs/{runId}  response 200 body .note: variant #2 removed
== a path parameter is required, said or not
== a parameter removed and the next one changed
[BREAKING] request-parameter-became-required  GET /projects/{projectId}/runs  query status: parameter became required
[warning] request-parameter-removed  GET /projects/{projectId}/runs  query limit: parameter removed
== a parameter's type no longer constrained
== a request body schema where there was none
[BREAKING] request-body-type-changed  POST /projects/{projectId}/runs  request body: type any -> object
== an error body in another media type
[compatible] response-media-type-added  GET /projects/{projectId}/runs  response 404 body (application/problem+json): media type application/problem+json added
[compatible] response-media-type-added  GET /runs/{runId}  response 404 body (application/problem+json): media type application/problem+json added
== refs past a list's end, or through a tilde
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .tilde.c: type string -> integer
== schemes required together, and alternatives
[BREAKING] api-security-changed  DELETE /runs/{runId}  security: ApiKey + OAuth, OAuth -> Basic
== alternatives added in order
[compatible] api-security-added  DELETE /runs/{runId}  security: alternative Basic added
[compatible] api-security-added  DELETE /runs/{runId}  security: alternative OAuth added
== a new alternative's scheme redefined
[compatible] api-security-added  DELETE /runs/{runId}  security: alternative OAuth added
== a path parameter's required flag dropped
== alternatives replaced
[BREAKING] api-security-changed  DELETE /runs/{runId}  security: Basic -> ApiKey, OAuth
== a readOnly property dropped from a request
== a response type implied by its properties
== variants added to a typed schema
[warning] response-property-one-of-added  GET /projects/{projectId}/runs  response 200 body .hasMore: variant Long added
[warning] response-property-one-of-added  GET /projects/{projectId}/runs  response 200 body .hasMore: variant Short added
== a recursive map
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .tree.name: type string -> integer
== recursive variants
[BREAKING] response-property-type-changed  GET /projects/{projectId}/runs  response 200 body .items[].expr<Num>: type string -> integer
[BREAKING] response-property-type-changed  POST /projects/{projectId}/runs  response 201 body .expr<Num>: type string -> integer
[BREAKING] response-property-type-changed  GET /runs/{runId}  response 200 body .expr<Num>: type string -> integer
== bounds tightened
[BREAKING] request-parameter-max-items-decreased  GET /projects/{projectId}/runs  query ids: maxItems 10 -> 5
[BREAKING] request-parameter-min-items-increased  GET /projects/{projectId}/runs  query ids: minItems null -> 1
[BREAKING] request-parameter-max-decreased  GET /projects/{projectId}/runs  query limit: maximum null -> 50
[BREAKING] request-parameter-min-increased  GET /projects/{projectId}/runs  query limit: minimum 1 -> 5
[BREAKING] request-property-max-items-decreased  POST /projects/{projectId}/runs  request body .fields: maxItems 10 -> 5
[BREAKING] request-property-min-items-increased  POST /projects/{projectId}/runs  request body .fields: minItems null -> 1
[BREAKING] request-property-max-decreased  POST /projects/{projectId}/runs  request body .itemLimit: maximum null -> 50
[BREAKING] request-property-min-increased  POST /projects/{projectId}/runs  request body .itemLimit: minimum 1 -> 5
[BREAKING] request-property-max-length-decreased  POST /projects/{projectId}/runs  request body .pipelineId: maxLength null -> 40
[BREAKING] request-property-min-length-increased  POST /projects/{projectId}/runs  request body .pipelineId: minLength null -> 3
[BREAKING] request-parameter-max-length-decreased  GET /runs/{runId}  path runId: maxLength null -> 40
[BREAKING] request-parameter-min-length-increased  GET /runs/{runId}  path runId: minLength null -> 3
[BREAKING] request-parameter-max-length-decreased  DELETE /runs/{runId}  path runId: maxLength null -> 40
[BREAKING] request-parameter-min-length-increased  DELETE /runs/{runId}  path runId: minLength null -> 3
[compatible] response-property-max-length-decreased  GET /projects/{projectId}/runs  response 200 body .cursor: maxLength null -> 40
[compatible] response-property-min-length-increased  GET /projects/{projectId}/runs  response 200 body .cursor: minLength null -> 3
[compatible] response-property-max-items-decreased  GET /projects/{projectId}/runs  response 200 body .items: maxItems 10 -> 5
[compatible] response-property-min-items-increased  GET /projects/{projectId}/runs  response 200 body .items: minItems null -> 1
[compatible] response-property-max-decreased  GET /projects/{projectId}/runs  response 200 body .total: maximum null -> 50
[compatible] response-property-min-increased  GET /projects/{projectId}/runs  response 200 body .total: minimum 1 -> 5
== bounds relaxed
[warning] response-property-max-length-increased  GET /projects/{projectId}/runs  response 200 body .cursor: maxLength 40 -> null
[warning] response-property-min-length-decreased  GET /projects/{projectId}/runs  response 200 body .cursor: minLength 3 -> null
[warning] response-property-max-items-increased  GET /projects/{projectId}/runs  response 200 body .items: maxItems 5 -> 10
[warning] response-property-min-items-decreased  GET /projects/{projectId}/runs  response 200 body .items: minItems 1 -> null
[warning] response-property-max-increased  GET /projects/{projectId}/runs  response 200 body .total: maximum 50 -> null
[warning] response-property-min-decreased  GET /projects/{projectId}/runs  response 200 body .total: minimum 5 -> 1
[compatible] request-parameter-max-items-increased  GET /projects/{projectId}/runs  query ids: maxItems 5 -> 10
[compatible] request-parameter-min-items-decreased  GET /projects/{projectId}/runs  query ids: minItems 1 -> null
[compatible] request-parameter-max-increased  GET /projects/{projectId}/runs  query limit: maximum 50 -> null
[compatible] request-parameter-min-decreased  GET /projects/{projectId}/runs  query limit: minimum 5 -> 1
[compatible] request-property-max-items-increased  POST /projects/{projectId}/runs  request body .fields: maxItems 5 -> 10
[compatible] request-property-min-items-decreased  POST /projects/{projectId}/runs  request body .fields: minItems 1 -> null
[compatible] request-property-max-increased  POST /projects/{projectId}/runs  request body .itemLimit: maximum 50 -> null
[compatible] request-property-min-decreased  POST /projects/{projectId}/runs  request body .itemLimit: minimum 5 -> 1
[compatible] request-property-max-length-increased  POST /projects/{projectId}/runs  request body .pipelineId: maxLength 40 -> null
[compatible] request-property-min-length-decreased  POST /projects/{projectId}/runs  request body .pipelineId: minLength 3 -> null
[compatible] request-parameter-max-length-increased  GET /runs/{runId}  path runId: maxLength 40 -> null
[compatible] request-parameter-min-length-decreased  GET /runs/{runId}  path runId: minLength 3 -> null
[compatible] request-parameter-max-length-increased  DELETE /runs/{runId}  path runId: maxLength 40 -> null
[compatible] request-parameter-min-length-decreased  DELETE /runs/{runId}  path runId: minLength 3 -> null
== patterns added
[BREAKING] request-property-pattern-added  POST /projects/{projectId}/runs  request body .pipelineId: pattern null -> "^[a-z-]+$"
[BREAKING] request-parameter-pattern-added  GET /runs/{runId}  path runId: pattern null -> "^[a-z-]+$"
[BREAKING] request-parameter-pattern-added  DELETE /runs/{runId}  path runId: pattern null -> "^[a-z-]+$"
[compatible] response-property-pattern-added  GET /projects/{projectId}/runs  response 200 body .cursor: pattern null -> "^[a-z-]+$"
== patterns changed
[BREAKING] request-property-pattern-changed  POST /projects/{projectId}/runs  request body .pipelineId: pattern "^[a-z-]+$" -> "^[a-z0-9-]+$"
[BREAKING] request-parameter-pattern-changed  GET /runs/{runId}  path runId: pattern "^[a-z-]+$" -> "^[a-z0-9-]+$"
[BREAKING] request-parameter-pattern-changed  DELETE /runs/{runId}  path runId: pattern "^[a-z-]+$" -> "^[a-z0-9-]+$"
[warning] response-property-pattern-changed  GET /projects/{projectId}/runs  response 200 body .cursor: pattern "^[a-z-]+$" -> "^[a-z0-9-]+$"
== patterns removed
[warning] response-property-pattern-removed  GET /projects/{projectId}/runs  response 200 body .cursor: pattern "^[a-z-]+$" -> null
[compatible] request-property-pattern-removed  POST /projects/{projectId}/runs  request body .pipelineId: pattern "^[a-z-]+$" -> null
[compatible] request-parameter-pattern-removed  GET /runs/{runId}  path runId: pattern "^[a-z-]+$" -> null
[compatible] request-parameter-pattern-removed  DELETE /runs/{runId}  path runId: pattern "^[a-z-]+$" -> null
== formats dropped
[BREAKING] response-property-format-changed  GET /projects/{projectId}/runs  response 200 body .cursor: format "uuid" -> null
[compatible] request-property-format-removed  POST /projects/{projectId}/runs  request body .pipelineId: format "uuid" -> null
[compatible] request-parameter-format-removed  GET /runs/{runId}  path runId: format "uuid" -> null
[compatible] request-parameter-format-removed  DELETE /runs/{runId}  path runId: format "uuid" -> null
== formats added
[BREAKING] request-property-format-changed  POST /projects/{projectId}/runs  request body .pipelineId: format null -> "uuid"
[BREAKING] request-parameter-format-changed  GET /runs/{runId}  path runId: format null -> "uuid"
[BREAKING] request-parameter-format-changed  DELETE /runs/{runId}  path runId: format null -> "uuid"
[compatible] response-property-format-added  GET /projects/{projectId}/runs  response 200 body .cursor: format null -> "uuid"
== a status the client waits for renamed
[BREAKING] request-parameter-enum-value-removed  GET /projects/{projectId}/runs  query status: enum value "completed" removed
[BREAKING] relied-response-enum-value-removed  GET /projects/{projectId}/runs  response 200 body .items[].status: enum value "completed" removed, which toloka_ext acts on (client.runs.list); added meanwhile: "succeeded"
[BREAKING] relied-response-enum-value-removed  POST /projects/{projectId}/runs  response 201 body .status: enum value "completed" removed, which toloka_ext acts on (client.runs.start); added meanwhile: "succeeded"
[BREAKING] relied-response-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "completed" removed, which toloka_ext acts on (client.runs.get, client.runs.watch); added meanwhile: "succeeded"
[warning] response-property-enum-value-added  GET /projects/{projectId}/runs  response 200 body .items[].status: enum value "succeeded" added
[warning] response-property-enum-value-added  POST /projects/{projectId}/runs  response 201 body .status: enum value "succeeded" added
[warning] response-property-enum-value-added  GET /runs/{runId}  response 200 body .status: enum value "succeeded" added
[compatible] request-parameter-enum-value-added  GET /projects/{projectId}/runs  query status: enum value "succeeded" added
== a new paging scheme
[BREAKING] relied-request-parameter-removed  GET /projects/{projectId}/runs  query limit: parameter removed, which toloka_ext sends (client.runs.list); added meanwhile: query pageToken
[BREAKING] relied-response-property-removed  GET /projects/{projectId}/runs  response 200 body .hasMore: optional property removed, which toloka_ext needs (client.runs.list)
[compatible] new-optional-request-parameter  GET /projects/{projectId}/runs  query pageToken: optional parameter added
[compatible] response-optional-property-added  GET /projects/{projectId}/runs  response 200 body .nextPageToken: optional property added
== nothing changed
== an inline enum made a component, a value added
[warning] response-property-enum-value-added  GET /runs/{runId}  response 200 body .state: enum value "paused" added
== an error body's required property renamed
[BREAKING] response-required-property-removed  GET /projects/{projectId}/runs  response 404 body .code: required property removed
[BREAKING] response-required-property-removed  GET /runs/{runId}  response 404 body .code: required property removed
[compatible] response-required-property-added  GET /projects/{projectId}/runs  response 404 body .errorCode: required property added
[compatible] response-required-property-added  GET /runs/{runId}  response 404 body .errorCode: required property added
== a schema split into allOf parts, a $ref inlined
== a renamed path parameter retyped
[BREAKING] request-parameter-type-changed  GET /runs/{id}  path id: type string -> integer
[BREAKING] request-parameter-type-changed  DELETE /runs/{id}  path id: type string -> integer
== a security scheme no operation uses removed
== a request array's items schema added
[BREAKING] request-property-type-changed  POST /projects/{projectId}/runs  request body .fields[]: type any -> object
== a request array's items schema dropped
== a response array's items schema dropped
[BREAKING] response-property-type-changed  GET /projects/{projectId}/runs  response 200 body .items[]: type object -> any
== a response array's items schema added
== an allOf part narrowing an enum
[BREAKING] request-parameter-enum-value-removed  GET /projects/{projectId}/runs  query status: enum value "completed" removed
== an allOf part no longer narrowing an enum
[compatible] request-parameter-enum-value-added  GET /projects/{projectId}/runs  query status: enum value "completed" added
== a later allOf part's variants are not the schema's
== allOf parts' required lists joined
[BREAKING] request-property-became-required  POST /projects/{projectId}/runs  request body .itemLimit: request property became required
[warning] request-property-removed  POST /projects/{projectId}/runs  request body .fields: optional property removed
""")


RELIED = Reliance(
    methods={
        "listRuns": ("client.runs.list",),
        "getRun": ("client.runs.get", "client.runs.watch"),
        "createRun": ("client.runs.start",),
    },
    parameters={"listRuns": frozenset({"query limit", "query status"})},
    enum_values={"RunStatus": frozenset({"completed", "failed"})},
    properties={"listRuns": frozenset({".hasMore"})},
)
WITH_RELIANCE = {"a status the client waits for renamed", "a new paging scheme"}


def _report(name: str) -> Report:
    old_edit, new_edit = CASES[name]
    base = load()
    old, new = (base if e is None else changed(base, e) for e in (old_edit, new_edit))
    return diff_specs(old, new, reliance=RELIED if name in WITH_RELIANCE else None)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_change_is_reported_with_its_rule_place_and_words(name: str) -> None:
    report = _report(name)
    assert [c.line() for c in report.changes] == EXPECTED[name]
    breaking = any(line.startswith("[BREAKING]") for line in EXPECTED[name])
    assert report.exit_code == (4 if breaking else 3 if EXPECTED[name] else 0)
    for change in report.changes:
        assert change.level == RULES[change.rule_id][0]
        assert isinstance(change.location, str) and change.detail
        assert change.as_dict()["breaking"] is (change.level == "breaking")


def test_every_rule_is_pinned_by_some_case() -> None:
    reported = {line.split()[1] for lines in EXPECTED.values() for line in lines}
    assert reported == set(RULES)
    assert set(EXPECTED) == set(CASES)


def _mixed() -> Report:
    """Changes of every level, sorted as a report sorts them (level, path, method...)."""
    changes = [
        *_report("operationId changed").changes,
        *_report("request properties added").changes,
        *_report("operation security overrides").changes,
    ]
    return Report(changes=sorted(changes, key=lambda c: c.sort_key()))


def test_the_text_report_groups_by_level_most_serious_first() -> None:
    mixed = _mixed()
    assert [c.rule_id for c in mixed.compatible] == [  # every change that is not breaking
        "api-operation-id-removed",
        "new-optional-request-property",
    ]
    assert mixed.to_text() == (
        "Breaking changes for clients (2):\n"
        "[BREAKING] new-required-request-property  POST /projects/{projectId}/runs  "
        "request body .owner: required property added\n"
        "[BREAKING] api-security-changed  DELETE /runs/{runId}  security: ApiKey -> OAuth\n"
        "Warnings (compatible for toloka_ext; closed-enum clients may fail) (1):\n"
        '[warning] api-operation-id-removed  GET /runs/{runId}  operationId "getRun" -> "fetchRun"\n'
        "Compatible changes (1):\n"
        "[compatible] new-optional-request-property  POST /projects/{projectId}/runs  "
        "request body .tag: optional property added\n"
        "Summary: 4 change(s): 2 breaking, 1 warning(s), 1 compatible\n"
    )


def test_the_markdown_report_is_one_table_per_level() -> None:
    assert _mixed().to_markdown() == (
        "# API change report\n\n"
        "## Breaking (2)\n\n"
        "| rule | operation | location | detail |\n|---|---|---|---|\n"
        "| new-required-request-property | POST /projects/{projectId}/runs | request body .owner"
        " | required property added |\n"
        "| api-security-changed | DELETE /runs/{runId} | security | ApiKey -> OAuth |\n\n"
        "## Warnings (1)\n\n"
        "| rule | operation | location | detail |\n|---|---|---|---|\n"
        '| api-operation-id-removed | GET /runs/{runId} |  | operationId "getRun" -> "fetchRun" |'
        "\n\n"
        "## Compatible (1)\n\n"
        "| rule | operation | location | detail |\n|---|---|---|---|\n"
        "| new-optional-request-property | POST /projects/{projectId}/runs | request body .tag"
        " | optional property added |\n\n"
        "Summary: 4 change(s): 2 breaking, 1 warning(s), 1 compatible\n"
    )


def test_no_change_reads_as_such_in_every_format() -> None:
    empty = _report("a null variant spelled as a type list")
    assert empty.changes == [] and empty.exit_code == 0
    summary = "Summary: 0 change(s): 0 breaking, 0 warning(s), 0 compatible"
    assert empty.to_text() == f"No API changes.\n{summary}\n"
    assert empty.to_markdown() == f"# API change report\n\nNo API changes.\n\n{summary}\n"
    assert json.loads(empty.to_json()) == {
        "changes": [],
        "counts": {"breaking": 0, "info": 0, "warning": 0},
        "exit_code": 0,
    }


def test_markdown_cells_keep_the_table_whole() -> None:
    """A ``|`` or a line break in a name would split a row: escaped and joined."""
    report = diff_specs(
        {"paths": {"/a": {"post": {"requestBody": _body({"x": {}})}}}},
        {"paths": {"/a": {"post": {"requestBody": _body({"x": {}, "p|q\nr": {}})}}}},
    )
    row = report.to_markdown().splitlines()[6]
    assert row == (
        "| new-optional-request-property | POST /a | request body .p\\|q r | "
        "optional property added |"
    )


def _body(properties: D) -> D:
    return {"content": {"application/json": {"schema": {"properties": properties}}}}


def test_the_json_report_is_indented_sorted_and_keeps_unicode() -> None:
    text = _report("values shown as JSON").to_json()
    assert text.startswith('{\n  "changes": [\n    {\n      "breaking": false,\n')
    assert '"detail": "enum value \\"é\\" added"' in text  # not \\u00e9
    assert text.index('"counts"') < text.index('"exit_code"') and text.endswith("}\n")
    data = json.loads(text)
    assert data["exit_code"] == 3 and data["counts"] == {"breaking": 0, "warning": 0, "info": 2}
    assert [list(c) for c in data["changes"]] == [sorted(data["changes"][0])] * 2


def test_the_command_line_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    usage = capsys.readouterr().out
    assert usage.startswith("usage: specdiff.py [-h]")
    assert "Compare two OpenAPI 3.0 / 3.1 documents and classify each change *for" in usage
    assert "--rules" in usage and "list the rules and exit" in usage
    assert "{text,markdown,json}" in usage


# ------------------------------------------------------------------ documents read as a whole


def test_nullable_in_30_and_a_null_type_in_31_are_the_same() -> None:
    v30, v31 = load("base_v30.yaml"), load("base_v31.yaml")
    validate(v30)
    validate(v31)
    assert diff_specs(v30, v31).changes == diff_specs(v31, v30).changes == []
    s(v31, "Progress")["properties"]["total"] = {"type": ["integer", "null"]}
    report = diff_specs(v30, v31)
    assert {(c.rule_id, c.level) for c in report.changes} == {
        ("response-property-became-nullable", "breaking")
    }
    assert len(report.changes) == 3  # one per operation returning a Run


def test_never_crashes_on_odd_documents() -> None:
    odd = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "get": {
                    "parameters": [{"$ref": "#/components/parameters/Missing"}, "junk"],
                    "responses": {200: {"$ref": "#/components/responses/Loop"}},
                },
                "post": {"requestBody": {"$ref": "https://example.invalid/body.json"}},
            }
        },
        "components": {"responses": {"Loop": {"$ref": "#/components/responses/Loop"}}},
    }
    assert diff_specs(odd, {}).exit_code == 4
    assert diff_specs({}, odd).exit_code == 3
    assert diff_specs(odd, copy.deepcopy(odd)).changes == []


# ---------------------------------------------------------------------------- the command


def test_main_compares_the_two_files_it_is_given(
    base: D, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")
    Path(old).write_text(yaml.safe_dump(base), encoding="utf-8")
    Path(new).write_text(yaml.safe_dump(changed(base, lambda d: d["paths"].pop(RUN))), "utf-8")

    assert main([old, new]) == 4
    text = capsys.readouterr().out
    assert "[BREAKING] api-path-removed-without-deprecation  GET /runs/{runId}" in text
    assert "Summary: 2 change(s): 2 breaking" in text

    assert main([new, old, "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 3
    assert [(c["rule_id"], c["method"]) for c in data["changes"]] == [
        ("endpoint-added", "GET"),
        ("endpoint-added", "DELETE"),
    ]

    assert main([old, new, "--format", "markdown"]) == 4
    assert capsys.readouterr().out.startswith("# API change report\n\n## Breaking (2)")

    assert main([old, old]) == 0
    assert "No API changes." in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([old, old, "--format", "html"])
    assert info.value.code == 2
    assert "invalid choice: 'html'" in capsys.readouterr().err


def test_main_lists_the_rules_and_needs_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--rules"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(
        line.split()[:2] == ["breaking", "api-security-component-removed"] for line in listed
    )
    assert len(listed) > 50
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "only.yaml")])
    assert info.value.code == 2
    assert "OLD and NEW are required" in capsys.readouterr().err


# ------------------------------------------------------------------------------- reliance

RELIANCE = Reliance(
    methods={"listRuns": ("client.runs.list",), "getRun": ("client.runs.get",), "cancelRun": ()},
    parameters={"listRuns": frozenset({"query limit"})},
    enum_values={"RunStatus": frozenset({"completed", "failed"})},
    properties={"getRun": frozenset({".finishedAt.tz"})},
)


def _lines(edit: Edit, reliance: Reliance, where: str = "") -> list[str]:
    """The lines of the report on ``edit`` judged by ``reliance`` that hold ``where``."""
    report = diff_specs(load(), changed(load(), edit), reliance=reliance)
    return [c.line() for c in report.changes if where in c.line()]


def test_callers_name_three_public_calls_and_count_the_rest() -> None:
    many = Reliance(methods={"op": ("a", "b", "c", "d", "e"), "three": ("a", "b", "c")})
    assert many.callers("op") == " (a, b, c and 2 more)"
    assert many.callers("three") == " (a, b, c)"
    assert Reliance(methods={"op": ("a", "b", "c", "d")}).callers("op") == " (a, b, c and 1 more)"
    assert many.callers("missing") == "" and many.callers(None) == ""


def test_an_operation_is_reached_only_through_a_public_call() -> None:
    assert RELIANCE.reached("getRun") and RELIANCE.reached("listRuns")
    assert not RELIANCE.reached("cancelRun")  # named, but no public call reaches it
    assert not RELIANCE.reached("createRun") and not RELIANCE.reached(None)
    assert not Reliance().reached("getRun")


def test_a_removed_parameter_is_relied_on_only_when_the_client_sends_it() -> None:
    def swap(*added: str) -> Edit:
        def edit(d: D) -> None:
            params(d)[:] = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in added]

        return edit

    # `status` is not sent: an ordinary removal, whatever the reliance says.
    assert _lines(swap("pageToken", "pageSize"), RELIANCE, "removed") == [
        "[BREAKING] relied-request-parameter-removed  GET /projects/{projectId}/runs  query limit: parameter removed, which toloka_ext sends (client.runs.list); added meanwhile: query pageSize, query pageToken",
        "[warning] request-parameter-removed  GET /projects/{projectId}/runs  query status: parameter removed",
    ]
    assert _lines(swap(), RELIANCE, "limit") == [
        "[BREAKING] relied-request-parameter-removed  GET /projects/{projectId}/runs  query limit: parameter removed, which toloka_ext sends (client.runs.list)"
    ]
    # An operation the reliance has no parameters for: ordinary removals.
    assert _lines(swap(), Reliance(methods={"listRuns": ("x",)}), "relied") == []


def test_every_removed_status_the_client_acts_on_is_reported() -> None:
    only_running = _lines(lambda d: s(d, "RunStatus").update(enum=["running"]), RELIANCE, RUN)
    assert only_running == [
        '[BREAKING] relied-response-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "completed" removed, which toloka_ext acts on (client.runs.get)',
        '[BREAKING] relied-response-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "failed" removed, which toloka_ext acts on (client.runs.get)',
    ]
    renamed = ["running", "succeeded", "errored", "failed"]
    assert _lines(lambda d: s(d, "RunStatus").update(enum=renamed), RELIANCE, "relied") == [
        '[BREAKING] relied-response-enum-value-removed  GET /projects/{projectId}/runs  response 200 body .items[].status: enum value "completed" removed, which toloka_ext acts on (client.runs.list); added meanwhile: "errored", "succeeded"',
        '[BREAKING] relied-response-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "completed" removed, which toloka_ext acts on (client.runs.get); added meanwhile: "errored", "succeeded"',
    ]
    # An enum inlined while a value goes is still the status the client acts on.
    inlined = {"type": "string", "enum": ["running", "failed"]}
    assert _lines(lambda d: rp(d).update(status=inlined), RELIANCE, RUN) == [
        '[BREAKING] relied-response-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "completed" removed, which toloka_ext acts on (client.runs.get)'
    ]


def test_an_enum_the_client_does_not_act_on_is_judged_as_usual() -> None:
    silent = Reliance(methods={"getRun": ("client.runs.get",)})  # no enum values at all
    assert _lines(lambda d: s(d, "RunStatus").update(enum=["running"]), silent, RUN) == [
        '[compatible] response-property-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "completed" removed',
        '[compatible] response-property-enum-value-removed  GET /runs/{runId}  response 200 body .status: enum value "failed" removed',
    ]


def test_a_property_is_needed_when_it_or_something_under_it_is() -> None:
    def drop(d: D) -> None:
        rp(d).pop("finishedAt")

    assert _lines(drop, RELIANCE, "relied") == [
        "[BREAKING] relied-response-property-removed  GET /runs/{runId}  response 200 body .finishedAt: optional property removed, which toloka_ext needs (client.runs.get)"
    ]
    for paths in ({".finishedAtZone"}, {".note"}, set()):
        other = Reliance(methods=RELIANCE.methods, properties={"getRun": frozenset(paths)})
        assert _lines(drop, other, "relied") == []
    assert _lines(drop, Reliance(methods=RELIANCE.methods), "relied") == []  # no properties


def test_a_reliance_travels_as_json_sorted_and_comes_back_equal() -> None:
    reliance = Reliance(
        methods={"listRuns": ("client.runs.list", "client.process_new_data"), "getRun": ("g",)},
        parameters={"listRuns": frozenset({"query offset", "query limit"})},
        enum_values={"RunStatus": frozenset({"failed", "completed"})},
        properties={"listRuns": frozenset({".pagination.total"}), "getExport": frozenset()},
    )
    data = reliance.as_dict()
    assert data == {
        "methods": {"getRun": ["g"], "listRuns": ["client.runs.list", "client.process_new_data"]},
        "parameters": {"listRuns": ["query limit", "query offset"]},
        "enum_values": {"RunStatus": ["completed", "failed"]},
        "properties": {"getExport": [], "listRuns": [".pagination.total"]},
    }
    assert list(data) == ["methods", "parameters", "enum_values", "properties"]
    assert list(data["methods"]) == ["getRun", "listRuns"]
    back = Reliance.from_dict(json.loads(json.dumps(data)))
    assert back == reliance
    assert back.methods["listRuns"] == ("client.runs.list", "client.process_new_data")
    assert isinstance(back.parameters["listRuns"], frozenset)


def test_a_reliance_read_from_json_takes_what_is_there() -> None:
    assert Reliance.from_dict({}) == Reliance()
    assert Reliance.from_dict({"methods": None, "properties": None}) == Reliance()
    partial = Reliance.from_dict(
        {"enum_values": {"RunStatus": ["completed", 1]}, "methods": {"g": [2]}}
    )
    assert partial.enum_values == {"RunStatus": frozenset({"completed", "1"})}
    assert (partial.methods, partial.parameters, partial.properties) == ({"g": ("2",)}, {}, {})
    keyed = Reliance.from_dict({"parameters": {5: ["query a"]}, "properties": {"op": [".x"]}})
    assert keyed.parameters == {"5": frozenset({"query a"})}
    assert keyed.properties == {"op": frozenset({".x"})}
