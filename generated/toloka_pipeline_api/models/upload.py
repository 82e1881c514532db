from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.upload_status import UploadStatus
from ..models.upload_upload_method import UploadUploadMethod
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_info import ErrorInfo


T = TypeVar("T", bound="Upload")


@_attrs_define
class Upload:
    """
    Attributes:
        id (str):
        status (UploadStatus):
        dataset_id (str | Unset):
        error (ErrorInfo | Unset): Why a run, upload or export failed.
        expires_at (datetime.datetime | Unset):
        item_count (int | Unset):
        upload_method (UploadUploadMethod | Unset):
        upload_url (str | Unset): One-time presigned storage URL; send no Authorization header to it.
    """

    id: str
    status: UploadStatus
    dataset_id: str | Unset = UNSET
    error: ErrorInfo | Unset = UNSET
    expires_at: datetime.datetime | Unset = UNSET
    item_count: int | Unset = UNSET
    upload_method: UploadUploadMethod | Unset = UNSET
    upload_url: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        status = self.status.value

        dataset_id = self.dataset_id

        error: dict[str, Any] | Unset = UNSET
        if not isinstance(self.error, Unset):
            error = self.error.to_dict()

        expires_at: str | Unset = UNSET
        if not isinstance(self.expires_at, Unset):
            expires_at = self.expires_at.isoformat()

        item_count = self.item_count

        upload_method: str | Unset = UNSET
        if not isinstance(self.upload_method, Unset):
            upload_method = self.upload_method.value

        upload_url = self.upload_url

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
        if error is not UNSET:
            field_dict["error"] = error
        if expires_at is not UNSET:
            field_dict["expiresAt"] = expires_at
        if item_count is not UNSET:
            field_dict["itemCount"] = item_count
        if upload_method is not UNSET:
            field_dict["uploadMethod"] = upload_method
        if upload_url is not UNSET:
            field_dict["uploadUrl"] = upload_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_info import ErrorInfo  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        status = UploadStatus(d.pop("status"))

        dataset_id = d.pop("datasetId", UNSET)

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

        item_count = d.pop("itemCount", UNSET)

        _upload_method = d.pop("uploadMethod", UNSET)
        upload_method: UploadUploadMethod | Unset
        if isinstance(_upload_method, Unset):
            upload_method = UNSET
        else:
            upload_method = UploadUploadMethod(_upload_method)

        upload_url = d.pop("uploadUrl", UNSET)

        upload = cls(
            id=id,
            status=status,
            dataset_id=dataset_id,
            error=error,
            expires_at=expires_at,
            item_count=item_count,
            upload_method=upload_method,
            upload_url=upload_url,
        )

        upload.additional_properties = d
        return upload

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
