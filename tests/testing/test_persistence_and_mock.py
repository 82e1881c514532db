"""SQLite persistence in-process, reset(), mock_toloka and the transport flavours."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from toloka_ext.testing import ManualClock, Sandbox, current_sandbox, mock_toloka


def test_restart_on_same_file_keeps_everything(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    clock = ManualClock()
    with Sandbox(db_path=db, clock=clock) as sb, sb.http_client() as http:
        h = sb.auth_headers()
        ds = http.post(
            f"{sb.v2_base_url}/projects/prj-1/datasets", headers=h, json={"name": "d"}
        ).json()
        http.post(
            f"{sb.v2_base_url}/datasets/{ds['id']}/items",
            headers=h,
            json={"items": [{"a": 1}, {"a": 2}]},
        )
        up = http.post(f"{sb.v2_base_url}/datasets/{ds['id']}/uploads", headers=h).json()
        http.put(up["uploadUrl"], content=b'[{"a": 3}]')
        http.post(f"{sb.v2_base_url}/uploads/{up['id']}/finalize", headers=h)
        http.post(
            f"{sb.v2_base_url}/pipelines/pl-1/dataset", headers=h, json={"datasetId": ds["id"]}
        )
        run = http.post(f"{sb.v2_base_url}/pipelines/pl-1/runs", headers=h).json()
        http.get(f"{sb.v2_base_url}/runs/{run['id']}", headers=h)  # one step of three
        http.post(
            f"{sb.v1_base_url}/tasks",
            headers=sb.auth_headers("v1"),
            json=[{"pool_id": "pool-2", "input_values": {}}],
        )
    with Sandbox(db_path=db, clock=clock) as sb, sb.http_client() as http:
        h = sb.auth_headers()
        assert [
            u["status"]
            for u in [http.get(f"{sb.v2_base_url}/uploads/{up['id']}", headers=h).json()]
        ] == ["processing"]
        assert (
            http.get(f"{sb.v2_base_url}/uploads/{up['id']}", headers=h).json()["status"]
            == "succeeded"
        )
        statuses = [
            http.get(f"{sb.v2_base_url}/runs/{run['id']}", headers=h).json()["status"]
            for _ in range(2)
        ]
        assert statuses == ["running", "completed"]
        assert len(sb.dataset_rows(ds["id"])) == 3
        assert len(sb.tasks()) == 1 and sb.counters.tasks_created == 1
        assert sb.counters.applied["startRun"] == 1


def test_reset_forgets_state(sandbox: Sandbox) -> None:
    with sandbox.http_client() as http:
        http.post(
            f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers(), json={"name": "x"}
        )
        sandbox.reset()
        projects = http.get(
            f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers()
        ).json()
    assert [p["id"] for p in projects["projects"]] == ["prj-1"]
    assert sandbox.counters.received["createProject"] == 0


def test_storage_origin_must_differ() -> None:
    with pytest.raises(ValueError):
        Sandbox(api_base="http://a:1", storage_base="http://a:1")


def test_mock_toloka_routes_real_hosts_and_nests() -> None:
    with mock_toloka(seed=3) as outer:
        r = httpx.get(
            "https://platform.toloka.ai/api/v2-beta/projects", headers=outer.auth_headers()
        )
        assert r.status_code == 200 and r.json()["projects"][0]["id"] == "prj-1"
        with mock_toloka() as inner:
            assert inner is outer is current_sandbox()
            httpx.post(
                "https://toloka.dev/api/v1/tasks",
                headers=inner.auth_headers("v1"),
                json={"pool_id": "pool-2", "input_values": {}},
            )
        assert current_sandbox() is outer and len(outer.tasks()) == 1
    with pytest.raises(RuntimeError):
        current_sandbox()


def test_mock_toloka_decorator_gives_fresh_state() -> None:
    @mock_toloka()
    def create() -> int:
        sb = current_sandbox()
        httpx.post(f"{sb.v2_base_url}/projects", headers=sb.auth_headers(), json={"name": "p"})
        return len(
            httpx.get(f"{sb.v2_base_url}/projects", headers=sb.auth_headers()).json()["projects"]
        )

    assert create() == 2
    assert create() == 2


@pytest.mark.anyio
async def test_mock_toloka_async_decorator() -> None:
    @mock_toloka()
    async def me() -> int:
        async with httpx.AsyncClient() as http:
            r = await http.get(
                "https://platform.toloka.ai/api/v2-beta/me",
                headers=current_sandbox().auth_headers(),
            )
        return r.status_code

    assert await me() == 200


def test_mock_transport_flavour(sandbox: Sandbox) -> None:
    with httpx.Client(transport=sandbox.mock_transport()) as http:
        assert (
            http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers()).status_code == 200
        )


@pytest.mark.anyio
async def test_asgi_app_in_process(sandbox: Sandbox) -> None:
    transport = httpx.ASGITransport(app=sandbox.asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.get("/api/v2-beta/projects", headers=sandbox.auth_headers())
        assert r.status_code == 200 and r.json()["pagination"]["total"] == 1
        assert (await client.get("/api/v1/operations/x")).status_code == 401
