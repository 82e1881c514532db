"""API v1 handlers: tasks and operations (snake_case bodies)."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

from . import _schemas as S
from ._clock import iso_v1
from ._core import Ctx, Reply, parse_json, public
from ._errors import ApiError
from ._inputspec import check_input_values
from ._validate import validate

Obj = dict[str, Any]
FieldErrors = dict[str, dict[str, str]]

SYNC_MAX_TASKS = 5000
ASYNC_MAX_TASKS = 100_000


def _err(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


def check_task(
    ctx: Ctx, task: Any, *, allow_defaults: bool, schema_errors: FieldErrors | None = None
) -> tuple[Obj | None, FieldErrors]:
    """The task as it would be stored, or its field errors (v1-create-tasks rules)."""
    if schema_errors is None:
        issues = [] if _plainly_valid(task) else validate(task, S.TASK_CREATE)
        schema_errors = {path: _err(code, msg) for path, code, msg in issues}
    errors: FieldErrors = dict(schema_errors)
    if not isinstance(task, dict) or errors:
        return None, errors or {"": _err("INVALID_TYPE", "a task must be a JSON object")}
    pool = ctx.backend.get("pool", task["pool_id"])
    if pool is None:
        return None, {"pool_id": _err("DOES_NOT_EXIST", f"Pool {task['pool_id']} does not exist")}
    if task.get("baseline_solutions") and not pool.get("baseline_solutions_allowed", True):
        errors["baseline_solutions"] = _err(
            "VALUE_NOT_ALLOWED", "baseline_solutions is not allowed in task suites"
        )
    spec = pool.get("input_spec")
    if spec is not None:
        errors.update(check_input_values(task["input_values"], spec))
    default = pool.get("default_overlap")
    infinite = bool(task.get("infinite_overlap", False))
    if allow_defaults and default is not None:
        overlap = default
    elif "overlap" in task:
        overlap = task["overlap"]
    elif default is not None:
        overlap = default
    elif infinite:
        overlap = None
    else:
        errors["overlap"] = _err(
            "VALUE_REQUIRED",
            "overlap is required: set it, or use allow_defaults=true with a pool default",
        )
        return None, errors
    if errors:
        return None, errors
    stored: Obj = {k: v for k, v in task.items() if k in S.TASK_CREATE["properties"]}
    stored["infinite_overlap"] = infinite
    if overlap is not None:
        stored["overlap"] = overlap
        stored["remaining_overlap"] = overlap  # no Toloker has taken it yet
    return stored, {}


# The scalar fields of TASK_CREATE and a check of each: a task made of these alone (the usual
# shape) is valid without the generic validator, which costs ~50 µs a task. Anything else
# (arrays, a wrong type, an unknown key's neighbours) takes the generic path.
_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "pool_id": lambda v: isinstance(v, str),
    "input_values": lambda v: isinstance(v, dict),
    "overlap": lambda v: type(v) is int and 1 <= v <= 30000,
    "infinite_overlap": lambda v: isinstance(v, bool),
    "message_on_unknown_solution": lambda v: isinstance(v, str),
    "origin_task_id": lambda v: isinstance(v, str),
}


def _plainly_valid(task: Any) -> bool:
    """True only when ``validate(task, S.TASK_CREATE)`` would find nothing, checked fast."""
    if not isinstance(task, dict) or "pool_id" not in task or "input_values" not in task:
        return False
    for key, value in task.items():
        check = _SCALAR_CHECKS.get(key)
        if check is None:
            if key in S.TASK_CREATE["properties"]:
                return False  # a structured field: the generic validator decides
        elif not check(value):
            return False
    return True


def _pool_status_check(ctx: Ctx, tasks: list[Any]) -> None:
    for task in tasks:
        if isinstance(task, dict) and isinstance(task.get("pool_id"), str):
            pool = ctx.backend.get("pool", task["pool_id"])
            if pool is not None and pool.get("status") == "ARCHIVED":
                raise ApiError(409, f"Pool {pool['id']} is archived", code="INAPPROPRIATE_STATUS")


def _create(ctx: Ctx, stored: list[Obj]) -> list[Obj]:
    backend = ctx.backend
    now = iso_v1(ctx.now())
    created = []
    for task in stored:
        n = backend.next_number("task")
        created.append({"id": f"{ctx.config.seed:08x}--{n:06x}", **task, "created": now})
    backend.save_many("task", created)
    backend.counters.tasks_created += len(created)
    return created


def _open_pools(ctx: Ctx, created: list[Obj]) -> None:
    for pool_id in {t["pool_id"] for t in created}:
        pool = ctx.backend.get("pool", pool_id)
        if pool is not None and pool.get("status") != "OPEN":
            pool["status"] = "OPEN"
            ctx.backend.save("pool", pool)


def create_tasks(ctx: Ctx) -> Reply:
    async_mode = ctx.request.q_bool("async_mode")
    allow_defaults = ctx.request.q_bool("allow_defaults")
    skip_invalid = ctx.request.q_bool("skip_invalid_items")
    open_pool = ctx.request.q_bool("open_pool")
    operation_id = ctx.request.q_str("operation_id")
    if operation_id is not None:
        try:
            operation_id = str(uuid.UUID(operation_id))
        except ValueError:
            raise ApiError(400, "operation_id: must be an RFC 4122 UUID") from None
    try:
        data = parse_json(ctx.request.body) if ctx.request.body.strip() else None
    except ValueError as exc:
        raise ApiError(400, f"Malformed JSON: {exc}") from None
    if not isinstance(data, dict | list):
        raise ApiError(400, "The body must be a task object or an array of tasks")
    single = isinstance(data, dict)
    tasks: list[Any] = [data] if isinstance(data, dict) else data
    limit = ASYNC_MAX_TASKS if async_mode else SYNC_MAX_TASKS
    if len(tasks) > limit:
        mode = "an asynchronous" if async_mode else "a synchronous"
        raise ApiError(
            400,
            f"At most {limit} tasks in {mode} request, got {len(tasks)}",
            code="VALIDATION_ERROR",
        )
    _check_request_bytes(tasks)
    ctx.runtime.take_tasks(len(tasks), ctx.now())
    parameters = {
        "open_pool": open_pool,
        "allow_defaults": allow_defaults,
        "skip_invalid_items": skip_invalid,
    }
    schema_errors = {
        str(i): {path: _err(code, msg) for path, code, msg in issues}
        for i, task in enumerate(tasks)
        if not _plainly_valid(task) and (issues := validate(task, S.TASK_CREATE))
    }
    if schema_errors and (single or not skip_invalid):
        payload = schema_errors["0"] if single else schema_errors
        raise ApiError(400, "Validation failed", code="VALIDATION_ERROR", payload=payload)
    if async_mode:
        return _create_operation(ctx, operation_id, tasks, parameters)
    _pool_status_check(ctx, tasks)
    results = [
        check_task(
            ctx, t, allow_defaults=allow_defaults, schema_errors=schema_errors.get(str(i), {})
        )
        for i, t in enumerate(tasks)
    ]
    errors = {str(i): errs for i, (_, errs) in enumerate(results) if errs}
    if not skip_invalid or single:
        for errs in errors.values():
            missing = errs.get("pool_id")
            if missing is not None and missing["code"] == "DOES_NOT_EXIST":
                raise ApiError(404, missing["message"], code="DOES_NOT_EXIST")
    if errors and (single or not skip_invalid):
        payload = errors["0"] if single else errors
        not_allowed = any(
            e.get("baseline_solutions", {}).get("code") == "VALUE_NOT_ALLOWED"
            for e in errors.values()
        )
        if not_allowed:
            raise ApiError(
                400,
                "baseline_solutions is not allowed here",
                code="VALUE_NOT_ALLOWED",
                payload=payload,
            )
        raise ApiError(400, "Validation failed", code="VALIDATION_ERROR", payload=payload)
    valid = [(i, t) for i, (t, _) in enumerate(results) if t is not None]
    if errors and not valid:
        # Nothing to create: Toloka fails the whole batch, skip_invalid_items or not.
        raise ApiError(400, "Validation failed", code="VALIDATION_ERROR", payload=errors)
    created = _create(ctx, [t for _, t in valid])
    if open_pool and created:
        _open_pools(ctx, created)
    if single:
        return Reply(201, created[0])
    body: Obj = {"items": {str(i): task for (i, _), task in zip(valid, created, strict=True)}}
    if skip_invalid:
        body["validation_errors"] = errors
    return Reply(201, body)


def _create_operation(
    ctx: Ctx, operation_id: str | None, tasks: list[Any], parameters: Obj
) -> Reply:
    backend = ctx.backend
    if operation_id is not None:
        if backend.get("operation", operation_id) is not None:
            # Toloka's published behaviour: a retried create with a known operation_id is a
            # conflict, never a second operation; the client reads the operation it started.
            raise ApiError(
                409,
                f"Operation {operation_id} already exists",
                code="OPERATION_ALREADY_EXISTS",
            )
    else:
        operation_id = str(uuid.UUID(int=ctx.runtime.rng.getrandbits(128), version=4))
    now = ctx.now()
    operation: Obj = {
        "id": operation_id,
        "type": "TASK.BATCH_CREATE",
        "status": "PENDING",
        "submitted": iso_v1(now),
        "parameters": parameters,
        "_tasks": tasks,
        "_t0": now,
        "_polls": 0,
        "_log": [],
    }
    backend.save("operation", operation)
    return Reply(201, public(operation))


def _run_operation(ctx: Ctx, op: Obj) -> None:
    params = op["parameters"]
    tasks: list[Any] = op["_tasks"]
    results = [check_task(ctx, t, allow_defaults=params["allow_defaults"]) for t in tasks]
    valid = [t for t, _ in results if t is not None]
    # Each entry's input is the task as it was sent, keys the API does not know included:
    # Toloka echoes it so, and clients match entries to their tasks by it (toloka-kit tags
    # each task with an "__item_idx" key of its own and reads it back from here).
    sent = [tasks[i] for i, (t, _) in enumerate(results) if t is not None]
    invalid = [(tasks[i], errs) for i, (_, errs) in enumerate(results) if errs]
    log: list[Obj] = [
        {
            "type": "TASK_VALIDATE",
            "success": False,
            "input": t if isinstance(t, dict) else {"value": t},
            "output": errs,
        }
        for t, errs in invalid
    ]
    fail = bool(invalid) and not params["skip_invalid_items"]
    created = [] if fail else _create(ctx, valid)
    log.extend(
        {
            "type": "TASK_CREATE",
            "success": True,
            "input": as_sent,
            "output": {"task_id": t["id"]},
        }
        for as_sent, t in zip(sent if created else [], created, strict=True)
    )
    if params["open_pool"] and created:
        _open_pools(ctx, created)
        # Not a task step: its output is the pool's answer, not a task id.
        log.extend(
            {
                "type": "POOL_OPEN",
                "success": True,
                "input": {"pool_id": pool_id},
                "output": {"code": "OK", "message": "Pool opened", "request_id": op["id"]},
            }
            for pool_id in sorted({t["pool_id"] for t in created})
        )
    op["status"] = "FAIL" if fail else "SUCCESS"
    op["finished"] = iso_v1(ctx.now())
    op["progress"] = 100
    op["details"] = {
        "total_count": len(tasks),
        "valid_count": len(valid),
        "not_valid_count": len(invalid),
        "success_count": len(created),
        "failed_count": 0,
    }
    op["_log"] = log
    op["_tasks"] = []


def advance_operation(ctx: Ctx, op: Obj) -> None:
    if op["status"] in ("SUCCESS", "FAIL"):
        return
    op["_polls"] += 1
    stage = op["_polls"]
    step = ctx.config.step_seconds
    if step:
        stage += int((ctx.now() - op["_t0"]) // step)
    target = ctx.config.operation_polls
    if stage >= 1 and "started" not in op:
        op["started"] = iso_v1(ctx.now())
    if stage >= target:
        _run_operation(ctx, op)
    elif stage >= 1:
        op["status"] = "RUNNING"
        op["progress"] = min(99, (100 * stage) // target)
    ctx.backend.save("operation", op)


def _operation(ctx: Ctx) -> Obj:
    op = ctx.backend.get("operation", ctx.request.params["id"])
    if op is None:
        raise ApiError(404, f"Operation {ctx.request.params['id']} does not exist")
    return op


def get_operation(ctx: Ctx) -> Reply:
    op = _operation(ctx)
    advance_operation(ctx, op)
    return Reply(200, public(op))


def get_operation_log(ctx: Ctx) -> Reply:
    op = _operation(ctx)
    return Reply(200, list(op["_log"]))


# -- limits of one create request ----------------------------------------------------------
MAX_INPUT_BYTES = 1_048_576
MAX_OUTPUT_BYTES = 4_194_304


def _json_bytes(values: list[Any]) -> int:
    """Bytes of each value as compact UTF-8 JSON, summed (one encoder call for them all)."""
    if not values:
        return 0
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode()) - len(values) - 1  # the brackets and the commas between


def _check_request_bytes(tasks: list[Any]) -> None:
    """The create-tasks page: ``input_values`` of one request total at most 1 MiB, the
    known solutions' ``output_values`` at most 4 MiB (each counted as compact UTF-8 JSON)."""
    dicts = [t for t in tasks if isinstance(t, dict)]
    inputs = _json_bytes([t.get("input_values") for t in dicts])
    outputs = _json_bytes(
        [
            s.get("output_values")
            for t in dicts
            # Not a list (``true``, ``5``): the field check answers its 400 further on.
            for s in (t["known_solutions"] if isinstance(t.get("known_solutions"), list) else ())
            if isinstance(s, dict)
        ]
    )
    if inputs > MAX_INPUT_BYTES or outputs > MAX_OUTPUT_BYTES:
        raise ApiError(
            400,
            f"Request too large: input_values total {inputs} bytes (limit {MAX_INPUT_BYTES}), "
            f"known solutions' output_values {outputs} bytes (limit {MAX_OUTPUT_BYTES})",
            code="VALIDATION_ERROR",
        )


