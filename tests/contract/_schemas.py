"""OpenAPI 3.0 schemas of the snapshots as plain JSON Schema, for property tests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import yaml
from hypothesis import strategies as st

from scripts.mockserver import SPECS
from toloka_ext._openapi import METHODS

DATE_TIME_FORMAT = "toloka-date-time"
DATE_TIMES = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
CUSTOM_FORMATS = {DATE_TIME_FORMAT: DATE_TIMES}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load(SPECS[name].read_text(encoding="utf-8"))


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: local refs to $defs, ``nullable`` to a type union."""
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key.startswith("x-") or key in {"example", "examples", "discriminator"}:
            continue
        elif key in {"properties", "$defs"}:
            out[key] = {k: _convert(v) for k, v in value.items()}
        else:
            out[key] = _convert(value)
    if out.get("format") == "date-time":
        # RFC 3339 allows leap seconds (":60") that no Python datetime can hold; property
        # tests draw this format from DATE_TIMES instead.
        out["format"] = DATE_TIME_FORMAT
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def json_schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    converted = _convert(copy.deepcopy(schema))
    converted["$defs"] = {k: _convert(v) for k, v in spec["components"]["schemas"].items()}
    return converted


def response_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(operationId, status, schema) of every JSON 2xx response body."""
    for item in spec["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                content = response.get("content", {}).get("application/json")
                if content:
                    yield op["operationId"], status, content["schema"]
