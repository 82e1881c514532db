"""API v1 commands: ``tasks create`` with its options, ``tasks list|get``, ``operations``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from toloka_ext.testing import SandboxServer

from .conftest import POLL, Cli, base_env, server_env, write_jsonl


def _inputs(n: int, start: int = 0) -> list[dict[str, object]]:
    return [
        {"input_values": {"image": f"https://example.com/{i}.png"}} for i in range(start, start + n)
    ]


def test_create_sync_async_and_again_without_duplicates(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "tasks.jsonl", _inputs(5))
    sync = cli.json("tasks", "create", "tasks.jsonl", "--pool", "pool-1", "--overlap", "2",
                    "--chunk-size", "2", "--sync-mode")  # fmt: skip
    assert (sync["ok"], sync["total"], sync["created"]) == (True, 5, 5)
    assert sorted(sync["task_ids"], key=int) == ["0", "1", "2", "3", "4"]
    assert sync["operations"] == []

    # One JSON array, pool ids in the tasks, overlap from the pool (allow-defaults), async.
    tasks = [{"pool_id": "pool-2", **t} for t in _inputs(5, start=100)]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks, indent=1))
    op_id = str(uuid.uuid4())
    create_async = [*POLL, "tasks", "create", "tasks.json", "--async-mode", "--allow-defaults",
                    "--chunk-size", "2", "--operation-id", op_id, "--open-pool"]  # fmt: skip
    batch = cli.json(*create_async)
    assert (batch["ok"], batch["created"], len(batch["operations"])) == (True, 5, 3), batch

    # The same file with the same operation id: the same operations, no task twice.
    again = cli.json(*create_async)
    assert again["task_ids"] == batch["task_ids"]
    listed = cli.json("tasks", "list", "--pool", "pool-2", "--limit", "0")
    assert sorted(t["id"] for t in listed) == sorted(batch["task_ids"].values())


@pytest.mark.slow
def test_get_and_operations(cli: Cli, tmp_path: Path) -> None:
    tasks = [{"pool_id": "pool-2", **t} for t in _inputs(3, start=200)]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    batch = cli.json(*POLL, "tasks", "create", "tasks.json", "--async-mode", "--allow-defaults")
    task, operation, log, operations, some, table = cli.many(
        ["--json", "tasks", "get", batch["task_ids"]["0"]],
        ["--json", "operations", "get", batch["operations"][0]],
        ["--json", "operations", "log", batch["operations"][0]],
        ["--json", "operations", "list", "--type", "TASK.BATCH_CREATE", "--limit", "0"],
        ["--json", "tasks", "list", "--pool", "pool-2", "--limit", "2", "--sort", "-id"],
        ["tasks", "list", "--pool", "pool-2", "--limit", "1"],
    )
    assert task.json()["overlap"] == 3  # the pool's default
    assert task.json()["input_values"] == {"image": "https://example.com/200.png"}
    assert operation.json()["status"] == "SUCCESS"
    assert [e["type"] for e in log.json()] == ["TASK_CREATE"] * 3
    assert set(batch["operations"]) <= {op["id"] for op in operations.json()}
    assert len(some.json()) == 2 and some.json()[0]["id"] > some.json()[1]["id"]
    assert table.out.split()[:3] == ["id", "pool_id", "overlap"]


def test_invalid_tasks_are_refused_or_skipped(cli: Cli, tmp_path: Path) -> None:
    tasks = _inputs(3)
    tasks[1] = {"input_values": {"image": 5}}  # the pool's spec says string
    write_jsonl(tmp_path / "tasks.jsonl", tasks)
    args = ["tasks", "create", "tasks.jsonl", "--pool", "pool-spec", "--allow-defaults",
            "--sync-mode", "--no-journal"]  # fmt: skip
    refused, skipped = cli.many(["--json", *args], [*args, "--skip-invalid-items"])
    assert refused.code == 1, refused
    error = refused.json()["error"]
    assert (error["type"], error["status_code"]) == ("BadRequestError", 400)
    assert refused.json()["partial_result"]["created"] == 0
    assert skipped.code == 0, skipped
    assert skipped.out.splitlines()[0] == "created 2 of 3 tasks, 1 invalid (skipped)"
    assert "position 1: input_values.image: INVALID_TYPE" in skipped.out


def test_bad_task_files_exit_2_before_sending(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "broken.jsonl").write_text('{"input_values": {}}\n{oops\n')
    (tmp_path / "scalar.json").write_text('[{"input_values": {}}, 7]')
    write_jsonl(tmp_path / "other.jsonl", [{"pool_id": "pool-2", "input_values": {}}])
    write_jsonl(tmp_path / "nooverlap.jsonl", [{"pool_id": "pool-1", "input_values": {}}])
    broken, scalar, other, nooverlap, missing = cli.many(
        ["tasks", "create", "broken.jsonl", "--pool", "pool-1"],
        ["tasks", "create", "scalar.json", "--pool", "pool-1"],
        ["tasks", "create", "other.jsonl", "--pool", "pool-1"],
        ["tasks", "create", "nooverlap.jsonl"],
        ["tasks", "create", "absent.jsonl", "--pool", "pool-1"],
    )
    expected = {
        "broken": (broken, "line 2 is not valid JSON"),
        "scalar": (scalar, "element 1 is not a task object"),
        "other": (other, "for pool pool-2, not --pool pool-1"),
        "nooverlap": (nooverlap, "overlap"),
        "missing": (missing, "absent.jsonl"),
    }
    for name, (result, text) in expected.items():
        assert result.code == 2, (name, result)
        (line,) = result.err_lines()
        assert text in line, (name, line)


@pytest.mark.slow
def test_lost_answers_exit_4_unless_resolved(faulty_server: SandboxServer, tmp_path: Path) -> None:
    cli = Cli(base_env(server_env(faulty_server)), tmp_path)
    write_jsonl(tmp_path / "tasks.jsonl", _inputs(4))
    args = ["tasks", "create", "tasks.jsonl", "--pool", "pool-1", "--overlap", "1"]
    lost = cli("--json", *args, "--no-resolve-unknown")
    assert lost.code == 4, lost
    assert lost.json()["unknown_positions"] == [[0, 4]]
    # The library's warning, as a line of its own (no traceback, no key).
    assert all(line.startswith("toloka-ext: warning: ") for line in lost.err_lines())
    # The next answer is lost too, but reading the pool back settles every position.
    settled = cli("--json", *args)
    assert settled.code == 0, settled
    assert (settled.json()["ok"], settled.json()["created"]) == (True, 4)


def test_update_and_set_overlap_change_a_task_and_refuse_bad_input_first(
    cli: Cli, tmp_path: Path
) -> None:
    write_jsonl(tmp_path / "one.jsonl", _inputs(1, start=300))
    created = cli.json("tasks", "create", "one.jsonl", "--pool", "pool-1", "--overlap", "2")
    task_id = created["task_ids"]["0"]
    known = '[{"output_values": {"label": "cat"}, "correctness_weight": 1}]'
    updated = cli.json("tasks", "update", task_id, "--overlap", "5", "--known-solutions", known,
                       "--message-on-unknown-solution", "look again")  # fmt: skip
    assert (updated["id"], updated["overlap"]) == (task_id, 5)
    assert updated["known_solutions"] == json.loads(known)  # no empty "extra" in the output
    assert updated["message_on_unknown_solution"] == "look again"

    # Refused before anything is sent: exit 2, one line, and the task is as it was.
    refusals = {
        "is not JSON": ["tasks", "update", task_id, "--known-solutions", "{oops"],
        "nothing to change": ["tasks", "update", task_id],
        "overlap": ["tasks", "update", task_id, "--overlap", "0"],
        "output_values is required": ["tasks", "update", task_id, "--known-solutions", "[{}]"],
        "pass overlap": ["tasks", "set-overlap", task_id],
    }
    for text, args in refusals.items():
        result = cli(*args)
        assert result.code == 2, (text, result)
        (line,) = result.err_lines()
        assert text in line, (text, line)
    assert cli.json("tasks", "get", task_id)["overlap"] == 5

    stopped = cli.json("tasks", "set-overlap", task_id, "--overlap", "0")
    assert (stopped["id"], stopped["overlap"]) == (task_id, 0)
    # The id filters find exactly this task (both bounds inclusive).
    listed = cli.json("tasks", "list", "--pool", "pool-1", "--id-gte", task_id, "--id-lte", task_id)
    assert [t["id"] for t in listed] == [task_id]


def test_operations_list_takes_every_filter(cli: Cli, tmp_path: Path) -> None:
    tasks = [{"pool_id": "pool-2", **t} for t in _inputs(2, start=400)]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    batch = cli.json(*POLL, "tasks", "create", "tasks.json", "--async-mode", "--allow-defaults")
    (op_id,) = batch["operations"]
    operation = cli.json("operations", "get", op_id)
    exact = ["--id-gte", op_id, "--id-lte", op_id]
    found = cli.json("operations", "list", *exact, "--status", "SUCCESS",
                     "--submitted-gte", operation["submitted"],
                     "--submitted-lte", operation["submitted"],
                     "--finished-gte", operation["finished"],
                     "--finished-lte", operation["finished"])  # fmt: skip
    assert [op["id"] for op in found] == [op_id]
    after = cli.json("operations", "list", *exact, "--finished-gt", operation["finished"])
    assert after == []
