from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.item_filter_condition_operator import ItemFilterConditionOperator
from ..types import UNSET, Unset

T = TypeVar("T", bound="ItemFilterCondition")


@_attrs_define
class ItemFilterCondition:
    """
    Attributes:
        field (str): Field name or id.
        operator (ItemFilterConditionOperator):
        value (Any | Unset): Compared value (a list for `in`/`not_in`; omitted for `exists`).
    """

    field: str
    operator: ItemFilterConditionOperator
    value: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        field = self.field

        operator = self.operator.value

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "field": field,
                "operator": operator,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        field = d.pop("field")

        operator = ItemFilterConditionOperator(d.pop("operator"))

        value = d.pop("value", UNSET)

        item_filter_condition = cls(
            field=field,
            operator=operator,
            value=value,
        )

        item_filter_condition.additional_properties = d
        return item_filter_condition

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
