from __future__ import annotations

import httpx
import pytest

import toloka_ext as tx
from toloka_ext._exceptions import make_status_error
from toloka_ext.types import (
    ErrorInfo,
    Export,
    ExportStatus,
    Run,
    RunProgress,
    RunStatus,
    Upload,
    UploadStatus,
)

REQ = httpx.Request("POST", "https://toloka.dev/api/v1/tasks?async_mode=true")


def _resp(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    kwargs: dict[str, object] = {"request": REQ, "headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return httpx.Response(status, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, tx.BadRequestError),
        (401, tx.AuthenticationError),
        (403, tx.PermissionDeniedError),
        (404, tx.NotFoundError),
        (409, tx.ConflictError),
        (413, tx.APIStatusError),  # RequestTooLargeError is gone: a plain APIStatusError
        (422, tx.APIStatusError),  # UnprocessableEntityError is gone: a plain APIStatusError
        (429, tx.RateLimitError),
        (500, tx.InternalServerError),
        (503, tx.InternalServerError),
        (418, tx.APIStatusError),
    ],
    ids=str,
)
def test_status_maps_to_class(status: int, cls: type[tx.APIStatusError]) -> None:
    err = make_status_error(_resp(status, {"message": "m"}))
    assert type(err) is cls
    assert err.status_code == status
    assert err.request is REQ


def test_v1_body_is_parsed() -> None:
    body = {
        "request_id": "rid-1",
        "code": "VALIDATION_ERROR",
        "message": "bad",
        "payload": {"0": {}},
    }
    err = make_status_error(_resp(400, body))
    assert (err.request_id, err.code, err.message.endswith("bad (request_id=rid-1)")) == (
        "rid-1",
        "VALIDATION_ERROR",
        True,
    )
    assert err.payload == {"0": {}}
    assert err.body == body
    # The query string (could hold a presigned signature) is not in the message.
    assert "async_mode" not in str(err)


def test_v2_body_and_header_request_id() -> None:
    err = make_status_error(_resp(404, {"message": "no such dataset"}, {"X-Request-Id": "hdr-9"}))
    assert err.request_id == "hdr-9"
    assert err.code is None
    assert "no such dataset" in str(err)


def test_non_json_body() -> None:
    resp = httpx.Response(502, content=b"<html>bad gateway</html>", request=REQ)
    err = make_status_error(resp)
    assert isinstance(err, tx.InternalServerError)
    assert "bad gateway" in err.message


def test_daily_quota_is_its_own_class() -> None:
    err = make_status_error(
        _resp(429, {"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}})
    )
    assert isinstance(err, tx.QuotaExceededError)
    assert "wait_for_quota" in str(err)
    minute = make_status_error(
        _resp(429, {"code": "TOO_MANY_REQUESTS", "payload": {"interval": "MIN"}})
    )
    assert type(minute) is tx.RateLimitError


def test_authorization_never_in_messages() -> None:
    req = httpx.Request(
        "GET", "https://toloka.dev/api/v1/x", headers={"Authorization": "OAuth s3cr3t"}
    )
    err = make_status_error(httpx.Response(401, json={"message": "bad token"}, request=req))
    assert "s3cr3t" not in str(err)
    assert "s3cr3t" not in repr(err)


def test_hierarchy() -> None:
    assert issubclass(tx.InvalidInputError, ValueError)
    assert issubclass(tx.OutcomeUnknownError, tx.APIConnectionError)
    assert issubclass(tx.APITimeoutError, tx.APIConnectionError)
    assert issubclass(tx.APIConnectionError, tx.APIError)
    assert issubclass(tx.ApiDriftError, tx.APIError)
    assert issubclass(tx.QuotaExceededError, tx.RateLimitError)
    for cls in (tx.ConfigurationError, tx.OperationFailedError, tx.PollTimeoutError, tx.APIError):
        assert issubclass(cls, tx.TolokaError)
    for failed in (tx.RunFailedError, tx.UploadFailedError, tx.ExportFailedError):
        assert issubclass(failed, tx.OperationFailedError)
    assert issubclass(tx.JournalMismatchError, tx.TolokaError)


def test_messages_name_their_fields() -> None:
    err = tx.InvalidInputError(
        "must be from 0 to 1", position=7, field="known_solutions[0].correctness_weight"
    )
    assert "position 7" in str(err) and "known_solutions[0].correctness_weight" in str(err)
    drift = tx.ApiDriftError(
        operation="getRun", field="status", snapshot_version="2026-11-23", detail="new value"
    )
    assert all(s in str(drift) for s in ("getRun", "status", "2026-11-23", "new value"))
    timeout = tx.PollTimeoutError("slow", obj={"id": 1}, elapsed=3.5)
    assert (timeout.obj, timeout.elapsed) == ({"id": 1}, 3.5)


def test_413_and_422_classes_are_gone() -> None:
    for name in ("RequestTooLargeError", "UnprocessableEntityError"):
        assert not hasattr(tx, name)
        assert name not in tx.__all__


def test_operation_failed_error_carries_object_and_reason() -> None:
    err = tx.OperationFailedError("op failed", obj={"id": "op-1"}, reason="boom")
    assert (str(err), err.obj, err.reason) == ("op failed", {"id": "op-1"}, "boom")
    assert tx.OperationFailedError("x", obj=None).reason is None


def test_run_failed_error_describes_the_run() -> None:
    run = Run(
        id="run-1",
        status=RunStatus.FAILED,
        progress=RunProgress(total=10, completed=7, failed=3),
        error=ErrorInfo(message="labeller crashed", code="E1"),
    )
    err = tx.RunFailedError(run)
    assert isinstance(err, tx.OperationFailedError) and isinstance(err, tx.TolokaError)
    assert err.run is run and err.obj is run
    assert err.reason == "labeller crashed"
    assert all(s in str(err) for s in ("run-1", "failed", "7/10 completed", "3 failed"))
    cancelled = tx.RunFailedError(Run(id="run-2", status=RunStatus.CANCELLED))
    assert cancelled.reason == "the server gave no reason"
    assert "run-2 ended cancelled" in str(cancelled)


def test_upload_and_export_failed_errors_describe_their_object() -> None:
    upload = Upload(id="up-1", status=UploadStatus.FAILED, error=ErrorInfo(message="bad row 3"))
    up_err = tx.UploadFailedError(upload)
    assert isinstance(up_err, tx.OperationFailedError)
    assert (up_err.upload, up_err.obj, up_err.reason) == (upload, upload, "bad row 3")
    assert "up-1" in str(up_err) and "bad row 3" in str(up_err)
    export = Export(id="ex-1", status=ExportStatus.FAILED)
    ex_err = tx.ExportFailedError(export)
    assert isinstance(ex_err, tx.OperationFailedError)
    assert (ex_err.export, ex_err.obj) == (export, export)
    assert ex_err.reason == "the server gave no reason"
    assert "ex-1" in str(ex_err)


def test_outcome_unknown_error_keeps_the_gateway_answer() -> None:
    response = _resp(504, {"message": "gateway"})
    err = tx.OutcomeUnknownError(request=REQ, response=response)
    assert (err.request, err.response, err.status_code) == (REQ, response, 504)
    assert tx.OutcomeUnknownError(request=REQ).status_code is None
