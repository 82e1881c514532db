from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field import Field


T = TypeVar("T", bound="AddItemsResult")


@_attrs_define
class AddItemsResult:
    """
    Attributes:
        item_count (int): Rows stored by this request.
        dataset_id (str | Unset):
        fields (list[Field] | Unset):
    """

    item_count: int
    dataset_id: str | Unset = UNSET
    fields: list[Field] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        item_count = self.item_count

        dataset_id = self.dataset_id

        fields: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.fields, Unset):
            fields = []
            for fields_item_data in self.fields:
                fields_item = fields_item_data.to_dict()
                fields.append(fields_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "itemCount": item_count,
            }
        )
        if dataset_id is not UNSET:
            field_dict["datasetId"] = dataset_id
        if fields is not UNSET:
            field_dict["fields"] = fields

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field import Field  # noqa: PLC0415

        d = dict(src_dict)
        item_count = d.pop("itemCount")

        dataset_id = d.pop("datasetId", UNSET)

        _fields = d.pop("fields", UNSET)
        fields: list[Field] | Unset = UNSET
        if _fields is not UNSET:
            fields = []
            for fields_item_data in _fields:
                fields_item = Field.from_dict(fields_item_data)

                fields.append(fields_item)

        add_items_result = cls(
            item_count=item_count,
            dataset_id=dataset_id,
            fields=fields,
        )

        add_items_result.additional_properties = d
        return add_items_result

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
