from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toloka_ext as tx
from toloka_ext import Toloka
from toloka_ext._exceptions import make_status_error
from toloka_ext._v1._chunking import Chunk, iter_chunks
from toloka_ext._v1._logic import (
    MAX_INPUT_BYTES,
    MAX_OUTPUT_BYTES,
    CreateOptions,
    RequestPlanner,
    apply_log,
    apply_sync_response,
    apply_validation_error,
    attach,
    mark_unaccounted_unknown,
    match_log,
    parse_page,
)
from toloka_ext._v1._models import Operation, OperationLogItem, Task, TaskCreateResult
from toloka_ext._v1._resolve import Settled, apply_settled, merge_ranges, settle
from toloka_ext._v1._validation import FrameTasks
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import BaselineSolution, FieldError, KnownSolution

from .conftest import POOL, bad_task, ids_by_position, posts, task


@given(n=st.integers(0, 300), size=st.integers(1, 50))
def test_chunks_partition_the_input_in_order(n: int, size: int) -> None:
    chunks = list(iter_chunks(iter(range(n)), size))
    assert [x for c in chunks for x in c.items] == list(range(n))
    assert all(len(c.items) <= size for c in chunks)
    assert [c.is_last for c in chunks] == [False] * (len(chunks) - 1) + [True] * bool(chunks)
    assert all(c.positions == range(c.start, c.start + len(c.items)) for c in chunks)


@given(
    sizes=st.lists(st.integers(1, 20), min_size=1, max_size=6),
    data=st.data(),
)
def test_sync_responses_merge_to_original_positions(sizes: list[int], data: st.DataObject) -> None:
    result = TaskCreateResult()
    start = 0
    expected_ids: dict[int, str] = {}
    expected_errors: set[int] = set()
    for index, size in enumerate(sizes):
        chunk = Chunk(
            index=index, start=start, items=[None] * size, is_last=index == len(sizes) - 1
        )
        invalid = data.draw(st.sets(st.integers(0, size - 1)))
        body: dict[str, Any] = {"items": {}, "validation_errors": {}}
        for offset in range(size):
            if offset in invalid:
                body["validation_errors"][str(offset)] = {
                    "input_values.x": {"code": "C", "message": "m"}
                }
                expected_errors.add(start + offset)
            else:
                tid = f"t{start + offset}"
                body["items"][str(offset)] = {"id": tid, "pool_id": "1", "input_values": {}}
                expected_ids[start + offset] = tid
        apply_sync_response(result, chunk, body, keep_tasks=False)
        start += size
    assert result.task_ids == expected_ids
    assert set(result.errors) == expected_errors
    assert result.unknown == []


def test_positions_missing_from_a_sync_answer_are_unknown() -> None:
    result = TaskCreateResult()
    chunk = Chunk(index=1, start=10, items=[None] * 5, is_last=True)
    apply_sync_response(
        result, chunk, {"items": {"0": {"id": "a"}, "3": {"id": "b"}}}, keep_tasks=False
    )
    assert result.unknown == [range(11, 13), range(14, 15)]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"items": []},
        {"items": {"9": {"id": "x"}}},
        {"items": {"zero": {"id": "x"}}},
        {"items": {"0": {}}},
    ],
    ids=["array", "items-list", "out-of-range", "not-a-position", "no-id"],
)
def test_unexpected_sync_shapes_raise_drift(body: object) -> None:
    chunk = Chunk(index=0, start=0, items=[None, None], is_last=True)
    with pytest.raises(tx.ApiDriftError) as err:
        apply_sync_response(TaskCreateResult(), chunk, body, keep_tasks=False)
    assert err.value.operation == "createTasks"


def _log(*items: tuple[str, bool, dict[str, Any] | None]) -> list[OperationLogItem]:
    return [
        OperationLogItem(
            type=t,
            success=ok,
            input={"input_values": iv} if iv is not None else None,
            output={"task_id": f"id-{i}"}
            if t == "TASK_CREATE"
            else {"f": {"code": "C", "message": "m"}},
        )
        for i, (t, ok, iv) in enumerate(items)
    ]


def test_log_matching_by_order_by_content_and_fallback() -> None:
    payloads = [{"input_values": {"n": i}} for i in range(3)]
    in_order = _log(
        ("TASK_CREATE", True, {"n": 0}),
        ("TASK_VALIDATE", False, {"n": 1}),
        ("TASK_CREATE", True, {"n": 2}),
    )
    assert {k: v.type for k, v in match_log(in_order, payloads).items()} == {
        0: "TASK_CREATE",
        1: "TASK_VALIDATE",
        2: "TASK_CREATE",
    }
    shuffled = [in_order[2], in_order[0], in_order[1]]
    matched = match_log(shuffled, payloads)
    assert matched[2] is in_order[2] and matched[1] is in_order[1]
    no_echo = _log(
        ("TASK_CREATE", True, None), ("TASK_CREATE", True, None), ("TASK_CREATE", True, None)
    )
    assert list(match_log(no_echo, payloads)) == [0, 1, 2]
    # Successful validation steps and unrelated entries are not outcomes.
    noisy = [
        OperationLogItem(type="TASK_VALIDATE", success=True),
        OperationLogItem(type="POOL_OPEN", success=True),
    ]
    assert match_log(noisy + in_order, payloads).keys() == {0, 1, 2}


def test_apply_log_short_log_marks_unknown() -> None:
    result = TaskCreateResult()
    chunk = Chunk(index=0, start=100, items=[None] * 3, is_last=True)
    payloads = [{"pool_id": "1", "input_values": {"n": i}} for i in range(3)]
    entry = {"type": "TASK_CREATE", "success": True, "input": {"input_values": {"n": 1}}}
    apply_log(result, chunk, payloads, [{**entry, "output": {"task_id": "id-0"}}], keep_tasks=True)
    assert result.task_ids == {101: "id-0"}
    assert result.created[101].input_values == {"n": 1}
    assert result.unknown == [range(100, 101), range(102, 103)]


def test_task_round_trip_keeps_unknown_keys_and_utc_times() -> None:
    raw = {
        "id": "t1",
        "pool_id": "1",
        "input_values": {"x": 1},
        "overlap": 2,
        "created": "2026-11-23T10:15:00.1234",
        "traits_all_of": ["a"],
        "known_solutions": [{"output_values": {"r": 1}, "correctness_weight": 0.5, "new": True}],
    }
    task = Task.from_dict(raw)
    assert task.created == datetime(2026, 11, 23, 10, 15, 0, 123400, tzinfo=UTC)
    assert task.extra == {"traits_all_of": ["a"]}
    assert task.known_solutions is not None and task.known_solutions[0].extra == {"new": True}
    again = Task.from_dict(task.to_dict())
    assert again == Task.from_dict({**raw, "created": "2026-11-23T10:15:00.123"})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"status": "RUNNING"}, "id"),
        ({"id": "x"}, "status"),
        ({"id": "x", "status": "RUNNING", "submitted": "yesterday"}, "submitted"),
    ],
)
def test_operation_drift_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(tx.ApiDriftError) as err:
        Operation.from_dict(raw)
    assert err.value.field == field
    assert "v1" in err.value.snapshot_version


