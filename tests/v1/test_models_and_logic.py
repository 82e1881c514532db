from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toloka_ext as tx
from toloka_ext._v1._chunking import Chunk, iter_chunks
from toloka_ext._v1._logic import apply_log, apply_sync_response, match_log
from toloka_ext._v1._models import Operation, OperationLogItem, Task, TaskCreateResult


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
    apply_log(result, chunk, payloads, _log(("TASK_CREATE", True, {"n": 1})), keep_tasks=True)
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
