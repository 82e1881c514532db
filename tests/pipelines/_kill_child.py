"""A ``process_new_data`` job that SIGKILLs itself at a chosen request (for the crash trials).

    python -m tests.pipelines._kill_child URL KEY JOURNAL ROWS KILL_AT WHEN

``KILL_AT`` counts every request the job sends (API and storage alike); ``WHEN`` is
``before`` (the process dies as it is about to send that request) or ``after`` (it dies once
the answer arrived, before acting on it); ``KILL_AT`` 0 runs the job to the end. The process
is killed with SIGKILL: no ``finally``, no flush, no clean-up — what a power loss leaves.
"""

from __future__ import annotations

import os
import signal
import sys

import httpx

from toloka_ext import Toloka


def main(url: str, key: str, journal: str, rows: str, kill_at: int, when: str) -> int:
    sent = 0

    def on_request(request: httpx.Request) -> None:
        nonlocal sent
        sent += 1
        if sent == kill_at and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)

    def on_response(response: httpx.Response) -> None:
        if sent == kill_at and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    hooks = {"request": [on_request], "response": [on_response]}
    with (
        httpx.Client(event_hooks=hooks, timeout=30) as http,
        httpx.Client(event_hooks=hooks, timeout=30) as storage,
        Toloka(
            api_key=key,
            base_url=f"{url}/api/v2-beta",
            http_client=http,
            storage_client=storage,
            sleep=lambda _s: None,
        ) as client,
    ):
        result = client.process_new_data("pl-1", rows, journal=journal)
        print(len(result.rows()), flush=True)
    return 0


if __name__ == "__main__":
    url, key, journal, rows, kill_at, when = sys.argv[1:7]
    sys.exit(main(url, key, journal, rows, int(kill_at), when))
