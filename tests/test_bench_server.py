"""``bench/_v1_server.py``, the server ``make bench`` measures the clients against, answers
what the clients ask the way Toloka does: if it did not, the bench would measure nothing
(or a client's error path). Fast: a few thousand tasks against a local process."""

from __future__ import annotations

import select
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from toloka_ext import AsyncToloka, PollPolicy, Toloka

SERVER = Path(__file__).resolve().parent.parent / "bench" / "_v1_server.py"
POLL = PollPolicy(interval=0.01, max_interval=0.05, timeout=60)


def tasks(n: int, pool: str = "pool-1") -> list[dict[str, object]]:
    return [{"pool_id": pool, "input_values": {"n": i}, "overlap": 1} for i in range(n)]


@pytest.fixture()
def server() -> Iterator[str]:
    cmd = [sys.executable, str(SERVER), "--operation-polls", "2"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            line = proc.stdout.readline().decode() if ready else ""
            assert line.startswith("PORT "), line
            yield f"http://127.0.0.1:{int(line.split()[1])}"
        finally:
            proc.kill()


def stats(url: str) -> dict[str, object]:
    return httpx.get(f"{url}/_bench/stats").json()  # type: ignore[no-any-return]


def client(url: str) -> Toloka:
    return Toloka(api_key="k", v1_base_url=f"{url}/api/v1", tasks_per_minute=None)


def test_sync_mode_creates_every_position(server: str) -> None:
    with client(server) as c:
        result = c.tasks.create_tasks(tasks(1200), chunk_size=500)
        assert sorted(result.task_ids) == list(range(1200))
        assert len(set(result.task_ids.values())) == 1200
        assert result.created[7].input_values == {"n": 7}
        newest = c.tasks.list(pool_id="pool-1", sort="-id", limit=1).first_page()
    assert [t.id for t in newest] == [result.task_ids[1199]]
    got = stats(server)
    assert got["created"] == 1200
    assert got["requests"] == {"listTasks": 2, "createTasks": 3}  # the newest read first


def test_async_mode_operations_polls_and_logs(server: str) -> None:
    with client(server) as c:
        result = c.tasks.create_tasks(
            tasks(1200), async_mode=True, chunk_size=500, poll_policy=POLL
        )
    assert sorted(result.task_ids) == list(range(1200))
    assert [op.status for op in result.operations] == ["SUCCESS"] * 3
    assert result.created[1100].input_values == {"n": 1100}
    requests = stats(server)["requests"]
    assert requests["createTasks"] == 3 and requests["getOperationLog"] == 3  # type: ignore[index]
    assert requests["getOperation"] >= 6  # type: ignore[index]  # SUCCESS from the 2nd read


def test_the_async_client_in_async_mode(server: str) -> None:
    async def main() -> int:
        async with AsyncToloka(
            api_key="k", v1_base_url=f"{server}/api/v1", tasks_per_minute=None
        ) as c:
            result = await c.tasks.create_tasks(tasks(700), async_mode=True, poll_policy=POLL)
            return len(result.task_ids)

    assert anyio.run(main) == 700
    assert stats(server)["created"] == 700


def test_a_repeated_operation_id_is_a_conflict_and_logs_echo_the_input(server: str) -> None:
    """The two things toloka-kit's default depends on: 409 OPERATION_ALREADY_EXISTS, and a
    log whose ``input`` echoes what was sent (its ``__item_idx``), which it reads back by."""
    op_id = str(uuid.uuid4())
    body = [{**t, "__item_idx": str(i)} for i, t in enumerate(tasks(3, pool="pool-9"))]
    url = f"{server}/api/v1"
    params = {"async_mode": "true", "operation_id": op_id}
    with httpx.Client() as http:
        first = http.post(f"{url}/tasks", params=params, json=body)
        assert first.status_code == 201 and first.json()["status"] == "PENDING"
        again = http.post(f"{url}/tasks", params=params, json=body)
        assert again.status_code == 409
        assert again.json()["code"] == "OPERATION_ALREADY_EXISTS"
        assert http.get(f"{url}/operations/{op_id}").json()["status"] == "RUNNING"
        assert http.get(f"{url}/operations/{op_id}").json()["status"] == "SUCCESS"
        log = http.get(f"{url}/operations/{op_id}/log").json()
        assert [item["input"]["__item_idx"] for item in log] == ["0", "1", "2"]
        ids = [item["output"]["task_id"] for item in log]
        page = http.get(
            f"{url}/tasks", params={"pool_id": "pool-9", "id_gte": ids[0], "id_lte": ids[-1]}
        ).json()
        assert [t["id"] for t in page["items"]] == ids and page["has_more"] is False
        assert "__item_idx" not in page["items"][0]
        assert http.get(f"{url}/operations/nope").status_code == 404


def test_an_operation_bigger_than_a_slice_runs_whole_and_in_order(server: str) -> None:
    """Operations run after their answer, a slice at a time (requests are served between
    slices, as Toloka serves them while an operation runs): the log is still whole, in
    request order, and SUCCESS is only said once every slice has run."""
    op_id = str(uuid.uuid4())
    n = 2600  # five slices and part of a sixth
    body = [{**t, "__item_idx": str(i)} for i, t in enumerate(tasks(n, pool="pool-8"))]
    url = f"{server}/api/v1"
    with httpx.Client() as http:
        answer = http.post(
            f"{url}/tasks", params={"async_mode": "true", "operation_id": op_id}, json=body
        )
        assert answer.json()["status"] == "PENDING"
        while http.get(f"{url}/operations/{op_id}").json()["status"] != "SUCCESS":
            pass
        assert stats(server)["created"] == n
        log = http.get(f"{url}/operations/{op_id}/log").json()
    assert [item["input"]["__item_idx"] for item in log] == [str(i) for i in range(n)]
    ids = [item["output"]["task_id"] for item in log]
    assert ids == sorted(set(ids)) and len(ids) == n