def test_unknown_operation_status_is_kept_and_not_final() -> None:
    op = Operation.from_dict({"id": "x", "status": "PAUSED", "type": "T", "whatever": 1})
    assert (op.status, op.is_final, op.extra) == ("PAUSED", False, {"whatever": 1})
    assert repr(TaskCreateResult(total=3, task_ids={0: "a"})) == (
        "TaskCreateResult(total=3, created=1, errors=0, unknown=0, operations=0)"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id": "t", "input_values": {}}, "pool_id"),
        (
            {"id": "t", "pool_id": "1", "input_values": {}, "infinite_overlap": "yes"},
            "infinite_overlap",
        ),
    ],
)
def test_a_task_is_never_coerced_into_shape(data: dict[str, object], field: str) -> None:
    from toloka_ext import ApiDriftError
    from toloka_ext.types import Task

    with pytest.raises(ApiDriftError) as info:
        Task.from_dict(data)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"progress": 42.5}, "progress"),
        ({"details": [1]}, "details"),
        ({"parameters": "x"}, "parameters"),
    ],
)
def test_an_operation_is_never_coerced_into_shape(extra: dict[str, object], field: str) -> None:
    from toloka_ext import ApiDriftError
    from toloka_ext.types import Operation

    with pytest.raises(ApiDriftError) as info:
        Operation.from_dict({"id": "op", "status": "RUNNING", **extra})
    assert info.value.field == field


def test_an_unknown_operation_status_is_kept_raw() -> None:
    from toloka_ext.types import Operation

    op = Operation.from_dict({"id": "op", "status": "PAUSED", "progress": 10})
    assert op.status == "PAUSED" and not op.is_final and op.progress == 10


# ------------------------------------------ what mutation testing found untested (docs/mutation.md)


def bend(sandbox: Sandbox, operation: str, change: Callable[[Any], Any]) -> None:
    """Pass every 2xx answer of ``operation`` through ``change`` (a deep copy of it)."""

    def rewrite(op: str, body: Any) -> Any:
        return change(copy.deepcopy(body)) if op == operation else body

    sandbox.rewrite = rewrite


def entries_of(body: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in body if e["type"] == kind]


# --------------------------------------------------------------- the operation log (async)


