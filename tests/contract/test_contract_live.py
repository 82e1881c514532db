"""``make contract-live``: Prism as a validating proxy names the drift of a live API.

The live API is not reachable from CI, so the upstream here is a local server standing in
for it: one that answers as the snapshot says, and one that has drifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scripts import contract_live
from tests._http import RouteServer

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
def upstream() -> Iterator[RouteServer]:
    with RouteServer() as server:
        for path, body in CONFORMING.items():
            server.set(body, path=path)
        yield server


def test_without_a_key_it_says_skipped(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    assert contract_live.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "SKIPPED" in out and "TOLOKA_API_KEY" in out


def test_conforming_api_passes(
    upstream: RouteServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("TOLOKA_API_KEY", "live-secret")
    assert contract_live.main(["--upstream", upstream.url("")]) == 0
    out = capsys.readouterr().out
    assert "6 calls, 0 with drift" in out
    assert "live-secret" not in out
    assert upstream.requests
    assert all(auth == "ApiKey live-secret" for _, auth in upstream.requests)


def test_drift_is_named(
    upstream: RouteServer, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    upstream.set({"runs": [{"id": "run-1", "status": "paused"}]}, path="/pipelines/pl-1/runs")
    upstream.set({"email": "no-id@example.com"}, path="/me")
    monkeypatch.setenv("TOLOKA_API_KEY", "live-secret")
    assert contract_live.main(["--upstream", upstream.url("")]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    me = next(i for i, line in enumerate(lines) if line.endswith("GET /me"))
    assert lines[me].split()[0] == "DRIFT" and "'id'" in lines[me + 1]
    runs = next(i for i, line in enumerate(lines) if "GET /pipelines/pl-1/runs" in line)
    assert lines[runs].split()[0] == "DRIFT" and "runs.0.status" in lines[runs + 1]
    assert "2 with drift" in out
