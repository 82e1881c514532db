"""openapi/v1.yaml against Toloka's own published OpenAPI document for API v1.

The published document (``fullApi.yaml`` and the files its ``$ref``s point into) is
reference data in ``../shared/reference/toloka-v1-openapi/``; it is read from there, never
copied into the project. The comparison is ``scripts/v1_compare.py`` (shared with
``scripts/pull_spec.py --api v1``). Per operation of our document (matched by method and path, path
parameter names ignored) the test compares the operationId, the parameters (in, required,
type, enum, format, bounds), the request body (required flag, top-level fields: required,
type, enum, format, bounds, closed or open) and the 2xx responses (fields all the way down
through ``$ref``/``allOf``/``oneOf``/``items``: type, enum, format; ``oneOf`` alternatives
are paired whatever their order). Every difference must be listed with its reason in
``openapi/v1-differences.yaml``, and every listed difference must still exist.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.v1_compare import DIFFERENCES, OURS, check, operations, resolve_file
from toloka_ext._openapi import inline, load_text

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT.parent / "shared" / "reference" / "toloka-v1-openapi" / "fullApi.yaml"
if not PUBLISHED.is_file():
    pytest.skip(
        f"Toloka's published v1 OpenAPI document is not at {PUBLISHED.parent}",
        allow_module_level=True,
    )


def _refs_left(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs_left(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_left(value)


# --------------------------------------------------------------------------- tests


def _raw_ours() -> dict[str, Any]:
    doc: dict[str, Any] = load_text(OURS.read_text(encoding="utf-8"))
    return doc


def _ours(doc: dict[str, Any] | None = None) -> dict[str, Any]:
    resolved: dict[str, Any] = inline(doc if doc is not None else _raw_ours())
    return resolved


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    return resolve_file(PUBLISHED)


def test_published_document_resolves_completely(published: dict[str, Any]) -> None:
    assert not list(_refs_left(published))
    # File-relative references landed: one into parts/, one back from parts/ into fullApi.
    tasks = published["paths"]["/tasks"]["get"]["responses"]["200"]["content"]
    assert tasks["application/json"]["schema"]["properties"]["has_more"]["type"] == "boolean"
    assert "Toloka" in published["info"]["description"]  # a Markdown file, read as text


def test_every_difference_is_listed_with_its_reason(published: dict[str, Any]) -> None:
    unlisted, stale = check(_ours(), published)
    assert not unlisted, "Not listed in openapi/v1-differences.yaml:\n" + "\n".join(unlisted)
    assert not stale, "Listed but gone (remove from the list):\n" + "\n".join(stale)


def test_differences_file_is_well_formed() -> None:
    data = load_text(DIFFERENCES.read_text(encoding="utf-8"))
    ours = {name for name, _, _ in operations(_raw_ours()).values()}
    assert set(data["operations"]) <= ours
    for op, entries in data["operations"].items():
        whats = [e["what"] for e in entries]
        assert len(whats) == len(set(whats)), f"{op}: a difference is listed twice"
        for entry in entries:
            assert set(entry) == {"what", "why"}, (op, entry)
            assert str(entry["why"]).strip(), (op, entry["what"])


def _node(doc: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        doc = doc[key]
    return doc


def _unrequire_pool_id(doc: dict[str, Any]) -> None:
    params = _node(doc, "paths", "/tasks", "get", "parameters")
    (param,) = [p for p in params if p.get("name") == "pool_id"]
    param["required"] = False


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = _node(doc, "components", "schemas", name)
    return schema


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "parameter no longer required",
        _unrequire_pool_id,
        "GET /tasks",
        "parameters[query:pool_id].required",
    ),
    (
        "request bound changed",
        lambda d: _schema(d, "TaskCreate")["properties"]["overlap"].update(maximum=3000),
        "POST /tasks",
        "requestBody.schema.oneOf[0].properties.overlap.maximum",
    ),
    (
        "response enum changed",
        lambda d: _schema(d, "Operation")["properties"]["status"].update(enum=["PENDING"]),
        "GET /operations/{id}",
        "responses.200.schema.properties.status.enum",
    ),
    (
        "nested response field retyped",
        lambda d: _schema(d, "Task")["properties"]["remaining_overlap"].update(type="string"),
        "GET /tasks",
        "responses.200.schema.properties.items.items.properties.remaining_overlap.type",
    ),
    (
        "response field dropped",
        lambda d: _schema(d, "OperationList")["properties"].pop("has_more"),
        "GET /operations",
        "responses.200.schema.properties.has_more",
    ),
    (
        "patch body field added",
        lambda d: _schema(d, "TaskPatch")["properties"].update(pool_id={"type": "string"}),
        "PATCH /tasks/{id}",
        "requestBody.schema.properties.pool_id",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "op", "what"),
    [m[1:] for m in MUTATIONS],
    ids=[m[0] for m in MUTATIONS],
)
def test_a_changed_spec_fails_the_comparison(
    published: dict[str, Any], mutate: Callable[[dict[str, Any]], None], op: str, what: str
) -> None:
    doc = copy.deepcopy(_raw_ours())
    mutate(doc)
    unlisted, stale = check(_ours(doc), published)
    assert [line for line in unlisted if line.startswith(f"{op}: {what}: ")], unlisted
    assert not stale


def test_a_listed_difference_that_is_gone_fails_the_comparison(
    published: dict[str, Any],
) -> None:
    doc = copy.deepcopy(_raw_ours())
    # Agree with the published document on the page size: the listed bounds are gone.
    del doc["components"]["parameters"]["Limit"]["schema"]["maximum"]
    unlisted, stale = check(_ours(doc), published)
    assert not unlisted
    assert "GET /tasks: parameters[query:limit].schema.maximum" in stale
    assert "GET /operations: parameters[query:limit].schema.maximum" in stale