def test_a_failed_task_create_in_the_log_is_an_error_at_its_position(
    client: Toloka, sandbox: Sandbox
) -> None:
    def fail_third(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        third = entries_of(body, "TASK_CREATE")[2]
        third["success"] = False
        third["output"] = {"input_values.n": {"code": "VALUE_REQUIRED", "message": "no n"}}
        return body

    bend(sandbox, "getOperationLog", fail_third)
    result = client.tasks.create_tasks([task(i) for i in range(4)], async_mode=True)
    assert sorted(result.task_ids) == [0, 1, 3]
    assert 2 not in result.created
    assert result.errors[2]["input_values.n"].code == "VALUE_REQUIRED"
    assert result.unknown == []


def test_a_failed_task_create_without_details_is_still_an_error(
    client: Toloka, sandbox: Sandbox
) -> None:
    def fail_first(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first = entries_of(body, "TASK_CREATE")[0]
        first["success"] = False
        first["output"] = {}
        return body

    bend(sandbox, "getOperationLog", fail_first)
    result = client.tasks.create_tasks([task(i) for i in range(3)], async_mode=True)
    assert sorted(result.task_ids) == [1, 2]
    (only,) = result.errors[0].values()
    assert only.code == "TASK_CREATE_FAILED"


@pytest.mark.parametrize(
    "output",
    [{}, {"task_id": None}, {"task_id": ""}, {"task_id": 17}],
    ids=["missing", "null", "empty", "number"],
)
def test_a_successful_task_create_without_a_task_id_is_drift(
    client: Toloka, sandbox: Sandbox, output: dict[str, Any]
) -> None:
    def lose_id(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries_of(body, "TASK_CREATE")[1]["output"] = output
        return body

    bend(sandbox, "getOperationLog", lose_id)
    with pytest.raises(tx.ApiDriftError) as info:
        client.tasks.create_tasks([task(i) for i in range(3)], async_mode=True)
    err = info.value
    assert (err.operation, err.field) == ("getOperationLog", "output.task_id")
    assert None not in err.partial_result.task_ids.values()
    assert "" not in err.partial_result.task_ids.values()


def test_log_errors_and_creations_land_at_their_positions_without_keeping_tasks(
    client: Toloka, sandbox: Sandbox
) -> None:
    tasks = [bad_task(i) if i in (1, 3) else task(i) for i in range(5)]
    result = client.tasks.create_tasks(
        tasks, async_mode=True, skip_invalid_items=True, keep_tasks=False
    )
    assert result.task_ids == ids_by_position(sandbox)
    assert sorted(result.task_ids) == [0, 2, 4] and result.created == {}
    assert sorted(result.errors) == [1, 3]
    assert result.errors[1]["input_values.bad"].code == "VALUE_NOT_ALLOWED"


# ------------------------------------------------------------ the sync answer, by position


def _move_item(to: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        body["items"][to] = body["items"].pop("2")
        return body

    return change


@pytest.mark.parametrize("position", ["3", "-1", "4"])
@pytest.mark.parametrize("keep_tasks", [True, False])
def test_a_created_position_outside_the_request_is_drift(
    client: Toloka, sandbox: Sandbox, position: str, keep_tasks: bool
) -> None:
    # Three tasks were sent: positions 0, 1 and 2. Position 3 (= the request's size) is not one.
    bend(sandbox, "createTasks", _move_item(position))
    with pytest.raises(tx.ApiDriftError) as info:
        client.tasks.create_tasks([task(i) for i in range(3)], keep_tasks=keep_tasks)
    err = info.value
    assert (err.operation, err.field) == ("createTasks", "items")
    assert f"position {position} is outside the request (size 3)" in err.detail
    assert set(err.partial_result.task_ids) <= {0, 1, 2}


def test_a_validation_error_position_outside_the_request_is_drift(
    client: Toloka, sandbox: Sandbox
) -> None:
    def shift(body: dict[str, Any]) -> dict[str, Any]:
        body["validation_errors"]["2"] = body["validation_errors"].pop("1")
        return body

    bend(sandbox, "createTasks", shift)
    with pytest.raises(tx.ApiDriftError) as info:
        client.tasks.create_tasks([task(0), bad_task(1)], skip_invalid_items=True)
    assert info.value.field == "validation_errors"
    assert "position 2 is outside the request (size 2)" in info.value.detail


@pytest.mark.parametrize("task_id", ["", None])
@pytest.mark.parametrize("keep_tasks", [True, False])
def test_a_created_task_with_an_empty_id_is_drift(
    client: Toloka, sandbox: Sandbox, task_id: object, keep_tasks: bool
) -> None:
    def blank(body: dict[str, Any]) -> dict[str, Any]:
        body["items"]["1"]["id"] = task_id
        return body

    bend(sandbox, "createTasks", blank)
    with pytest.raises(tx.ApiDriftError) as info:
        client.tasks.create_tasks([task(i) for i in range(3)], keep_tasks=keep_tasks)
    err = info.value
    assert (err.operation, err.field) == ("createTasks", "items.1.id")
    assert err.partial_result.task_ids.get(1) in (None, *ids_by_position(sandbox).values())
    assert "" not in err.partial_result.task_ids.values()


def test_sync_positions_and_ids_without_keeping_tasks(client: Toloka, sandbox: Sandbox) -> None:
    tasks = [bad_task(i) if i == 2 else task(i) for i in range(4)]
    result = client.tasks.create_tasks(tasks, skip_invalid_items=True, keep_tasks=False)
    assert result.task_ids == ids_by_position(sandbox) and sorted(result.task_ids) == [0, 1, 3]
    assert result.created == {} and sorted(result.errors) == [2]


def test_a_400_keyed_by_a_position_outside_the_request_is_not_read_as_per_task(
    client: Toloka, sandbox: Sandbox
) -> None:
    # Without skip_invalid_items the whole request is refused with per-position errors; a
    # key equal to the request's size names no task, so the answer is not split by position.
    tasks = [task(0), bad_task(1)]
    with pytest.raises(tx.APIStatusError) as refused:
        client.tasks.create_tasks(tasks)
    assert sorted(refused.value.partial_result.errors) == [1]

    outside = {"2": {"input_values.bad": {"code": "VALUE_NOT_ALLOWED", "message": "m"}}}
    sandbox.faults = FaultConfig(
        faults=[
            Fault(
                "status",
                status=400,
                route="createTasks",
                on_nth=(1,),
                code="VALIDATION_ERROR",
                payload=outside,
            )
        ]
    )
    with pytest.raises(tx.APIStatusError) as refused_whole:
        client.tasks.create_tasks([task(0), task(1)], skip_invalid_items=True)
    assert refused_whole.value.partial_result.errors == {}


# ------------------------------------------------------------------------------ chunk_size


@pytest.mark.parametrize("chunk_size", [0, -1, -5000, True, 2.5, "10"])
@pytest.mark.parametrize("async_mode", [False, True])
def test_a_chunk_size_below_one_or_not_an_integer_is_refused_before_any_request(
    client: Toloka, sandbox: Sandbox, chunk_size: Any, async_mode: bool
) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks([task(0)], chunk_size=chunk_size, async_mode=async_mode)
    assert info.value.field == "chunk_size"
    assert posts(sandbox) == [] and sandbox.tasks() == []


@pytest.mark.parametrize("async_mode", [False, True])
def test_a_chunk_size_of_one_sends_one_task_per_request(
    client: Toloka, sandbox: Sandbox, async_mode: bool
) -> None:
    result = client.tasks.create_tasks(
        (task(i) for i in range(3)), chunk_size=1, async_mode=async_mode
    )
    assert sorted(result.task_ids) == [0, 1, 2]
    assert [len(p.json()) for p in posts(sandbox)] == [1, 1, 1]


def test_sync_chunk_size_is_at_most_the_sync_limit(client: Toloka, sandbox: Sandbox) -> None:
    with pytest.raises(tx.InvalidInputError, match="at most 5000") as info:
        client.tasks.create_tasks([task(0)], chunk_size=5001)
    assert info.value.field == "chunk_size"
    assert client.tasks.create_tasks([task(0)], chunk_size=5000).task_ids.keys() == {0}
    result = client.tasks.create_tasks([task(1)], chunk_size=5001, async_mode=True)
    assert result.task_ids.keys() == {0}


@pytest.mark.parametrize("size", [0, -1])
def test_iter_chunks_refuses_a_size_below_one(size: int) -> None:
    with pytest.raises(ValueError, match="chunk size must be >= 1"):
        next(iter_chunks([1, 2], size))


def test_iter_chunks_of_one_and_their_numbers() -> None:
    chunks = list(iter_chunks(iter("abc"), 1))
    assert [(c.index, c.start, c.items, c.is_last) for c in chunks] == [
        (0, 0, ["a"], False),
        (1, 1, ["b"], False),
        (2, 2, ["c"], True),
    ]
    assert [c.positions for c in chunks] == [range(1), range(1, 2), range(2, 3)]
    assert list(iter_chunks([], 3)) == []


# ------------------------------------------------------- updating a task: what is sent


def test_an_update_sends_exactly_the_fields_given(client: Toloka, sandbox: Sandbox) -> None:
    (task_id,) = client.tasks.create_tasks([task(0)]).task_ids.values()
    updated = client.tasks.update(
        task_id,
        overlap=1,  # the least overlap there is
        infinite_overlap=False,
        known_solutions=[KnownSolution(output_values={"r": "OK"}, correctness_weight=0)],
        baseline_solutions=[
            BaselineSolution(output_values={"r": "NO"}, confidence_weight=1),
            {"output_values": {"r": "OK"}, "confidence_weight": 0.5},
        ],
        message_on_unknown_solution="look again",
    )
    assert updated.id == task_id and updated.overlap == 1
    (patch,) = sandbox.requests_for("patchTask")
    assert patch.json() == {
        "overlap": 1,
        "infinite_overlap": False,
        "known_solutions": [{"output_values": {"r": "OK"}, "correctness_weight": 0}],
        "baseline_solutions": [
            {"output_values": {"r": "NO"}, "confidence_weight": 1},
            {"output_values": {"r": "OK"}, "confidence_weight": 0.5},
        ],
        "message_on_unknown_solution": "look again",
    }


def test_set_overlap_or_min_sends_exactly_the_fields_given(
    client: Toloka, sandbox: Sandbox
) -> None:
    (task_id,) = client.tasks.create_tasks([task(0)]).task_ids.values()
    client.tasks.set_overlap_or_min(task_id, infinite_overlap=False)
    client.tasks.set_overlap_or_min(task_id, overlap=0, infinite_overlap=False)
    bodies = [r.json() for r in sandbox.requests_for("setTaskOverlapOrMin")]
    assert bodies == [{"infinite_overlap": False}, {"overlap": 0, "infinite_overlap": False}]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"known_solutions": {"output_values": {}}}, "known_solutions", "must be a list, got dict"),
        ({"known_solutions": ["OK"]}, "known_solutions[0]", "must be an object, got str"),
        (
            {"known_solutions": [{"output_values": {}, "correctness_weight": "0.5"}]},
            "known_solutions[0].correctness_weight",
            "must be a number from 0 to 1, got '0.5'",
        ),
        (
            {"known_solutions": [{"output_values": {}, "correctness_weight": True}]},
            "known_solutions[0].correctness_weight",
            "must be a number from 0 to 1, got True",
        ),
        (
            {"baseline_solutions": [{"output_values": {}, "confidence_weight": 1.5}]},
            "baseline_solutions[0].confidence_weight",
            "must be from 0 to 1, got 1.5",
        ),
        (
            {"baseline_solutions": [{"output_values": {}, "confidence_weight": -0.1}]},
            "baseline_solutions[0].confidence_weight",
            "must be from 0 to 1, got -0.1",
        ),
        (
            {"baseline_solutions": [{"output_values": "OK"}]},
            "baseline_solutions[0].output_values",
            "output_values is required and must be an object",
        ),
        (
            {"known_solutions": [{"output_values": {"x": float("nan")}}]},
            "known_solutions[0].output_values.x",
            "nan is not a valid JSON number",
        ),
        (
            {"message_on_unknown_solution": 5},
            "message_on_unknown_solution",
            "message_on_unknown_solution must be a string",
        ),
        ({"overlap": 1, "infinite_overlap": 1}, "infinite_overlap", "must be true or false"),
    ],
    ids=[
        "not-a-list",
        "not-an-object",
        "weight-string",
        "weight-bool",
        "weight-over",
        "weight-under",
        "outputs-not-object",
        "not-json",
        "message-not-string",
        "flag-not-bool",
    ],
)
def test_an_update_is_checked_before_any_request(
    client: Toloka, sandbox: Sandbox, change: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.update("task-1", **change)
    err = info.value
    assert err.field == field
    if "solutions" in field and not field.endswith(".x"):
        assert err.position == 0  # the one task of the call, as for create_task
    assert words in str(err)
    assert sandbox.requests_for("patchTask") == []


@pytest.mark.parametrize(
    ("change", "field"),
    [({"infinite_overlap": "no"}, "infinite_overlap"), ({"overlap": 30_001}, "overlap")],
)
def test_set_overlap_or_min_is_checked_before_any_request(
    client: Toloka, sandbox: Sandbox, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.set_overlap_or_min("task-1", **change)
    assert info.value.field == field
    assert sandbox.requests_for("setTaskOverlapOrMin") == []


def test_solutions_are_checked_at_their_position_in_a_batch(client: Toloka) -> None:
    ok = task(0, known_solutions=[{"output_values": {"r": 1}, "correctness_weight": 0}])
    bad = task(1, known_solutions=[{"output_values": {"r": 1}, "correctness_weight": 2}])
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks([ok, ok, bad])
    assert (info.value.position, info.value.field) == (2, "known_solutions[0].correctness_weight")
    with pytest.raises(tx.InvalidInputError) as listed:
        client.tasks.create_tasks([ok, task(1, baseline_solutions="x")])
    assert (listed.value.position, listed.value.field) == (1, "baseline_solutions")
    with pytest.raises(tx.InvalidInputError) as item:
        client.tasks.create_tasks([ok, ok, ok, task(3, known_solutions=[7])])
    assert (item.value.position, item.value.field) == (3, "known_solutions[0]")


def test_a_type_error_in_an_operation_id_names_the_type(client: Toloka) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks([task(0)], async_mode=True, operation_id=42)  # type: ignore[arg-type]
    assert str(info.value) == "operation_id must be a UUID, got int (field 'operation_id')"
    assert info.value.field == "operation_id"


# ---------------------------------------------------- request byte limits, at the boundary


def _inputs(weight: int) -> dict[str, Any]:
    """``input_values`` whose JSON is exactly ``weight`` bytes."""
    return {"t": "x" * (weight - len('{"t":""}'))}


def _plan(payloads: list[dict[str, Any]]) -> list[tuple[int, int]]:
    planner = RequestPlanner(CreateOptions(async_mode=True, allow_defaults=True))
    chunk = Chunk(index=0, start=10, items=payloads, is_last=True)
    return [(p.chunk.start, p.chunk.start + len(p.chunk.items)) for p in planner.plan(chunk)]


def test_requests_fill_up_to_exactly_the_input_limit() -> None:
    limit = MAX_INPUT_BYTES
    exact = [{"pool_id": "1", "input_values": _inputs(limit)}]
    assert _plan(exact) == [(10, 11)]  # one task of exactly the limit is fine
    pair = [
        {"pool_id": "1", "input_values": _inputs(limit - 100)},
        {"pool_id": "1", "input_values": _inputs(100)},
    ]
    assert _plan(pair) == [(10, 12)]  # two that add up to the limit share a request
    after_cut = [{"pool_id": "1", "input_values": _inputs(limit - 10)}, *pair]
    assert _plan(after_cut) == [(10, 11), (11, 13)]  # a new request starts from nothing


def _outputs(weight: int) -> list[dict[str, Any]]:
    """Known solutions whose ``output_values`` JSON is exactly ``weight`` bytes."""
    return [{"output_values": {"t": "y" * (weight - len('{"t":""}'))}}]


def test_requests_fill_up_to_exactly_the_output_limit() -> None:
    limit = MAX_OUTPUT_BYTES

    def solved(weight: int) -> dict[str, Any]:
        return {"pool_id": "1", "input_values": {}, "known_solutions": _outputs(weight)}

    assert _plan([solved(limit)]) == [(10, 11)]
    assert _plan([solved(limit - 100), solved(100)]) == [(10, 12)]
    assert _plan([solved(limit - 10), solved(limit - 100), solved(100)]) == [(10, 11), (11, 13)]


def test_one_task_over_a_limit_is_named_with_its_size_and_field() -> None:
    over_outputs = {
        "pool_id": "1",
        "input_values": _inputs(MAX_INPUT_BYTES),  # at the input limit: still fine
        "known_solutions": _outputs(MAX_OUTPUT_BYTES + 1),
    }
    with pytest.raises(tx.InvalidInputError) as info:
        _plan([{"pool_id": "1", "input_values": {}}, over_outputs])
    err = info.value
    assert (err.position, err.field) == (11, "known_solutions")
    assert err.args[0] == (
        f"{MAX_OUTPUT_BYTES + 1} bytes of known solutions output_values: over the "
        f"{MAX_OUTPUT_BYTES}-byte limit of a whole request (position 11, field 'known_solutions')"
    )
    with pytest.raises(tx.InvalidInputError) as inputs:
        _plan([{"pool_id": "1", "input_values": _inputs(MAX_INPUT_BYTES + 1)}])
    assert (inputs.value.position, inputs.value.field) == (10, "input_values")
    assert inputs.value.args[0] == (
        f"{MAX_INPUT_BYTES + 1} bytes of input_values: over the {MAX_INPUT_BYTES}-byte "
        "limit of a whole request (position 10, field 'input_values')"
    )


# ------------------------------------------------- answers that do not fit: pure functions


def _chunk(size: int, start: int = 0) -> Chunk[Any]:
    return Chunk(index=0, start=start, items=[None] * size, is_last=True)


def _refusal(status: int, payload: object) -> tx.APIStatusError:
    request = httpx.Request("POST", "https://toloka.dev/api/v1/tasks")
    response = httpx.Response(
        status,
        json={"code": "VALIDATION_ERROR", "message": "m", "payload": payload},
        request=request,
    )
    return make_status_error(response)


GOOD_FIELD = {"input_values.n": {"code": "INVALID_TYPE", "message": "m"}}


@pytest.mark.parametrize(
    ("status", "payload"),
    [
        (409, {"0": GOOD_FIELD}),
        (400, {}),
        (400, ["x"]),
        (400, {"zero": GOOD_FIELD}),
        (400, {"0": GOOD_FIELD, "2": GOOD_FIELD}),
        (400, {"0": "not an object"}),
        (400, {"0": {"input_values.n": "not an error object"}}),
    ],
    ids=["not-400", "empty", "list", "not-a-position", "outside", "not-a-map", "bad-error"],
)
def test_a_refusal_not_keyed_by_request_positions_records_nothing(
    status: int, payload: object
) -> None:
    result = TaskCreateResult()
    assert apply_validation_error(result, _chunk(2, start=5), _refusal(status, payload)) is False
    assert result.errors == {}


def test_a_refusal_keyed_by_positions_lands_at_the_callers_positions() -> None:
    result = TaskCreateResult()
    refusal = _refusal(400, {"1": GOOD_FIELD})
    assert apply_validation_error(result, _chunk(2, start=5), refusal) is True
    assert list(result.errors) == [6]
    assert result.errors[6]["input_values.n"].code == "INVALID_TYPE"


def test_positions_decided_either_way_are_not_marked_unknown() -> None:
    result = TaskCreateResult()
    result.task_ids[5] = "t5"
    result.errors[6] = {}
    mark_unaccounted_unknown(result, _chunk(4, start=5))
    assert result.unknown == [range(7, 9)]


def test_bad_input_after_tasks_were_sent_says_what_was_created() -> None:
    result = TaskCreateResult(total=5)
    result.task_ids.update({0: "a", 1: "b"})
    result.unknown.append(range(2, 5))
    err = attach(tx.InvalidInputError("overlap is required", position=5), result)
    assert err.args[0] == (
        "overlap is required (position 5); 2 task(s) before it were already created and 3 "
        "may have been (exc.partial_result: task_ids, errors and unknown by position); pass "
        "validate_first=True to check every task before the first request"
    )
    assert err.partial_result is result
    again = attach(err, result)  # attached twice (re-raised): said once
    assert again.args[0].count("already created") == 1

    clean = TaskCreateResult(total=1)
    clean.task_ids[0] = "a"
    said = attach(tx.InvalidInputError("bad"), clean).args[0]
    assert said.startswith("bad; 1 task(s) before it were already created (exc.partial_result")


def test_errors_other_than_bad_input_or_before_any_request_keep_their_words() -> None:
    sent = TaskCreateResult(total=3)
    assert str(attach(tx.APIConnectionError("lost"), sent)) == "lost"
    assert str(attach(tx.InvalidInputError("bad"), TaskCreateResult())) == "bad"


def test_log_entries_echoing_inputs_in_another_key_order_still_match() -> None:
    payloads = [{"input_values": {"a": i, "b": -i}} for i in range(3)]
    log = [
        OperationLogItem(
            type="TASK_CREATE",
            success=True,
            input={"input_values": {"b": -i, "a": i}},
            output={"task_id": f"id-{i}"},
        )
        for i in (2, 0, 1)
    ]
    matched = match_log(log, payloads)
    assert {offset: item.output["task_id"] for offset, item in matched.items()} == {
        0: "id-0",
        1: "id-1",
        2: "id-2",
    }


# ------------------------------------------------------------- settling lost answers


def _lost(i: int) -> dict[str, Any]:
    return {"pool_id": POOL, "input_values": {"n": i}}


def test_a_task_the_call_already_knows_is_no_match_for_a_lost_position() -> None:
    known = Task(id="t1", pool_id=POOL, input_values={"n": 1})
    settled = settle({4: _lost(1)}, [known], {"t1"}, complete=True)
    assert settled == Settled(created={}, not_created=[4], still_unknown=[])
    new = Task(id="t2", pool_id=POOL, input_values={"n": 1})
    found = settle({4: _lost(1)}, [known, new], {"t1"}, complete=True)
    assert found == Settled(created={4: new}, not_created=[], still_unknown=[])
    twice = settle({4: _lost(1), 7: _lost(1)}, [new], set(), complete=True)
    assert twice == Settled(created={}, not_created=[], still_unknown=[4, 7])


def test_settled_positions_leave_the_unknown_ranges_merged() -> None:
    assert merge_ranges([9, 3, 5, 4]) == [range(3, 6), range(9, 10)]
    assert merge_ranges([7]) == [range(7, 8)]
    result = TaskCreateResult()
    result.unknown = [range(3, 9)]
    created = Task(id="t5", pool_id=POOL, input_values={"n": 5})
    apply_settled(
        result, Settled(created={5: created}, not_created=[6], still_unknown=[]), keep_tasks=True
    )
    assert result.unknown == [range(3, 5), range(7, 9)]
    assert result.task_ids == {5: "t5"} and result.created == {5: created}
    assert result.errors[6][""].code == "NOT_CREATED"


def test_lost_positions_match_new_tasks_whatever_the_key_order() -> None:
    lost = {3: {"pool_id": POOL, "input_values": {"a": 1, "b": 2}}}
    listed = Task(id="t9", pool_id=POOL, input_values={"b": 2, "a": 1})
    assert settle(lost, [listed], set(), complete=True).created == {3: listed}


# ------------------------------------------------------------ a DataFrame as a task list


def _frame_tasks() -> tuple[FrameTasks, list[dict[str, Any]]]:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "pool_id": POOL,
            "input_values.n": [0, 1, 2, 3, 4],
            "overlap": [1.0, 2.0, None, 4.0, 5.0],
        },
        index=[10, 11, 12, 13, 14],
    )
    rows = [{"pool_id": POOL, "input_values": {"n": n}, "overlap": n + 1} for n in range(5)]
    del rows[2]["overlap"]  # a missing cell leaves the field out
    return FrameTasks(frame), rows


