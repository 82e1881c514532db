"""Request-body schemas, copied from ``openapi/v2-beta.yaml`` and ``openapi/v1.yaml``.

Kept in code so the installed package needs no spec files; ``tests/testing`` checks them
against the contracts.
"""

from __future__ import annotations

from typing import Any

_NAME = {"type": "string", "minLength": 1}

FIELD_DECLARATION: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _NAME, "jsonSchema": {"type": "object"}},
}
CREATE_PROJECT: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _NAME, "description": {"type": "string"}},
}
CREATE_DATASET: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _NAME},
}
ADD_ITEMS: dict[str, Any] = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {"type": "array", "minItems": 1, "items": {"type": "object"}},
        "fields": {"type": "array", "items": FIELD_DECLARATION},
    },
}
CREATE_UPLOAD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "fields": {"type": "array", "items": FIELD_DECLARATION},
        "fileName": {"type": "string"},
    },
}
COPY_PIPELINE: dict[str, Any] = {
    "type": "object",
    "properties": {"name": _NAME, "projectId": _NAME},
}
ITEM_FILTER: dict[str, Any] = {
    "type": "object",
    "required": ["conditions"],
    "properties": {
        "match": {"type": "string", "enum": ["all", "any"]},
        "conditions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["field", "operator"],
                "properties": {
                    "field": _NAME,
                    "operator": {
                        "type": "string",
                        "enum": ["eq", "ne", "in", "not_in", "contains", "exists"],
                    },
                    "value": {},
                },
            },
        },
    },
}
ATTACH_DATASET: dict[str, Any] = {
    "type": "object",
    "required": ["datasetId"],
    "properties": {
        "datasetId": _NAME,
        "itemLimit": {"type": "integer", "minimum": 1},
        "itemFilter": ITEM_FILTER,
    },
}
START_RUN: dict[str, Any] = {"type": "object", "properties": {"name": {"type": "string"}}}
CREATE_EXPORT: dict[str, Any] = {
    "type": "object",
    "required": ["fields"],
    "properties": {
        "fields": {
            "type": "array",
            "minItems": 1,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": _NAME},
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": _NAME},
                        "additionalProperties": False,
                    },
                ]
            },
        },
        "format": {"type": "string", "enum": ["jsonl", "json", "csv"]},
    },
}

_OUTPUT_VALUES = {"type": "object"}
_WEIGHT = {"type": "number", "minimum": 0, "maximum": 1}
TASK_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["pool_id", "input_values"],
    "properties": {
        "pool_id": {"type": "string"},
        "input_values": {"type": "object"},
        "known_solutions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["output_values"],
                "properties": {"output_values": _OUTPUT_VALUES, "correctness_weight": _WEIGHT},
            },
        },
        "baseline_solutions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["output_values"],
                "properties": {"output_values": _OUTPUT_VALUES, "confidence_weight": _WEIGHT},
            },
        },
        "message_on_unknown_solution": {"type": "string"},
        "overlap": {"type": "integer", "minimum": 1, "maximum": 30000},
        "infinite_overlap": {"type": "boolean"},
        "reserved_for": {"type": "array", "items": {"type": "string"}},
        "unavailable_for": {"type": "array", "items": {"type": "string"}},
        "origin_task_id": {"type": "string"},
    },
}

_SOLUTIONS = TASK_CREATE["properties"]
TASK_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "overlap": {"type": "integer", "minimum": 1, "maximum": 30000},
        "infinite_overlap": {"type": "boolean"},
        "baseline_solutions": _SOLUTIONS["baseline_solutions"],
        "known_solutions": _SOLUTIONS["known_solutions"],
        "message_on_unknown_solution": {"type": "string"},
    },
}
TASK_OVERLAP_PATCH: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "overlap": {"type": "integer", "minimum": 0, "maximum": 30000},
        "infinite_overlap": {"type": "boolean"},
    },
}


# Query parameters with a type or bounds, per operation: what ``request_checks`` of
# ``openapi/v1.yaml`` and ``openapi/v2-beta.yaml`` gives (``tests/testing/test_schemas.py``
# holds the two equal). The dispatcher checks every one of them before any handler runs,
# so a route cannot forget one.
_INT = {"type": "integer"}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 300}
_OFFSET = {"offset": {"type": "integer", "minimum": 0}}
QUERY: dict[str, dict[str, dict[str, Any]]] = {
    "createTasks": {
        "async_mode": _BOOL,
        "allow_defaults": _BOOL,
        "skip_invalid_items": _BOOL,
        "open_pool": _BOOL,
        "operation_id": _STR,
    },
    "listOperations": {
        "type": _STR,
        "status": _STR,
        "sort": _STR,
        "limit": _LIMIT,
        **{
            f"{field}_{op}": _STR
            for field in ("id", "submitted", "finished")
            for op in ("gt", "gte", "lt", "lte")
        },
    },
    "listTasks": {
        "pool_id": {"type": "string", "minLength": 1},
        "overlap": _INT,
        **{f"overlap_{op}": _INT for op in ("gt", "gte", "lt", "lte")},
        **{
            f"{field}_{op}": _STR
            for field in ("id", "created")
            for op in ("gt", "gte", "lt", "lte")
        },
        "sort": _STR,
        "limit": _LIMIT,
    },
    "patchTask": {"open_pool": _BOOL},
    "listDatasets": _OFFSET,
    "listExports": _OFFSET,
    "listPipelines": _OFFSET,
    "listProjects": _OFFSET,
    "listRuns": _OFFSET,
}
