"""Throughput of the sandbox as a server process (is it a bottleneck for other benchmarks?).

Usage: python bench/bench_sandbox.py [--requests 4000] [--concurrency 4] [--batches 10]

Measures GET /api/v2-beta/projects requests/s (threads, one keep-alive stdlib connection
each) and POST /api/v1/tasks tasks/s (httpx, synchronous batches of 5000 tasks, then
asynchronous batches of 5000 polled until their operation succeeds).
"""

from __future__ import annotations

import argparse
import http.client
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from toloka_ext.testing import SandboxServer


def bench_requests(server: SandboxServer, total: int, concurrency: int) -> float:
    # The stdlib client costs the (shared, 2-core) machine less than httpx, so the figure
    # is closer to what the server can take.
    headers = server.auth_headers("v2")
    per_worker = total // concurrency

    def worker(_: int) -> int:
        ok = 0
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for _ in range(per_worker):
                conn.request("GET", "/api/v2-beta/projects", headers=headers)
                response = conn.getresponse()
                response.read()
                ok += response.status == 200
        finally:
            conn.close()
        return ok

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        ok = sum(pool.map(worker, range(concurrency)))
    elapsed = time.perf_counter() - start
    assert ok == per_worker * concurrency, f"only {ok} requests succeeded"
    return ok / elapsed


def bench_tasks(
    server: SandboxServer, batches: int, batch_size: int = 5000, *, async_mode: bool = False
) -> tuple[float, float]:
    url = f"{server.v1_base_url}/tasks"
    headers = server.auth_headers("v1")
    tasks = [
        {
            "pool_id": "pool-1",
            "input_values": {"image": f"https://example.com/{i}.jpg"},
            "overlap": 1,
        }
        for i in range(batch_size)
    ]
    with httpx.Client(timeout=120) as http:
        start = time.perf_counter()
        for _ in range(batches):
            if not async_mode:
                r = http.post(url, headers=headers, json=tasks)
                assert r.status_code == 201 and len(r.json()["items"]) == batch_size, r.text[:300]
                continue
            r = http.post(url, headers=headers, json=tasks, params={"async_mode": "true"})
            assert r.status_code == 201, r.text[:300]
            op = r.json()
            while op["status"] not in ("SUCCESS", "FAIL"):  # each poll is one sandbox step
                op = http.get(f"{server.v1_base_url}/operations/{op['id']}", headers=headers).json()
            assert op["details"]["success_count"] == batch_size, op
        elapsed = time.perf_counter() - start
    return batches * batch_size / elapsed, elapsed / batches


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    with SandboxServer() as server:
        rps = bench_requests(server, args.requests, args.concurrency)
        print(
            f"GET /api/v2-beta/projects: {rps:,.0f} requests/s "
            f"({args.requests} requests, {args.concurrency} threads)"
        )
        tps, per_batch = bench_tasks(server, args.batches)
        print(
            f"POST /api/v1/tasks (sync, 5000 a batch): {tps:,.0f} tasks/s "
            f"({args.batches} batches, {per_batch * 1000:,.0f} ms a batch)"
        )
        tps, per_batch = bench_tasks(server, args.batches, async_mode=True)
        print(
            f"POST /api/v1/tasks (async, 5000 a batch, polled to SUCCESS): {tps:,.0f} tasks/s "
            f"({args.batches} batches, {per_batch * 1000:,.0f} ms a batch)"
        )


if __name__ == "__main__":
    main()