def test_a_dataframe_reads_like_a_list_of_tasks() -> None:
    tasks, rows = _frame_tasks()
    assert len(tasks) == 5 and list(tasks) == rows
    assert [tasks[i] for i in range(5)] == rows
    assert [tasks[i] for i in range(-5, 0)] == rows
    assert tasks[np.int64(3)] == rows[3]  # any integer-like position
    for bad in (5, 6, -6):
        with pytest.raises(IndexError):
            tasks[bad]
    assert tasks[1:3] == rows[1:3]
    assert tasks[3:] == rows[3:] and tasks[:2] == rows[:2] and tasks[4:9] == rows[4:]
    assert tasks[::2] == rows[::2] and tasks[1::3] == rows[1::3] and tasks[::-1] == rows[::-1]
    assert tasks[2:2] == []
    assert type(tasks[1]["overlap"]) is int  # whole floats go out as integers


def test_a_bad_cell_is_named_at_its_position_whichever_way_it_is_read() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"pool_id": POOL, "input_values.n": [0, 1, 2, object()], "overlap": 1},
        index=[10, 11, 12, 13],
    )
    tasks = FrameTasks(frame)
    for read in (lambda: tasks[3], lambda: tasks[2:4], lambda: tasks[-1], lambda: list(tasks)):
        with pytest.raises(tx.InvalidInputError) as info:
            read()
        assert info.value.position == 3
        assert "row 3, index label 13" in str(info.value)


