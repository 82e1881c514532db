from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.export_format import ExportFormat
from ..models.export_status import ExportStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_info import ErrorInfo


T = TypeVar("T", bound="Export")


@_attrs_define
class Export:
    """
    Attributes:
        id (str):
        status (ExportStatus):
        dataset_id (str | Unset):
        download_url (str | Unset): Presigned storage URL of the result file; send no Authorization header to it.
        error (ErrorInfo | Unset): Why a run, upload or export failed.
        expires_at (datetime.datetime | Unset):
        format_ (ExportFormat | Unset):
        item_count (int | Unset):
    """

    id: str
    status: ExportStatus
    dataset_id: str | Unset = UNSET
    download_url: str | Unset = UNSET
    error: ErrorInfo | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    format_: ExportFormat | Unset = UNSET
    item_count: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        dataset_id = self.dataset_id

        download_url = self.download_url

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        format_: str | Unset = UNSET
        if not isinstance(self.format_, Unset):
            format_ = self.format_.value

        item_count = self.item_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "status": status,
            }
        )
        if dataset_id is not UNSET:
            field_dict["datasetId"] = dataset_id
        if download_url is not UNSET:
            field_dict["downloadUrl"] = download_url
        if error is not UNSET:
            field_dict["error"] = error
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if format_ is not UNSET:
            field_dict["format"] = format_
        if item_count is not UNSET:
            field_dict["itemCount"] = item_count

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_info import ErrorInfo  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        status = ExportStatus(d.pop("status"))

        dataset_id = d.pop("datasetId", UNSET)

        download_url = d.pop("downloadUrl", UNSET)

        _error = d.pop("error", UNSET)
        error: ErrorInfo | Unset
        if isinstance(_error, Unset):
            error = UNSET
        else:
            error = ErrorInfo.from_dict(_error)

        _expires_at = d.pop("expiresAt", UNSET)
        expires_at: datetime.datetime | Unset
        if isinstance(_expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = datetime.datetime.fromisoformat(_expires_at)

        _format_ = d.pop("format", UNSET)
        format_: ExportFormat | Unset
        if isinstance(_format_, Unset):
            format_ = UNSET
        else:
            format_ = ExportFormat(_format_)

        item_count = d.pop("itemCount", UNSET)

        export = cls(
            id=id,
            status=status,
            dataset_id=dataset_id,
            download_url=download_url,
            error=error,
            expires_at=expires_at,
            format_=format_,
            item_count=item_count,
        )

        export.additional_properties = d
        return export

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
