from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.add_items_request_items_item import AddItemsRequestItemsItem
    from ..models.field_declaration import FieldDeclaration


T = TypeVar("T", bound="AddItemsRequest")


@_attrs_define
class AddItemsRequest:
    """
    Attributes:
        items (list[AddItemsRequestItemsItem]):
        fields (list[FieldDeclaration] | Unset):
    """

    items: list[AddItemsRequestItemsItem]
    fields: list[FieldDeclaration] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

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
                "items": items,
            }
        )
        if fields is not UNSET:
            field_dict["fields"] = fields

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.add_items_request_items_item import AddItemsRequestItemsItem  # noqa: PLC0415
        from ..models.field_declaration import FieldDeclaration  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = AddItemsRequestItemsItem.from_dict(items_item_data)

            items.append(items_item)

        _fields = d.pop("fields", UNSET)
        fields: list[FieldDeclaration] | Unset = UNSET
        if _fields is not UNSET:
            fields = []
            for fields_item_data in _fields:
                fields_item = FieldDeclaration.from_dict(fields_item_data)

                fields.append(fields_item)

        add_items_request = cls(
            items=items,
            fields=fields,
        )

        add_items_request.additional_properties = d
        return add_items_request

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
