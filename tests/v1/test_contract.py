"""Every request shape the v1 layer sends is accepted by Prism serving openapi/v1.yaml."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import toloka_ext as tx
from toloka_ext import PollPolicy, Task, Toloka
from toloka_ext.types import BaselineSolution, KnownSolution

pytestmark = pytest.mark.prism


def _prefer(request: httpx.Request) -> None:
    """Pick the contract example that fits what the layer asked for."""
    if "Prefer" in request.headers:
        return
    params = request.url.params
    if request.method == "POST" and request.url.path.endswith("/tasks"):
        if params.get("async_mode") == "true":
            request.headers["Prefer"] = "example=async_operation"
        elif request.content.startswith(b"{"):
            request.headers["Prefer"] = "example=single"
        elif params.get("skip_invalid_items") == "true":
            request.headers["Prefer"] = "example=batch_with_errors"
        else:
            request.headers["Prefer"] = "example=batch"
    elif request.method == "GET" and request.url.path.endswith("/log"):
        request.headers["Prefer"] = "example=mixed"
    elif request.method == "GET":
        request.headers["Prefer"] = "example=success"


@pytest.fixture
def client(prism_v1: Any, violations: Any) -> Iterator[Toloka]:
    http = httpx.Client(event_hooks={"request": [_prefer], "response": [violations.hook]})
    with Toloka(
        oauth_token="contract-test",
        v1_base_url=prism_v1.url,
        max_retries=0,
        poll_policy=PollPolicy(interval=0, timeout=30),
        http_client=http,
    ) as c:
        yield c
    http.close()


def _full_task(i: int) -> Task:
    return Task(
        "1",
        {"image_url": f"https://example.com/images/cat-{i:02d}.jpg"},
        known_solutions=[KnownSolution(output_values={"result": "OK"}, correctness_weight=0.5)],
        baseline_solutions=[
            BaselineSolution(output_values={"result": "OK"}, confidence_weight=0.9)
        ],
        message_on_unknown_solution="hint",
        overlap=3,
        infinite_overlap=False,
        reserved_for=["w1"],
        unavailable_for=["w2"],
        origin_task_id="00001a2b3c--6000",
    )


def test_single_task_every_option(client: Toloka, violations: Any) -> None:
    created = client.tasks.create_task(_full_task(1), allow_defaults=True, open_pool=True)
    assert created.id == "00001a2b3c--6001"
    created = client.tasks.create_task({"pool_id": "1", "input_values": {"x": 1}, "overlap": 1})
    assert created.id
    violations.assert_none()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"allow_defaults": True},
        {"skip_invalid_items": True},
        {"open_pool": True},
        {"allow_defaults": True, "skip_invalid_items": True, "open_pool": True},
    ],
    ids=["plain", "allow_defaults", "skip_invalid_items", "open_pool", "all"],
)
def test_sync_batch(client: Toloka, violations: Any, options: dict[str, Any]) -> None:
    result = client.tasks.create_tasks(
        (_full_task(i) for i in range(7)),
        chunk_size=4,
        resolve_unknown=False,  # the mock's canned answers cannot be read back
        raise_on_unknown=False,
        **options,
    )
    # The mock answers every chunk with the same 3-position example, remapped per chunk.
    if options.get("skip_invalid_items"):
        assert sorted(result.task_ids) == [0, 2, 4, 6]
        assert sorted(result.errors) == [1, 5]
        assert result.errors[5]["input_values.image_url"].code == "VALUE_REQUIRED"
    else:
        assert sorted(result.task_ids) == [0, 1, 2, 4, 5, 6]
    assert result.unknown == [range(3, 4)]  # the example does not mention position 3
    assert result.total == 7
    violations.assert_none()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"operation_id": uuid.uuid4()},
        {
            "allow_defaults": True,
            "skip_invalid_items": True,
            "open_pool": True,
            "operation_id": str(uuid.uuid4()),
        },
    ],
    ids=["plain", "operation_id", "all"],
)
def test_async_batch(client: Toloka, violations: Any, options: dict[str, Any]) -> None:
    tasks = [
        {
            "pool_id": "1",
            "input_values": {"image_url": "https://example.com/images/cat-01.jpg"},
            "overlap": 3,
        },
        {"pool_id": "1", "input_values": {}, "overlap": 3},
    ]
    result = client.tasks.create_tasks(tasks * 2, async_mode=True, chunk_size=2, **options)
    assert [op.status for op in result.operations] == ["SUCCESS", "SUCCESS"]
    assert result.task_ids == {0: "00001a2b3c--6001", 2: "00001a2b3c--6001"}
    assert set(result.errors) == {1, 3}
    violations.assert_none()


def test_operation_endpoints(client: Toloka, violations: Any) -> None:
    op = client.operations.get("6d9e5b1a-7c1f-4c3e-9a55-2f0e8d4b1c11")
    assert op.details["success_count"] == 2
    log = client.operations.get_log(op.id)
    assert [item.type for item in log] == ["TASK_CREATE", "TASK_VALIDATE"]
    assert client.operations.wait(op.id).succeeded
    violations.assert_none()


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400, tx.BadRequestError),
        (403, tx.PermissionDeniedError),
        (404, tx.NotFoundError),
        (409, tx.ConflictError),
        (429, tx.RateLimitError),
        (500, tx.InternalServerError),
        (503, tx.InternalServerError),
    ],
    ids=str,
)
def test_documented_errors_map_to_typed_exceptions(
    client: Toloka, code: int, cls: type[tx.APIStatusError]
) -> None:
    with pytest.raises(cls) as err:
        client._core.request(
            "v1",
            "POST",
            "/tasks",
            json=[{"pool_id": "1", "input_values": {}}],
            headers={"Prefer": f"code={code}"},
            # A 5xx to a create is "outcome unknown" (below); as a status it maps when the
            # request may be re-sent (async creates carry their operation id).
            idempotent=code >= 500,
        )
    assert err.value.code and err.value.request_id
    assert "contract-test" not in str(err.value)


@pytest.mark.parametrize("code", [500, 503])
def test_a_documented_5xx_to_a_create_is_outcome_unknown(client: Toloka, code: int) -> None:
    with pytest.raises(tx.OutcomeUnknownError) as err:
        client._core.request(
            "v1",
            "POST",
            "/tasks",
            json=[{"pool_id": "1", "input_values": {}}],
            headers={"Prefer": f"code={code}"},
        )
    assert err.value.status_code == code and err.value.response is not None
    assert err.value.response.json()["code"]  # the documented error body, kept


def test_violation_hook_is_not_vacuous(client: Toloka, violations: Any) -> None:
    with pytest.raises(tx.APIStatusError):
        client._core.request("v1", "POST", "/tasks", json=[{"pool_id": 1, "overlap": 0}])
    assert violations.seen, "Prism should flag a task without input_values"
    violations.seen.clear()


@pytest.mark.anyio
async def test_async_client_sends_the_same_shapes(prism_v1: Any, violations: Any) -> None:
    async def prefer(request: httpx.Request) -> None:
        _prefer(request)

    http = httpx.AsyncClient(event_hooks={"request": [prefer], "response": [violations.ahook]})
    async with tx.AsyncToloka(
        oauth_token="contract-test",
        v1_base_url=prism_v1.url,
        max_retries=0,
        poll_policy=PollPolicy(interval=0, timeout=30),
        http_client=http,
    ) as client:
        assert (
            await client.tasks.create_task(_full_task(1), allow_defaults=True, open_pool=True)
        ).id
        result = await client.tasks.create_tasks(
            [_full_task(i) for i in range(3)], skip_invalid_items=True, open_pool=True
        )
        assert sorted(result.task_ids) == [0, 2]
        result = await client.tasks.create_tasks(
            [{"pool_id": "1", "input_values": {}, "overlap": 1}] * 2,
            async_mode=True,
            allow_defaults=True,
            skip_invalid_items=True,
            open_pool=True,
            operation_id=uuid.uuid4(),
        )
        assert result.operations[0].succeeded
    await http.aclose()
    violations.assert_none()
