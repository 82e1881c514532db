"""toloka-kit's task and operation flows against a served sandbox; run by
``tests/v1/test_toloka_kit.py`` with the Python of toloka-kit's own virtualenv (it needs
httpx < 0.28, which this project's environment does not have).

    python toloka_kit_flows.py URL TOKEN POOL   # prints one JSON report on stdout

Each flow is a public toloka-kit 1.2.3 call as its documentation shows it; the report holds
what came back, in plain JSON, for the test to compare with what the sandbox stored.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import toloka.client as tc
from toloka.client.exceptions import ValidationApiError


def task_json(task: Any) -> dict[str, Any]:
    return {
        "id": task.id,
        "pool_id": task.pool_id,
        "input_values": task.input_values,
        "overlap": task.overlap,
        "infinite_overlap": task.infinite_overlap,
        "remaining_overlap": task.remaining_overlap,
        "created": task.created.isoformat() if task.created else None,
    }


def op_json(op: Any) -> dict[str, Any]:
    return {
        "id": op.id,
        "type": type(op).__name__,
        "status": op.status.value,
        "progress": op.progress,
        "details": op.details,
        "parameters": {
            "skip_invalid_items": op.parameters.skip_invalid_items,
            "allow_defaults": op.parameters.allow_defaults,
            "open_pool": op.parameters.open_pool,
        },
    }


def new_tasks(pool: str, start: int, n: int) -> list[Any]:
    return [
        tc.Task(pool_id=pool, input_values={"image": f"https://example.com/{i}.png"}, overlap=1)
        for i in range(start, start + n)
    ]


def main(url: str, token: str, pool: str) -> dict[str, Any]:
    # retries=0: an error the sandbox answers is the report's, not hidden by a retry.
    client = tc.TolokaClient(token, url=url, retries=0, timeout=30)
    report: dict[str, Any] = {}

    # 1. The default create_tasks: one async operation, polled, then its log read back and
    #    matched to the tasks by the "__item_idx" key toloka-kit adds to each.
    sent = new_tasks(pool, 0, 110)
    created = client.create_tasks(sent)
    report["default"] = {
        "items": {k: task_json(t) for k, t in created.items.items()},
        "validation_errors": created.validation_errors,
    }

    # ... with an invalid task and skip_invalid_items: the log tells which index failed.
    mixed = new_tasks(pool, 200, 3)
    mixed.insert(1, tc.Task(pool_id=pool, input_values={"image": "no overlap"}))
    skipped = client.create_tasks(mixed, skip_invalid_items=True)
    report["skip_invalid"] = {
        "items": {k: task_json(t) for k, t in skipped.items.items()},
        "validation_errors": {
            k: {path: {"code": e.code, "message": e.message} for path, e in v.items()}
            for k, v in skipped.validation_errors.items()
        },
    }

    # ... and all invalid: toloka-kit raises as in sync mode.
    try:
        client.create_tasks([tc.Task(pool_id=pool, input_values={"image": "x"})])
        report["all_invalid"] = "created"
    except ValidationApiError as exc:
        report["all_invalid"] = {"code": exc.code, "payload": sorted(exc.payload)}

    # 2. Sync creation: one POST, the answer keyed by position.
    sync = client.create_tasks(new_tasks(pool, 300, 40), async_mode=False)
    report["sync"] = {"items": {k: task_json(t) for k, t in sync.items.items()}}

    # 3. get_tasks over several pages (keyset: sort=id, id_gt=the last id of a page).
    pages = 0
    find_tasks = client.find_tasks

    def counting_find_tasks(*args: Any, **kwargs: Any) -> Any:
        nonlocal pages
        pages += 1
        return find_tasks(*args, **kwargs)

    client.find_tasks = counting_find_tasks  # type: ignore[method-assign]
    listed = list(client.get_tasks(pool_id=pool, batch_size=50))
    client.find_tasks = find_tasks  # type: ignore[method-assign]
    report["get_tasks"] = {"ids": [t.id for t in listed], "pages": pages}

    # 4. get_task, patch_task, patch_task_overlap_or_min on one task.
    first = created.items["0"].id
    report["get_task"] = task_json(client.get_task(first))
    report["patch_task"] = task_json(client.patch_task(first, overlap=5))
    report["patch_task_infinite"] = task_json(client.patch_task(first, infinite_overlap=True))
    report["patch_task_overlap_or_min"] = task_json(
        client.patch_task_overlap_or_min(first, overlap=0)
    )

    # 5. get_operations (every page) and one operation's log.
    ops = list(client.get_operations(type="TASK.BATCH_CREATE", status="SUCCESS"))
    report["get_operations"] = [op_json(op) for op in ops]
    report["get_operations_fail"] = [op_json(op) for op in client.get_operations(status="FAIL")]
    mine = next(op for op in ops if (op.details or {}).get("total_count") == 110)
    report["get_operation"] = op_json(client.get_operation(mine.id))
    report["get_operation_log"] = [
        {"type": item.type, "success": item.success, "input": item.input, "output": item.output}
        for item in client.get_operation_log(mine.id)
    ]
    return report


if __name__ == "__main__":
    url, token, pool = sys.argv[1:4]
    json.dump(main(url, token, pool), sys.stdout, default=str)
