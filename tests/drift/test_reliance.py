"""Class 4: the change report judges a change by what the client relies on.

Generated from the snapshot, each through ``diff_specs`` with the reliance
``scripts/public_usage.py`` derives from the code (what ``pull-spec`` and ``regenerate``
use): every final status value of a polled enum renamed (breaking; without the reliance it
read as compatible, the issue's complaint), every value the client does not act on renamed
(still compatible), every offset-paged list moved to ``pageToken``/``nextPageToken``
(breaking), every request bound tightened (breaking) and every response bound relaxed
(reported, a warning). The issue's own cases also through ``pull_spec.py --dry-run``: exit 4.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from scripts import public_usage, pull_spec
from tests.drift.mutations import SNAPSHOT_PATH, Spec, load_snapshot
from tests.drift.snapshot_cases import (
    PaginatedList,
    PolledStatus,
    RequestBound,
    cursor_paging,
    paginated_lists,
    polled_statuses,
    rename_status,
    request_bounds,
    response_bounds,
    schemas_at,
    tighten,
)
from toloka_ext._specdiff import Change, Reliance, Report, diff_specs

V2_POLLED = [p for p in polled_statuses() if p.api == "v2"]
LISTS = paginated_lists()
BOUNDS = request_bounds()
RESPONSE_BOUNDS = response_bounds()


@pytest.fixture(scope="module")
def snapshot() -> Spec:
    return load_snapshot()


@pytest.fixture(scope="module")
def reliance() -> Reliance:
    return public_usage.reliance()


def _where(change: Change) -> str:
    return f"{change.method} {change.path} {change.location}".strip()


def _path_of(spec: Spec, operation: str) -> tuple[str, str]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation:
                return method.upper(), path
    raise KeyError(operation)


def test_the_reliance_is_read_from_the_code(reliance: Reliance) -> None:
    assert {"completed", "failed", "cancelled"} <= reliance.enum_values["RunStatus"]
    assert {"succeeded", "failed"} <= reliance.enum_values["UploadStatus"]
    assert {"ready", "failed"} <= reliance.enum_values["ExportStatus"]
    assert "running" not in reliance.enum_values["RunStatus"]
    for listed in LISTS:
        assert {"query limit", "query offset"} <= reliance.parameters[listed.operation]
        assert ".pagination.total" in reliance.properties[listed.operation]
    assert ".downloadUrl" in reliance.properties["getExport"]
    assert ".uploadUrl" in reliance.properties["createUpload"]
    assert "client.runs.watch" in reliance.methods["getRun"]
    assert Reliance.from_dict(json.loads(json.dumps(reliance.as_dict()))) == reliance


# ------------------------------------------------------------------ renamed status values


def _renames(relied: bool) -> list[Any]:
    acted_on = public_usage.acted_on_values()
    return [
        pytest.param(p, v, id=f"{p.schema}:{v}")
        for p in V2_POLLED
        for v in p.values
        if (v in acted_on.get(p.schema, set())) is relied
    ]


@pytest.mark.parametrize(("polled", "value"), _renames(True))
def test_renaming_a_status_the_client_acts_on_is_breaking(
    snapshot: Spec, reliance: Reliance, polled: PolledStatus, value: str
) -> None:
    renamed = rename_status(copy.deepcopy(snapshot), polled, value, f"{value}_v2")
    report = diff_specs(snapshot, renamed, reliance=reliance)
    assert report.exit_code == 4
    method, path = _path_of(snapshot, polled.operation)
    relied = [c for c in report.breaking if c.rule_id == "relied-response-enum-value-removed"]
    assert f"{method} {path} response 200 body .status" in {_where(c) for c in relied}
    assert all(f'"{value}" removed' in c.detail and f'"{value}_v2"' in c.detail for c in relied)
    # Without knowing what the client relies on, the same change read as compatible.
    assert diff_specs(snapshot, renamed).exit_code == 3


@pytest.mark.parametrize(("polled", "value"), _renames(False))
def test_renaming_a_status_the_client_does_not_act_on_stays_compatible(
    snapshot: Spec, reliance: Reliance, polled: PolledStatus, value: str
) -> None:
    renamed = rename_status(copy.deepcopy(snapshot), polled, value, f"{value}_v2")
    report = diff_specs(snapshot, renamed, reliance=reliance)
    assert report.exit_code == 3, [c.line() for c in report.breaking]
    rules = {c.rule_id for c in report.changes}
    assert {"response-property-enum-value-removed", "response-property-enum-value-added"} <= rules


# ------------------------------------------------------------------ new paging schemes


@pytest.mark.parametrize("listed", LISTS, ids=[p.operation for p in LISTS])
def test_a_new_paging_scheme_is_breaking(
    snapshot: Spec, reliance: Reliance, listed: PaginatedList
) -> None:
    moved = cursor_paging(copy.deepcopy(snapshot), listed)
    report = diff_specs(snapshot, moved, reliance=reliance)
    assert report.exit_code == 4
    method, path = _path_of(snapshot, listed.operation)
    breaking = {(c.rule_id, _where(c)) for c in report.breaking}
    assert breaking == {
        ("relied-request-parameter-removed", f"{method} {path} query offset"),
        ("relied-response-property-removed", f"{method} {path} response 200 body .pagination"),
    }
    offset = next(c for c in report.breaking if c.location == "query offset")
    assert "added meanwhile: query pageToken" in offset.detail
    assert diff_specs(snapshot, moved).exit_code == 3  # what it read as before


# ------------------------------------------------------------------ bounds


def _rule(bound: RequestBound) -> str:
    kind = "parameter" if bound.where in ("path", "query") else "property"
    slug = {
        "minimum": "min",
        "maximum": "max",
        "minLength": "min-length",
        "maxLength": "max-length",
        "minItems": "min-items",
        "maxItems": "max-items",
    }[bound.keyword]
    went = "decreased" if bound.keyword.startswith("max") else "increased"
    return f"request-{kind}-{slug}-{went}"


@pytest.mark.parametrize("bound", BOUNDS, ids=[b.id for b in BOUNDS])
def test_a_tightened_request_bound_is_breaking(snapshot: Spec, bound: RequestBound) -> None:
    report = diff_specs(snapshot, tighten(copy.deepcopy(snapshot), bound))
    assert report.exit_code == 4
    method, path = _path_of(snapshot, bound.operation)
    mine = [c for c in report.breaking if (c.method, c.path) == (method, path)]
    assert _rule(bound) in {c.rule_id for c in mine}, [c.line() for c in report.changes]
    leaf = bound.field.split(".")[-1].split("[")[0]
    assert any(leaf in c.location for c in mine if c.rule_id == _rule(bound))


def _loosen(
    spec: Spec, operation: str, status: str, field: str, keyword: str, value: float
) -> Spec:
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation:
                response = op["responses"][status]
                media = response["content"]["application/json"]
                for schema in schemas_at(spec, media["schema"], field):
                    if keyword in schema:
                        schema[keyword] = value + 1 if keyword.startswith("max") else value - 1
    return spec


@pytest.mark.parametrize(
    "where", RESPONSE_BOUNDS, ids=[f"{o}:{s}:{f}:{k}" for o, s, f, k, _ in RESPONSE_BOUNDS]
)
def test_a_relaxed_response_bound_is_reported_as_a_warning(
    snapshot: Spec, where: tuple[str, str, str, str, float]
) -> None:
    operation, status, field, keyword, value = where
    report = diff_specs(snapshot, _loosen(copy.deepcopy(snapshot), *where))
    method, path = _path_of(snapshot, operation)
    mine = [c for c in report.warnings if (c.method, c.path) == (method, path)]
    assert any(c.location.startswith(f"response {status} body") for c in mine), report.to_text()
    assert all(c.rule_id.startswith("response-property-") for c in report.warnings)
    assert not report.breaking


# ------------------------------------------------------------------ through pull-spec


def _issue_cases(snapshot: Spec) -> dict[str, tuple[Spec, Spec, set[str]]]:
    runs = next(p for p in V2_POLLED if p.operation == "getRun")
    projects = next(p for p in LISTS if p.operation == "listProjects")
    limit = next(b for b in BOUNDS if b.id == "listProjects:limit:maximum")
    named = copy.deepcopy(snapshot)
    named["components"]["schemas"]["CreateProjectRequest"]["properties"]["name"]["maxLength"] = 255
    shorter = copy.deepcopy(named)
    shorter["components"]["schemas"]["CreateProjectRequest"]["properties"]["name"]["maxLength"] = (
        100
    )
    return {
        "run-status-renamed": (
            snapshot,
            rename_status(copy.deepcopy(snapshot), runs, "completed", "succeeded"),
            {"relied-response-enum-value-removed"},
        ),
        "projects-page-tokens": (
            snapshot,
            cursor_paging(copy.deepcopy(snapshot), projects),
            {"relied-request-parameter-removed", "relied-response-property-removed"},
        ),
        "limit-maximum-halved": (
            snapshot,
            tighten(copy.deepcopy(snapshot), limit),
            {"request-parameter-max-decreased"},
        ),
        "name-max-length-tightened": (named, shorter, {"request-property-max-length-decreased"}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "run-status-renamed",
        "projects-page-tokens",
        "limit-maximum-halved",
        "name-max-length-tightened",
    ],
)
def test_pull_spec_calls_the_issues_cases_breaking(
    snapshot: Spec, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, rules = _issue_cases(snapshot)[case]
    pull_spec.validate(new, case)
    output = tmp_path / "v2-beta.yaml"
    if old is snapshot:
        output.write_bytes(SNAPSHOT_PATH.read_bytes())
    else:
        output.write_text(json.dumps(old), encoding="utf-8")
    before = output.read_bytes()
    mutated = tmp_path / "new.json"
    mutated.write_text(json.dumps(new), encoding="utf-8")
    report_json = tmp_path / "report.json"
    code = pull_spec.main(
        [
            "--file",
            str(mutated),
            "--output",
            str(output),
            "--dry-run",
            "--report-json",
            str(report_json),
        ]
    )
    out = capsys.readouterr().out
    assert code == 4, out
    assert output.read_bytes() == before
    data = json.loads(report_json.read_text(encoding="utf-8"))
    assert rules <= {c["rule_id"] for c in data["changes"] if c["breaking"]}
    assert "[BREAKING]" in out


def test_report_type_is_unchanged_without_reliance(snapshot: Spec) -> None:
    """No reliance, no relied-* rule: the differ alone stays the oasdiff-like one."""
    runs = next(p for p in V2_POLLED if p.operation == "getRun")
    report: Report = diff_specs(
        snapshot, rename_status(copy.deepcopy(snapshot), runs, "completed", "x")
    )
    assert not any(c.rule_id.startswith("relied-") for c in report.changes)
