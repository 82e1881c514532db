"""API v1 tasks and operations, in-process."""

from __future__ import annotations

import uuid

import pytest

from toloka_ext.testing import Sandbox

from .conftest import Api


def task(pool: str = "pool-1", **extra: object) -> dict[str, object]:
    return {"pool_id": pool, "input_values": {"image": "a.jpg"}, "overlap": 1, **extra}


def test_single_task_returns_the_task(api: Api, sandbox: Sandbox) -> None:
    r = api.v1("POST", "/tasks", json=task())
    assert r.status_code == 201
    body = r.json()
    assert body["pool_id"] == "pool-1" and body["overlap"] == 1 and body["id"]
    assert sandbox.tasks() == [body]
    assert sandbox.counters.tasks_created == 1


@pytest.mark.parametrize(
    ("bad", "path", "code"),
    [
        ({"pool_id": "pool-1", "overlap": 1}, "input_values", "VALUE_REQUIRED"),
        ({"input_values": {}, "overlap": 1}, "pool_id", "VALUE_REQUIRED"),
        (
            task(known_solutions=[{"output_values": {}, "correctness_weight": 1.5}]),
            "known_solutions[0].correctness_weight",
            "VALUE_GREATER_THAN_MAX",
        ),
        (
            task(baseline_solutions=[{"output_values": {}, "confidence_weight": -0.1}]),
            "baseline_solutions[0].confidence_weight",
            "VALUE_LESS_THAN_MIN",
        ),
        (
            task(known_solutions=[{"correctness_weight": 1}]),
            "known_solutions[0].output_values",
            "VALUE_REQUIRED",
        ),
        ({"pool_id": "pool-1", "input_values": {}}, "overlap", "VALUE_REQUIRED"),
        (task(overlap=0), "overlap", "VALUE_LESS_THAN_MIN"),
    ],
    ids=[
        "input_values",
        "pool_id",
        "correctness_weight",
        "confidence_weight",
        "output_values",
        "overlap-missing",
        "overlap-0",
    ],
)
def test_validation(
    api: Api, sandbox: Sandbox, bad: dict[str, object], path: str, code: str
) -> None:
    r = api.v1("POST", "/tasks", json=[task(), bad])
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "VALIDATION_ERROR" and body["request_id"]
    assert body["payload"]["1"][path]["code"] == code
    assert sandbox.tasks() == []  # nothing created


def test_overlap_defaults(api: Api, sandbox: Sandbox) -> None:
    no_overlap = {"pool_id": "pool-1", "input_values": {}}
    assert api.v1("POST", "/tasks", json=[no_overlap]).status_code == 400
    # allow_defaults with a pool default
    r = api.v1(
        "POST",
        "/tasks",
        json=[{**no_overlap, "pool_id": "pool-2", "overlap": 7}],
        params={"allow_defaults": "true"},
    )
    assert r.json()["items"]["0"]["overlap"] == 3
    # without allow_defaults, the task's own overlap wins; the pool default fills a gap
    r = api.v1(
        "POST",
        "/tasks",
        json=[
            {**no_overlap, "pool_id": "pool-2", "overlap": 7},
            {**no_overlap, "pool_id": "pool-2"},
        ],
    )
    assert [t["overlap"] for t in r.json()["items"].values()] == [7, 3]
    # infinite overlap needs no overlap
    r = api.v1("POST", "/tasks", json={**no_overlap, "infinite_overlap": True})
    assert r.status_code == 201 and r.json()["infinite_overlap"] is True


def test_baseline_not_allowed_in_task_suite_pools() -> None:
    sandbox = Sandbox(
        v1_pools={"suite": {"default_overlap": 1, "baseline_solutions_allowed": False}}
    )
    with sandbox.http_client() as http:
        r = http.post(
            f"{sandbox.v1_base_url}/tasks",
            headers=sandbox.auth_headers("v1"),
            json=task("suite", baseline_solutions=[{"output_values": {"r": 1}}]),
        )
    assert r.status_code == 400 and r.json()["code"] == "VALUE_NOT_ALLOWED"


