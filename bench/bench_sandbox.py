"""Throughput of the sandbox as a server process (is it a bottleneck for other benchmarks?).

Usage: python bench/bench_sandbox.py [--requests 4000] [--concurrency 4] [--batches 10]

Measures GET /api/v2-beta/projects requests/s (threads, one keep-alive stdlib connection
each) side by side with a bare uvicorn app answering the same body (the floor of the HTTP
stack on this machine), and POST /api/v1/tasks tasks/s (httpx, synchronous batches of 5000
tasks, then asynchronous batches of 5000 polled until their operation succeeds) against the
real API's documented cap of 200,000 tasks a minute.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from toloka_ext.testing import SandboxServer

TOLOKA_TASKS_PER_SECOND = 200_000 / 60

BARE_APP = """
import json, sys, uvicorn
BODY = json.dumps({"projects": [], "pagination": {"total": 0}}).encode()
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


class BareServer:
    """A minimal uvicorn app in its own process: what the HTTP stack alone can serve."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BareServer:
        self.process = subprocess.Popen(
            [sys.executable, "-c", BARE_APP, str(self.port)], start_new_session=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)  # readiness polling of the port
        raise TimeoutError("bare server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)

    def auth_headers(self, _api: str = "v2") -> dict[str, str]:
        return {}  # the bare app checks nothing


def bench_requests(server: SandboxServer | BareServer, total: int, concurrency: int) -> float:
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
    with BareServer() as bare:
        bare_rps = bench_requests(bare, args.requests, args.concurrency)
    with SandboxServer() as server:
        rps = bench_requests(server, args.requests, args.concurrency)
        print(
            f"GET /api/v2-beta/projects: {rps:,.0f} requests/s vs bare uvicorn {bare_rps:,.0f} "
            f"requests/s: sandbox / bare = {rps / bare_rps:.2f} "
            f"({args.requests} requests, {args.concurrency} threads)"
        )
        for mode in (False, True):
            tps, per_batch = bench_tasks(server, args.batches, async_mode=mode)
            label = "async, polled to SUCCESS" if mode else "sync"
            print(
                f"POST /api/v1/tasks ({label}, 5000 a batch): {tps:,.0f} tasks/s, "
                f"{tps / TOLOKA_TASKS_PER_SECOND:.1f}x Toloka's cap of "
                f"{TOLOKA_TASKS_PER_SECOND:,.0f}/s ({args.batches} batches, "
                f"{per_batch * 1000:,.0f} ms a batch)"
            )


if __name__ == "__main__":
    main()
