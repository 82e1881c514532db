"""Errors that name the real cause, no long hangs, no secret in any field, no clear text off
this machine."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import toloka_ext as tx
from toloka_ext import AsyncToloka, Toloka
from toloka_ext.testing import Fault, FaultConfig, Sandbox

KEY = "sk-echoed-SECRET-123456"


# ----------------------------------------------------------------- a base_url that is not the API


def _web_page(status: int) -> httpx.MockTransport:
    """A web server, not the API: HTML for every path."""
    page = "<html><body>Welcome</body></html>"
    return httpx.MockTransport(
        lambda r: httpx.Response(status, text=page, headers={"content-type": "text/html"})
    )


@pytest.mark.parametrize("status", [200, 404])
@pytest.mark.parametrize(
    ("setting", "call"),
    [
        ("base_url", lambda c: c.runs.get("run-1")),
        ("base_url", lambda c: list(c.projects.list())),
        ("base_url", lambda c: c.pipelines.export_to_file("pl-1", "x.pipeline")),
        ("v1_base_url", lambda c: c.operations.get("op-1")),
        (
            "v1_base_url",
            lambda c: c.tasks.create_task(
                {"pool_id": "1", "input_values": {}}, allow_defaults=True
            ),
        ),
    ],
)
def test_a_base_url_that_is_not_the_api_is_a_configuration_error(
    status: int, setting: str, call: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with (
        Toloka(
            api_key=KEY,
            base_url="https://www.example.com/",
            v1_base_url="https://www.example.com/",
            transport=_web_page(status),
            sleep=lambda _s: None,
        ) as client,
        pytest.raises(tx.ConfigurationError) as info,
    ):
        call(client)
    message = str(info.value)
    assert setting in message and "does not look like the Toloka" in message
    assert not isinstance(info.value, tx.ApiDriftError)
    assert list(tmp_path.iterdir()) == []  # no web page saved as a pipeline file


def test_a_real_api_answering_404_html_for_one_moved_endpoint_is_still_drift() -> None:
    """The question only the API answers (GET /me) tells drift from a wrong base_url."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/me"):
            return httpx.Response(200, json={"id": "acc-1"})
        return httpx.Response(
            404, text="<html>no route</html>", headers={"content-type": "text/html"}
        )

    with (
        Toloka(
            api_key=KEY, base_url="https://api.test/v2", transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(tx.ApiDriftError) as info,
    ):
        client.runs.get("run-1")
    assert info.value.field == "<endpoint>"


def test_a_url_without_a_scheme_fails_at_construction_without_a_request() -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    with pytest.raises(tx.ConfigurationError, match="base_url"):
        Toloka(api_key=KEY, base_url="platform.toloka.ai/api/v2-beta", transport=transport)
    assert seen == []


# ----------------------------------------------------------------- one deadline per call


@pytest.fixture
def black_hole() -> Iterator[tuple[int, list[socket.socket]]]:
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], held
    server.close()
    for conn in held:
        conn.close()


def test_no_call_blocks_longer_than_its_deadline(black_hole: tuple[int, list[Any]]) -> None:
    port, held = black_hole
    with Toloka(
        api_key=KEY, base_url=f"http://127.0.0.1:{port}/v2", timeout=1.0, call_timeout=2.5
    ) as client:
        started = time.monotonic()
        with pytest.raises(tx.APITimeoutError, match="call_timeout") as info:
            client.runs.get("run-1")
        elapsed = time.monotonic() - started
    assert 2.0 < elapsed < 4.0  # not 4 attempts x 1 s plus backoff, not 241 s
    assert len(held) >= 2  # it did retry, within the deadline
    assert "2.5 s" in str(info.value)


def test_the_deadline_is_a_documented_default() -> None:
    with Toloka(api_key=KEY) as client:
        assert client._core.settings.call_timeout == 120.0
        assert client.with_options(call_timeout=None)._core.settings.call_timeout is None
    assert "call_timeout" in (Toloka.__doc__ or "")


@pytest.mark.anyio
async def test_the_async_client_keeps_the_deadline_too(
    black_hole: tuple[int, list[Any]],
) -> None:
    port, _ = black_hole
    async with AsyncToloka(
        api_key=KEY, base_url=f"http://127.0.0.1:{port}/v2", timeout=0.5, call_timeout=1.2
    ) as client:
        started = time.monotonic()
        with pytest.raises(tx.APITimeoutError):
            await client.me()
    assert time.monotonic() - started < 2.5


