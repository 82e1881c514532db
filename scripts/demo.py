"""The main job: push rows through a Toloka pipeline and create v1 tasks, end to end.

Without credentials it starts the local stateful sandbox (``toloka_ext.testing``) as a
real server on 127.0.0.1 and runs everything against it, so the command works on a
machine with no network and no account. With credentials it talks to Toloka:

- ``TOLOKA_API_KEY`` + ``TOLOKA_PIPELINE_ID``: the v2-beta "more data" loop on that
  pipeline (``TOLOKA_BASE_URL`` overrides the API URL).
- ``TOLOKA_OAUTH_TOKEN`` (or the API key) + ``TOLOKA_POOL_ID``: v1 task creation in that
  pool (``TOLOKA_V1_BASE_URL`` overrides the URL, e.g. the sandbox).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toloka_ext import PipelineClient, Run, Task, TasksClient  # noqa: E402

ROWS = 2_000
TASKS = 12_000


@contextlib.contextmanager
def _targets() -> Iterator[dict[str, str | None]]:
    key = os.environ.get("TOLOKA_API_KEY")
    token = os.environ.get("TOLOKA_OAUTH_TOKEN")
    if key or token:
        yield {
            "label": "Toloka",
            "v2_key": key,
            "v2_url": os.environ.get("TOLOKA_BASE_URL"),
            "pipeline": os.environ.get("TOLOKA_PIPELINE_ID"),
            "v1_token": token,
            "v1_key": key,
            "v1_url": os.environ.get("TOLOKA_V1_BASE_URL"),
            "pool": os.environ.get("TOLOKA_POOL_ID"),
        }
        return
    from toloka_ext.testing import SandboxServer

    with SandboxServer() as server:
        yield {
            "label": f"local sandbox at {server.url} (no TOLOKA_API_KEY set)",
            "v2_key": server.api_key,
            "v2_url": server.v2_base_url,
            "pipeline": "pl-1",
            "v1_token": server.oauth_token,
            "v1_key": None,
            "v1_url": server.v1_base_url,
            "pool": "pool-1",
        }


def _pipeline(t: dict[str, str | None], workdir: Path) -> None:
    if not (t["v2_key"] and t["pipeline"]):
        print("v2-beta: skipped (set TOLOKA_API_KEY and TOLOKA_PIPELINE_ID)")
        return
    rows = [{"url": f"https://img.example.com/{i}.jpg", "lang": "en"} for i in range(ROWS)]

    def progress(run: Run) -> None:
        if run.progress:
            p = run.progress
            print(f"    run {run.id}: {run.status} {p.completed}/{p.total} done, {p.failed} failed")

    started = time.perf_counter()
    with PipelineClient(api_key=t["v2_key"], base_url=t["v2_url"]) as client:
        result = client.process_new_data(
            t["pipeline"],
            rows,
            journal=workdir / "demo.journal",
            output=workdir / "results.jsonl",
            on_progress=progress,
        )
    results = result.rows()
    print(
        f"v2-beta: {ROWS} rows -> dataset {result.dataset_id}, pipeline {result.pipeline.id} "
        f"(copy of {t['pipeline']}), run {result.run.id} {result.run.status}, "
        f"{len(results)} result rows in {time.perf_counter() - started:.1f}s"
    )
    print(f"    first result: {results[0] if results else None}")


def _tasks(t: dict[str, str | None]) -> None:
    if not ((t["v1_token"] or t["v1_key"]) and t["pool"]):
        print("v1: skipped (set TOLOKA_OAUTH_TOKEN or TOLOKA_API_KEY, and TOLOKA_POOL_ID)")
        return
    pool = t["pool"]
    tasks = (
        Task(pool, {"image": f"https://img.example.com/{i}.jpg"}, overlap=1) for i in range(TASKS)
    )
    started = time.perf_counter()
    with TasksClient(
        oauth_token=t["v1_token"], api_key=t["v1_key"], base_url=t["v1_url"]
    ) as client:
        result = client.create_tasks(
            tasks, async_mode=True, skip_invalid_items=True, open_pool=True
        )
    print(
        f"v1: {len(result.task_ids)} tasks created in pool {pool} through "
        f"{len(result.operations)} async operations, {len(result.errors)} invalid, "
        f"{result.unknown_count} unknown, in {time.perf_counter() - started:.1f}s"
    )


def main() -> int:
    with _targets() as targets, tempfile.TemporaryDirectory() as tmp:
        print(f"toloka-ext demo against the {targets['label']}")
        _pipeline(targets, Path(tmp))
        _tasks(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
