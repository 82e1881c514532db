from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.export_format import ExportFormat
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.export_field_by_id import ExportFieldById
    from ..models.export_field_by_name import ExportFieldByName


T = TypeVar("T", bound="CreateExportRequest")


@_attrs_define
class CreateExportRequest:
    """
    Attributes:
        fields (list[ExportFieldById | ExportFieldByName]):
        format_ (ExportFormat | Unset):
    """

    fields: list[ExportFieldById | ExportFieldByName]
    format_: ExportFormat | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.export_field_by_name import ExportFieldByName  # noqa: PLC0415

        fields = []
        for fields_item_data in self.fields:
            fields_item: dict[str, Any]
            if isinstance(fields_item_data, ExportFieldByName):
                fields_item = fields_item_data.to_dict()
            else:
                fields_item = fields_item_data.to_dict()

            fields.append(fields_item)

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "fields": fields,
            }
        )
        if format_ is not UNSET:
            field_dict["format"] = format_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.export_field_by_id import ExportFieldById  # noqa: PLC0415
        from ..models.export_field_by_name import ExportFieldByName  # noqa: PLC0415

        d = dict(src_dict)
        fields = []
        _fields = d.pop("fields")
        for fields_item_data in _fields:

            def _parse_fields_item(data: object) -> ExportFieldById | ExportFieldByName:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_export_field_ref_type_0 = ExportFieldByName.from_dict(data)

                    return componentsschemas_export_field_ref_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_export_field_ref_type_1 = ExportFieldById.from_dict(data)

                return componentsschemas_export_field_ref_type_1

            fields_item = _parse_fields_item(fields_item_data)

            fields.append(fields_item)

        _format_ = d.pop("format", UNSET)
        format_: ExportFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = ExportFormat(_format_)

        create_export_request = cls(
            fields=fields,
            format_=format_,
        )

        create_export_request.additional_properties = d
        return create_export_request

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
