"""Peak memory of uploading 1,000,000 rows through the upload path, vs. a naive baseline.

    .venv/bin/python bench/bench_upload_memory.py [--rows 1000000]

Two modes:

* ``ours``  — ``Toloka.datasets.add_items(dataset_id, <generator>)``: rows are produced
  on the fly, validated and serialized once, in batches, into a spooled temp file, then
  streamed in 1 MiB blocks to the presigned ``uploadUrl`` (a local in-process sink that only
  counts the bytes).
* ``naive`` — build the list of rows, ``json.dumps`` it whole, send the bytes.

Each mode runs twice, each time in a fresh subprocess (so ``ru_maxrss`` is that run's own):
once under ``tracemalloc`` (peak of Python allocations) and once untraced (wall time and
``ru_maxrss``, the whole-process peak RSS; tracemalloc slows allocation-heavy code several
times, so traced seconds are not a fair speed figure). No network: the API and the storage
are in-process handlers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "generated"))

import httpx  # noqa: E402

API = "https://api.bench/api/v2-beta"
STORAGE = "https://storage.bench"


def gen_rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "id": i,
            "url": f"https://img.example.com/{i:07d}.jpg",
            "lang": "en" if i % 3 else "de",
        }


class Sink:
    def __init__(self) -> None:
        self.bytes = 0
        self.status = "pending"

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(STORAGE):
            for block in request.stream:  # type: ignore[union-attr]
                self.bytes += len(block)
            return httpx.Response(200)
        path = request.url.path
        if path.endswith("/uploads"):
            return httpx.Response(
                201,
                json={
                    "id": "upl-1",
                    "status": "pending",
                    "uploadUrl": f"{STORAGE}/upl-1?sig=x",
                    "uploadMethod": "PUT",
                },
            )
        if path.endswith("/finalize"):
            self.status = "succeeded"
            return httpx.Response(200, json={"id": "upl-1", "status": "processing"})
        if path.endswith("/uploads/upl-1"):
            return httpx.Response(200, json={"id": "upl-1", "status": self.status})
        return httpx.Response(404, json={"message": "no route"})


class StreamingSink(httpx.BaseTransport):
    """Storage that consumes the body as it streams (``MockTransport`` would read it whole)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.sink.handler(request)


def run_ours(n: int, traced: bool) -> dict[str, Any]:
    from toloka_ext import Toloka

    sink = Sink()
    client = Toloka(
        api_key="bench",
        base_url=API,
        transport=httpx.MockTransport(sink.handler),
        storage_client=httpx.Client(transport=StreamingSink(sink)),
        sleep=lambda _: None,
    )
    # The v2 layer is loaded on first use: load it before the clock starts, as the naive
    # path's json and httpx are (the import is timed on its own by `make bench`).
    datasets = client.datasets
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    summary = datasets.add_items("ds-1", gen_rows(n), upload_threshold=0)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.path == "upload" and summary.rows == n
    return {"mode": "ours", "rows": n, "bytes_sent": sink.bytes, "peak": peak, "seconds": elapsed}


def run_naive(n: int, traced: bool) -> dict[str, Any]:
    sink = Sink()
    storage = httpx.Client(transport=StreamingSink(sink))
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    rows = list(gen_rows(n))
    body = json.dumps(rows, separators=(",", ":")).encode()
    storage.put(f"{STORAGE}/upl-1?sig=x", content=body)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"mode": "naive", "rows": n, "bytes_sent": sink.bytes, "peak": peak, "seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mode", choices=["ours", "naive"])
    parser.add_argument("--traced", action="store_true")
    args = parser.parse_args()
    if args.mode:
        run = run_ours if args.mode == "ours" else run_naive
        result = run(args.rows, args.traced)
        # ru_maxrss is in KiB on Linux.
        result["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(result))
        return

    def child(mode: str, traced: bool) -> dict[str, Any]:
        cmd = [sys.executable, __file__, "--mode", mode, "--rows", str(args.rows)]
        out = subprocess.run(
            [*cmd, "--traced"] if traced else cmd, check=True, capture_output=True, text=True
        )
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    traced = {mode: child(mode, True) for mode in ("ours", "naive")}
    timed = {mode: child(mode, False) for mode in ("ours", "naive")}
    mib = 1024 * 1024
    print(
        f"rows: {args.rows:,}   JSON array bytes sent: ours {timed['ours']['bytes_sent']:,}, "
        f"naive {timed['naive']['bytes_sent']:,}"
    )
    print(f"{'':26}{'ours (streamed)':>18}{'naive (json.dumps)':>20}{'naive / ours':>14}")
    lines = (
        ("tracemalloc peak MiB", traced, "peak", mib),
        ("ru_maxrss MiB (untraced)", timed, "maxrss", mib),
        ("seconds (untraced)", timed, "seconds", 1),
    )
    for label, res, key, unit in lines:
        ours, naive = res["ours"][key], res["naive"][key]
        print(f"{label:26}{ours / unit:>18.2f}{naive / unit:>20.2f}{naive / ours:>13.2f}x")


if __name__ == "__main__":
    main()
