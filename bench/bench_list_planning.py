"""Benchmark: client CPU of ``create_tasks`` on a list, requests kept from the check vs
planned again while sending, side by side.

    .venv/bin/python bench/bench_list_planning.py [--tasks 100000] [--repeat 3]

A list is checked in full before the first request. The requests planned by that check
are kept (up to ``KEPT_PLAN_BYTES``) and sent as they are; a list over that budget is
planned a second time while sending. This measures what keeping them saves: the same
list through the same client, with the budget at its default and at 0, alternating, the
server answered in-process by a canned ``httpx.MockTransport`` (no network, no sandbox
CPU in the figure). Process CPU time of the call, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import toloka_ext as tx  # noqa: E402
from toloka_ext._v1 import _logic  # noqa: E402


def _client() -> tx.Toloka:
    answers: dict[int, bytes] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the pool's newest task, noted before the first create
            return httpx.Response(200, json={"items": [], "has_more": False})
        count = request.content.count(b'"pool_id"')
        if count not in answers:
            items = {
                str(i): {"id": f"t{i}", "pool_id": "42", "input_values": {"n": i}, "overlap": 3}
                for i in range(count)
            }
            answers[count] = json.dumps({"items": items}).encode()
        return httpx.Response(
            201, content=answers[count], headers={"content-type": "application/json"}
        )

    return tx.Toloka(
        api_key="bench",
        v1_base_url="https://toloka.example/api/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
        max_retries=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tasks: list[dict[str, Any]] = [
        {"pool_id": "42", "input_values": {"url": f"https://example.com/{i}.jpg"}, "overlap": 3}
        for i in range(args.tasks)
    ]
    default = _logic.KEPT_PLAN_BYTES
    seconds: dict[str, list[float]] = {"kept": [], "planned again": []}
    with _client() as client:
        client.tasks.create_tasks(tasks[:10])  # warm up: imports, the first-contact check
        for _ in range(args.repeat):
            for label, budget in (("planned again", 0), ("kept", default)):
                _logic.KEPT_PLAN_BYTES = budget
                start = time.process_time()
                result = client.tasks.create_tasks(tasks, keep_tasks=False)
                seconds[label].append(time.process_time() - start)
                assert len(result.task_ids) == args.tasks
    _logic.KEPT_PLAN_BYTES = default
    kept, again = min(seconds["kept"]), min(seconds["planned again"])
    print(f"{args.tasks:,} tasks from a list, client CPU (best of {args.repeat}):")
    print(f"  requests kept from the check:  {kept:.2f} s")
    print(f"  planned again while sending:   {again:.2f} s")
    print(f"  ratio kept / planned again:    {kept / again:.2f}x")


if __name__ == "__main__":
    main()
