"""Faults, latency and rate limits (in-process; the served twin is in test_served.py)."""

from __future__ import annotations

import httpx
import pytest

from toloka_ext.testing import Fault, FaultConfig, ManualClock, Sandbox

TASK = {"pool_id": "pool-1", "input_values": {"x": 1}, "overlap": 1}


def _sandbox(clock: ManualClock, **faults: object) -> Sandbox:
    return Sandbox(clock=clock, faults=FaultConfig(**faults))  # type: ignore[arg-type]


def test_reset_before_apply_creates_nothing(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("reset_before", route="createTasks", on_nth=(1,))])
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadError):
            http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK])
        assert sb.tasks() == []
        assert sb.counters.received["createTasks"] == 1 and sb.counters.applied["createTasks"] == 0
        ok = http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK])
    assert ok.status_code == 201 and len(sb.tasks()) == 1


def test_reset_after_apply_created_once_then_retry_duplicates(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadError):
            http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK])
        assert len(sb.tasks()) == 1  # applied although the client saw no answer
        assert sb.counters.applied["createTasks"] == 1
        http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK])
    assert sb.counters.tasks_created == 2  # a naive retry duplicates: what clients must avoid


def test_reset_after_apply_with_operation_id_is_safe(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    params = {"async_mode": "true", "operation_id": "6d9e5b1a-7c1f-4c3e-9a55-2f0e8d4b1c11"}
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadError):
            http.post(
                f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK], params=params
            )
        r = http.post(
            f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK], params=params
        )
        # The retry is told the operation exists; the client then reads that operation.
        assert r.status_code == 409 and r.json()["code"] == "OPERATION_ALREADY_EXISTS"
        for _ in range(2):
            op = http.get(
                f"{sb.v1_base_url}/operations/{params['operation_id']}",
                headers=sb.auth_headers("v1"),
            )
    assert op.json()["status"] == "SUCCESS"
    assert sb.counters.received["createTasks"] == 2 and sb.counters.tasks_created == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_status_on_nth_request(clock: ManualClock, status: int) -> None:
    sb = _sandbox(clock, faults=[Fault("status", status=status, route="listProjects", on_nth=(2,))])
    with sb.http_client() as http:
        got = [http.get(f"{sb.v2_base_url}/projects", headers=sb.auth_headers()) for _ in range(3)]
    assert [r.status_code for r in got] == [200, status, 200]
    assert got[1].json()["message"] and got[1].json()["code"]
    if status == 429:
        assert got[1].headers["retry-after"] == "1"
    assert sb.counters.received["listProjects"] == 3 and sb.counters.applied["listProjects"] == 2


def test_fault_rates_are_seeded(clock: ManualClock) -> None:
    def pattern(seed: int) -> list[int]:
        sb = Sandbox(
            clock=clock,
            seed=seed,
            faults=FaultConfig(faults=[Fault("status", status=503, rate=0.3)]),
        )
        with sb.http_client() as http:
            return [
                http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers()).status_code
                for _ in range(40)
            ]

    first = pattern(1)
    assert first == pattern(1)
    assert 503 in first and 200 in first
    assert first != pattern(2)


def test_request_rate_limit(clock: ManualClock) -> None:
    sb = _sandbox(clock, requests_per_minute=2)
    with sb.http_client() as http:
        codes = [
            http.get(f"{sb.v1_base_url}/operations/x", headers=sb.auth_headers("v1"))
            for _ in range(3)
        ]
        assert [r.status_code for r in codes] == [404, 404, 429]
        limited = codes[2]
        assert (
            limited.json()["payload"] == {"interval": "MIN"}
            and limited.json()["code"] == "TOO_MANY_REQUESTS"
        )
        assert int(limited.headers["retry-after"]) == 60
        v2 = http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers())
        assert v2.status_code == 429 and v2.json()["code"] == "TOO_MANY_REQUESTS"
        clock.advance(60)
        assert http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers()).status_code == 200


