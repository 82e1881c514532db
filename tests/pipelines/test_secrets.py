"""The API key never shows: not in a repr, a log line (DEBUG) or an exception message,
including the errors raised from the upload and download paths (presigned storage), whose
URLs carry their own secret (the sandbox's one-time ``token``), which must not show either."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from toloka_ext import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    InvalidInputError,
)
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import Export

KEY = "sk-SECRET-7f3a9c-do-not-leak"
RESOURCES = ("projects", "datasets", "uploads", "pipelines", "runs", "exports")


def _everything_said(exc: BaseException) -> str:
    """Message, repr and the whole formatted chain (causes and contexts) of an exception."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in (KEY, *secrets):
        assert secret not in text


def _logged(caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    # caplog.records holds only the current phase's records: read setup's and the test's.
    for when in ("setup", "call"):
        for record in caplog.get_records(when):
            yield record.getMessage()
            yield repr(record.args)


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, the package's and httpx's/httpcore's
    return caplog


@pytest.fixture(autouse=True)
def logs_are_clean(debug_logs: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    for text in _logged(debug_logs):
        _assert_clean(text)


def _token(url: str | None) -> str:
    """The presigned URL's secret."""
    assert url is not None
    (token,) = parse_qs(urlsplit(url).query)["token"]
    assert len(token) >= 16
    return token


@pytest.mark.anyio
async def test_reprs_are_redacted() -> None:
    sandbox = Sandbox(api_key=KEY)
    base = sandbox.v2_base_url
    with sandbox.client() as sync:
        async with sandbox.async_client() as asyn:
            for client, name in ((sync, "Toloka"), (asyn, "AsyncToloka")):
                text = repr(client)
                assert text.startswith(f"{name}(") and str(client) == text
                _assert_clean(text)
                assert "**********" in text and base in text
                _assert_clean(repr(client.tasks))
                for resource in RESOURCES:
                    prefix = "Async" if name == "AsyncToloka" else ""
                    cls = resource.capitalize()
                    assert repr(getattr(client, resource)) == f"<{prefix}{cls} {base}>"


def test_a_whole_loop_at_debug_level_logs_no_key(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    # With a retried 503 and a retried dropped download, so that retries are logged too.
    faults = [
        Fault("status", status=503, route="getRun", on_nth=(1,)),
        Fault("reset_before", route="storageGet", on_nth=(1,)),
    ]
    sandbox = Sandbox(api_key=KEY, record_requests=True, faults=FaultConfig(faults=faults))
    with sandbox.client() as client:
        result = client.process_new_data(
            "pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
        )
    (row,) = result.rows()
    assert row["a"] == 1 and row["label"] in ("yes", "no")
    assert debug_logs.records, "DEBUG logging was not captured"
    assert any(r.name.startswith("httpx") for r in debug_logs.records)
    retries = [r for r in debug_logs.records if r.name.startswith("toloka_ext")]
    assert len(retries) >= 2, [r.getMessage() for r in debug_logs.records]
    assert sandbox.counters.applied["storagePut"] == 1  # the upload path was taken


def test_presigned_signatures_never_reach_the_logs(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(api_key=KEY, record_requests=True)
    with sandbox.client() as client:
        result = client.process_new_data(
            "pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
        )
    tokens = [_token(r.url) for r in sandbox.requests_for("storagePut")]
    tokens.append(_token(result.export.download_url))
    assert len(tokens) == 2
    for text in _logged(debug_logs):
        _assert_clean(text, *tokens)


def _storage_faults(kind: str, route: str) -> FaultConfig:
    if kind == "status":
        fault = Fault(
            "status",
            status=403,
            route=route,
            rate=1.0,
            code="AccessDenied",
            message="SignatureDoesNotMatch",
        )
    else:
        fault = Fault("reset_before", route=route, rate=1.0)
    return FaultConfig(faults=[fault])


def _setup(sandbox: Sandbox) -> tuple[str, Export]:
    """An empty dataset and a ready export (of another dataset), made without faults."""
    with sandbox.client() as client:
        target = client.datasets.create("prj-1", name="target")
        source = client.datasets.create("prj-1", name="source")
        client.datasets.add_items(source.id, [{"a": 1}])
        export = client.exports.wait(client.exports.create(source.id).id)
    return target.id, export


EXPECTED = {"status": APIStatusError, "transport": APIConnectionError}


@pytest.mark.parametrize("kind", ["status", "transport"])
def test_upload_and_download_errors_say_nothing_secret(kind: str, tmp_path: Path) -> None:
    sandbox = Sandbox(api_key=KEY, record_requests=True)
    dataset_id, export = _setup(sandbox)
    export_token = _token(export.download_url)
    sandbox.faults = _storage_faults(kind, "storagePut")
    expected = EXPECTED[kind]
    with sandbox.client(max_retries=0) as client:
        with pytest.raises(expected) as upload_error:
            client.datasets.add_items(dataset_id, [{"a": 1}], upload_threshold=0)
        (put,) = sandbox.requests_for("storagePut")
        upload_token = _token(put.url)  # the secret was there to leak
        _assert_clean(_everything_said(upload_error.value), upload_token)
        assert sandbox.dataset_rows(dataset_id) == []

        sandbox.faults = _storage_faults(kind, "storageGet")
        with pytest.raises(expected) as download_error:
            client.exports.download(export, tmp_path / "out.jsonl")
        _assert_clean(_everything_said(download_error.value), export_token)
        assert not (tmp_path / "out.jsonl").exists()
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(expected) as iter_error:
            list(client.exports.iter_rows(export))
        _assert_clean(_everything_said(iter_error.value), export_token)
    assert len(sandbox.requests_for("storageGet")) == 2


def test_api_errors_say_nothing_secret() -> None:
    sandbox = Sandbox(api_key="the-real-key", record_requests=True)
    with sandbox.client(api_key=KEY, max_retries=0) as client:
        with pytest.raises(AuthenticationError) as info:
            client.runs.get("run-1")
        assert isinstance(info.value, APIStatusError) and info.value.status_code == 401
        _assert_clean(_everything_said(info.value))
        with pytest.raises(InvalidInputError) as bad:
            client.datasets.add_items("ds-1", [])
        _assert_clean(_everything_said(bad.value))
    assert [r.operation for r in sandbox.requests] == ["getRun"]


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["status", "transport"])
async def test_async_upload_and_download_errors_say_nothing_secret(
    kind: str, tmp_path: Path
) -> None:
    sandbox = Sandbox(api_key=KEY, record_requests=True)
    dataset_id, export = _setup(sandbox)
    export_token = _token(export.download_url)
    sandbox.faults = _storage_faults(kind, "storagePut")
    expected = EXPECTED[kind]
    async with sandbox.async_client(max_retries=0) as client:
        with pytest.raises(expected) as upload_error:
            await client.datasets.add_items(dataset_id, [{"a": 1}], upload_threshold=0)
        (put,) = sandbox.requests_for("storagePut")
        _assert_clean(_everything_said(upload_error.value), _token(put.url))
        sandbox.faults = _storage_faults(kind, "storageGet")
        with pytest.raises(expected) as download_error:
            await client.exports.download(export, tmp_path / "out.jsonl")
        _assert_clean(_everything_said(download_error.value), export_token)
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(expected) as iter_error:
            [row async for row in client.exports.iter_rows(export)]
        _assert_clean(_everything_said(iter_error.value), export_token)
    assert len(sandbox.requests_for("storageGet")) == 2
