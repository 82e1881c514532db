"""Small shared types: the ``NOT_GIVEN`` sentinel and common aliases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias, TypeVar, final

import httpx

__all__ = ["NOT_GIVEN", "Headers", "NotGiven", "NotGivenOr", "Query", "TimeoutTypes"]

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