def test_task_rate_limit(clock: ManualClock) -> None:
    sb = _sandbox(clock, tasks_per_minute=3, tasks_per_day=5)
    with sb.http_client() as http:

        def post(n: int) -> httpx.Response:
            return http.post(
                f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[TASK] * n
            )

        assert post(3).status_code == 201
        minute = post(1)
        assert minute.status_code == 429 and minute.json()["payload"]["interval"] == "MIN"
        clock.advance(30)
        assert int(post(1).headers["retry-after"]) == 30
        clock.advance(30)
        assert post(2).status_code == 201
        day = post(1)
        assert day.status_code == 429 and day.json()["payload"]["interval"] == "DAY"
    assert sb.counters.tasks_created == 5


def test_latency_is_reported(clock: ManualClock) -> None:
    sb = _sandbox(clock, latency=0.25)
    response = sb.handle("GET", f"{sb.v2_base_url}/me", {"Authorization": "ApiKey sandbox-key"})
    assert response.status == 200 and response.delay == 0.25


def test_storage_faults_and_counters(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("reset_after", route="storagePut", on_nth=(1,))])
    with sb.http_client() as http:
        h = sb.auth_headers()
        ds = http.post(
            f"{sb.v2_base_url}/projects/prj-1/datasets", headers=h, json={"name": "d"}
        ).json()
        up = http.post(f"{sb.v2_base_url}/datasets/{ds['id']}/uploads", headers=h).json()
        with pytest.raises(httpx.ReadError):
            http.put(up["uploadUrl"], content=b'[{"a": 1}]')
        # the bytes were stored: finalize works although the PUT "failed"
        assert (
            http.post(f"{sb.v2_base_url}/uploads/{up['id']}/finalize", headers=h).status_code == 200
        )
    assert sb.counters.applied["storagePut"] == 1


def test_late_apply_holds_the_request_until_its_delay_has_passed(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("late_apply", route="createTasks", on_nth=(1,), delay=30)])
    url, auth = f"{sb.v1_base_url}/tasks", sb.auth_headers("v1")
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(url, headers=auth, json=[TASK])
        assert sb.tasks() == [] and sb.held == 1
        clock.advance(29)
        http.get(url, headers=auth, params={"pool_id": "pool-1"})
        assert sb.tasks() == [] and sb.held == 1  # not due yet
        clock.advance(1)
        listed = http.get(url, headers=auth, params={"pool_id": "pool-1"})
    # Applied before the next request is answered: that request already sees it.
    assert [t["input_values"] for t in listed.json()["items"]] == [{"x": 1}]
    assert sb.held == 0 and sb.counters.applied["createTasks"] == 1


def test_apply_late_applies_what_is_held_on_demand(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("late_apply", route="createTasks", rate=1.0, delay=300)])
    url, auth = f"{sb.v1_base_url}/tasks", sb.auth_headers("v1")
    with sb.http_client() as http:
        for _ in range(3):
            with pytest.raises(httpx.ReadTimeout):
                http.post(url, headers=auth, json=[TASK])
    assert sb.apply_late() == 0 and sb.held == 3  # nothing due yet
    assert sb.apply_late(everything=True) == 3
    assert len(sb.tasks()) == 3 and sb.held == 0


def test_a_held_request_refused_when_it_runs_applies_nothing(clock: ManualClock) -> None:
    sb = _sandbox(clock, faults=[Fault("late_apply", route="createTasks", on_nth=(1,), delay=1)])
    with sb.http_client() as http:
        with pytest.raises(httpx.ReadTimeout):
            http.post(f"{sb.v1_base_url}/tasks", headers=sb.auth_headers("v1"), json=[{"x": 1}])
    assert sb.apply_late(everything=True) == 1
    assert sb.tasks() == [] and sb.counters.applied["createTasks"] == 0


def test_late_apply_delay_must_be_seconds() -> None:
    with pytest.raises(ValueError, match="delay"):
        Fault("late_apply", delay=-1)
