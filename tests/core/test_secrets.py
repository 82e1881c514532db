"""The credential never shows: not in logs (DEBUG, every logger), reprs or exceptions.

Driven through a real local HTTP server (so httpx and httpcore log at DEBUG too) with
retries, and errors from 401 (whose body echoes the token), 429, a daily quota, 500, a
gateway 504 and a dropped connection, through ``client.tasks`` of both clients.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest

import toloka_ext as tx
from toloka_ext import AsyncToloka, Toloka
from toloka_ext.types import TaskCreateResult

SECRET = "s3cr3t-TOKEN-9f8e7d6c5b4a"
Step = tuple[int, dict[str, str], object] | str


class ScriptedServer:
    """A loopback HTTP server answering from a script; records the headers it was sent."""

    def __init__(self) -> None:
        self.script: list[Step] = []
        self.seen_authorization: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.seen_authorization.append(self.headers.get("Authorization", ""))
                step = outer.script.pop(0) if outer.script else (200, {}, {"ok": True})
                if step == "drop":
                    self.close_connection = True
                    return
                assert not isinstance(step, str)
                status, headers, body = step
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer  # noqa: N815
            do_POST = _answer  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=10)


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
    headers = extra.pop("headers", {})
    return status, headers, {"request_id": "req-1", "code": code, "message": message, **extra}


def _task(i: int) -> dict[str, Any]:
    return {"pool_id": "1", "input_values": {"n": i}, "overlap": 1}


SCENARIOS: list[tuple[str, list[Step], type[Exception] | list[type[Exception]]]] = [
    (
        "401-echoing-token",
        [_error(401, "ACCESS_DENIED", f"Invalid token OAuth {SECRET}")],
        tx.AuthenticationError,
    ),
    (
        "429-retried-then-raised",
        [_error(429, "TOO_MANY_REQUESTS", "slow down", headers={"Retry-After": "0"})] * 4,
        tx.RateLimitError,
    ),
    (
        "429-daily-quota",
        [_error(429, "TOO_MANY_REQUESTS", "quota", payload={"interval": "DAY"})],
        tx.QuotaExceededError,
    ),
    # create_tasks stops at its first read (the pool's newest task, retried: a GET), then
    # create_task's POST is answered 500: not re-sent, its outcome unknown.
    (
        "500-read-retried-then-post-unknown",
        [_error(500, "INTERNAL_ERROR", "boom")] * 4,
        [tx.InternalServerError, tx.OutcomeUnknownError],
    ),
    ("504-gateway", [(504, {}, "gateway timeout")], tx.OutcomeUnknownError),
    ("dropped-connection", ["drop"], tx.OutcomeUnknownError),
]


def _get(obj: object, attr: str) -> Any:
    try:  # httpx errors raise RuntimeError for an unset .request
        return getattr(obj, attr, None)
    except RuntimeError:
        return None


def _texts_of(exc: BaseException) -> dict[str, str]:
    """Every string a user might print about ``exc`` (and its chained causes)."""
    out = {"format_exception": "".join(traceback.format_exception(exc))}
    seen: set[int] = set()
    current: BaseException | None = exc
    depth = 0
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out[f"str[{depth}]"] = str(current)
        out[f"repr[{depth}]"] = repr(current)
        for attr in ("request", "response"):
            value = _get(current, attr)
            if value is not None:
                out[f"{attr}[{depth}]"] = repr(value)
                out[f"{attr}.headers[{depth}]"] = repr(getattr(value, "headers", ""))
        response = _get(current, "response")
        if response is not None:
            out[f"response.request.headers[{depth}]"] = repr(response.request.headers)
        for attr in ("message", "partial_result"):
            if getattr(current, attr, None) is not None:
                out[f"{attr}[{depth}]"] = repr(getattr(current, attr))
        current = current.__cause__ or current.__context__
        depth += 1
    return out


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("script", "expected"),
    [(s[1], s[2]) for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_secret_never_in_logs_reprs_or_exceptions(
    server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    script: list[Step],
    expected: type[Exception] | list[type[Exception]],
) -> None:
    server.script = list(script)
    kwargs: dict[str, Any] = {"oauth_token": SECRET, "v1_base_url": server.base_url}
    caught: list[BaseException] = []
    results: list[TaskCreateResult] = []
    reprs: list[str] = []
    caplog.set_level(logging.DEBUG)  # the root logger: httpx, httpcore and ours

    def describe(client: Toloka | AsyncToloka) -> list[str]:
        core = client._core
        return [
            repr(client),
            repr(client.tasks),
            repr(core.auth("v1")),
            repr(core.credentials),
            repr(core.settings),
        ]

    if kind == "sync":
        with Toloka(sleep=lambda s: None, **kwargs) as client:
            reprs += describe(client)
            try:
                results.append(client.tasks.create_tasks([_task(i) for i in range(3)]))
            except tx.TolokaError as exc:
                caught.append(exc)
            server.script = list(script)
            try:
                client.tasks.create_task(_task(0))
            except tx.TolokaError as exc:
                caught.append(exc)
    else:

        async def nosleep(seconds: float) -> None:
            pass

        async def go() -> None:
            async with AsyncToloka(sleep=nosleep, **kwargs) as client:
                reprs.extend(describe(client))
                try:
                    results.append(await client.tasks.create_tasks([_task(i) for i in range(3)]))
                except tx.TolokaError as exc:
                    caught.append(exc)
                server.script = list(script)
                try:
                    await client.tasks.create_task(_task(0))
                except tx.TolokaError as exc:
                    caught.append(exc)

        anyio.run(go)

    # The test is not vacuous: the secret was really sent, errors raised, lines logged.
    assert server.seen_authorization and all(
        a == f"OAuth {SECRET}" for a in server.seen_authorization
    )
    if isinstance(expected, list):
        assert [type(e) for e in caught] == expected
    else:
        assert [type(e) for e in caught] == [expected] * (1 if results else 2)
    if results:  # an unknown sync chunk is a result, not an error
        assert expected is tx.OutcomeUnknownError
        assert results[0].unknown == [range(3)]
        reprs.append(repr(results[0]))
    records = caplog.records
    assert any(r.name.startswith("httpcore") for r in records)
    if "retried" in str(script):
        assert any(r.name == "toloka_ext" and "retrying" in r.getMessage() for r in records)

    texts: dict[str, str] = {f"repr[{i}]": r for i, r in enumerate(reprs)}
    for i, error in enumerate(caught):
        texts.update({f"exc{i}.{k}": v for k, v in _texts_of(error).items()})
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for i, record in enumerate(records):
        texts[f"log[{i}] {record.name}"] = formatter.format(record) + repr(record.__dict__)
    leaks = sorted(where for where, text in texts.items() if SECRET in text)
    assert leaks == []  # names only: the assertion message must not print the secret


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ([_error(401, "UNAUTHORIZED", f"Invalid key ApiKey {SECRET}")], tx.AuthenticationError),
        ([_error(500, "INTERNAL_ERROR", "boom")] * 4, tx.InternalServerError),
    ],
    ids=["401-echoing-key", "500-retried-then-raised"],
)
def test_api_key_never_in_logs_reprs_or_exceptions_on_v2(
    server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
    script: list[Step],
    expected: type[Exception],
) -> None:
    server.script = list(script)
    v2_base = server.base_url.replace("/api/v1", "/api/v2-beta")
    caplog.set_level(logging.DEBUG)
    with Toloka(api_key=SECRET, base_url=v2_base, sleep=lambda s: None) as client:
        reprs = [repr(client), repr(client.projects), repr(client._core.auth("v2"))]
        with pytest.raises(expected) as err:
            client.me()
    assert server.seen_authorization and all(
        a == f"ApiKey {SECRET}" for a in server.seen_authorization
    )
    assert len(server.seen_authorization) == len(script)
    texts: dict[str, str] = {f"repr[{i}]": r for i, r in enumerate(reprs)}
    texts.update(_texts_of(err.value))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for i, record in enumerate(caplog.records):
        texts[f"log[{i}] {record.name}"] = formatter.format(record) + repr(record.__dict__)
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    leaks = sorted(where for where, text in texts.items() if SECRET in text)
    assert leaks == []  # names only: the assertion message must not print the secret
