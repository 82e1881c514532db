"""``make contract-live``: Prism as a validating proxy names the drift of a live API.

The live API is not reachable from CI, so the upstream here is a local server standing in
for it: one that answers as the snapshot says, and one that has drifted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from scripts import contract_live

pytestmark = pytest.mark.prism

CONFORMING: dict[str, Any] = {
    "/me": {"id": "acc-1"},
    "/projects": {"projects": [{"id": "prj-1", "name": "Signs"}], "pagination": {"total": 1}},
    "/projects/prj-1/datasets": {"datasets": [{"id": "ds-1", "name": "d"}]},
    "/projects/prj-1/pipelines": {"pipelines": [{"id": "pl-1", "name": "p"}]},
    "/pipelines/pl-1/runs": {"runs": [{"id": "run-1", "status": "running"}]},
    "/runs/run-1": {"id": "run-1", "status": "completed"},
}


@pytest.fixture
def upstream() -> Iterator[tuple[str, dict[str, Any], list[str]]]:
    bodies = dict(CONFORMING)
    auth_seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth_seen.append(self.headers.get("Authorization", ""))
            body = bodies.get(self.path.split("?")[0])
            data = json.dumps(body if body is not None else {"message": "Not found"}).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies, auth_seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_without_a_key_it_says_skipped(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    assert contract_live.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "SKIPPED" in out and "TOLOKA_API_KEY" in out


def test_conforming_api_passes(upstream: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    url, _, auth_seen = upstream
    monkeypatch.setenv("TOLOKA_API_KEY", "live-secret")
    assert contract_live.main(["--upstream", url]) == 0
    out = capsys.readouterr().out
    assert "6 calls, 0 with drift" in out
    assert "live-secret" not in out
    assert auth_seen and all(a == "ApiKey live-secret" for a in auth_seen)


def test_drift_is_named(upstream: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    url, bodies, _ = upstream
    bodies["/pipelines/pl-1/runs"] = {"runs": [{"id": "run-1", "status": "paused"}]}
    bodies["/me"] = {"email": "no-id@example.com"}
    monkeypatch.setenv("TOLOKA_API_KEY", "live-secret")
    assert contract_live.main(["--upstream", url]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    me = next(i for i, line in enumerate(lines) if line.endswith("GET /me"))
    assert lines[me].split()[0] == "DRIFT" and "'id'" in lines[me + 1]
    runs = next(i for i, line in enumerate(lines) if "GET /pipelines/pl-1/runs" in line)
    assert lines[runs].split()[0] == "DRIFT" and "runs.0.status" in lines[runs + 1]
    assert "2 with drift" in out