# ----------------------------------------------------------------- server state is not bad input


def test_a_dataset_without_fields_is_a_conflict_not_bad_input() -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="empty")
        with pytest.raises(tx.ConflictError) as info:
            client.exports.create(dataset.id)
    err = info.value
    assert not isinstance(err, tx.InvalidInputError)
    assert err.status_code == 409 and dataset.id in str(err) and "no fields" in str(err)
    assert sandbox.requests_for("createExport") == []  # nothing was sent


# ----------------------------------------------------------------- secrets in every field


def test_an_echoed_key_is_masked_in_body_and_payload_too() -> None:
    fault = Fault(
        "status",
        status=400,
        route="createTasks",
        on_nth=(1,),
        code="VALIDATION_ERROR",
        message=f"key {KEY} is not allowed here",
        payload={"0": {"input_values": {"code": "X", "message": f"echo {KEY}"}}, "k": [KEY]},
    )
    sandbox = Sandbox(api_key=KEY, faults=FaultConfig(faults=[fault]))
    with sandbox.client(api_key=KEY) as client, pytest.raises(tx.BadRequestError) as info:
        client.tasks.create_tasks([{"pool_id": "pool-1", "input_values": {"n": 1}, "overlap": 1}])
    err = info.value
    for text in (str(err), repr(err), repr(err.body), repr(err.payload)):
        assert KEY not in text, text
    assert "**********" in repr(err.body) and "**********" in repr(err.payload)


def test_presigned_tokens_appear_in_no_repr(tmp_path: Any) -> None:
    sandbox = Sandbox()
    with sandbox.client() as client:
        result = client.process_new_data(
            "pl-1", [{"u": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
        )
        dataset = client.datasets.create("prj-1", name="d")
        upload = client.uploads.create(dataset.id)
    tokens = [result.export.download_url, upload.upload_url]
    assert all(t and "token=" in t for t in tokens)
    shown = repr(result) + repr(result.export) + repr(upload) + str(upload) + repr(result.items)
    for url in tokens:
        assert url is not None and url.split("token=", 1)[1] not in shown
    assert "<signature hidden>" in shown


# ----------------------------------------------------------------- no clear text off this machine


@pytest.mark.parametrize("setting", ["base_url", "v1_base_url"])
def test_plain_http_off_loopback_is_refused_unless_asked(setting: str) -> None:
    with pytest.raises(tx.ConfigurationError, match="allow_insecure_http"):
        Toloka(api_key=KEY, **{setting: "http://api.example.com/api"})
    Toloka(api_key=KEY, **{setting: "http://api.example.com/api"}, allow_insecure_http=True)
    for host in ("127.0.0.1", "localhost", "[::1]", "127.0.0.2"):
        Toloka(api_key=KEY, **{setting: f"http://{host}:8080/api"})


def test_plain_http_storage_urls_are_refused_before_any_byte_leaves() -> None:
    def cleartext(op: str, body: Any) -> Any:
        if op == "createUpload":
            body["uploadUrl"] = body["uploadUrl"].replace("https://", "http://")
        return body

    sandbox = Sandbox(rewrite=cleartext, record_requests=True)
    with sandbox.client() as client, pytest.raises(tx.ConfigurationError, match="presigned"):
        client.process_new_data("pl-1", [{"u": 1}], upload_threshold=0)
    assert [r for r in sandbox.requests if r.operation == "storagePut"] == []
    with sandbox.client(allow_insecure_http=True) as client:
        assert len(client.process_new_data("pl-1", [{"u": 1}], upload_threshold=0).rows()) == 1


def test_plain_http_download_urls_are_refused_too() -> None:
    def cleartext(op: str, body: Any) -> Any:
        if op == "getExport" and body.get("downloadUrl"):
            body["downloadUrl"] = body["downloadUrl"].replace("https://", "http://")
        return body

    sandbox = Sandbox(rewrite=cleartext, record_requests=True)
    with sandbox.client() as client, pytest.raises(tx.ConfigurationError, match="presigned"):
        client.process_new_data("pl-1", [{"u": 1}])
    assert [r for r in sandbox.requests if r.operation == "storageGet"] == []
