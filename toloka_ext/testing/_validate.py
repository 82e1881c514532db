"""A small JSON-Schema subset validator for request bodies (no third-party dependency).

It covers what the two contracts use in requests: type, required, properties,
additionalProperties, minLength, minimum, maximum, minItems, maxItems, enum, items, oneOf.
Errors come back as ``(path, code, message)`` with v1's field-error codes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FieldIssue", "TYPES", "is_type", "validate"]

FieldIssue = tuple[str, str, str]

TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def is_type(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, TYPES[type_name])


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def validate(value: Any, schema: dict[str, Any], path: str = "") -> list[FieldIssue]:
    """Every way ``value`` breaks ``schema`` (empty when it conforms)."""
    if "oneOf" in schema:
        results = [validate(value, sub, path) for sub in schema["oneOf"]]
        passing = [r for r in results if not r]
        if len(passing) == 1:
            return []
        if not passing:
            return min(results, key=len)
        return [(path or "body", "VALUE_NOT_ALLOWED", "matches more than one allowed shape")]
    issues: list[FieldIssue] = []
    where = path or "body"
    type_name = schema.get("type")
    if value is None:
        if type_name is not None or schema.get("required_value"):
            return [(where, "VALUE_REQUIRED", "Value must be present and not equal to null")]
        return []
    if type_name is not None and not is_type(value, type_name):
        return [(where, "INVALID_TYPE", f"must be of type {type_name}")]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        issues.append((where, "VALUE_NOT_ALLOWED", f"must be one of: {allowed}"))
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        issues.append((where, "VALUE_REQUIRED", "must not be empty"))
    if is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            issues.append(
                (
                    where,
                    "VALUE_LESS_THAN_MIN",
                    f"must be greater than or equal to {schema['minimum']}",
                )
            )
        if "maximum" in schema and value > schema["maximum"]:
            issues.append(
                (
                    where,
                    "VALUE_GREATER_THAN_MAX",
                    f"must be less than or equal to {schema['maximum']}",
                )
            )
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            issues.append(
                (where, "VALUE_REQUIRED", f"must hold at least {schema['minItems']} items")
            )
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            issues.append(
                (where, "VALUE_GREATER_THAN_MAX", f"must hold at most {schema['maxItems']} items")
            )
        if "items" in schema:
            for i, item in enumerate(value):
                issues.extend(validate(item, schema["items"], _join(path, i)))
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if value.get(key) is None:
                issues.append(
                    (
                        _join(path, key),
                        "VALUE_REQUIRED",
                        "Value must be present and not equal to null",
                    )
                )
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                if item is None and "type" in props[key] and key not in schema.get("required", ()):
                    issues.append((_join(path, key), "INVALID_TYPE", "must not be null"))
                elif item is not None:
                    issues.extend(validate(item, props[key], _join(path, key)))
            elif extra is False:
                issues.append((_join(path, key), "VALUE_NOT_ALLOWED", "unknown property"))
            elif isinstance(extra, dict):
                issues.extend(validate(item, extra, _join(path, key)))
    return issues