# -- the task resource and the list of operations -----------------------------------------
_TASK_SORT_KEYS = frozenset({"id", "created"})
_OPERATION_SORT_KEYS = frozenset({"id", "submitted", "finished"})
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _bounds(ctx: Ctx, field: str, cast: Callable[[str], Any]) -> list[tuple[str, Any]]:
    out = []
    for op in ("gt", "gte", "lt", "lte"):
        raw = ctx.request.q_str(f"{field}_{op}")
        if raw is not None:
            try:
                out.append((op, cast(raw)))
            except ValueError:
                raise ApiError(
                    400, f"{field}_{op}: not a valid value", code="VALIDATION_ERROR"
                ) from None
    return out


def _keep(value: Any, bounds: list[tuple[str, Any]]) -> bool:
    return all(value is not None and _COMPARE[op](value, bound) for op, bound in bounds)


def _sort_key(name: str) -> Callable[[Obj], str]:
    def key(obj: Obj) -> str:
        return str(obj.get(name, ""))

    return key


def _sort_keys(ctx: Ctx, allowed: frozenset[str]) -> list[str]:
    """The ``sort`` parameter as keys (``-`` for descending); absent means ``id``."""
    sort = ctx.request.q_str("sort")
    if sort is None:
        return ["id"]
    keys = [k.strip() for k in sort.split(",")]
    if not all(k.lstrip("-") in allowed for k in keys):
        raise ApiError(
            400,
            f"sort: {sort!r} is not a list of {', '.join(sorted(allowed))} (each may start with -)",
            code="VALIDATION_ERROR",
        )
    return keys