def test_skip_invalid_items_by_position(api: Api, sandbox: Sandbox) -> None:
    r = api.v1(
        "POST",
        "/tasks",
        params={"skip_invalid_items": "true"},
        json=[task(), {"pool_id": "pool-1", "overlap": 1}, task(), task("nope")],
    )
    assert r.status_code == 201
    body = r.json()
    assert sorted(body["items"]) == ["0", "2"]
    assert body["validation_errors"]["1"]["input_values"]["code"] == "VALUE_REQUIRED"
    assert body["validation_errors"]["3"]["pool_id"]["code"] == "DOES_NOT_EXIST"
    assert len(sandbox.tasks()) == 2


def test_unknown_pool_is_404(api: Api) -> None:
    r = api.v1("POST", "/tasks", json=task("missing"))
    assert r.status_code == 404 and r.json()["code"] == "DOES_NOT_EXIST"


def test_sync_limit_5000(api: Api, sandbox: Sandbox) -> None:
    assert api.v1("POST", "/tasks", json=[task()] * 5001).status_code == 400
    assert sandbox.tasks() == []
    r = api.v1("POST", "/tasks", json=[task()] * 5000)
    assert r.status_code == 201 and len(r.json()["items"]) == 5000


def test_async_operation_lifecycle_and_log(api: Api, sandbox: Sandbox) -> None:
    op_id = str(uuid.uuid4())
    tasks = [task("pool-1"), {"pool_id": "pool-1", "input_values": {}}, task("pool-1")]
    r = api.v1(
        "POST",
        "/tasks",
        json=tasks,
        params={
            "async_mode": "true",
            "skip_invalid_items": "true",
            "open_pool": "true",
            "operation_id": op_id,
        },
    )
    assert r.status_code == 201
    op = r.json()
    assert op["id"] == op_id and op["status"] == "PENDING" and op["type"] == "TASK.BATCH_CREATE"
    assert sandbox.tasks() == []  # nothing yet
    statuses = [
        api.v1("GET", f"/operations/{op_id}").json() for _ in range(sandbox.operation_polls)
    ]
    assert [s["status"] for s in statuses] == ["RUNNING", "SUCCESS"]
    assert statuses[-1]["details"] == {
        "total_count": 3,
        "valid_count": 2,
        "not_valid_count": 1,
        "success_count": 2,
        "failed_count": 0,
    }
    log = api.v1("GET", f"/operations/{op_id}/log").json()
    created = [e["output"]["task_id"] for e in log if e["type"] == "TASK_CREATE"]
    assert created == [t["id"] for t in sandbox.tasks()]
    invalid = [e for e in log if e["type"] == "TASK_VALIDATE"]
    assert (
        invalid[0]["success"] is False
        and invalid[0]["output"]["overlap"]["code"] == "VALUE_REQUIRED"
    )
    assert sandbox.pool("pool-1")["status"] == "OPEN"  # type: ignore[index]


def test_the_log_echoes_each_task_as_sent_unknown_keys_included(api: Api, sandbox: Sandbox) -> None:
    """Toloka copies each task into its log entry as it was submitted; toloka-kit tags every
    task with a key of its own ("__item_idx") and matches the entries back by it."""
    sent = [
        {**task(), "__item_idx": "0"},
        {"pool_id": "pool-2", "input_values": {"image": "b.jpg"}, "__item_idx": "1"},  # default
        {"pool_id": "pool-1", "input_values": {}, "__item_idx": "2"},  # no overlap: invalid
    ]
    params = {"async_mode": "true", "skip_invalid_items": "true"}
    op_id = api.v1("POST", "/tasks", json=sent, params=params).json()["id"]
    for _ in range(sandbox.operation_polls):
        api.v1("GET", f"/operations/{op_id}")
    log = api.v1("GET", f"/operations/{op_id}/log").json()
    by_type = {e["input"]["__item_idx"]: (e["type"], e["input"]) for e in log}
    assert by_type == {
        "0": ("TASK_CREATE", sent[0]),
        "1": ("TASK_CREATE", sent[1]),  # as sent: no overlap filled in, nothing stored added
        "2": ("TASK_VALIDATE", sent[2]),
    }
    created = {e["input"]["__item_idx"]: e["output"]["task_id"] for e in log if e["success"]}
    stored = {t["id"]: t for t in sandbox.tasks()}
    assert stored[created["1"]]["overlap"] == 3 and "__item_idx" not in stored[created["1"]]


