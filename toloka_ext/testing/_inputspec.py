"""v1 pool input specs: the input fields a pool's project declares, and the checks they imply.

A spec maps an input field name to a JSON type, as Toloka project input specs do. With a
spec, every spec field is required and no other key is allowed in ``input_values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._validate import is_type

__all__ = ["INPUT_TYPES", "InputSpec", "check_input_values", "checked_spec"]

InputSpec = Mapping[str, str]
INPUT_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "any"})


def checked_spec(spec: Mapping[str, str] | None) -> dict[str, str] | None:
    """``spec`` as a plain dict, or ``ValueError`` naming an unknown type."""
    if spec is None:
        return None
    out: dict[str, str] = {}
    for name, type_name in spec.items():
        if type_name not in INPUT_TYPES:
            raise ValueError(
                f"input_spec[{name!r}]: unknown type {type_name!r}; use one of "
                f"{', '.join(sorted(INPUT_TYPES))}"
            )
        out[str(name)] = type_name
    return out


def check_input_values(values: Mapping[str, Any], spec: InputSpec) -> dict[str, dict[str, str]]:
    """Field errors of ``values`` against ``spec``, keyed ``input_values.<key>``."""
    errors: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        type_name = spec.get(key)
        where = f"input_values.{key}"
        if type_name is None:
            errors[where] = {
                "code": "VALUE_NOT_ALLOWED",
                "message": f"{key} is not an input field of this pool",
            }
        elif value is None:
            errors[where] = {
                "code": "VALUE_REQUIRED",
                "message": "Value must be present and not equal to null",
            }
        elif type_name != "any" and not is_type(value, type_name):
            errors[where] = {"code": "INVALID_TYPE", "message": f"must be of type {type_name}"}
    for key in spec:
        if key not in values:
            errors[f"input_values.{key}"] = {
                "code": "VALUE_REQUIRED",
                "message": "Value must be present and not equal to null",
            }
    return errors
