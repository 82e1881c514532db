"""Peak memory of uploading 1,000,000 rows through the upload path, vs. a naive baseline.

    .venv/bin/python bench/bench_upload_memory.py [--rows 1000000]

Each mode runs in its own subprocess (so ``ru_maxrss`` is that mode's own peak):

* ``ours``  — ``PipelineClient.datasets.add_items(dataset_id, <generator>)``: rows are produced
  on the fly, validated and serialized once into a spooled temp file, then streamed to the
  presigned ``uploadUrl`` (a local in-process sink that only counts the bytes).
* ``naive`` — build the list of rows, ``json.dumps`` it whole, send the bytes.

Reported: tracemalloc peak (Python allocations) and ``ru_maxrss`` (whole-process peak RSS).
No network: the API and the storage are ``httpx.MockTransport`` handlers in the process.
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


def run_ours(n: int) -> dict[str, Any]:
    from toloka_ext._pipelines import PipelineClient

    sink = Sink()
    client = PipelineClient(
        api_key="bench",
        base_url=API,
        transport=httpx.MockTransport(sink.handler),
        storage_client=httpx.Client(transport=StreamingSink(sink)),
        sleep=lambda _: None,
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    summary = client.datasets.add_items("ds-1", gen_rows(n), upload_threshold=0)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.path == "upload" and summary.rows == n
    return {"mode": "ours", "rows": n, "bytes_sent": sink.bytes, "peak": peak, "seconds": elapsed}


def run_naive(n: int) -> dict[str, Any]:
    sink = Sink()
    storage = httpx.Client(transport=StreamingSink(sink))
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
    args = parser.parse_args()
    if args.mode:
        result = run_ours(args.rows) if args.mode == "ours" else run_naive(args.rows)
        # ru_maxrss is in KiB on Linux.
        result["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps(result))
        return
    results = {}
    for mode in ("ours", "naive"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--rows", str(args.rows)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    mib = 1024 * 1024
    ours, naive = results["ours"], results["naive"]
    print(
        f"rows: {args.rows:,}   JSON array bytes sent: ours {ours['bytes_sent']:,}, "
        f"naive {naive['bytes_sent']:,}"
    )
    print(f"{'':24}{'ours (streamed)':>18}{'naive (json.dumps)':>20}{'naive / ours':>14}")
    for key, label in (("peak", "tracemalloc peak MiB"), ("maxrss", "ru_maxrss MiB")):
        print(
            f"{label:24}{ours[key] / mib:>18.1f}{naive[key] / mib:>20.1f}"
            f"{naive[key] / ours[key]:>13.1f}x"
        )
    print(f"{'seconds (traced)':24}{ours['seconds']:>18.1f}{naive['seconds']:>20.1f}")


if __name__ == "__main__":
    main()