# ------------------------------------------------------------- checks of each task's fields


def test_the_largest_overlap_is_accepted(client: Toloka, sandbox: Sandbox) -> None:
    solved = {"known_solutions": [{"output_values": {"r": 1}}]}  # the full check, not the fast one
    result = client.tasks.create_tasks([task(0, overlap=30_000), task(1, overlap=30_000, **solved)])
    assert result.ok and [t["overlap"] for t in posts(sandbox)[0].json()] == [30_000, 30_000]


def test_a_numeric_pool_id_and_solution_models_go_out_as_json(
    client: Toloka, sandbox: Sandbox
) -> None:
    one = task(
        0,
        pool_id=int(POOL),
        known_solutions=[KnownSolution(output_values={"r": 1}, correctness_weight=1)],
        baseline_solutions=[BaselineSolution(output_values={"r": 2}, confidence_weight=0.5)],
    )
    assert client.tasks.create_tasks([one]).ok
    (sent,) = posts(sandbox)[0].json()
    assert sent["pool_id"] == POOL
    assert sent["known_solutions"] == [{"output_values": {"r": 1}, "correctness_weight": 1}]
    assert sent["baseline_solutions"] == [{"output_values": {"r": 2}, "confidence_weight": 0.5}]


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"pool_id": 4.2}, "pool_id", "pool_id must be a string, got float"),
        ({"input_values": [1]}, "input_values", "input_values must be an object, got list"),
        ({"unavailable_for": "u1"}, "unavailable_for", "must be a list of strings"),
        ({"reserved_for": ["u1", 2]}, "reserved_for", "must be a list of strings"),
        ({"origin_task_id": 5}, "origin_task_id", "must be a string, got int"),
        ({"message_on_unknown_solution": b"m"}, "message_on_unknown_solution", "got bytes"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_field_of_a_task_is_checked_at_its_position(
    client: Toloka, sandbox: Sandbox, extra: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks([task(0), task(1, **extra)])
    assert (info.value.position, info.value.field) == (1, field)
    assert words in str(info.value)
    assert posts(sandbox) == []


# --------------------------------------------------------------------- the operation log


def test_an_operation_log_that_is_not_a_list_is_drift(client: Toloka, sandbox: Sandbox) -> None:
    result = client.tasks.create_tasks([task(0)], async_mode=True)
    (operation,) = result.operations
    bend(sandbox, "getOperationLog", lambda body: {"items": body})
    with pytest.raises(tx.ApiDriftError) as info:
        client.operations.get_log(operation.id)
    err = info.value
    assert (err.operation, err.field) == ("getOperationLog", "(body)")
    assert err.detail == "expected an array, got dict"


def test_a_malformed_log_entry_is_named_by_its_index(client: Toloka, sandbox: Sandbox) -> None:
    result = client.tasks.create_tasks([task(0), task(1)], async_mode=True)
    (operation,) = result.operations

    def break_second(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body[1]["success"] = "yes"
        return body

    bend(sandbox, "getOperationLog", break_second)
    with pytest.raises(tx.ApiDriftError) as info:
        client.operations.get_log(operation.id)
    assert info.value.field == "[1].type/success"


# ------------------------------------------------------- drift named by operation and field


def _drift_of(call: Callable[[], object]) -> tuple[str, str, str]:
    with pytest.raises(tx.ApiDriftError) as info:
        call()
    return info.value.operation, info.value.field, info.value.detail


def test_a_list_page_that_does_not_fit_names_what_does_not() -> None:
    def parse(item: object, field: str) -> tuple[object, str]:
        return item, field

    def page(body: object) -> Callable[[], object]:
        return lambda: parse_page(body, "listTasks", parse)

    assert _drift_of(page([])) == ("listTasks", "(body)", "expected a page object, got list")
    assert _drift_of(page({"items": {}, "has_more": False})) == (
        "listTasks",
        "items",
        "expected an array, got dict",
    )
    assert _drift_of(page({"items": []})) == (
        "listTasks",
        "has_more",
        "needed to page on, got None",
    )
    assert parse_page({"items": ["a", "b"], "has_more": True}, "listTasks", parse) == (
        [("a", "items[0]"), ("b", "items[1]")],
        True,
    )


def test_a_sync_answer_that_does_not_fit_names_what_does_not() -> None:
    def answer(body: object, keep: bool = False) -> Callable[[], object]:
        return lambda: apply_sync_response(TaskCreateResult(), _chunk(2), body, keep_tasks=keep)

    assert _drift_of(answer([])) == ("createTasks", "(body)", "expected the batch object, got list")
    assert _drift_of(answer({"items": []})) == (
        "createTasks",
        "items",
        "expected an object, got list",
    )
    assert _drift_of(answer({"validation_errors": ["x"]})) == (
        "createTasks",
        "validation_errors",
        "expected an object",
    )
    assert _drift_of(answer({"items": {"1": "t"}})) == (
        "createTasks",
        "items.1",
        "expected a task object",
    )
    assert _drift_of(answer({"items": {"one": {"id": "t"}}}))[:2] == ("createTasks", "items")
    # A created task is built when read (keep_tasks): its drift is named then.
    bad_task = {"items": {"0": {"id": "t1", "pool_id": "1", "overlap": "x"}}}
    kept = TaskCreateResult()
    apply_sync_response(kept, _chunk(2), bad_task, keep_tasks=True)
    assert kept.task_ids == {0: "t1"}
    assert _drift_of(lambda: kept.created[0])[:2] == ("createTasks", "items.0.overlap")
    bad_error = {"validation_errors": {"1": {"input_values.n": "bad"}}}
    assert _drift_of(answer(bad_error))[:2] == ("createTasks", "validation_errors.1.input_values.n")


def test_a_sync_answer_with_errors_only_needs_no_items() -> None:
    result = TaskCreateResult()
    body = {"validation_errors": {"0": GOOD_FIELD, "1": GOOD_FIELD}}
    apply_sync_response(result, _chunk(2, start=4), body, keep_tasks=True)
    assert sorted(result.errors) == [4, 5] and result.task_ids == {} and result.unknown == []


def test_a_failed_task_create_without_details_says_so() -> None:
    result = TaskCreateResult()
    failed = {"type": "TASK_CREATE", "success": False, "input": None, "output": None}
    apply_log(result, _chunk(1, start=3), [{"input_values": {}}], [failed], keep_tasks=True)
    assert result.errors == {
        3: {"": FieldError(code="TASK_CREATE_FAILED", message="no details in the log")}
    }


def test_log_entries_that_decide_nothing_are_left_out(client: Toloka, sandbox: Sandbox) -> None:
    def with_checks(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entry in body:
            if entry["type"] == "TASK_CREATE":
                # A successful check before each creation decides nothing.
                out.append({**entry, "type": "TASK_VALIDATE", "output": {}})
            out.append(entry)
        out.append({"type": "POOL_OPEN", "success": False, "input": {}, "output": {}})
        return out

    bend(sandbox, "getOperationLog", with_checks)
    result = client.tasks.create_tasks([task(i) for i in range(3)], async_mode=True)
    assert result.task_ids == ids_by_position(sandbox) and result.errors == {}


def _entry(echo: dict[str, Any] | None, task_id: str) -> OperationLogItem:
    return OperationLogItem(
        type="TASK_CREATE",
        success=True,
        input=None if echo is None else {"input_values": echo},
        output={"task_id": task_id},
    )


def test_log_entries_without_an_echo_are_skipped_when_matching_by_content() -> None:
    payloads = [{"input_values": {"n": i}} for i in range(3)]
    log = [_entry(None, "a"), _entry({"n": 2}, "b")]  # fewer entries than tasks
    matched = match_log(log, payloads)
    assert {k: v.output["task_id"] for k, v in matched.items()} == {2: "b"}


def test_a_log_not_echoing_inputs_faithfully_falls_back_to_request_order() -> None:
    payloads = [{"input_values": {"n": 1}}, {"input_values": {"n": 2}}]
    log = [_entry({"n": "1"}, "a"), _entry({"n": "2"}, "b")]  # the server's own rendering
    matched = match_log(log, payloads)
    assert {k: v.output["task_id"] for k, v in matched.items()} == {0: "a", 1: "b"}
    fewer = match_log(log[:1], payloads)
    assert fewer == {}  # not one per task: nothing is guessed


# ------------------------------------------- what a Task read back carries is never sent


def _read_back(i: int) -> Task:
    """A task as the API returns it: with ``id``, ``created`` and ``remaining_overlap``."""
    return Task(
        POOL,
        {"n": i},
        overlap=2,
        id=f"read-{i}",
        created=datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
        remaining_overlap=1,
    )


SERVER_ONLY = {"id", "created", "remaining_overlap"}


@pytest.mark.parametrize("async_mode", [False, True])
def test_a_task_read_back_and_created_again_sends_none_of_the_servers_fields(
    client: Toloka, sandbox: Sandbox, async_mode: bool
) -> None:
    result = client.tasks.create_tasks([_read_back(0), _read_back(1)], async_mode=async_mode)
    assert result.ok
    sent = posts(sandbox)[0].json()
    assert [sorted(t) for t in sent] == [["input_values", "overlap", "pool_id"]] * 2
    assert {t["id"] for t in sandbox.tasks()}.isdisjoint({"read-0", "read-1"})


def test_create_task_with_a_read_back_task_sends_none_of_the_servers_fields(
    client: Toloka, sandbox: Sandbox
) -> None:
    created = client.tasks.create_task(_read_back(0))
    (request,) = posts(sandbox)
    assert SERVER_ONLY.isdisjoint(request.json())
    assert created.id != "read-0" and created.remaining_overlap == 2


def _refused(client: Toloka, sandbox: Sandbox, bad: Any, *, single: bool) -> tx.InvalidInputError:
    """How ``bad`` is refused by ``create_task``, or as the second task of ``create_tasks``
    (then at position 1); either way before anything is sent."""
    with pytest.raises(tx.InvalidInputError) as info:
        if single:
            client.tasks.create_task(bad)
        else:
            client.tasks.create_tasks([task(0), bad])
    assert info.value.position == (0 if single else 1)
    assert posts(sandbox) == []
    return info.value


# ------------------------------------------------ the fast check never lets a bad task by


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"overlap": 0, "infinite_overlap": True}, "overlap"),
        ({"overlap": 30_001, "infinite_overlap": True}, "overlap"),
        ({"overlap": -3, "infinite_overlap": False}, "overlap"),
        ({"overlap": True, "infinite_overlap": True}, "overlap"),
        ({"overlap": 2.0, "infinite_overlap": True}, "overlap"),
        ({"overlap": None, "infinite_overlap": False}, "overlap"),
        ({"overlap": None, "infinite_overlap": None}, "overlap"),
        ({"overlap": None, "infinite_overlap": "yes"}, "infinite_overlap"),
        ({"overlap": 1, "infinite_overlap": 1}, "infinite_overlap"),
        ({"overlap": 1, "infinite_overlap": "false"}, "infinite_overlap"),
        ({"pool_id": ""}, "pool_id"),
        ({"input_values": None}, "input_values"),
        ({"origin_task_id": 7}, "origin_task_id"),
        ({"message_on_unknown_solution": 7}, "message_on_unknown_solution"),
    ],
    ids=repr,
)
@pytest.mark.parametrize("single", [False, True], ids=["create_tasks", "create_task"])
def test_overlap_and_its_flags_are_checked_whatever_else_the_task_says(
    client: Toloka, sandbox: Sandbox, extra: dict[str, Any], field: str, single: bool
) -> None:
    assert _refused(client, sandbox, task(1, **extra), single=single).field == field


