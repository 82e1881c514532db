from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.item_filter import ItemFilter


T = TypeVar("T", bound="AttachDatasetRequest")


@_attrs_define
class AttachDatasetRequest:
    """
    Attributes:
        dataset_id (str):
        item_filter (ItemFilter | Unset):
        item_limit (int | Unset): Cap how many items the run processes.
    """

    dataset_id: str
    item_filter: ItemFilter | Unset = UNSET
    item_limit: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dataset_id = self.dataset_id

        item_filter: dict[str, Any] | Unset = UNSET
        if not isinstance(self.item_filter, Unset):
            item_filter = self.item_filter.to_dict()

        item_limit = self.item_limit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "datasetId": dataset_id,
            }
        )
        if item_filter is not UNSET:
            field_dict["itemFilter"] = item_filter
        if item_limit is not UNSET:
            field_dict["itemLimit"] = item_limit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.item_filter import ItemFilter  # noqa: PLC0415

        d = dict(src_dict)
        dataset_id = d.pop("datasetId")

        _item_filter = d.pop("itemFilter", UNSET)
        item_filter: ItemFilter | Unset
        if isinstance(_item_filter, Unset):
            item_filter = UNSET
        else:
            item_filter = ItemFilter.from_dict(_item_filter)

        item_limit = d.pop("itemLimit", UNSET)

        attach_dataset_request = cls(
            dataset_id=dataset_id,
            item_filter=item_filter,
            item_limit=item_limit,
        )

        attach_dataset_request.additional_properties = d
        return attach_dataset_request

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
