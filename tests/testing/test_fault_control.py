"""Faults that script the answer (status, code, payload, headers, raw bodies), gateway answers
after the work was done, simulated client crashes, and spent upload URLs."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from toloka_ext.testing import (
    Fault,
    FaultConfig,
    ManualClock,
    Sandbox,
    SandboxServer,
    SimulatedCrash,
)
from toloka_ext.testing._server import faults_from_json, faults_to_json

TASK = {"pool_id": "pool-1", "input_values": {"x": 1}, "overlap": 1}


def _post_tasks(sb: Sandbox, http: httpx.Client, **params: str) -> httpx.Response:
    return http.post(
        f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK], params=params
    )


def test_scripted_answers_per_request_number(clock: ManualClock) -> None:
    faults = [
        Fault("status", status=503, route="createTasks", on_nth=(1,)),
        Fault(
            "status",
            status=429,
            route="createTasks",
            on_nth=(2,),
            payload={"interval": "DAY"},
            headers={"Retry-After": "7", "X-Quota": "day"},
        ),
        Fault(
            "status",
            status=409,
            route="createTasks",
            on_nth=(3,),
            code="CONFLICT_STATE",
            message="Scripted conflict",
            payload={"why": "test"},
        ),
    ]
    sb = Sandbox(clock=clock, faults=FaultConfig(faults=faults))
    with sb.http_client() as http:
        got = [_post_tasks(sb, http) for _ in range(4)]
    assert [r.status_code for r in got] == [503, 429, 409, 201]
    unavailable, quota, conflict, _ = (r.json() for r in got)
    assert unavailable["code"] == "REMOTE_SERVICE_UNAVAILABLE" and unavailable["request_id"]
    assert quota["payload"] == {"interval": "DAY"} and quota["code"] == "TOO_MANY_REQUESTS"
    assert got[1].headers["retry-after"] == "7" and got[1].headers["x-quota"] == "day"
    assert conflict == {
        "request_id": conflict["request_id"],
        "code": "CONFLICT_STATE",
        "message": "Scripted conflict",
        "payload": {"why": "test"},
    }
    assert "retry-after" not in got[0].headers  # only 429 gets one unasked
    assert sb.counters.received["createTasks"] == 4 and sb.counters.applied["createTasks"] == 1
    assert len(sb.tasks()) == 1


def test_v2_fault_body_carries_the_payload_as_details(sandbox: Sandbox) -> None:
    sandbox.faults = FaultConfig(
        faults=[Fault(status=503, route="getMe", on_nth=(1,), retry_after=5, payload={"a": 1})]
    )
    with sandbox.http_client() as http:
        r = http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
    body = r.json()
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert body["code"] == "SERVICE_UNAVAILABLE" and body["details"] == {"a": 1}
    assert body["requestId"] == r.headers["x-request-id"]


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_answers_are_html_not_api_errors(clock: ManualClock, status: int) -> None:
    faults = [
        Fault("status", status=status, route="createTasks", on_nth=(1,)),
        Fault("status", status=status, route="createTasks", on_nth=(2,), body=b""),
    ]
    sb = Sandbox(clock=clock, faults=FaultConfig(faults=faults))
    with sb.http_client() as http:
        page, empty = _post_tasks(sb, http), _post_tasks(sb, http)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<html>") and str(status) in page.text
    assert "x-request-id" not in page.headers  # not the API's answer
    with pytest.raises(ValueError):
        page.json()
    assert empty.status_code == status and empty.content == b""
    assert sb.tasks() == [] and sb.counters.applied["createTasks"] == 0


@pytest.mark.parametrize("status", [502, 504])
def test_status_after_applies_then_answers_like_a_gateway(clock: ManualClock, status: int) -> None:
    op_id = str(uuid.uuid4())
    faults = [Fault("status_after", status=status, route="createTasks", on_nth=(1,))]
    sb = Sandbox(clock=clock, faults=FaultConfig(faults=faults))
    with sb.http_client() as http:
        first = _post_tasks(sb, http, async_mode="true", operation_id=op_id)
        retry = _post_tasks(sb, http, async_mode="true", operation_id=op_id)
        assert first.status_code == status and first.text.startswith("<html>")
        # the operation was created behind the gateway: the retry is told so
        assert retry.status_code == 409 and retry.json()["code"] == "OPERATION_ALREADY_EXISTS"
        for _ in range(2):
            http.get(f"{sb.v1_base_url}/operations/{op_id}", headers=sb.auth_headers("v1"))
    assert sb.counters.applied["createTasks"] == 1 and sb.counters.tasks_created == 1


def test_raw_body_with_any_status(sandbox: Sandbox) -> None:
    sandbox.faults = FaultConfig(
        faults=[Fault(status=201, route="createTasks", on_nth=(1,), body="<html>proxy page</html>")]
    )
    with sandbox.http_client() as http:
        r = _post_tasks(sandbox, http)
    assert r.status_code == 201 and r.text == "<html>proxy page</html>"
    assert sandbox.tasks() == []  # a "status" fault never applies the request


def test_assigning_faults_counts_afresh(sandbox: Sandbox) -> None:
    with sandbox.http_client() as http:
        for _ in range(3):
            assert _post_tasks(sandbox, http).status_code == 201
        sandbox.faults = FaultConfig(faults=[Fault(status=500, route="createTasks", on_nth=(2,))])
        assert [_post_tasks(sandbox, http).status_code for _ in range(3)] == [201, 500, 201]
    assert sandbox.faults.faults[0].status == 500


def test_fault_options_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown fault action"):
        Fault("explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="HTTP status"):
        Fault(status=42)


# -- simulated client crashes -------------------------------------------------------------


def test_crash_before_raises_and_applies_nothing(clock: ManualClock) -> None:
    sb = Sandbox(
        clock=clock,
        faults=FaultConfig(faults=[Fault("crash_before", route="createTasks", on_nth=(1,))]),
    )
    with sb.http_client() as http:
        with pytest.raises(SimulatedCrash, match="crash_before on createTasks"):
            _post_tasks(sb, http)
        assert sb.tasks() == []
        assert sb.counters.received["createTasks"] == 1 and sb.counters.applied["createTasks"] == 0
        assert _post_tasks(sb, http).status_code == 201  # the next run goes through


def test_a_refusal_is_lost_like_any_other_answer(clock: ManualClock) -> None:
    """``reset_after`` drops the answer the sandbox produced, a refusal included."""
    sb = Sandbox(
        clock=clock,
        faults=FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))]),
    )
    bad = {**TASK, "pool_id": "no-such-pool"}
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadError):
            http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=bad)
        answer = http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=bad)
    assert answer.status_code == 404  # the same refusal, this time delivered
    assert sb.counters.received["createTasks"] == 2 and sb.counters.applied["createTasks"] == 0


def test_crash_after_raises_once_the_request_was_applied(clock: ManualClock) -> None:
    # route=None counts every request: crash after the 3rd one, whatever it is
    sb = Sandbox(clock=clock, faults=FaultConfig(faults=[Fault("crash_after", on_nth=(3,))]))
    with sb.http_client() as http:
        h = sb.auth_headers()
        http.get(f"{sb.v2_base_url}/me", headers=h)
        http.get(f"{sb.v2_base_url}/projects", headers=h)
        with pytest.raises(SimulatedCrash):
            http.post(f"{sb.v2_base_url}/projects", headers=h, json={"name": "kept"})
    assert sb.counters.applied["createProject"] == 1
    assert [p["name"] for p in sb.backend.all("project")] == ["Sandbox project", "kept"]


def test_a_crash_is_not_an_exception_the_code_under_test_can_swallow(sandbox: Sandbox) -> None:
    sandbox.faults = FaultConfig(faults=[Fault("crash_after", route="getMe", on_nth=(1,))])
    assert issubclass(SimulatedCrash, BaseException)
    assert not issubclass(SimulatedCrash, Exception)

    def careless() -> str:
        try:
            with sandbox.http_client() as http:
                http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
        except Exception:  # noqa: BLE001 - what careless code does
            return "swallowed"
        return "answered"

    with pytest.raises(SimulatedCrash):
        careless()


@pytest.mark.anyio
async def test_crash_in_the_async_transport(sandbox: Sandbox) -> None:
    sandbox.faults = FaultConfig(faults=[Fault("crash_after", route="createProject", on_nth=(1,))])
    async with sandbox.async_http_client() as http:
        with pytest.raises(SimulatedCrash):
            await http.post(
                f"{sandbox.v2_base_url}/projects",
                headers=sandbox.auth_headers(),
                json={"name": "a"},
            )
    assert sandbox.counters.applied["createProject"] == 1


def test_served_crashes_behave_like_resets(tmp_path: Path) -> None:
    faults = FaultConfig(
        faults=[
            Fault("crash_before", route="createTasks", on_nth=(1,)),
            Fault("crash_after", route="createTasks", on_nth=(2,)),
        ]
    )
    with (
        SandboxServer(faults=faults, db_path=tmp_path / "c.db") as server,
        httpx.Client(timeout=10) as http,
    ):
        url, h1 = f"{server.v1_base_url}/tasks", server.auth_headers("v1")
        for _ in range(2):
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                http.post(url, headers=h1, json=[TASK])
        assert server.running  # the server is not the one that crashed
        server.stop()
    with Sandbox(db_path=tmp_path / "c.db") as sb:
        assert sb.counters.received["createTasks"] == 2
        assert sb.counters.applied["createTasks"] == 1 and len(sb.tasks()) == 1


# -- the one-time upload URL ---------------------------------------------------------------


def _upload(sb: Sandbox, http: httpx.Client) -> tuple[str, dict[str, str]]:
    h = sb.auth_headers()
    ds = http.post(f"{sb.v2_base_url}/projects/prj-1/datasets", headers=h, json={"name": "d"})
    up = http.post(f"{sb.v2_base_url}/datasets/{ds.json()['id']}/uploads", headers=h).json()
    return ds.json()["id"], up


@pytest.mark.parametrize(
    ("action", "raised"),
    [("reset_before", httpx.ReadError), ("crash_before", SimulatedCrash)],
)
def test_a_put_lost_at_the_start_spends_the_url_and_stores_nothing(
    clock: ManualClock, action: str, raised: type[BaseException]
) -> None:
    faults = FaultConfig(faults=[Fault(action, route="storagePut", on_nth=(1,))])  # type: ignore[arg-type]
    sb = Sandbox(clock=clock, faults=faults)
    with sb.http_client() as http:
        h = sb.auth_headers()
        ds, up = _upload(sb, http)
        with pytest.raises(raised):
            http.put(up["uploadUrl"], content=b'[{"a": 1}]')
        again = http.put(up["uploadUrl"], content=b'[{"a": 1}]')
        assert again.status_code == 403 and b"already used" in again.content
        finalize = http.post(f"{sb.v2_base_url}/uploads/{up['id']}/finalize", headers=h)
        assert finalize.status_code == 409 and "no bytes" in finalize.json()["message"]
        assert sb.counters.applied["storagePut"] == 0
        # the way out: a new upload
        up2 = http.post(f"{sb.v2_base_url}/datasets/{ds}/uploads", headers=h).json()
        assert http.put(up2["uploadUrl"], content=b'[{"a": 1}]').status_code == 200
        assert http.post(f"{sb.v2_base_url}/uploads/{up2['id']}/finalize", headers=h).is_success
    assert sb.counters.applied["storagePut"] == 1


def test_a_refused_put_spends_nothing(clock: ManualClock) -> None:
    faults = FaultConfig(faults=[Fault("reset_before", route="storagePut", on_nth=(1,))])
    sb = Sandbox(clock=clock, faults=faults)
    with sb.http_client() as http:
        _, up = _upload(sb, http)
        bad = httpx.URL(up["uploadUrl"]).copy_set_param("token", "guess")
        with pytest.raises(httpx.ReadError):
            http.put(bad, content=b"[]")  # a wrong token: the storage had nothing to consume
        assert http.put(up["uploadUrl"], content=b"[]").status_code == 200


@pytest.mark.parametrize("status", [503, 504])
def test_storage_status_faults(clock: ManualClock, status: int) -> None:
    faults = FaultConfig(faults=[Fault(status=status, route="storagePut", on_nth=(1,))])
    sb = Sandbox(clock=clock, faults=faults)
    with sb.http_client() as http:
        _, up = _upload(sb, http)
        r = http.put(up["uploadUrl"], content=b"[]")
        assert r.status_code == status
        kind = "application/xml" if status == 503 else "text/html"
        assert r.headers["content-type"].startswith(kind)
        assert http.put(up["uploadUrl"], content=b"[]").status_code == 200  # not spent


def test_served_put_lost_at_the_start_spends_the_url() -> None:
    faults = FaultConfig(faults=[Fault("reset_before", route="storagePut", on_nth=(1,))])
    with SandboxServer(faults=faults) as server, httpx.Client(timeout=10) as http:
        h = server.auth_headers()
        ds = http.post(
            f"{server.v2_base_url}/projects/prj-1/datasets", headers=h, json={"name": "d"}
        )
        up = http.post(f"{server.v2_base_url}/datasets/{ds.json()['id']}/uploads", headers=h).json()
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            http.put(up["uploadUrl"], content=b"[]")
        assert http.put(up["uploadUrl"], content=b"[]").status_code == 403


# -- faults travel to a served sandbox ------------------------------------------------------


def test_faults_round_trip_through_json() -> None:
    config = FaultConfig(
        faults=[
            Fault(
                "status",
                status=429,
                route="createTasks",
                on_nth=(2, 3),
                payload={"interval": "DAY"},
            ),
            Fault("status_after", status=502, body=b"\x00<html>", headers={"X-A": "1"}),
            Fault("crash_after", rate=0.5, code="C", message="m", retry_after=3),
        ],
        latency=0.1,
        tasks_per_day=5,
    )
    assert faults_from_json(faults_to_json(config)) == config


def test_served_scripted_answers() -> None:
    faults = FaultConfig(
        faults=[
            Fault(
                status=429,
                route="createTasks",
                on_nth=(1,),
                payload={"interval": "DAY"},
                retry_after=9,
            ),
            Fault(status=502, route="createTasks", on_nth=(2,)),
        ]
    )
    with SandboxServer(faults=faults) as server, httpx.Client(timeout=10) as http:
        url, h1 = f"{server.v1_base_url}/tasks", server.auth_headers("v1")
        quota, gateway, ok = (http.post(url, headers=h1, json=[TASK]) for _ in range(3))
    assert quota.status_code == 429 and quota.headers["retry-after"] == "9"
    assert quota.json()["payload"] == {"interval": "DAY"}
    assert gateway.status_code == 502 and gateway.text.startswith("<html>")
    assert ok.status_code == 201