@pytest.mark.parametrize(
    "extra",
    [
        {"overlap": None, "infinite_overlap": True},
        {"overlap": 5, "infinite_overlap": True},
        {"overlap": 30_000, "infinite_overlap": False},
        {"overlap": 1, "message_on_unknown_solution": "m", "origin_task_id": "t-0"},
    ],
    ids=repr,
)
def test_the_usual_task_shapes_go_out_unchanged(
    client: Toloka, sandbox: Sandbox, extra: dict[str, Any]
) -> None:
    one = {k: v for k, v in task(0, **extra).items() if v is not None}
    assert client.tasks.create_tasks([one]).ok
    assert posts(sandbox)[0].json() == [one]


def test_a_missing_overlap_takes_the_pools_default_only_when_asked(
    client: Toloka, sandbox: Sandbox
) -> None:
    bare = {"pool_id": POOL, "input_values": {"n": 0}, "infinite_overlap": False}
    with pytest.raises(tx.InvalidInputError, match="allow_defaults"):
        client.tasks.create_tasks([bare])
    assert client.tasks.create_tasks([bare], allow_defaults=True).ok
    assert posts(sandbox)[0].json() == [bare]


# ----------------------------------------- every refusal names the argument it refuses


@pytest.mark.parametrize(
    "tasks",
    [task(0), Task(POOL, {"n": 0}, overlap=1), "tasks.jsonl", b"[]"],
    ids=["mapping", "Task", "str", "bytes"],
)
def test_a_single_task_given_to_create_tasks_is_refused_by_name(
    client: Toloka, sandbox: Sandbox, tasks: Any
) -> None:
    with pytest.raises(tx.InvalidInputError, match="create_task\\(\\)") as info:
        client.tasks.create_tasks(tasks)
    assert (info.value.field, info.value.position) == ("tasks", None)
    assert posts(sandbox) == []


