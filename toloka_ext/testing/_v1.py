"""API v1 handlers: tasks and operations (snake_case bodies)."""

from __future__ import annotations

import uuid
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
        issues = validate(task, S.TASK_CREATE)
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
    return stored, {}


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
    ctx.runtime.take_tasks(len(tasks), ctx.now())
    parameters = {
        "open_pool": open_pool,
        "allow_defaults": allow_defaults,
        "skip_invalid_items": skip_invalid,
    }
    schema_errors = {
        str(i): {path: _err(code, msg) for path, code, msg in issues}
        for i, task in enumerate(tasks)
        if (issues := validate(task, S.TASK_CREATE))
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
            "input": {k: v for k, v in t.items() if k != "id" and k != "created"},
            "output": {"task_id": t["id"]},
        }
        for t in created
    )
    if params["open_pool"] and created:
        _open_pools(ctx, created)
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
    op = ctx.backend.get("operation", ctx.request.params["operation_id"])
    if op is None:
        raise ApiError(404, f"Operation {ctx.request.params['operation_id']} does not exist")
    return op


def get_operation(ctx: Ctx) -> Reply:
    op = _operation(ctx)
    advance_operation(ctx, op)
    return Reply(200, public(op))


def get_operation_log(ctx: Ctx) -> Reply:
    op = _operation(ctx)
    return Reply(200, list(op["_log"]))
