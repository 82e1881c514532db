"""The sandbox refuses what a real API refuses before doing any work with it: bodies over
its limit (413, before the body is read, authenticated or not) and JSON strings that are not
Unicode text (lone surrogates, 400)."""

from __future__ import annotations

import socket

import httpx
import pytest

from toloka_ext.testing import Sandbox, SandboxServer

LIMIT = 4096


def _raw_request(port: int, head: bytes) -> bytes:
    """Send only a request head (a body declared but never sent); return what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def test_served_oversized_body_is_refused_from_its_declared_length() -> None:
    with SandboxServer(max_body_bytes=LIMIT) as server:
        port = int(server.url.rsplit(":", 1)[1])
        head = (
            b"POST /api/v2-beta/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
        )
        answer = _raw_request(port, head)  # no Authorization, and 50 MB that never come
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code":"PAYLOAD_TOO_LARGE"' in answer.replace(b" ", b"")
        with httpx.Client(timeout=10) as http:
            listed = http.get(f"{server.v2_base_url}/projects", headers=server.auth_headers())
        assert [p["name"] for p in listed.json()["projects"]] == ["Sandbox project"]


def test_served_chunked_body_is_cut_off_at_the_limit() -> None:
    def chunks() -> object:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1024  # far over the limit, with no Content-Length to say so
        yield b'"}'

    with SandboxServer(max_body_bytes=LIMIT) as server, httpx.Client(timeout=10) as http:
        answer = http.post(
            f"{server.v2_base_url}/projects", headers=server.auth_headers(), content=chunks()
        )
        assert answer.status_code == 413
        listed = http.get(f"{server.v2_base_url}/projects", headers=server.auth_headers())
    assert len(listed.json()["projects"]) == 1


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_in_process_oversized_body_is_refused_with_the_api_error_body(api: str) -> None:
    sandbox = Sandbox(max_body_bytes=LIMIT)
    url = f"{sandbox.v2_base_url}/projects" if api == "v2" else f"{sandbox.v1_base_url}/tasks"
    with sandbox.http_client() as http:
        answer = http.post(url, json={"name": "x" * 2 * LIMIT})
    assert answer.status_code == 413
    body = answer.json()
    assert ("request_id" if api == "v1" else "requestId") in body
    assert sum(sandbox.counters.received.values()) == 0  # never routed


def test_storage_uploads_are_not_api_requests() -> None:
    sandbox = Sandbox(max_body_bytes=LIMIT)
    rows = [{"text": "y" * 1000} for _ in range(20)]  # ~20 KB through the upload path
    with sandbox.client() as client:
        summary = client.datasets.add_items(
            client.datasets.create("prj-1", name="big").id, rows, upload_threshold=0
        )
    assert summary.path == "upload" and summary.rows == 20


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"'])
def test_lone_surrogates_are_refused(text: str) -> None:
    sandbox = Sandbox()
    with sandbox.http_client() as http:
        answer = http.post(
            f"{sandbox.v2_base_url}/projects",
            headers={**sandbox.auth_headers(), "Content-Type": "application/json"},
            content=b'{"name": ' + text.encode() + b"}",
        )
        key = http.post(
            f"{sandbox.v2_base_url}/projects",
            headers={**sandbox.auth_headers(), "Content-Type": "application/json"},
            content=b'{"name": "ok", ' + text.encode() + b": 1}",
        )
    assert answer.status_code == 400 and "surrogate" in answer.json()["message"]
    assert key.status_code == 400
    assert [p["name"] for p in sandbox.backend.all("project")] == ["Sandbox project"]


def test_a_valid_surrogate_pair_is_text() -> None:
    sandbox = Sandbox()
    with sandbox.http_client() as http:
        answer = http.post(
            f"{sandbox.v2_base_url}/projects",
            headers={**sandbox.auth_headers(), "Content-Type": "application/json"},
            content=b'{"name": "\\ud83d\\ude00"}',
        )
    assert answer.status_code == 201 and answer.json()["name"] == "\U0001f600"


@pytest.mark.parametrize("status", [200, 201, 202])
def test_success_status_replaces_every_success(status: int) -> None:
    sandbox = Sandbox(success_status=status)
    with sandbox.http_client() as http:
        created = http.post(
            f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers(), json={"name": "p"}
        )
        missing = http.get(f"{sandbox.v2_base_url}/runs/nope", headers=sandbox.auth_headers())
    assert created.status_code == status and created.json()["name"] == "p"
    assert missing.status_code == 404  # errors are not successes


def test_success_status_must_be_a_2xx_with_a_body() -> None:
    for bad in (204, 302, 404):
        with pytest.raises(ValueError, match="success_status"):
            Sandbox(success_status=bad)
