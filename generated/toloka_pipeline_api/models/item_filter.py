from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.item_filter_match import ItemFilterMatch
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.item_filter_condition import ItemFilterCondition


T = TypeVar("T", bound="ItemFilter")


@_attrs_define
class ItemFilter:
    """
    Attributes:
        conditions (list[ItemFilterCondition]):
        match (ItemFilterMatch | Unset):  Default: ItemFilterMatch.ALL.
    """

    conditions: list[ItemFilterCondition]
    match: ItemFilterMatch | Unset = ItemFilterMatch.ALL
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        conditions = []
        for conditions_item_data in self.conditions:
            conditions_item = conditions_item_data.to_dict()
            conditions.append(conditions_item)

        match: str | Unset = UNSET
        if not isinstance(self.match, Unset):
            match = self.match.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "conditions": conditions,
            }
        )
        if match is not UNSET:
            field_dict["match"] = match

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.item_filter_condition import ItemFilterCondition  # noqa: PLC0415

        d = dict(src_dict)
        conditions = []
        _conditions = d.pop("conditions")
        for conditions_item_data in _conditions:
            conditions_item = ItemFilterCondition.from_dict(conditions_item_data)

            conditions.append(conditions_item)

        _match = d.pop("match", UNSET)
        match: ItemFilterMatch | Unset
        if isinstance(_match, Unset):
            match = UNSET
        else:
            match = ItemFilterMatch(_match)

        item_filter = cls(
            conditions=conditions,
            match=match,
        )

        item_filter.additional_properties = d
        return item_filter

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
