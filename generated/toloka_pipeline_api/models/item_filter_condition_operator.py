from enum import StrEnum
from typing import Any


class ItemFilterConditionOperator(StrEnum):
    """Generated enum that tolerates values the snapshot does not list.

    The API is a beta: an unknown value becomes a pseudo-member named ``UNKNOWN``
    whose value is the raw string, instead of raising ``ValueError`` while parsing.
    Check ``is_known`` to tell the two apart.
    """

    CONTAINS = "contains"
    EQ = "eq"
    EXISTS = "exists"
    IN = "in"
    NE = "ne"
    NOT_IN = "not_in"

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        return self._value_ in type(self)._value2member_map_

    @classmethod
    def _missing_(cls, value: Any) -> "ItemFilterConditionOperator | None":
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member