def test_an_operation_id_without_async_mode_is_refused_by_name(
    client: Toloka, sandbox: Sandbox
) -> None:
    with pytest.raises(tx.InvalidInputError, match="async_mode=True") as info:
        client.tasks.create_tasks([task(0)], operation_id=uuid.uuid4())
    assert (info.value.field, info.value.position) == ("operation_id", None)
    assert posts(sandbox) == []


@pytest.mark.parametrize("single", [False, True], ids=["create_tasks", "create_task"])
@pytest.mark.parametrize(
    ("value", "where", "why"),
    [
        (float("nan"), "input_values.n", "nan is not a valid JSON number"),
        (float("inf"), "input_values.n", "inf is not a valid JSON number"),
        ({1, 2}, "input_values.n", "set values cannot be sent as JSON"),
        (b"raw", "input_values.n", "bytes values cannot be sent as JSON"),
        ({"deep": [0, object()]}, "input_values.n.deep[1]", "object values cannot be sent"),
    ],
    ids=["nan", "inf", "set", "bytes", "object"],
)
def test_a_value_json_cannot_carry_is_named_at_its_position_and_path(
    client: Toloka, sandbox: Sandbox, value: object, where: str, why: str, single: bool
) -> None:
    bad = task(1, input_values={"n": value})
    refusal = _refused(client, sandbox, bad, single=single)
    assert refusal.field == where and why in str(refusal)


def test_keys_json_turns_into_strings_are_no_reason_to_blame_another_task(
    client: Toloka, sandbox: Sandbox
) -> None:
    """A number as a key goes out as a string (as ``json`` does): when a later task holds
    what JSON cannot carry, that task is named, not the one with the number key."""
    numbered = task(0, input_values={"n": 0, 7: "seven", None: "none", 1.5: "half"})
    broken = task(1, input_values={"n": float("nan")})
    with pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks([numbered, broken])
    assert (info.value.position, info.value.field) == (1, "input_values.n")
    assert posts(sandbox) == []
    sandbox.add_pool("43", input_spec={"n": "integer", "7": "string"}, default_overlap=1)
    assert client.tasks.create_tasks([task(0, pool_id="43", input_values={"n": 0, 7: "x"})]).ok
    assert posts(sandbox)[0].json()[0]["input_values"] == {"n": 0, "7": "x"}


