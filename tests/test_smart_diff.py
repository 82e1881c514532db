"""api-smart-diff (npm, pinned in package.json) against ``scripts/specdiff.py``, pair by pair.

Every spec pair the change-classification tests use goes through both differs: the drift
fixtures (``tests/drift/mutations.py`` on ``openapi/v2-beta.yaml``), the pairs of
``tests/test_specdiff.py`` and ``tests/test_pull_spec.py`` (rebuilt here, one entry per test,
kept in step by ``test_every_classification_test_has_its_pairs_here``), and the API v1
published-document cases of ``tests/test_pull_spec_v1.py``. For each pair the test asserts
the verdict recorded in :data:`VERDICTS`: both agree on *breaking or not*, or they disagree
and the entry says which side is right by oasdiff's rules and why.

The result decides the engine behind ``make pull-spec``: api-smart-diff would replace
specdiff only if it classified every pair the same way. It does not (see the disagreements
below), so specdiff stays, and :func:`test_pull_spec_keeps_specdiff_as_its_engine` pins that.

"Breaking" on specdiff's side means a change at level ``breaking`` (exit code 4; warnings
such as a response enum value added are compatible by the project's rule, as in oasdiff,
where they are WARN, not ERR). On api-smart-diff's side it means a diff of type
``breaking``; ``non-breaking``, ``annotation``, ``deprecated`` and ``unclassified`` are not.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from scripts import published_v1, pull_spec
from scripts.specdiff import diff_specs
from tests.drift.mutations import FIXTURES, load_snapshot

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).parent / "fixtures" / "specs"
REFERENCE = ROOT.parent / "shared" / "reference" / "toloka-v1-openapi"
PACKAGE = ROOT / "node_modules" / "api-smart-diff" / "package.json"
VERSION = "1.0.6"

Spec = dict[str, Any]
Build = Callable[[], tuple[Any, Any]]

RUNS = "/projects/{projectId}/runs"
RUN = "/runs/{runId}"

# Reads the pairs as JSON on stdin, writes {name: {"diffs": [...]} | {"error": "..."}}.
NODE_SCRIPT = r"""
const { apiCompare } = require("api-smart-diff");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = {};
  for (const pair of JSON.parse(input)) {
    try {
      const { diffs } = apiCompare(pair.before, pair.after);
      out[pair.name] = {
        diffs: diffs.map((d) => ({
          type: d.type,
          action: d.action,
          path: d.path.map(String),
          description: typeof d.description === "string" ? d.description : "",
        })),
      };
    } catch (error) {
      out[pair.name] = { error: String((error && error.message) || error) };
    }
  }
  process.stdout.write(JSON.stringify(out));
});
"""


# --------------------------------------------------------------------------- the pairs


def _load(name: str) -> Spec:
    doc: Spec = yaml.safe_load((SPECS / name).read_text(encoding="utf-8"))
    return doc


def _schemas(doc: Spec) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]
    return result


def _changed(change: Callable[[Spec], None], base: str = "base_v30.yaml") -> Build:
    """(base, base changed by ``change``): the shape of most tests in test_specdiff.py."""

    def build() -> tuple[Spec, Spec]:
        old = _load(base)
        new = copy.deepcopy(old)
        change(new)
        return old, new

    return build


def _reverse(build: Build) -> Build:
    def reversed_build() -> tuple[Any, Any]:
        old, new = build()
        return new, old

    return reversed_build


def _enum_added_inline_to_ref() -> tuple[Spec, Spec]:
    old, new = _load("base_v30.yaml"), _load("base_v30.yaml")
    old["paths"][RUN]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "properties": {"state": {"type": "string", "enum": ["running", "done"]}},
    }
    new["paths"][RUN]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/RunView"
    }
    _schemas(new)["RunView"] = {
        "type": "object",
        "properties": {"state": {"type": "string", "enum": ["running", "done", "paused"]}},
    }
    return old, new


def _required_request_property(doc: Spec) -> None:
    _schemas(doc)["CreateRun"]["properties"]["datasetId"] = {"type": "string"}
    _schemas(doc)["CreateRun"]["required"].append("datasetId")


def _error_code_renamed(doc: Spec) -> None:
    err = _schemas(doc)["Error"]
    err["properties"]["errorCode"] = err["properties"].pop("code")
    err["required"] = ["errorCode"]


def _item_limit_renamed(doc: Spec) -> None:
    props = _schemas(doc)["CreateRun"]["properties"]
    props["limit"] = props.pop("itemLimit")


def _types_changed(doc: Spec) -> None:
    _schemas(doc)["Progress"]["properties"]["failed"] = {"type": "string"}
    doc["paths"][RUNS]["get"]["parameters"][0]["schema"] = {"type": "string"}
    _schemas(doc)["CreateRun"]["properties"]["itemLimit"] = {"type": "number"}


def _required_flags(doc: Spec) -> None:
    _schemas(doc)["Progress"]["required"] = ["completed", "failed"]
    doc["paths"][RUNS]["get"]["parameters"][0]["required"] = True


def _v30_v31() -> tuple[Spec, Spec]:
    return _load("base_v30.yaml"), _load("base_v31.yaml")


def _v30_v31_total_nullable() -> tuple[Spec, Spec]:
    v30, v31 = _v30_v31()
    _schemas(v31)["Progress"]["properties"]["total"] = {"type": ["integer", "null"]}
    return v30, v31


def _run_as_all_of(doc: Spec) -> None:
    run = _schemas(doc)["Run"]
    _schemas(doc)["Run"] = {
        "allOf": [
            {"$ref": "#/components/schemas/RunBase"},
            {
                "type": "object",
                "required": ["progress"],
                "properties": {"progress": copy.deepcopy(_schemas(doc)["Progress"])},
            },
        ]
    }
    _schemas(doc)["RunBase"] = {
        "type": "object",
        "required": ["id", "status"],
        "properties": {k: v for k, v in run["properties"].items() if k != "progress"},
    }


def _one_of(names: list[str], b_type: str) -> Callable[[Spec], None]:
    def change(doc: Spec) -> None:
        for name in ("A", "B", "C"):
            _schemas(doc)[name] = {
                "type": "object",
                "title": name,
                "properties": {"v": {"type": b_type if name == "B" else "string"}},
            }
        _schemas(doc)["Run"]["properties"]["detail"] = {
            "oneOf": [{"$ref": f"#/components/schemas/{n}"} for n in names]
        }

    return change


def _one_of_variants() -> tuple[Spec, Spec]:
    return _changed(_one_of(["A", "B"], "string"))()[1], _changed(_one_of(["B", "C"], "integer"))()[
        1
    ]


def _tree(leaf: str) -> Callable[[Spec], None]:
    def change(doc: Spec) -> None:
        _schemas(doc)["Node"] = {
            "type": "object",
            "properties": {
                "value": {"type": leaf},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            },
        }
        _schemas(doc)["Run"]["properties"]["tree"] = {"$ref": "#/components/schemas/Node"}

    return change


def _recursive() -> tuple[Spec, Spec]:
    return _changed(_tree("string"))()[1], _changed(_tree("integer"))()[1]


def _status_and_media(doc: Spec) -> None:
    post = doc["paths"][RUNS]["post"]
    post["responses"]["202"] = post["responses"].pop("201")
    body = post["requestBody"]["content"]
    body["application/yaml"] = body.pop("application/json")


def _path_parameter_renamed(doc: Spec) -> None:
    item = doc["paths"].pop(RUN)
    item["parameters"][0]["name"] = "id"
    doc["paths"]["/runs/{id}"] = item


ODD: Spec = {
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


def _rendering_mix(doc: Spec) -> None:
    doc["paths"][RUN].pop("delete")
    _schemas(doc)["RunStatus"]["enum"].append("paused")
    _schemas(doc)["Progress"]["properties"]["skipped"] = {"type": "integer"}


def _secured(header: str, alternatives: list[dict[str, list[str]]]) -> Callable[[Spec], None]:
    def change(doc: Spec) -> None:
        doc["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": header},
            "OAuth": {"type": "http", "scheme": "bearer"},
        }
        doc["security"] = alternatives

    return change


def _security(old: Callable[[Spec], None] | None, new: Callable[[Spec], None]) -> Build:
    def build() -> tuple[Spec, Spec]:
        before = _changed(old)()[1] if old else _load("base_v30.yaml")
        return before, _changed(new)()[1]

    return build


API_KEY = _secured("Authorization", [{"ApiKey": []}])


# tests/test_pull_spec.py: the "base" fixture carries x-guess extensions; two versions on top.
def _pull_base() -> Spec:
    doc = _load("base_v30.yaml")
    doc["components"]["schemas"]["Run"]["x-guess"] = True
    doc["components"]["schemas"]["Run"]["x-guess-reason"] = "Only the status field is published."
    return doc


def _pull_compatible() -> Spec:
    new = _pull_base()
    new["components"]["schemas"]["Progress"]["properties"]["skipped"] = {"type": "integer"}
    return new


def _pull_breaking() -> Spec:
    new = _pull_compatible()
    del new["paths"][RUN]["delete"]
    return new


# API v1: the published document, trimmed and resolved as pull_spec.py --api v1 does it.
OPERATION = "/operations/{id}"
ADDITIONAL = "parts/api/additional.yaml"
Overrides = dict[str, Callable[[Any], None]]


def _published(overrides: Overrides | None = None) -> Spec:
    """The trimmed, resolved published v1 document; ``overrides`` edit files by path."""
    overrides = overrides or {}
    base_url = REFERENCE.resolve().as_uri() + "/"

    def load(url: str) -> str:
        rel = url.removeprefix(base_url)
        text = pull_spec.load_url(url)
        if rel in overrides:
            doc = pull_spec.load_text_fast(text)
            overrides[rel](doc)
            text = json.dumps(doc)
        return text

    root_url = base_url + "fullApi.yaml"
    root = pull_spec.parse(load(root_url), root_url, loads=pull_spec.load_text_fast)
    doc, _ = published_v1.pull_published(root_url, root, load=load, parse=pull_spec.load_text_fast)
    result: Spec = pull_spec.plain(doc)
    return result


def _v1(overrides: Overrides) -> Build:
    def build() -> tuple[Spec, Spec]:
        return _published(), _published(overrides)

    return build


def _v1_schema(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return lambda doc: change(doc["components"]["schemas"][name])


def _add_status(view: dict[str, Any]) -> None:
    view["properties"]["status"]["enum"].append("CANCELLED")


def _drop_pending(view: dict[str, Any]) -> None:
    view["properties"]["status"]["enum"].remove("PENDING")


def _has_more_string(has_more: dict[str, Any]) -> None:
    has_more["type"] = "string"


def _drop_used_operations(doc: Spec) -> None:
    del doc["paths"]["/operations/{id}/log"]
    del doc["paths"]["/tasks/{id}"]["patch"]


def _unused_changes(doc: Spec) -> None:
    del doc["paths"]["/pools"]["post"]
    doc["components"]["schemas"]["PoolViewV1"]["properties"]["id"]["type"] = "integer"


def _example_data(examples: dict[str, Any]) -> None:
    examples["success"]["value"]["details"] = {"$ref": "./not-a-file.yaml"}


def _tree_root(doc: Spec) -> None:
    node_ref = f"./{ADDITIONAL}#/components/schemas/TreeNode"
    doc["components"]["schemas"]["Tree"] = {
        "type": "object",
        "properties": {"node": {"$ref": node_ref}},
    }
    doc["components"]["schemas"]["OperationViewV1"]["properties"]["tree"] = {"$ref": node_ref}


def _tree_node(leaf: str) -> Callable[[Any], None]:
    def change(doc: Spec) -> None:
        doc["components"]["schemas"]["TreeNode"] = {
            "type": "object",
            "properties": {
                "value": {"type": leaf},
                "children": {
                    "type": "array",
                    "items": {"$ref": "../../fullApi.yaml#/components/schemas/Tree"},
                },
            },
        }

    return change


def _v1_tree_leaf_changed() -> tuple[Spec, Spec]:
    old = _published({"fullApi.yaml": _tree_root, ADDITIONAL: _tree_node("string")})
    new = _published({"fullApi.yaml": _tree_root, ADDITIONAL: _tree_node("integer")})
    return old, new


def _name_clash(doc: Spec) -> None:
    doc["components"]["schemas"]["OperationViewV1"] = {"type": "string"}
    doc["components"]["schemas"]["OperationLog"]["properties"]["operation"] = {
        "$ref": "#/components/schemas/OperationViewV1"
    }


def _drift(index: int) -> Build:
    def build() -> tuple[Spec, Spec]:
        snapshot = load_snapshot()
        return snapshot, FIXTURES[index].apply(snapshot)

    return build


@dataclass(frozen=True)
class Pair:
    name: str
    build: Build
    test: str  # the test that uses the pair: "<file>::<function>"


SD = "tests/test_specdiff.py::"
PS = "tests/test_pull_spec.py::"
V1 = "(evaluation of the published v1 document) "
DRIFT = "tests/drift/test_classification.py::test_specdiff_classifies_the_change"

PAIRS: tuple[Pair, ...] = (
    *(Pair(f"drift:{f.name}", _drift(i), DRIFT) for i, f in enumerate(FIXTURES)),
    Pair("sd:identical", _changed(lambda d: None), SD + "test_identical_documents_have_no_change"),
    Pair(
        "sd:response-enum-added-inline-to-ref",
        _enum_added_inline_to_ref,
        SD + "test_response_enum_value_added_is_a_warning_not_breaking",
    ),
    Pair(
        "sd:shared-enum-value-added",
        _changed(lambda d: _schemas(d)["RunStatus"]["enum"].append("paused")),
        SD + "test_shared_enum_value_added_reports_request_and_response_sides",
    ),
    Pair(
        "sd:request-enum-value-removed",
        _changed(
            lambda d: _schemas(d)["CreateRun"]["properties"]["fields"]["items"]["properties"][
                "type"
            ].update(enum=["text", "url"])
        ),
        SD + "test_request_enum_value_removed_is_breaking",
    ),
    Pair(
        "sd:required-request-property-added",
        _changed(_required_request_property),
        SD + "test_required_request_property_added_is_breaking",
    ),
    Pair(
        "sd:optional-request-property-added",
        _changed(
            lambda d: _schemas(d)["CreateRun"]["properties"].update(itemFilter={"type": "string"})
        ),
        SD + "test_optional_request_property_added_is_compatible",
    ),
    Pair(
        "sd:operation-removed",
        _changed(lambda d: d["paths"][RUN].pop("delete")),
        SD + "test_operation_removed_is_breaking",
    ),
    Pair(
        "sd:path-removed",
        _changed(lambda d: d["paths"].pop(RUN)),
        SD + "test_whole_path_removed_reports_each_operation",
    ),
    Pair(
        "sd:path-added",
        _reverse(_changed(lambda d: d["paths"].pop(RUN))),
        SD + "test_whole_path_removed_reports_each_operation",
    ),
    Pair(
        "sd:error-property-renamed",
        _changed(_error_code_renamed),
        SD + "test_response_property_renamed_is_breaking",
    ),
    Pair(
        "sd:optional-request-property-renamed",
        _changed(_item_limit_renamed),
        SD + "test_optional_request_property_renamed_is_not_breaking",
    ),
    Pair(
        "sd:optional-response-property-added",
        _changed(
            lambda d: _schemas(d)["Progress"]["properties"].update(skipped={"type": "integer"})
        ),
        SD + "test_optional_response_property_added_is_compatible",
    ),
    Pair(
        "sd:types-changed",
        _changed(_types_changed),
        SD + "test_type_changed_is_breaking_in_requests_and_responses",
    ),
    Pair("sd:required-flags", _changed(_required_flags), SD + "test_required_flags_both_ways"),
    Pair(
        "sd:nullable-30-to-31",
        _v30_v31,
        SD + "test_nullable_30_and_type_null_31_are_equivalent",
    ),
    Pair(
        "sd:nullable-31-to-30",
        _reverse(_v30_v31),
        SD + "test_nullable_30_and_type_null_31_are_equivalent",
    ),
    Pair(
        "sd:response-became-nullable-31",
        _v30_v31_total_nullable,
        SD + "test_response_becoming_nullable_is_breaking_across_versions",
    ),
    Pair(
        "sd:shared-component-became-optional",
        _changed(lambda d: _schemas(d)["Progress"].update(required=["completed"])),
        SD + "test_change_inside_referenced_component_is_found_under_each_operation",
    ),
    Pair(
        "sd:all-of-equivalent",
        _changed(_run_as_all_of),
        SD + "test_allof_is_merged_and_refs_inlined_are_equivalent",
    ),
    Pair("sd:one-of-variants", _one_of_variants, SD + "test_one_of_variants_matched_by_ref_name"),
    Pair("sd:recursive-leaf-type", _recursive, SD + "test_recursive_schemas_terminate"),
    Pair(
        "sd:status-and-media-type",
        _changed(_status_and_media),
        SD + "test_success_status_and_media_type_changes",
    ),
    Pair(
        "sd:path-parameter-renamed",
        _changed(_path_parameter_renamed),
        SD + "test_renamed_path_parameter_is_the_same_endpoint",
    ),
    Pair(
        "sd:odd-to-empty",
        lambda: (copy.deepcopy(ODD), {}),
        SD + "test_never_crashes_on_odd_documents",
    ),
    Pair(
        "sd:empty-to-odd",
        lambda: ({}, copy.deepcopy(ODD)),
        SD + "test_never_crashes_on_odd_documents",
    ),
    Pair(
        "sd:odd-identical",
        lambda: (copy.deepcopy(ODD), copy.deepcopy(ODD)),
        SD + "test_never_crashes_on_odd_documents",
    ),
    Pair(
        "sd:rendering-mix",
        _changed(_rendering_mix),
        SD + "test_report_renderings_are_deterministic",
    ),
    Pair("sd:security-required", _security(None, API_KEY), SD + "test_security_changes"),
    Pair(
        "sd:security-header-renamed",
        _security(API_KEY, _secured("X-Api-Key", [{"ApiKey": []}])),
        SD + "test_security_changes",
    ),
    Pair(
        "sd:security-widened",
        _security(API_KEY, _secured("Authorization", [{"ApiKey": []}, {"OAuth": []}])),
        SD + "test_security_changes",
    ),
    Pair(
        "ps:same-content",
        lambda: (_pull_base(), _pull_base()),
        PS + "test_successive_versions_no_change_compatible_breaking",
    ),
    Pair(
        "ps:compatible",
        lambda: (_pull_base(), _pull_compatible()),
        PS + "test_successive_versions_no_change_compatible_breaking",
    ),
    Pair(
        "ps:compatible-to-breaking",
        lambda: (_pull_compatible(), _pull_breaking()),
        PS + "test_successive_versions_no_change_compatible_breaking",
    ),
    Pair(
        "ps:base-to-breaking",
        lambda: (_pull_base(), _pull_breaking()),
        PS + "test_dry_run_and_report_files",
    ),
    Pair(
        "v1:operation-status-added",
        _v1({"fullApi.yaml": _v1_schema("OperationViewV1", _add_status)}),
        V1 + "test_operation_status_enum_changes",
    ),
    Pair(
        "v1:operation-status-removed",
        _v1({"fullApi.yaml": _v1_schema("OperationViewV1", _drop_pending)}),
        V1 + "test_operation_status_enum_changes",
    ),
    Pair(
        "v1:external-type-changed",
        _v1({ADDITIONAL: _v1_schema("HasMore", _has_more_string)}),
        V1 + "test_change_inside_an_external_file_is_reported",
    ),
    Pair(
        "v1:used-operations-removed",
        _v1({"fullApi.yaml": _drop_used_operations}),
        V1 + "test_removed_used_operation_is_breaking",
    ),
    Pair(
        "v1:unused-operations-changed",
        _v1({"fullApi.yaml": _unused_changes}),
        V1 + "test_changes_to_operations_the_client_does_not_use_are_ignored",
    ),
    Pair(
        "v1:example-data-changed",
        _v1({"responses/api/operation-id.yaml": _example_data}),
        V1 + "test_example_data_is_copied_as_data",
    ),
    Pair(
        "v1:ref-cycle-added",
        _v1({"fullApi.yaml": _tree_root, ADDITIONAL: _tree_node("string")}),
        V1 + "test_ref_cycle_across_files_becomes_internal_refs",
    ),
    Pair(
        "v1:ref-cycle-leaf-type",
        _v1_tree_leaf_changed,
        V1 + "test_ref_cycle_across_files_becomes_internal_refs",
    ),
    Pair(
        "v1:component-name-clash",
        _v1({ADDITIONAL: _name_clash}),
        V1 + "test_component_name_clash_gets_the_file_stem",
    ),
)

# Tests that classify a pair but share it with another entry of PAIRS.
ALSO_COVERED = {PS + "test_subprocess_exit_codes": "ps:base-to-breaking"}


# --------------------------------------------------------------------------- the verdicts


@dataclass(frozen=True)
class Verdict:
    """What each differ says about one pair: breaking or not.

    ``smart`` counts api-smart-diff's diffs under ``paths``, top-level ``security`` and
    ``components/securitySchemes``: what an engine behind the per-operation report would
    use. ``smart_raw`` also counts its diffs of ``components/schemas`` themselves, which it
    classifies without knowing whether a schema is sent or received. ``right`` says who is
    right by oasdiff's rules when ``specdiff != smart``; ``note`` records an agreement
    reached for the wrong reason, or a specdiff fix this comparison led to.
    """

    specdiff: bool
    smart: bool
    smart_raw: bool
    right: Literal["both", "specdiff", "api-smart-diff"] = "both"
    reason: str = ""
    note: str = ""


def _same(breaking: bool, note: str = "") -> Verdict:
    return Verdict(breaking, breaking, breaking, note=note)


ENUM_ADDED = (
    "a response enum value added is oasdiff's response-property-enum-value-added, WARN (not"
    " ERR): api-smart-diff calls it breaking"
)
TYPE_CHANGED_NON_BREAKING = (
    "api-smart-diff calls a response property type change non-breaking under paths (it only"
    " flags the component, direction-blind); oasdiff: response-property-type-changed, ERR"
)

VERDICTS: dict[str, Verdict] = {
    "drift:run-status-added": Verdict(False, True, True, "specdiff", ENUM_ADDED),
    "drift:upload-status-added": Verdict(False, True, True, "specdiff", ENUM_ADDED),
    "drift:export-status-added": Verdict(False, True, True, "specdiff", ENUM_ADDED),
    "drift:run-property-added": _same(False),
    "drift:optional-property-removed": _same(False),
    "drift:required-property-removed": _same(True),
    "drift:required-property-renamed": _same(True),
    "drift:property-type-changed": _same(
        True,
        "api-smart-diff's breaking diff is the dropped `minimum`; it calls the integer ->"
        " string type change itself non-breaking",
    ),
    "drift:path-renamed": _same(True),
    "drift:required-request-property-added": _same(True),
    "sd:identical": _same(False),
    "sd:response-enum-added-inline-to-ref": Verdict(
        False,
        True,
        True,
        "specdiff",
        "the same object moved behind a $ref plus an enum value added to a response: oasdiff"
        " WARN at most; api-smart-diff reports `type` removed (it does not follow the new ref"
        " here) and calls that breaking",
    ),
    "sd:shared-enum-value-added": Verdict(False, True, True, "specdiff", ENUM_ADDED),
    "sd:request-enum-value-removed": _same(True),
    "sd:required-request-property-added": _same(True),
    "sd:optional-request-property-added": _same(False),
    "sd:operation-removed": _same(True),
    "sd:path-removed": _same(True),
    "sd:path-added": _same(False),
    "sd:error-property-renamed": _same(
        True,
        "api-smart-diff's breaking diffs are the *added* required `errorCode` (oasdiff: INFO),"
        " not the removed required `code` (oasdiff: response-required-property-removed, ERR)",
    ),
    "sd:optional-request-property-renamed": _same(False),
    "sd:optional-response-property-added": _same(False),
    "sd:types-changed": _same(
        True,
        "only the request-body type change is breaking for api-smart-diff; it calls the query"
        " parameter and response type changes non-breaking (oasdiff: ERR)",
    ),
    "sd:required-flags": _same(True),
    "sd:nullable-30-to-31": Verdict(
        False,
        True,
        True,
        "specdiff",
        "`nullable: true` (3.0) and `type: [X, 'null']` / anyOf null (3.1) allow the same"
        " values: no change; api-smart-diff (OpenAPI 3.0 only) reads a dropped nullable",
    ),
    "sd:nullable-31-to-30": Verdict(
        False,
        False,
        True,
        note="the same equivalence backwards: api-smart-diff's component-level diffs call"
        " it breaking, its per-operation ones do not",
    ),
    "sd:response-became-nullable-31": _same(
        True,
        "api-smart-diff is breaking because of the 3.0 -> 3.1 nullable spelling"
        " (see sd:nullable-30-to-31), not because `Progress.total` became nullable",
    ),
    "sd:shared-component-became-optional": _same(True),
    "sd:all-of-equivalent": Verdict(
        False,
        True,
        True,
        "specdiff",
        "Run split into allOf [RunBase, {progress}] validates exactly the same instances"
        " (oasdiff with --flatten-allof: no change); api-smart-diff reports every property"
        " and `required` entry removed",
    ),
    "sd:one-of-variants": Verdict(
        True,
        False,
        True,
        "specdiff",
        "variant B's `v` string -> integer in a response is response-property-type-changed"
        " (ERR); api-smart-diff leaves the variant swap unclassified and flags the type only"
        " on the component",
    ),
    "sd:recursive-leaf-type": Verdict(True, False, True, "specdiff", TYPE_CHANGED_NON_BREAKING),
    "sd:status-and-media-type": _same(True),
    "sd:path-parameter-renamed": _same(
        False,
        "specdiff was wrong here and is fixed: it reported request-parameter-removed +"
        " new-required-request-parameter (breaking); oasdiff matches path parameters by"
        " position (PathParamsMap), so /runs/{runId} -> /runs/{id} changes nothing; so"
        " does api-smart-diff (a `rename`)",
    ),
    "sd:odd-to-empty": Verdict(
        True,
        False,
        False,
        "specdiff",
        "every operation removed: api-path-removed-without-deprecation (ERR); api-smart-diff"
        " does not take `{}` for an OpenAPI document and leaves the removal unclassified",
    ),
    "sd:empty-to-odd": _same(False),
    "sd:odd-identical": _same(False),
    "sd:rendering-mix": _same(True),
    "sd:security-required": _same(True),
    "sd:security-header-renamed": _same(True),
    "sd:security-widened": _same(False),
    "ps:same-content": _same(False),
    "ps:compatible": _same(False),
    "ps:compatible-to-breaking": _same(True),
    "ps:base-to-breaking": _same(True),
    "v1:operation-status-added": Verdict(False, True, True, "specdiff", ENUM_ADDED),
    "v1:operation-status-removed": Verdict(
        False,
        False,
        True,
        note="a response enum value removed is oasdiff INFO; only api-smart-diff's"
        " component-level diff calls it breaking",
    ),
    "v1:external-type-changed": Verdict(True, False, True, "specdiff", TYPE_CHANGED_NON_BREAKING),
    "v1:used-operations-removed": _same(True),
    "v1:unused-operations-changed": _same(False),
    "v1:example-data-changed": _same(False),
    "v1:ref-cycle-added": _same(False),
    "v1:ref-cycle-leaf-type": Verdict(True, False, True, "specdiff", TYPE_CHANGED_NON_BREAKING),
    "v1:component-name-clash": _same(False),
}


# --------------------------------------------------------------------------- running both


@dataclass(frozen=True)
class Observed:
    specdiff: bool
    smart: bool
    smart_raw: bool


def _in_operation_scope(path: list[str]) -> bool:
    return path[:1] in (["paths"], ["security"]) or path[:2] == ["components", "securitySchemes"]


def _available(pair: Pair) -> bool:
    return not pair.name.startswith("v1:") or (REFERENCE / "fullApi.yaml").is_file()


@pytest.fixture(scope="module")
def observed() -> dict[str, Observed]:
    node = shutil.which("node")
    if node is None or not PACKAGE.is_file():
        pytest.skip("node or node_modules/api-smart-diff missing: run `make install`")
    built = {p.name: p.build() for p in PAIRS if _available(p)}
    payload = [{"name": name, "before": old, "after": new} for name, (old, new) in built.items()]
    proc = subprocess.run(
        [node, "-e", NODE_SCRIPT],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answers: dict[str, Any] = json.loads(proc.stdout)
    result = {}
    for name, (old, new) in built.items():
        assert "error" not in answers[name], (name, answers[name])
        diffs = [d for d in answers[name]["diffs"] if d["type"] == "breaking"]
        result[name] = Observed(
            specdiff=bool(diff_specs(old, new).breaking),
            smart=any(_in_operation_scope(d["path"]) for d in diffs),
            smart_raw=bool(diffs),
        )
    return result


# --------------------------------------------------------------------------- tests


def test_api_smart_diff_is_pinned() -> None:
    pins = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]
    assert pins["api-smart-diff"] == VERSION  # exact, no range
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/api-smart-diff"]["version"] == VERSION
    if PACKAGE.is_file():
        assert json.loads(PACKAGE.read_text(encoding="utf-8"))["version"] == VERSION


def test_every_pair_has_a_verdict() -> None:
    names = [p.name for p in PAIRS]
    assert len(names) == len(set(names))
    assert set(names) == set(VERDICTS)
    for name, verdict in VERDICTS.items():
        if verdict.specdiff == verdict.smart:
            assert verdict.right == "both" and not verdict.reason, name
        else:
            assert verdict.right != "both" and verdict.reason, name


def _classifying_tests(path: Path, *, calls: str | None = None) -> set[str]:
    """Test functions in ``path`` that classify a change: they call ``calls`` (when given)
    or assert an exit code 3 or 4."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        for sub in ast.walk(node):
            if calls is not None:
                hit = isinstance(sub, ast.Call) and getattr(sub.func, "id", "") == calls
            else:
                hit = isinstance(sub, ast.Compare) and any(
                    isinstance(c, ast.Constant) and c.value in (3, 4) for c in sub.comparators
                )
            if hit:
                found.add(f"tests/{path.name}::{node.name}")
                break
    return found


