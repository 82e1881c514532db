"""Benchmark: create 100,000 v1 tasks from a generator against a local fake server.

    .venv/bin/python bench/bench_v1_create.py [--tasks 100000] [--naive 2000]

The script starts its own fake of ``POST /api/v1/tasks`` (and the operation endpoints for
async mode) in a subprocess on 127.0.0.1, so the client's memory figures are its own. It
prints elapsed time, tasks/s and peak memory (tracemalloc peak in a separate run, and the
process ru_maxrss) for ``TasksClient.create_tasks`` in sync and async mode, next to a naive
baseline (one request per task with plain httpx, on a smaller sample).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from toloka_ext import PollPolicy, TasksClient  # noqa: E402

# -- the fake server (runs in a subprocess) ----------------------------------------------


class _State:
    counter = 0
    operations: dict[str, dict[str, Any]] = {}
    logs: dict[str, list[dict[str, Any]]] = {}


def _new_id() -> str:
    _State.counter += 1
    return f"task-{_State.counter:09d}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffered writes and no Nagle: otherwise every response pays a 40 ms delayed-ACK stall,
    # which would flatter the batch client against the one-request-per-task baseline.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000", time.gmtime())
        if isinstance(body, dict):
            self._send(201, {**body, "id": _new_id(), "created": now})
            return
        if params.get("async_mode") == "true":
            op_id = params.get("operation_id") or str(uuid.uuid4())
            if op_id not in _State.operations:
                log = []
                for task in body:
                    log.append(
                        {
                            "type": "TASK_CREATE",
                            "success": True,
                            "input": task,
                            "output": {"task_id": _new_id()},
                        }
                    )
                _State.logs[op_id] = log
                _State.operations[op_id] = {
                    "id": op_id,
                    "type": "TASK.BATCH_CREATE",
                    "status": "SUCCESS",
                    "submitted": now,
                    "finished": now,
                    "progress": 100,
                    "details": {"total_count": len(body), "success_count": len(body)},
                }
            self._send(202, _State.operations[op_id])
            return
        items = {str(i): {**task, "id": _new_id(), "created": now} for i, task in enumerate(body)}
        self._send(201, {"items": items})

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path.removeprefix("/api/v1/operations/")
        if path.endswith("/log"):
            self._send(200, _State.logs[path.removesuffix("/log")])
        else:
            self._send(200, _State.operations[path])


def serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


# -- the client side ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tasks(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "pool_id": "1",
            "input_values": {"image": f"https://example.com/img/{i}.png", "n": i},
            "overlap": 3,
        }


def measure(fn: Callable[[], Any], *, trace: bool) -> tuple[float, int, Any]:
    gc.collect()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, peak, out


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=2_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        base = f"http://127.0.0.1:{port}/api/v1"
        n = args.tasks
        print(f"local fake server {base}; {n:,} tasks from a generator; defaults for rate limits")
        print(f"{'run':<40} {'elapsed s':>10} {'tasks/s':>10} {'tracemalloc peak MB':>20}")
        rss_before = maxrss_mb()
        rows: list[tuple[str, float, float]] = []
        runs: list[tuple[str, dict[str, Any]]] = [
            ("create_tasks sync", {}),
            ("create_tasks sync keep_tasks=False", {"keep_tasks": False}),
            ("create_tasks async_mode keep_tasks=False", {"async_mode": True, "keep_tasks": False}),
        ]

        def run(count: int, options: dict[str, Any], trace: bool) -> tuple[float, int]:
            # A fresh client per run: each starts with a full 200,000 tasks/min bucket.
            with TasksClient(
                oauth_token="bench", base_url=base, poll_policy=PollPolicy(interval=0.05)
            ) as client:
                elapsed, peak, result = measure(
                    lambda: client.create_tasks(tasks(count), **options), trace=trace
                )
            assert len(result.task_ids) == count, result
            return elapsed, peak

        # Untimed-by-tracemalloc runs first, so ru_maxrss is not inflated by tracing.
        elapsed_by_run = [run(n, options, False)[0] for _, options in runs]
        rss_after = maxrss_mb()
        for (name, options), elapsed in zip(runs, elapsed_by_run, strict=True):
            _, peak = run(n, options, True)
            rate = n / elapsed
            rows.append((name, elapsed, rate))
            print(f"{name:<40} {elapsed:>10.2f} {rate:>10,.0f} {peak / 2**20:>20.1f}")
        print(f"process ru_maxrss after the untraced runs: {rss_after:.0f} MB")
        print(f"  (at start, after imports: {rss_before:.0f} MB)")
        small = max(n // 5, 1)
        _, peak_small = run(small, {"keep_tasks": False}, True)
        _, peak_big = run(n, {"keep_tasks": False}, True)
        print(
            f"memory scaling, sync keep_tasks=False: {small:,} tasks {peak_small / 2**20:.1f} MB"
            f" vs {n:,} tasks {peak_big / 2**20:.1f} MB tracemalloc peak"
        )

        m = args.naive

        def naive() -> int:
            with httpx.Client(headers={"Authorization": "OAuth bench"}) as http:
                for task in tasks(m):
                    http.post(f"{base}/tasks", json=task).raise_for_status()
            return m

        elapsed, _, _ = measure(naive, trace=False)
        naive_rate = m / elapsed
        print(f"{f'naive: 1 request/task, {m:,} tasks':<40} {elapsed:>10.2f} {naive_rate:>10,.0f}")
        print(f"speed-up of create_tasks (sync) over naive: {rows[0][2] / naive_rate:.1f}x")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