@pytest.mark.parametrize("single", [False, True], ids=["create_tasks", "create_task"])
@pytest.mark.parametrize("bad", [5, None, ["pool", "values"], "task"], ids=repr)
def test_a_task_that_is_no_mapping_is_named_at_its_position(
    client: Toloka, sandbox: Sandbox, bad: object, single: bool
) -> None:
    refusal = _refused(client, sandbox, bad, single=single)
    assert refusal.field is None
    assert f"must be a Task or a mapping, got {type(bad).__name__}" in str(refusal)


def _answering(body: bytes, content_type: str = "application/json") -> Toloka:
    """A v1 API whose every answer is ``body``, except the JSON 404 that the client's
    first-contact check of ``v1_base_url`` expects for an operation that does not exist."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/operations/00000000-0000-4000-8000-000000000000"):
            return httpx.Response(404, json={"code": "DOES_NOT_EXIST", "message": "no"})
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return Toloka(
        api_key="k",
        v1_base_url="https://toloka.example/api/v1",
        base_url="https://toloka.example/api/v2-beta",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=0,
    )


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe"], ids=["torn", "empty", "binary"])
def test_an_answer_that_is_not_json_is_drift_naming_the_operation(body: bytes) -> None:
    with _answering(body) as client:
        with pytest.raises(tx.ApiDriftError) as info:
            client.operations.get("op-1")
        assert (info.value.operation, info.value.field) == ("getOperation", "(body)")
        assert info.value.detail.startswith("response is not JSON")
        with pytest.raises(tx.ApiDriftError) as info:
            client.tasks.create_task(task(0))
        assert (info.value.operation, info.value.field) == ("createTasks", "(body)")


# -------------------------------------------------------------- count filters of a list


@pytest.mark.parametrize(
    "name", ["overlap", "overlap_gt", "overlap_gte", "overlap_lt", "overlap_lte"]
)
def test_count_filters_take_integers_from_0_to_2_to_the_31(
    client: Toloka, sandbox: Sandbox, name: str
) -> None:
    for good in (0, 2**31):
        assert list(client.tasks.list(pool_id=POOL, **{name: good})) == []
        assert sandbox.requests_for("listTasks")[-1].params[name] == str(good)
    sent = len(sandbox.requests_for("listTasks"))
    for bad in (-1, 2**31 + 1, "3", 2.0, True, [1]):
        with pytest.raises(tx.InvalidInputError) as info:
            client.tasks.list(pool_id=POOL, **{name: bad})
        assert info.value.field == name
        assert str(2**31) in str(info.value)
    assert len(sandbox.requests_for("listTasks")) == sent


# -- whole-answer fast paths: the same result as entry by entry, for any answer -------------

_odd = st.one_of(
    st.none(), st.just(""), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=1)
)


def _seen(run: Callable[[], None], result: TaskCreateResult) -> Any:
    try:
        run()
        return (
            result.task_ids,
            result.errors,
            result.unknown,
            {p: t.to_dict() for p, t in result.created.items()},  # read: built now
        )
    except tx.ApiDriftError as exc:
        return ("drift", str(exc))


def _both_paths(fast_path: str, apply: Callable[[TaskCreateResult], None]) -> tuple[Any, Any]:
    from unittest import mock

    from toloka_ext._v1 import _logic

    fast = TaskCreateResult()
    seen_fast = _seen(lambda: apply(fast), fast)
    slow = TaskCreateResult()
    with mock.patch.object(_logic, fast_path, return_value=None):
        seen_slow = _seen(lambda: apply(slow), slow)
    return seen_fast, seen_slow


@st.composite
def _answers(draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    """A sync answer: usually every position with its task, sometimes one thing off."""
    size = draw(st.integers(min_value=1, max_value=5))
    items: dict[Any, Any] = {
        str(o): {"id": f"t{o}", "pool_id": "p", "input_values": {"n": o}} for o in range(size)
    }
    answer: dict[str, Any] = {"items": items}
    change = draw(st.sampled_from(["none", "none", "id", "drop", "key", "order", "error"]))
    offset = draw(st.integers(min_value=0, max_value=size - 1))
    if change == "id":
        items[str(offset)] = draw(st.one_of(_odd, st.fixed_dictionaries({"id": _odd})))
    elif change == "drop":
        del items[str(offset)]
    elif change == "key":
        items[draw(st.one_of(st.text(max_size=3), st.integers().map(str)))] = items.pop(str(offset))
    elif change == "order":
        answer["items"] = dict(reversed(list(items.items())))
    elif change == "error":
        del items[str(offset)]
        answer["validation_errors"] = {str(offset): {"f": {"code": "C", "message": "m"}}}
    return size, answer


@settings(max_examples=300, deadline=None)
@given(answer=_answers(), start=st.integers(min_value=0, max_value=10**6), keep=st.booleans())
def test_sync_answer_fast_path_is_the_entry_by_entry_reading(
    answer: tuple[int, dict[str, Any]], start: int, keep: bool
) -> None:
    size, data = answer
    chunk = Chunk(index=0, start=start, items=[None] * size, is_last=True)
    fast, slow = _both_paths(
        "_usual_answer_ids",
        lambda r: apply_sync_response(r, chunk, copy.deepcopy(data), keep_tasks=keep),
    )
    assert fast == slow


@st.composite
def _logs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Any]]:
    """Payloads and their log: usually one echoing TASK_CREATE each, sometimes one thing off."""
    size = draw(st.integers(min_value=1, max_value=5))
    payloads = [{"pool_id": "p", "input_values": {"n": o % 3}} for o in range(size)]
    log: list[Any] = [
        {"type": "TASK_CREATE", "success": True, "input": dict(p), "output": {"task_id": f"t{o}"}}
        for o, p in enumerate(payloads)
    ]
    change = draw(
        st.sampled_from(["none", "none", "field", "drop", "extra", "order", "entry", "invalid"])
    )
    offset = draw(st.integers(min_value=0, max_value=size - 1))
    entry = log[offset]
    if change == "field":
        key = draw(st.sampled_from(["type", "success", "input", "output"]))
        entry[key] = draw(st.one_of(_odd, st.booleans(), st.just({})))
    elif change == "drop":
        del log[offset]
    elif change == "extra":
        log.insert(offset, {"type": "POOL_OPEN", "success": True, "input": {}, "output": {}})
    elif change == "order":
        log.reverse()
    elif change == "entry":
        log[offset] = draw(_odd)
    elif change == "invalid":
        log[offset] = {"type": "TASK_VALIDATE", "success": False, "input": dict(entry["input"])}
        log[offset]["output"] = {"input_values.n": {"code": "C", "message": "m"}}
    if draw(st.booleans()) and isinstance(entry.get("output"), dict):
        entry["output"]["task_id"] = draw(_odd)
    return payloads, log


@settings(max_examples=300, deadline=None)
@given(
    case=_logs(),
    start=st.integers(min_value=0, max_value=10**6),
    keep=st.booleans(),
    sent=st.booleans(),
)
def test_log_fast_path_is_the_entry_by_entry_reading(
    case: tuple[list[dict[str, Any]], list[Any]], start: int, keep: bool, sent: bool
) -> None:
    payloads, log = case
    body = json.dumps(payloads).encode() if sent else None  # created tasks from the bytes
    chunk = Chunk(index=0, start=start, items=[None] * len(payloads), is_last=True)
    fast, slow = _both_paths(
        "_usual_log_ids",
        lambda r: apply_log(r, chunk, payloads, copy.deepcopy(log), keep_tasks=keep, body=body),
    )
    assert fast == slow
