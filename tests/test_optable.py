"""``toloka_ext._optable``: the operation table the generated package ships and the live
document is reduced to, read the same way."""

from __future__ import annotations

import yaml
from toloka_pipeline_api._snapshot import OPERATIONS

from scripts.mockserver import SPECS
from toloka_ext._openapi import METHODS, load_text
from toloka_ext._optable import operation_table


def test_the_shipped_operation_table_is_the_snapshots() -> None:
    """The extension layer builds requests from the table in the generated package, and
    ``toloka-ext spec pull`` compares live documents through the same function: both must
    read the snapshot the same way, every operation with its body and parameters."""
    spec = yaml.safe_load(SPECS["v2-beta"].read_text(encoding="utf-8"))
    table = operation_table(spec)
    assert table == OPERATIONS
    operations = [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(table) == len(operations) > 0
    for method, path, op in operations:
        entry = table[op["operationId"]]
        assert (entry["method"], entry["path"]) == (method.upper(), path)
        assert (entry["body"] is None) == ("requestBody" not in op)


def test_the_operation_table_follows_refs_and_shared_parameters() -> None:
    doc = load_text("""
paths:
  /runs/{id}:
    parameters: [{$ref: '#/components/parameters/Id'}]
    patch:
      parameters: [{name: X-Trace, in: header}]
      requestBody: {$ref: '#/components/requestBodies/Run'}
    get: {parameters: [{name: expand, in: query}]}
  /bad: not an operation
components:
  parameters: {Id: {name: id, in: path}}
  requestBodies:
    Run:
      content:
        application/merge-patch+json:
          schema: {allOf: [{$ref: '#/components/schemas/A'}, {properties: {b: {}}, required: [b]}]}
  schemas: {A: {properties: {a: {}}}}
""")
    table = operation_table(doc)
    assert list(table) == ["GET /runs/{id}", "PATCH /runs/{id}"]
    patch = table["PATCH /runs/{id}"]
    assert (patch["path_params"], patch["headers"], patch["query"]) == (["id"], ["X-Trace"], [])
    assert (patch["body"], patch["body_required"]) == (["a", "b"], ["b"])
    assert patch["content_type"] == "application/merge-patch+json"
    get = table["GET /runs/{id}"]
    assert (get["query"], get["body"], get["content_type"]) == (["expand"], None, None)
