"""The main job: push rows through a Toloka pipeline and create v1 tasks, end to end.

Without credentials it starts the local stateful sandbox (``toloka_ext.testing``) as a
real server on 127.0.0.1 and runs everything against it, so the command works on a
machine with no network and no account. With credentials it talks to Toloka through one
``Toloka`` client configured from the environment:

- ``TOLOKA_API_KEY`` + ``TOLOKA_PIPELINE_ID``: the v2-beta "more data" loop on that
  pipeline (``TOLOKA_BASE_URL`` overrides the API URL).
- ``TOLOKA_API_KEY`` (or the legacy ``TOLOKA_OAUTH_TOKEN``) + ``TOLOKA_POOL_ID``: v1 task
  creation in that pool (``TOLOKA_V1_BASE_URL`` overrides the URL, e.g. the v1 sandbox).
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

from toloka_ext import Task, Toloka  # noqa: E402

ROWS = 2_000
TASKS = 12_000


@contextlib.contextmanager
def _target() -> Iterator[tuple[str, Toloka, str | None, str | None]]:
    """(label, client, pipeline id, pool id): Toloka with credentials, else the sandbox."""
    if os.environ.get("TOLOKA_API_KEY") or os.environ.get("TOLOKA_OAUTH_TOKEN"):
        with Toloka() as client:
            pipeline, pool = os.environ.get("TOLOKA_PIPELINE_ID"), os.environ.get("TOLOKA_POOL_ID")
            yield "Toloka", client, pipeline, pool
        return
    from toloka_ext.testing import SandboxServer

    with SandboxServer() as server, server.client() as client:
        yield f"local sandbox at {server.url} (no TOLOKA_API_KEY set)", client, "pl-1", "pool-1"


def _pipeline(client: Toloka, pipeline: str | None, workdir: Path) -> None:
    if pipeline is None:
        print("v2-beta: skipped (set TOLOKA_PIPELINE_ID)")
        return
    rows = [{"url": f"https://img.example.com/{i}.jpg", "lang": "en"} for i in range(ROWS)]
    started = time.perf_counter()
    result = client.process_new_data(
        pipeline,
        rows,
        journal=workdir / "demo.journal",
        output=workdir / "results.jsonl",
        progress=True,  # bars on stderr: rows, run, download
    )
    results = result.rows()
    print(
        f"v2-beta: {ROWS} rows -> dataset {result.dataset_id}, pipeline {result.pipeline.id} "
        f"(copy of {pipeline}), run {result.run.id} {result.run.status}, "
        f"{len(results)} result rows in {time.perf_counter() - started:.1f}s"
    )
    print(f"    first result: {results[0] if results else None}")
    print(f"    results: {result.path}  journal: {workdir / 'demo.journal'}")


def _tasks(client: Toloka, pool: str | None) -> None:
    if pool is None:
        print("v1: skipped (set TOLOKA_POOL_ID)")
        return
    tasks = [
        Task(pool, {"image": f"https://img.example.com/{i}.jpg"}, overlap=1) for i in range(TASKS)
    ]
    started = time.perf_counter()
    result = client.tasks.create_tasks(
        tasks, async_mode=True, skip_invalid_items=True, open_pool=True, progress=True
    )
    print(
        f"v1: {len(result.task_ids)} tasks created in pool {pool} through "
        f"{len(result.operations)} async operations, {len(result.errors)} invalid, "
        f"{result.unknown_count} unknown, in {time.perf_counter() - started:.1f}s"
    )


def main() -> int:
    # A new folder each run: a journal left by an earlier run would resume that run's job.
    base = Path(os.environ.get("TOLOKA_DEMO_OUT", "demo-output")).resolve()
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=base))
    with _target() as (label, client, pipeline, pool):
        print(f"toloka-ext demo against the {label}")
        _pipeline(client, pipeline, workdir)
        _tasks(client, pool)
    print(f"done: results and journal in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