def test_every_classification_test_has_its_pairs_here() -> None:
    covered = {p.test for p in PAIRS} | set(ALSO_COVERED)
    tests = Path(__file__).parent
    expected = _classifying_tests(
        tests / "test_specdiff.py", calls="diff_specs"
    ) | _classifying_tests(tests / "test_pull_spec.py")
    # `pull_spec --api v1` no longer classifies with a differ (it compares the published
    # document with openapi/v1.yaml and its reviewed differences): the v1 pairs stay here
    # as evaluation data for the two differs, not as the cover of a test.
    assert expected <= covered, sorted(expected - covered)
    assert {p.name for p in PAIRS if p.name.startswith("drift:")} == {
        f"drift:{f.name}" for f in FIXTURES
    }


@pytest.mark.parametrize("name", [p.name for p in PAIRS])
def test_both_differs_on_the_pair(name: str, observed: dict[str, Observed]) -> None:
    if name not in observed:
        pytest.skip(f"{REFERENCE} is absent: the published API v1 document is not available")
    verdict = VERDICTS[name]
    assert observed[name] == Observed(verdict.specdiff, verdict.smart, verdict.smart_raw)


def test_pull_spec_keeps_specdiff_as_its_engine() -> None:
    """The decision: api-smart-diff disagrees with oasdiff's rules where specdiff does not
    (every disagreement has specdiff right), so specdiff stays behind ``make pull-spec``."""
    disagreements = {n for n, v in VERDICTS.items() if v.specdiff != v.smart}
    assert disagreements, "api-smart-diff agrees everywhere: make it the engine"
    assert {VERDICTS[n].right for n in disagreements} == {"specdiff"}
    assert vars(pull_spec)["diff_specs"] is diff_specs
