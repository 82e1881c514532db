"""The API key never shows: not in a repr, a log line (DEBUG) or an exception message,
including the errors raised from the upload and download paths (presigned storage)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines.fake_api import API, STORAGE, FakePipelineAPI
from toloka_ext import APIConnectionError, APIStatusError, InvalidInputError
from toloka_ext._pipelines import AsyncPipelineClient, PipelineClient

KEY = "sk-SECRET-7f3a9c-do-not-leak"
SIGNATURE = "sig=PRESIGNED-9b1d"
RESOURCES = ("projects", "datasets", "uploads", "pipelines", "runs", "exports")


def _everything_said(exc: BaseException) -> str:
    """Message, repr and the whole formatted chain (causes and contexts) of an exception."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def _assert_clean(text: str) -> None:
    assert KEY not in text
    assert SIGNATURE not in text


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, the package's and httpx's/httpcore's
    return caplog


@pytest.fixture(autouse=True)
def logs_are_clean(debug_logs: pytest.LogCaptureFixture) -> Any:
    yield
    for record in debug_logs.records:
        _assert_clean(record.getMessage())
        _assert_clean(repr(record.args))


def test_reprs_are_redacted() -> None:
    sync = PipelineClient(api_key=KEY, base_url=API)
    asyn = AsyncPipelineClient(api_key=KEY, base_url=API)
    for client, name in ((sync, "PipelineClient"), (asyn, "AsyncPipelineClient")):
        texts = [repr(client), str(client)] + [repr(getattr(client, r)) for r in RESOURCES]
        for text in texts:
            _assert_clean(text)
            assert "**********" in text and API in text
        assert repr(client).startswith(f"{name}(")
    assert repr(sync.datasets).startswith("<Datasets of PipelineClient(")
    assert repr(asyn.datasets).startswith("<AsyncDatasets of AsyncPipelineClient(")


def test_a_whole_loop_at_debug_level_logs_no_key(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    fake = FakePipelineAPI()
    client = PipelineClient(
        api_key=KEY, base_url=API, transport=fake.transport(), sleep=lambda _: None
    )
    result = client.process_new_data(
        "pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
    )
    assert result.rows() == [{"a": 1, "label": "label-0"}]
    assert debug_logs.records, "DEBUG logging was not captured"


STORAGE_URLS: list[str] = []


def _storage_failing(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    fake = FakePipelineAPI()
    STORAGE_URLS.clear()
    fake.datasets["ds-1"] = {"id": "ds-1", "name": "d", "projectId": "prj-1"}
    fake.items["ds-1"] = []
    fake.fields["ds-1"] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(STORAGE):
            STORAGE_URLS.append(str(request.url))
            request.read()
            if kind == "status":
                return httpx.Response(
                    403, json={"message": "SignatureDoesNotMatch", "code": "AccessDenied"}
                )
            raise httpx.ConnectError("connection refused", request=request)
        response = fake.handler(request)
        # Point the presigned URLs at a signature we can look for.
        if b"X-Signature=" in response.content:
            text = response.content.decode().replace("X-Signature=", SIGNATURE + "&X-Signature=")
            return httpx.Response(response.status_code, json=json.loads(text))
        return response

    return handler


@pytest.mark.parametrize("kind", ["status", "transport"])
def test_upload_and_download_errors_say_nothing_secret(kind: str, tmp_path: Path) -> None:
    handler = _storage_failing(kind)
    client = PipelineClient(
        api_key=KEY,
        base_url=API,
        transport=httpx.MockTransport(handler),
        max_retries=0,
        sleep=lambda _: None,
    )
    expected = APIStatusError if kind == "status" else APIConnectionError
    with pytest.raises(expected) as upload_error:
        client.datasets.add_items("ds-1", [{"a": 1}], upload_threshold=0)
    _assert_clean(_everything_said(upload_error.value))
    assert SIGNATURE in STORAGE_URLS[0]  # the secret was there to leak

    from toloka_ext._pipelines import Export, ExportStatus

    export = Export(
        id="exp-1", status=ExportStatus.READY, download_url=f"{STORAGE}/exp-1?{SIGNATURE}"
    )
    with pytest.raises(expected) as download_error:
        client.exports.download(export, tmp_path / "out.jsonl")
    _assert_clean(_everything_said(download_error.value))
    assert not (tmp_path / "out.jsonl").exists()
    with pytest.raises(expected) as iter_error:
        list(client.exports.iter_rows(export))
    _assert_clean(_everything_said(iter_error.value))


def test_api_errors_say_nothing_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "Invalid API key", "code": "UNAUTHORIZED"})

    client = PipelineClient(
        api_key=KEY, base_url=API, transport=httpx.MockTransport(handler), max_retries=0
    )
    with pytest.raises(APIStatusError) as info:
        client.runs.get("run-1")
    _assert_clean(_everything_said(info.value))
    with pytest.raises(InvalidInputError) as bad:
        client.datasets.add_items("ds-1", [])
    _assert_clean(_everything_said(bad.value))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["status", "transport"])
async def test_async_upload_and_download_errors_say_nothing_secret(
    kind: str, tmp_path: Path
) -> None:
    sync_handler = _storage_failing(kind)

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        return sync_handler(request)

    from toloka_ext._pipelines import Export, ExportStatus

    expected = APIStatusError if kind == "status" else APIConnectionError
    async with AsyncPipelineClient(
        api_key=KEY, base_url=API, transport=httpx.MockTransport(handler), max_retries=0
    ) as client:
        with pytest.raises(expected) as upload_error:
            await client.datasets.add_items("ds-1", [{"a": 1}], upload_threshold=0)
        _assert_clean(_everything_said(upload_error.value))
        export = Export(
            id="exp-1", status=ExportStatus.READY, download_url=f"{STORAGE}/exp-1?{SIGNATURE}"
        )
        with pytest.raises(expected) as download_error:
            await client.exports.download(export, tmp_path / "out.jsonl")
        _assert_clean(_everything_said(download_error.value))
        with pytest.raises(expected) as iter_error:
            [row async for row in client.exports.iter_rows(export)]
        _assert_clean(_everything_said(iter_error.value))
