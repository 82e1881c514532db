"""One measurement in a fresh interpreter (run by ``bench/compare.py``, never imported).

    python bench/_child.py '{"kind": "ours_sync", "n": 100000, "url": "http://127.0.0.1:PORT"}'

Prints one line ``RESULT {json}`` on stdout. Only the standard library is imported at the
top: the toloka-kit measurements run with ``bench/.venv-toloka-kit/bin/python``, where
``toloka_ext`` is not installed, and each client is imported inside its own function (so an
import time is part of the child's CPU exactly as a user's script pays it).

The parent reads the child's CPU time and peak RSS with ``os.wait4``; ``call_cpu`` and
``seconds`` here cover the create call alone (generator, serialization, HTTP, results).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

POOL = "pool-1"
SYNC_CHUNK = 5000  # the API's cap on a synchronous create request
TOLOKA_KIT_CHUNK = 10_000  # toloka-kit's docstring: "no more than 10,000 tasks per request"


def gen_tasks(n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for i in range(start, start + n):
        yield {
            "pool_id": POOL,
            "input_values": {"image": f"https://example.com/img/{i}.png", "n": i},
            "overlap": 3,
        }


def chunked(n: int, size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for task in gen_tasks(n):
        chunk.append(task)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


PROFILE = False  # set by main() from the "profile" argument


def measured(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    if PROFILE:
        return _profiled(fn)
    cpu0, t0 = _cpu(), time.perf_counter()
    out = fn()
    out["seconds"] = time.perf_counter() - t0
    out["call_cpu"] = _cpu() - cpu0
    return out


def _profiled(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The call under cProfile: the functions with the most own time (the figures of a
    profiled run are not comparable, only where the time goes)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    out = profiler.runcall(fn)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(18)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    out["profile"] = [lines[i].rstrip() for i in range(start, len(lines)) if lines[i].strip()]
    out["profile_total"] = stats.total_tt
    return out


# -- hand-written loops ----------------------------------------------------------------------


def plain_loop(args: dict[str, Any], use_orjson: bool, *, as_list: bool = False) -> dict[str, Any]:
    """POST 5000 tasks at a time, check the status and the count; nothing else.

    ``as_list``: the tasks are a list built before the call (the input a user holds),
    posted a slice at a time, instead of a generator."""
    import httpx

    if use_orjson:
        import orjson

        dumps: Callable[[Any], bytes] = orjson.dumps
        loads: Callable[[bytes], Any] = orjson.loads
    else:

        def dumps(value: Any) -> bytes:
            return json.dumps(value).encode()

        loads = json.loads

    url = f"{args['url']}/api/v1/tasks"
    headers = {"Authorization": f"OAuth {args['token']}", "Content-Type": "application/json"}

    tasks = list(gen_tasks(args["n"])) if as_list else None

    def chunks() -> Iterator[list[dict[str, Any]]]:
        if tasks is None:
            yield from chunked(args["n"], SYNC_CHUNK)
        else:
            for start in range(0, len(tasks), SYNC_CHUNK):
                yield tasks[start : start + SYNC_CHUNK]

    def run() -> dict[str, Any]:
        created = 0
        with httpx.Client(timeout=120) as http:
            for chunk in chunks():
                response = http.post(url, content=dumps(chunk), headers=headers)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                created += len(loads(response.content)["items"])
        return {"reported_created": created}

    return measured(run)


# -- this package ---------------------------------------------------------------------------


def _ours_kwargs(args: dict[str, Any]) -> dict[str, Any]:
    from toloka_ext import PollPolicy

    kwargs: dict[str, Any] = {
        "api_key": args["api_key"],
        "v1_base_url": f"{args['url']}/api/v1",
        "poll_policy": PollPolicy(interval=0.05, max_interval=0.2),
    }
    if not args.get("default_settings"):
        # The client-side budget would pace the run to Toloka's 200,000 tasks a minute.
        kwargs["tasks_per_minute"] = None
    return kwargs


def _summary(result: Any, n: int) -> dict[str, Any]:
    return {
        "reported_created": len(result.task_ids),
        "reported_errors": len(result.errors),
        "reported_unknown": result.unknown_count,
        "operations": len(result.operations),
        "ok": bool(result.ok) and len(result.task_ids) == n,
    }


def ours(args: dict[str, Any], options: dict[str, Any], *, as_list: bool = False) -> dict[str, Any]:
    from toloka_ext import Toloka

    n = args["n"]
    tasks = list(gen_tasks(n)) if as_list else None  # the same input as the loop's list

    def run() -> dict[str, Any]:
        with Toloka(**_ours_kwargs(args)) as client:
            result = client.tasks.create_tasks(gen_tasks(n) if tasks is None else tasks, **options)
        return _summary(result, n)

    return measured(run)


def ours_async_client(args: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    import asyncio

    from toloka_ext import AsyncToloka

    n = args["n"]

    async def go() -> Any:
        async with AsyncToloka(**_ours_kwargs(args)) as client:
            return await client.tasks.create_tasks(gen_tasks(n), **options)

    return measured(lambda: _summary(asyncio.run(go()), n))


# -- toloka-kit -----------------------------------------------------------------------------


def _toloka_kit(args: dict[str, Any]) -> Any:
    import toloka.client as tc

    # toloka-kit appends /api/v1/... to the URL it is given: the server's root, not /api/v1.
    return tc, tc.TolokaClient(args["token"], url=args["url"])


def toloka_kit(args: dict[str, Any], *, async_mode: bool | None) -> dict[str, Any]:
    """``create_tasks`` over lists of Task (toloka-kit takes a list, not an iterable).

    ``async_mode=None`` is toloka-kit's default (an operation per call, waited for, its log
    read), with 10,000 tasks a call as its docstring recommends (one call of 100,000 is
    refused: the request's input_values are over 1 MiB).
    """
    tc, client = _toloka_kit(args)
    chunk_size = TOLOKA_KIT_CHUNK if async_mode is None else SYNC_CHUNK
    kwargs = {} if async_mode is None else {"async_mode": async_mode}

    def run() -> dict[str, Any]:
        items = errors = 0
        for chunk in chunked(args["n"], chunk_size):
            tasks = [tc.Task(**t) for t in chunk]
            result = client.create_tasks(tasks, **kwargs)
            items += len(result.items)
            errors += len(result.validation_errors or {})
        return {"reported_created": items, "reported_errors": errors}

    return measured(run)


# -- the fault mix --------------------------------------------------------------------------


def fault_ours(args: dict[str, Any]) -> dict[str, Any]:
    from toloka_ext import Toloka

    n = args["n"]

    def run() -> dict[str, Any]:
        # A 500/503 to a create is "outcome unknown": settled by reading the pool back, and
        # what is proven absent is sent again (through async operations with ids).
        options: dict[str, Any] = {"raise_on_unknown": False, "resend_missing": True}
        if args.get("chunk"):
            options["chunk_size"] = args["chunk"]
        # The served sandbox applies a request at once or never: a request it did not apply
        # cannot be applied later, so a short max_request_hold is the truth here (the
        # default, 300 s, is for networks with proxies in between).
        kwargs = _ours_kwargs(dict(args, default_settings=True))
        with Toloka(**kwargs, max_request_hold=float(args.get("hold", 1.0))) as client:
            result = client.tasks.create_tasks(gen_tasks(n), **options)
        return {
            "created_positions": sorted(result.task_ids),
            "created_ids": [result.task_ids[p] for p in sorted(result.task_ids)],
            "error_positions": sorted(result.errors),
            "unknown_positions": list(result.unknown_positions()),
            "raised": None,
        }

    return measured(run)


def fault_toloka_kit(args: dict[str, Any]) -> dict[str, Any]:
    """The loop a toloka-kit user writes: ``create_tasks(chunk, async_mode=False)``; a chunk
    whose call raises (retries exhausted) is one the caller cannot account for."""
    tc, client = _toloka_kit(args)

    def run() -> dict[str, Any]:
        created: dict[int, str] = {}
        errors: list[int] = []
        unknown: list[int] = []
        raised: list[str] = []
        offset = 0
        for chunk in chunked(args["n"], args.get("chunk") or SYNC_CHUNK):
            tasks = [tc.Task(**t) for t in chunk]
            try:
                result = client.create_tasks(tasks, async_mode=False)
            except Exception as exc:  # noqa: BLE001 - counted, as a user's loop would
                raised.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                unknown.extend(range(offset, offset + len(chunk)))
            else:
                for key, task in result.items.items():
                    created[offset + int(key)] = task.id
                errors.extend(offset + int(k) for k in (result.validation_errors or {}))
            offset += len(chunk)
        return {
            "created_positions": sorted(created),
            "created_ids": [created[p] for p in sorted(created)],
            "error_positions": errors,
            "unknown_positions": unknown,
            "raised": raised,
        }

    return measured(run)


# -- versions -------------------------------------------------------------------------------


def versions(args: dict[str, Any]) -> dict[str, Any]:
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in args["packages"]:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


KINDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "loop_json": lambda a: plain_loop(a, use_orjson=False),
    "loop_orjson": lambda a: plain_loop(a, use_orjson=True),
    "loop_list": lambda a: plain_loop(a, use_orjson=False, as_list=True),
    "ours_list": lambda a: ours(a, {}, as_list=True),
    "ours_sync": lambda a: ours(a, {"keep_tasks": True}),
    "ours_nokeep": lambda a: ours(a, {"keep_tasks": False}),
    "ours_async": lambda a: ours(a, {"async_mode": True, "keep_tasks": True}),
    "aours_sync": lambda a: ours_async_client(a, {"keep_tasks": True}),
    "aours_async": lambda a: ours_async_client(a, {"async_mode": True, "keep_tasks": True}),
    "tk_default": lambda a: toloka_kit(a, async_mode=None),
    "tk_sync": lambda a: toloka_kit(a, async_mode=False),
    "fault_ours": fault_ours,
    "fault_tk": fault_toloka_kit,
    "versions": versions,
}


def main() -> None:
    global PROFILE
    args = json.loads(sys.argv[1])
    PROFILE = bool(args.get("profile"))
    result = KINDS[args["kind"]](args)
    result["self_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["pid"] = os.getpid()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
