"""The spec differ's rules that mutation testing found untested (docs/mutation.md).

A removed security scheme, an array schema gaining or losing ``items`` on one side, ``allOf``
parts that narrow an ``enum``, and the command line comparing the two files it was given.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from toloka_ext._specdiff import Reliance, Report, diff_specs, main

SPECS = Path(__file__).parent / "fixtures" / "specs"
RUNS = "/projects/{projectId}/runs"
RUN = "/runs/{runId}"
ALL_OPS = [("GET", RUNS), ("POST", RUNS), ("GET", RUN), ("DELETE", RUN)]


@pytest.fixture
def base() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SPECS / "base_v30.yaml").read_text(encoding="utf-8"))
    return doc


def changed(doc: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    change(new)
    return new


def found(report: Report) -> list[tuple[str, str, str, str, str]]:
    return [(c.rule_id, c.level, c.method, c.path, c.location) for c in report.changes]


# ------------------------------------------------------------------------------- security


def _secured(doc: dict[str, Any]) -> dict[str, Any]:
    def change(d: dict[str, Any]) -> None:
        d["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization"},
            "OAuth": {"type": "http", "scheme": "bearer"},
        }
        d["security"] = [{"ApiKey": []}]

    return changed(doc, change)


def test_a_removed_security_scheme_breaks_every_operation_that_uses_it(
    base: dict[str, Any],
) -> None:
    old = _secured(base)
    new = changed(old, lambda d: d["components"]["securitySchemes"].pop("ApiKey"))
    report = diff_specs(old, new)
    assert sorted(found(report)) == sorted(
        ("api-security-component-removed", "breaking", method, path, "security ApiKey")
        for method, path in ALL_OPS
    )
    assert {c.detail for c in report.changes} == {"scheme definition removed"}
    assert report.exit_code == 4


def test_removing_a_scheme_no_operation_uses_changes_nothing(base: dict[str, Any]) -> None:
    old = _secured(base)
    new = changed(old, lambda d: d["components"]["securitySchemes"].pop("OAuth"))
    report = diff_specs(old, new)
    assert report.changes == [] and report.exit_code == 0


# -------------------------------------------------------------------------------- items


def _fields(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["CreateRun"]["properties"]["fields"]
    return result


def _run_items(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["RunList"]["properties"]["items"]
    return result


def test_request_array_gaining_an_items_schema_is_breaking(base: dict[str, Any]) -> None:
    # Old clients may send any element; the server now takes only objects with a name.
    old = changed(base, lambda d: _fields(d).pop("items"))
    report = diff_specs(old, base)
    assert found(report) == [
        ("request-property-type-changed", "breaking", "POST", RUNS, "request body .fields[]")
    ]
    assert report.changes[0].detail == "type any -> object"


def test_request_array_losing_its_items_schema_is_compatible(base: dict[str, Any]) -> None:
    new = changed(base, lambda d: _fields(d).pop("items"))
    report = diff_specs(base, new)
    assert report.changes == [] and report.exit_code == 0


def test_response_array_losing_its_items_schema_is_breaking(base: dict[str, Any]) -> None:
    # A client parsing runs may now receive any element.
    new = changed(base, lambda d: _run_items(d).pop("items"))
    report = diff_specs(base, new)
    assert found(report) == [
        ("response-property-type-changed", "breaking", "GET", RUNS, "response 200 body .items[]")
    ]
    assert report.changes[0].detail == "type object -> any"


def test_response_array_gaining_an_items_schema_is_compatible(base: dict[str, Any]) -> None:
    old = changed(base, lambda d: _run_items(d).pop("items"))
    report = diff_specs(old, base)
    assert report.changes == [] and report.exit_code == 0


def test_items_changed_on_both_sides_are_still_compared(base: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        _fields(d)["items"]["properties"]["type"]["enum"] = ["text"]

    report = diff_specs(base, changed(base, change))
    assert [c.location for c in report.changes] == [
        "request body .fields[].type",
        "request body .fields[].type",
    ]
    assert {c.rule_id for c in report.changes} == {"request-property-enum-value-removed"}


# -------------------------------------------------------------------------------- allOf


def _status_param(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["paths"][RUNS]["get"]["parameters"][1]
    return result


def test_an_allof_part_narrowing_an_enum_removes_values(base: dict[str, Any]) -> None:
    # Every allOf part must hold, so the allowed values are those all parts allow.
    def narrowed(d: dict[str, Any]) -> None:
        _status_param(d)["schema"] = {
            "allOf": [
                {"$ref": "#/components/schemas/RunStatus"},
                {"enum": ["running", "failed"]},
            ]
        }

    report = diff_specs(base, changed(base, narrowed))
    assert found(report) == [
        ("request-parameter-enum-value-removed", "breaking", "GET", RUNS, "query status")
    ]
    assert report.changes[0].detail == 'enum value "completed" removed'

    widened = diff_specs(changed(base, narrowed), base)
    assert found(widened) == [
        ("request-parameter-enum-value-added", "info", "GET", RUNS, "query status")
    ]


def test_allof_lists_other_than_required_and_enum_keep_the_first_part(
    base: dict[str, Any],
) -> None:
    # A later part repeating a variant list does not add variants the first part lacks.
    def variants(*extra: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        def change(d: dict[str, Any]) -> None:
            _status_param(d)["schema"] = {
                "allOf": [{"oneOf": [{"type": "string", "title": "Name"}]}, *extra]
            }

        return change

    old = changed(base, variants())
    same = changed(base, variants({"oneOf": [{"type": "integer", "title": "Number"}]}))
    assert diff_specs(old, same).changes == []


def test_allof_required_lists_are_merged(base: dict[str, Any]) -> None:
    def split(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["CreateRun"] = {
            "allOf": [
                {
                    "type": "object",
                    "required": ["pipelineId"],
                    "properties": {"pipelineId": {"type": "string"}},
                },
                {"required": ["itemLimit"], "properties": {"itemLimit": {"type": "integer"}}},
            ]
        }

    report = diff_specs(base, changed(base, split))
    assert [(c.rule_id, c.location) for c in report.changes] == [
        ("request-property-became-required", "request body .itemLimit"),
        ("request-property-removed", "request body .fields"),
    ]


# ---------------------------------------------------------------------------- the command


def _write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


def test_main_compares_the_two_files_it_is_given(
    base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = changed(base, lambda d: d["paths"].pop(RUN))
    old_file, new_file = _write(tmp_path / "old.yaml", base), _write(tmp_path / "new.yaml", new)

    assert main([old_file, new_file]) == 4
    text = capsys.readouterr().out
    assert "[BREAKING] api-path-removed-without-deprecation  GET /runs/{runId}" in text
    assert "Summary: 2 change(s): 2 breaking" in text

    assert main([new_file, old_file, "--format", "json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 3
    assert [(c["rule_id"], c["method"]) for c in data["changes"]] == [
        ("endpoint-added", "GET"),
        ("endpoint-added", "DELETE"),
    ]

    assert main([old_file, new_file, "--format", "markdown"]) == 4
    assert capsys.readouterr().out.startswith("# API change report\n\n## Breaking (2)")

    assert main([old_file, old_file]) == 0
    assert "No API changes." in capsys.readouterr().out


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

RELIED = Reliance(
    methods={"listRuns": ("client.runs.list",), "getRun": ("client.runs.get",), "cancelRun": ()},
    parameters={"listRuns": frozenset({"query limit"})},
    enum_values={"RunStatus": frozenset({"completed", "failed"})},
    properties={"getRun": frozenset({".finishedAt.tz"})},
)


def _relied(report: Report) -> list[tuple[str, str, str, str]]:
    return [
        (c.rule_id, c.method, c.location, c.detail)
        for c in report.changes
        if c.rule_id.startswith("relied-")
    ]


def test_callers_name_three_public_calls_and_count_the_rest() -> None:
    many = Reliance(methods={"op": ("a", "b", "c", "d", "e"), "three": ("a", "b", "c")})
    assert many.callers("op") == " (a, b, c and 2 more)"
    assert many.callers("three") == " (a, b, c)"
    assert many.callers("missing") == "" and many.callers(None) == ""


def test_an_operation_is_reached_only_through_a_public_call() -> None:
    assert RELIED.reached("getRun") and RELIED.reached("listRuns")
    assert not RELIED.reached("cancelRun")  # named, but no public call reaches it
    assert not RELIED.reached("createRun") and not RELIED.reached(None)
    assert not Reliance().reached("getRun")


def test_a_removed_parameter_is_relied_on_only_when_the_client_sends_it(
    base: dict[str, Any],
) -> None:
    def swap(d: dict[str, Any], *added: str) -> None:
        params = d["paths"][RUNS]["get"]["parameters"]
        params[:] = [p for p in params if p.get("name") not in ("limit", "status")]
        params.extend({"name": n, "in": "query", "schema": {"type": "string"}} for n in added)

    two = diff_specs(
        base, changed(base, lambda d: swap(d, "pageToken", "pageSize")), reliance=RELIED
    )
    assert _relied(two) == [
        (
            "relied-request-parameter-removed",
            "GET",
            "query limit",
            "parameter removed, which toloka_ext sends (client.runs.list); added meanwhile: "
            "query pageSize, query pageToken",
        )
    ]
    # `status` is not sent: an ordinary removal (a warning), whatever the reliance says.
    assert ("request-parameter-removed", "warning", "GET", RUNS, "query status") in found(two)
    none_added = diff_specs(base, changed(base, swap), reliance=RELIED)
    assert [d for *_, d in _relied(none_added)] == [
        "parameter removed, which toloka_ext sends (client.runs.list)"
    ]
    # An operation the reliance has no parameters for: ordinary removals.
    elsewhere = Reliance(methods={"listRuns": ("x",)})
    assert _relied(diff_specs(base, changed(base, swap), reliance=elsewhere)) == []


def test_every_removed_status_the_client_acts_on_is_reported(base: dict[str, Any]) -> None:
    def drop(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["RunStatus"]["enum"] = ["running"]

    report = diff_specs(base, changed(base, drop), reliance=RELIED)
    get_run = [
        (loc, d)
        for rule, m, loc, d in _relied(report)
        if (rule, m) == ("relied-response-enum-value-removed", "GET")
        and loc.startswith("response 200 body .status")
    ]
    assert get_run == [
        (
            "response 200 body .status",
            'enum value "completed" removed, which toloka_ext acts on (client.runs.get)',
        ),
        (
            "response 200 body .status",
            'enum value "failed" removed, which toloka_ext acts on (client.runs.get)',
        ),
    ]
    renamed = changed(
        base,
        lambda d: d["components"]["schemas"]["RunStatus"].update(
            enum=["running", "succeeded", "errored", "failed"]
        ),
    )
    (detail,) = [
        d
        for rule, m, loc, d in _relied(diff_specs(base, renamed, reliance=RELIED))
        if m == "GET" and loc == "response 200 body .status"
    ]
    assert detail.endswith('; added meanwhile: "errored", "succeeded"')


def test_a_status_enum_inlined_while_a_value_goes_is_still_relied_on(base: dict[str, Any]) -> None:
    def inline(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Run"]["properties"]["status"] = {
            "type": "string",
            "enum": ["running", "failed"],
        }

    report = diff_specs(base, changed(base, inline), reliance=RELIED)
    assert ("relied-response-enum-value-removed", "GET", "response 200 body .status") in {
        (r, m, loc) for r, m, loc, _ in _relied(report)
    }


def test_an_enum_the_client_does_not_act_on_is_judged_as_usual(base: dict[str, Any]) -> None:
    def drop(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["RunStatus"]["enum"] = ["running"]

    silent = Reliance(methods={"getRun": ("client.runs.get",)})  # no enum values at all
    report = diff_specs(base, changed(base, drop), reliance=silent)
    assert _relied(report) == [] and report.exit_code == 4  # the request enum still breaks
    assert {c.rule_id for c in report.changes if c.path == RUN} == {
        "response-property-enum-value-removed"
    }


def test_a_property_is_needed_when_it_or_something_under_it_is(base: dict[str, Any]) -> None:
    def drop(d: dict[str, Any]) -> None:
        d["components"]["schemas"]["Run"]["properties"].pop("finishedAt")

    needed = [
        (r, m, loc)
        for r, m, loc, _ in _relied(diff_specs(base, changed(base, drop), reliance=RELIED))
    ]
    assert needed == [("relied-response-property-removed", "GET", "response 200 body .finishedAt")]
    for paths in ({".finishedAtZone"}, {".note"}, set()):
        other = Reliance(methods=RELIED.methods, properties={"getRun": frozenset(paths)})
        assert _relied(diff_specs(base, changed(base, drop), reliance=other)) == []
    nothing = Reliance(methods=RELIED.methods)  # no properties for any operation
    assert _relied(diff_specs(base, changed(base, drop), reliance=nothing)) == []


def test_four_callers_name_three_and_one_more() -> None:
    assert Reliance(methods={"op": ("a", "b", "c", "d")}).callers("op") == " (a, b, c and 1 more)"


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
    assert (
        partial.methods == {"g": ("2",)} and partial.parameters == {} and partial.properties == {}
    )
    keyed = Reliance.from_dict({"parameters": {5: ["query a"]}, "properties": {"op": [".x"]}})
    assert keyed.parameters == {"5": frozenset({"query a"})}
    assert keyed.properties == {"op": frozenset({".x"})}