def _page(
    ctx: Ctx, source: list[Obj], keep: Callable[[Obj], bool], keys: list[str], *, in_id_order: bool
) -> Reply:
    """``{items, has_more}``: Toloka's lists have no offset and no total; callers page by
    keys (``sort=id`` and ``id_gt``).

    ``in_id_order`` says ``source`` already comes in ascending id order (tasks are stored in
    creation order and their ids grow): sorted by id alone, a page then costs its own size,
    not the pool's — the client's one-task lookup before a create stays cheap at 1M tasks.
    """
    limit = ctx.request.q_int("limit", 50, minimum=1, maximum=300)
    if in_id_order and keys in (["id"], ["-id"]):
        ordered = reversed(source) if keys == ["-id"] else iter(source)
        page = list(itertools.islice(filter(keep, ordered), limit + 1))
    else:
        listed = list(filter(keep, source))
        for key in reversed(keys):  # stable sorts: the last key first
            listed.sort(key=_sort_key(key.lstrip("-")), reverse=key.startswith("-"))
        page = listed[: limit + 1]
    return Reply(200, {"items": [public(o) for o in page[:limit]], "has_more": len(page) > limit})


def list_tasks(ctx: Ctx) -> Reply:
    pool_id = ctx.request.q_str("pool_id")
    if not pool_id:
        raise ApiError(400, "pool_id: Value must be present", code="VALIDATION_ERROR")
    raw_overlap = ctx.request.q_str("overlap")  # an integer: checked by the dispatcher
    overlap = None if raw_overlap is None else int(raw_overlap)
    keys = _sort_keys(ctx, _TASK_SORT_KEYS)
    ids = _bounds(ctx, "id", str)
    created = _bounds(ctx, "created", str)
    overlaps = _bounds(ctx, "overlap", int)

    def keep(t: Obj) -> bool:
        return (
            t["pool_id"] == pool_id
            and (overlap is None or t.get("overlap") == overlap)
            and _keep(t["id"], ids)
            and _keep(t.get("created"), created)
            and _keep(t.get("overlap"), overlaps)
        )

    return _page(ctx, list(ctx.backend.all("task")), keep, keys, in_id_order=True)


