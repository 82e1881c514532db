"""The sandbox as a real server process: workflow over HTTP, faults, kill and restart."""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from toloka_ext.testing import Fault, FaultConfig, SandboxServer, serve_in_background

from .conftest import Api

TASK = {"pool_id": "pool-1", "input_values": {"x": 1}, "overlap": 1}


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # SO_REUSEADDR: closed connections in TIME_WAIT do not count, a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_workflow_over_real_http(served_api: Api, server: SandboxServer) -> None:
    api = served_api
    assert httpx.URL(server.url).host == "127.0.0.1"
    ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "real"}).json()["id"]
    up = api.v2("POST", f"/datasets/{ds}/uploads", json={"fields": [{"name": "text"}]}).json()
    storage = httpx.URL(up["uploadUrl"])
    assert (storage.host, storage.port) != (httpx.URL(server.url).host, httpx.URL(server.url).port)
    rows = [{"text": f"row {i}"} for i in range(10)]
    assert api.http.put(storage, content=json.dumps(rows), headers=api.h2).status_code == 403
    assert api.http.put(storage, content=json.dumps(rows)).status_code == 200
    api.v2("POST", f"/uploads/{up['id']}/finalize")
    statuses = [api.v2("GET", f"/uploads/{up['id']}").json()["status"] for _ in range(2)]
    assert statuses == ["processing", "succeeded"]
    pl = api.v2("POST", "/pipelines/pl-1/copy", json={}).json()["id"]
    api.v2("POST", f"/pipelines/{pl}/dataset", json={"datasetId": ds, "itemLimit": 8})
    run = api.v2("POST", f"/pipelines/{pl}/runs", json={}).json()
    final = [api.v2("GET", f"/runs/{run['id']}").json() for _ in range(3)][-1]
    assert final["status"] == "completed" and final["progress"] == {
        "total": 8,
        "completed": 8,
        "failed": 0,
    }
    exp = api.v2(
        "POST", f"/datasets/{ds}/exports", json={"fields": [{"name": "text"}, {"name": "label"}]}
    ).json()
    ready = [api.v2("GET", f"/exports/{exp['id']}").json() for _ in range(2)][-1]
    assert ready["status"] == "ready"
    assert api.http.get(ready["downloadUrl"], headers=api.h2).status_code == 403
    lines = api.http.get(ready["downloadUrl"]).text.splitlines()
    labelled = [json.loads(line) for line in lines]
    assert [r["text"] for r in labelled] == [r["text"] for r in rows]
    assert sum(r["label"] is not None for r in labelled) == 8


def test_v1_over_real_http(served_api: Api) -> None:
    r = served_api.v1("POST", "/tasks", json=[TASK, TASK])
    assert r.status_code == 201 and len(r.json()["items"]) == 2


def test_sqlite_state_survives_kill_and_restart(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    op_id = str(uuid.uuid4())
    with SandboxServer(db_path=db) as server, httpx.Client(timeout=10) as http:
        h2, h1 = server.auth_headers("v2"), server.auth_headers("v1")
        ds = http.post(
            f"{server.v2_base_url}/projects/prj-1/datasets", headers=h2, json={"name": "keep"}
        ).json()
        http.post(
            f"{server.v2_base_url}/datasets/{ds['id']}/items",
            headers=h2,
            json={"items": [{"a": 1}]},
        )
        http.post(
            f"{server.v1_base_url}/tasks",
            headers=h1,
            json=[TASK],
            params={"async_mode": "true", "operation_id": op_id},
        )
        server.kill()
        assert not server.running
        with pytest.raises(httpx.ConnectError):
            http.get(f"{server.v2_base_url}/me", headers=h2)
        server.start()
        datasets = http.get(f"{server.v2_base_url}/projects/prj-1/datasets", headers=h2).json()[
            "datasets"
        ]
        assert [(d["id"], d["itemCount"]) for d in datasets] == [(ds["id"], 1)]
        again = http.post(
            f"{server.v1_base_url}/tasks",
            headers=h1,
            json=[TASK],
            params={"async_mode": "true", "operation_id": op_id},
        )
        assert again.status_code == 409 and again.json()["code"] == "OPERATION_ALREADY_EXISTS"
        final = [
            http.get(f"{server.v1_base_url}/operations/{op_id}", headers=h1).json()
            for _ in range(2)
        ][-1]
        assert final["status"] == "SUCCESS" and final["details"]["success_count"] == 1
        new_ds = http.post(
            f"{server.v2_base_url}/projects/prj-1/datasets", headers=h2, json={"name": "n"}
        ).json()
        assert new_ds["id"] == "ds-2"  # ids continue after a restart
    assert _port_is_free(server.port)


def test_served_reset_before_and_after_apply(tmp_path: Path) -> None:
    faults = FaultConfig(
        faults=[
            Fault("reset_before", route="createTasks", on_nth=(1,)),
            Fault("reset_after", route="createTasks", on_nth=(2,)),
        ]
    )
    with (
        SandboxServer(faults=faults, db_path=tmp_path / "f.db") as server,
        httpx.Client(timeout=10) as http,
    ):
        url, h1 = f"{server.v1_base_url}/tasks", server.auth_headers("v1")
        for _ in range(2):
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                http.post(url, headers=h1, json=[TASK])
        assert http.post(url, headers=h1, json=[TASK]).status_code == 201
        server.stop()
    # the first request was never applied, the second was (its answer was lost), the third too
    from toloka_ext.testing import Sandbox

    with Sandbox(db_path=tmp_path / "f.db") as sb:
        assert sb.counters.received["createTasks"] == 3
        assert sb.counters.applied["createTasks"] == 2
        assert len(sb.tasks()) == 2


@pytest.mark.parametrize(("action", "applied"), [("kill_before", 0), ("kill_after", 1)])
def test_kill_switch_fault_stops_the_process(tmp_path: Path, action: str, applied: int) -> None:
    faults = FaultConfig(faults=[Fault(action, route="createTasks", on_nth=(1,))])  # type: ignore[arg-type]
    server = serve_in_background(faults=faults, db_path=tmp_path / "k.db")
    try:
        with httpx.Client(timeout=10) as http:
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                http.post(
                    f"{server.v1_base_url}/tasks", headers=server.auth_headers("v1"), json=[TASK]
                )
        assert server.process is not None and server.process.wait(10) == 17
    finally:
        server.stop()
    from toloka_ext.testing import Sandbox

    with Sandbox(db_path=tmp_path / "k.db") as sb:
        # kill_after: applied and persisted before the process died; kill_before: never applied
        assert len(sb.tasks()) == applied
        assert sb.counters.received["createTasks"] == 1
        assert sb.counters.applied["createTasks"] == applied


def test_served_rate_limit_headers() -> None:
    with (
        SandboxServer(faults=FaultConfig(requests_per_minute=1)) as server,
        httpx.Client(timeout=10) as http,
    ):
        codes = [
            http.get(f"{server.v1_base_url}/operations/x", headers=server.auth_headers("v1"))
            for _ in range(2)
        ]
    assert codes[0].status_code == 404
    assert codes[1].status_code == 429 and int(codes[1].headers["retry-after"]) >= 1
    assert codes[1].json()["payload"] == {"interval": "MIN"}