def test_async_without_skip_fails_and_creates_nothing(api: Api, sandbox: Sandbox) -> None:
    r = api.v1(
        "POST",
        "/tasks",
        json=[task(), {"pool_id": "pool-1", "input_values": {}}],
        params={"async_mode": "true"},
    )
    op_id = r.json()["id"]
    final = [api.v1("GET", f"/operations/{op_id}").json() for _ in range(2)][-1]
    assert final["status"] == "FAIL" and sandbox.tasks() == []
    assert sandbox.pool("pool-1")["status"] == "CLOSED"  # type: ignore[index]


def test_known_operation_id_conflicts_and_creates_nothing_more(api: Api, sandbox: Sandbox) -> None:
    op_id = str(uuid.uuid4())
    params = {"async_mode": "true", "operation_id": op_id}
    first = api.v1("POST", "/tasks", json=[task()], params=params)
    assert first.status_code == 201 and first.json()["id"] == op_id
    for when in ("pending", "finished"):
        again = api.v1("POST", "/tasks", json=[task(), task()], params=params)
        assert again.status_code == 409, when
        body = again.json()
        assert body["code"] == "OPERATION_ALREADY_EXISTS" and op_id in body["message"]
        assert body["request_id"]
        for _ in range(3):
            api.v1("GET", f"/operations/{op_id}")
    final = api.v1("GET", f"/operations/{op_id}").json()
    assert final["status"] == "SUCCESS" and final["details"]["total_count"] == 1
    assert len(sandbox.tasks()) == 1 and sandbox.counters.tasks_created == 1
    assert sandbox.counters.applied["createTasks"] == 1
    assert (
        api.v1(
            "POST", "/tasks", json=[task()], params={"async_mode": "true", "operation_id": "x"}
        ).status_code
        == 400
    )


def test_unknown_operation(api: Api) -> None:
    r = api.v1("GET", f"/operations/{uuid.uuid4()}")
    assert r.status_code == 404 and r.json()["code"] == "DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("OAuth bad", 401), ("OAuth sandbox-token", 200), ("ApiKey sandbox-key", 200)],
)
def test_v1_auth(sandbox: Sandbox, header: str | None, status: int) -> None:
    headers = {"Authorization": header} if header else {}
    with sandbox.http_client() as http:
        r = http.get(f"{sandbox.v1_base_url}/operations/{uuid.uuid4()}", headers=headers)
    assert r.status_code == (404 if status == 200 else status)
    if status != 200:
        assert r.json()["code"] == "AUTHENTICATION_ERROR" and r.json()["request_id"]


def test_archived_pool_conflicts() -> None:
    sandbox = Sandbox(v1_pools={"old": {"default_overlap": 1, "status": "ARCHIVED"}})
    with sandbox.http_client() as http:
        r = http.post(
            f"{sandbox.v1_base_url}/tasks", headers=sandbox.auth_headers("v1"), json=task("old")
        )
    assert r.status_code == 409 and r.json()["code"] == "INAPPROPRIATE_STATUS"


def test_empty_array_creates_nothing(api: Api, sandbox: Sandbox) -> None:
    # The contract sets no minItems: an empty batch is valid and creates no task.
    r = api.v1("POST", "/tasks", json=[], params={"skip_invalid_items": "true"})
    assert r.status_code == 201
    assert r.json() == {"items": {}, "validation_errors": {}}
    op = api.v1("POST", "/tasks", json=[], params={"async_mode": "true"}).json()
    final = [api.v1("GET", f"/operations/{op['id']}").json() for _ in range(2)][-1]
    assert final["status"] == "SUCCESS" and final["details"]["total_count"] == 0
    assert sandbox.tasks() == [] and sandbox.counters.tasks_created == 0