def _task(ctx: Ctx) -> Obj:
    task = ctx.backend.get("task", ctx.request.params["id"])
    if task is None:
        raise ApiError(404, f"Task {ctx.request.params['id']} does not exist")
    return task


def get_task(ctx: Ctx) -> Reply:
    return Reply(200, public(_task(ctx)))


def patch_task(ctx: Ctx) -> Reply:
    task = _task(ctx)
    data = ctx.request.json(S.TASK_PATCH)
    pool = ctx.backend.get("pool", task["pool_id"])
    if data.get("baseline_solutions") and pool and not pool.get("baseline_solutions_allowed"):
        raise ApiError(400, "baseline_solutions is not allowed here", code="VALUE_NOT_ALLOWED")
    task.update(data)
    if data.get("infinite_overlap"):
        task.pop("overlap", None)
        task.pop("remaining_overlap", None)
    elif "overlap" in data:
        task["infinite_overlap"] = False
        task["remaining_overlap"] = task["overlap"]  # nobody has taken it in the sandbox
    ctx.backend.save("task", task)
    if ctx.request.q_bool("open_pool"):
        _open_pools(ctx, [task])
    return Reply(200, public(task))


def set_task_overlap_or_min(ctx: Ctx) -> Reply:
    task = _task(ctx)
    data = ctx.request.json(S.TASK_OVERLAP_PATCH)
    if "overlap" not in data and "infinite_overlap" not in data:
        raise ApiError(400, "overlap: Value must be present", code="VALIDATION_ERROR")
    done = 0  # assignments already given out: none in the sandbox, so the minimum is 0
    if "overlap" in data or data.get("infinite_overlap") is False:
        task["infinite_overlap"] = False
        task["overlap"] = max(int(data.get("overlap", done)), done)
        task["remaining_overlap"] = task["overlap"] - done
    else:
        task["infinite_overlap"] = True
        task.pop("overlap", None)
        task.pop("remaining_overlap", None)
    ctx.backend.save("task", task)
    return Reply(200, public(task))


def list_operations(ctx: Ctx) -> Reply:
    keys = _sort_keys(ctx, _OPERATION_SORT_KEYS)
    kind = ctx.request.q_str("type")
    status = ctx.request.q_str("status")
    ids = _bounds(ctx, "id", str)
    submitted = _bounds(ctx, "submitted", str)
    finished = _bounds(ctx, "finished", str)

    def keep(op: Obj) -> bool:
        return (
            (kind is None or op.get("type") == kind)
            and (status is None or op.get("status") == status)
            and _keep(op["id"], ids)
            and _keep(op.get("submitted"), submitted)
            and _keep(op.get("finished"), finished)
        )

    return _page(ctx, list(ctx.backend.all("operation")), keep, keys, in_id_order=False)
