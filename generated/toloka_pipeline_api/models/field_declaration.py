from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field_declaration_json_schema import FieldDeclarationJsonSchema


T = TypeVar("T", bound="FieldDeclaration")


@_attrs_define
class FieldDeclaration:
    """A field to create with the data; rows are mapped into fields by name.

    Attributes:
        name (str):
        json_schema (FieldDeclarationJsonSchema | Unset): JSON Schema of the values, e.g. `{"type": "string"}`.
    """

    name: str
    json_schema: FieldDeclarationJsonSchema | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        json_schema: dict[str, Any] | Unset = UNSET
        if not isinstance(self.json_schema, Unset):
            json_schema = self.json_schema.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if json_schema is not UNSET:
            field_dict["jsonSchema"] = json_schema

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_declaration_json_schema import FieldDeclarationJsonSchema  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        _json_schema = d.pop("jsonSchema", UNSET)
        json_schema: FieldDeclarationJsonSchema | Unset
        if isinstance(_json_schema, Unset):
            json_schema = UNSET
        else:
            json_schema = FieldDeclarationJsonSchema.from_dict(_json_schema)

        field_declaration = cls(
            name=name,
            json_schema=json_schema,
        )

        field_declaration.additional_properties = d
        return field_declaration

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
