"""Benchmark: 100,000 v1 tasks through ``Toloka`` and ``AsyncToloka``, side by side.

    .venv/bin/python bench/bench_v1_create.py [--tasks 100000] [--naive 2000] [--repeat 3]

Both clients run against the same served sandbox (``toloka_ext.testing.SandboxServer``:
uvicorn on 127.0.0.1, faults off), in sync mode (requests of 5,000) and in async mode
(operations + their logs), from a generator. Runs alternate between the clients and the
median of ``--repeat`` runs is reported, so both see the same machine; the ratio async/sync
is the figure to read (absolute rates vary between machines). A naive baseline (one request
per task with plain httpx, on a smaller sample) shows what batching buys.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toloka_ext import AsyncToloka, PollPolicy, Toloka  # noqa: E402
from toloka_ext.testing import SandboxServer  # noqa: E402

POLL = PollPolicy(interval=0.02, max_interval=0.2, timeout=600)


def tasks(n: int, pool: str) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "pool_id": pool,
            "input_values": {"image": f"https://example.com/img/{i}.png", "n": i},
            "overlap": 3,
        }


def run_sync(server: SandboxServer, n: int, options: dict[str, Any]) -> float:
    with Toloka(
        api_key=server.api_key,
        v1_base_url=server.v1_base_url,
        poll_policy=POLL,
        tasks_per_minute=None,
    ) as c:
        start = time.perf_counter()
        result = c.tasks.create_tasks(tasks(n, "pool-1"), **options)
        elapsed = time.perf_counter() - start
    assert len(result.task_ids) == n and result.ok, result
    return elapsed


def run_async(server: SandboxServer, n: int, options: dict[str, Any]) -> float:
    async def go() -> float:
        async with AsyncToloka(
            api_key=server.api_key,
            v1_base_url=server.v1_base_url,
            poll_policy=POLL,
            tasks_per_minute=None,
        ) as c:
            start = time.perf_counter()
            result = await c.tasks.create_tasks(tasks(n, "pool-1"), **options)
            elapsed = time.perf_counter() - start
        assert len(result.task_ids) == n and result.ok, result
        return elapsed

    return anyio.run(go)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.tasks
    # No client-side task budget in the way (tasks_per_minute=None): the point is the
    # client's own cost.
    modes = {
        "sync mode": {"keep_tasks": True},
        "async mode": {"async_mode": True, "keep_tasks": True},
    }
    with SandboxServer() as server:
        print(f"served sandbox {server.v1_base_url}; {n:,} tasks from a generator per run")
        print(f"{'mode':<12} {'client':<12} {'median s':>9} {'tasks/s':>10}   runs")
        ratios: dict[str, float] = {}
        for mode, options in modes.items():
            times: dict[str, list[float]] = {"Toloka": [], "AsyncToloka": []}
            for _ in range(args.repeat):
                times["Toloka"].append(run_sync(server, n, options))
                times["AsyncToloka"].append(run_async(server, n, options))
            rates = {}
            for name, values in times.items():
                median = statistics.median(values)
                rates[name] = n / median
                runs = ", ".join(f"{v:.2f}" for v in values)
                print(f"{mode:<12} {name:<12} {median:>9.2f} {rates[name]:>10,.0f}   {runs}")
            ratios[mode] = rates["AsyncToloka"] / rates["Toloka"]
        for mode, ratio in ratios.items():
            print(f"AsyncToloka / Toloka, {mode}: {ratio:.2f}x")

        m = args.naive
        start = time.perf_counter()
        with httpx.Client(headers={"Authorization": f"ApiKey {server.api_key}"}) as http:
            for task in tasks(m, "pool-1"):
                http.post(f"{server.v1_base_url}/tasks", json=task).raise_for_status()
        naive_rate = m / (time.perf_counter() - start)
        print(f"naive, 1 request per task ({m:,} tasks): {naive_rate:,.0f} tasks/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
