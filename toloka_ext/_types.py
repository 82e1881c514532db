"""Small shared types: the ``NOT_GIVEN`` sentinel and common aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, ForwardRef, Literal, TypeAlias, TypeVar, Union, final

import httpx

__all__ = [
    "NOT_GIVEN",
    "Headers",
    "JsonObject",
    "JsonValue",
    "NotGiven",
    "NotGivenOr",
    "Query",
    "TimeoutTypes",
]

_T = TypeVar("_T")


@final
class NotGiven:
    """Marks an argument that was not passed, so ``None`` can keep its own meaning.

    Example::

        def get(timeout: float | None | NotGiven = NOT_GIVEN) -> None: ...
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

NotGivenOr: TypeAlias = _T | NotGiven  # noqa: UP040
Headers = Mapping[str, str]
Query = Mapping[str, Any]
TimeoutTypes = float | httpx.Timeout | None

if TYPE_CHECKING:
    JsonValue: TypeAlias = Union[  # noqa: UP007 - a recursive alias needs string forward refs
        str, int, float, bool, None, list["JsonValue"], dict[str, "JsonValue"]
    ]
else:
    # At run time the forward reference names its module, so typing.get_type_hints resolves
    # it from any module that uses JsonObject/JsonValue in an annotation.
    _JsonRef = ForwardRef("JsonValue", module=__name__)
    JsonValue = Union[str, int, float, bool, None, list[_JsonRef], dict[str, _JsonRef]]  # noqa: UP007
"""Any value JSON can carry (what result rows and ``to_dict``/``to_json`` give back)."""
JsonObject: TypeAlias = dict[str, JsonValue]
"""A JSON object: a result row, a task's ``to_dict()``."""
