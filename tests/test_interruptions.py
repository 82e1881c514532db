"""Interruptions as users make them: ``toloka-ext tasks create`` and a Python script that
calls ``create_tasks(journal=...)``, stopped by SIGINT (Ctrl-C) or SIGKILL at a random
moment while they send to a served sandbox, then run again as documented. Every trial must
end with each task in the pool exactly once.

The moment is drawn from a seeded random generator over the time a clean run takes; the
server adds latency to every answer so that a run spans many requests. The default run
makes a few trials of each kind; ``-m slow`` makes many more.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from toloka_ext.testing import FaultConfig, SandboxServer
from toloka_ext.testing._backend import Backend

BIN = Path(sys.executable).parent
N = 1500
CHUNK = 50
HOLD = "3"  # the served sandbox applies at once or never: a short hold is enough here
LATENCY = 0.03

SCRIPT = """
import json, sys
from toloka_ext import Toloka
tasks = [json.loads(line) for line in open(sys.argv[1])]
with Toloka(max_request_hold=float(sys.argv[4])) as client:
    result = client.tasks.create_tasks(
        tasks, chunk_size=int(sys.argv[3]), async_mode=sys.argv[5] == "async",
        journal=sys.argv[2],
    )
print(json.dumps({"created": len(result.task_ids), "ok": result.ok}))
"""


def _env(server: SandboxServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLOKA_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        TOLOKA_API_KEY=server.api_key,
        TOLOKA_BASE_URL=server.v2_base_url,
        TOLOKA_V1_BASE_URL=server.v1_base_url,
    )
    return env


def _write_tasks(path: Path, tag: str) -> None:
    lines = (
        json.dumps({"pool_id": "pool-1", "input_values": {"n": i, "tag": tag}, "overlap": 1})
        for i in range(N)
    )
    path.write_text("\n".join(lines) + "\n")


def _command(kind: str, mode: str, tmp: Path) -> list[str]:
    tasks, journal = tmp / "tasks.jsonl", tmp / "tasks.jsonl.journal"
    if kind == "cli":
        flag = "--sync-mode" if mode == "sync" else "--async-mode"
        return [
            str(BIN / "toloka-ext"), "--max-request-hold", HOLD, "--poll-interval", "0.01",
            "tasks", "create", str(tasks), "--chunk-size", str(CHUNK), flag,
        ]  # fmt: skip
    return [sys.executable, "-c", SCRIPT, str(tasks), str(journal), str(CHUNK), HOLD, mode]


def _wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until ``path`` exists (the job began), while ``process`` runs."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared: {process.communicate()}")
        time.sleep(0.01)


def _held(db: Path, tag: str) -> Counter[int]:
    backend = Backend(db)
    try:
        return Counter(
            t["input_values"]["n"]
            for t in backend.all("task")
            if t["input_values"].get("tag") == tag
        )
    finally:
        backend.close()


def _trial(tmp: Path, kind: str, mode: str, sig: signal.Signals, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    tag = f"{kind}-{mode}-{sig.name}-{seed}"
    _write_tasks(tmp / "tasks.jsonl", tag)
    db = tmp / "sandbox.sqlite"
    faults = FaultConfig(latency=LATENCY)
    with SandboxServer(db_path=db, faults=faults, operation_polls=1) as server:
        env = _env(server)
        first = subprocess.Popen(
            _command(kind, mode, tmp),
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Somewhere in the run, once it has begun to send (its journal exists from the
        # first request on): a clean run sends N / CHUNK requests, each >= LATENCY.
        _wait_for(tmp / "tasks.jsonl.journal", first)
        time.sleep(rng.uniform(0.0, N / CHUNK * LATENCY))
        first.send_signal(sig)
        out, err = first.communicate(timeout=120)
        interrupted = first.returncode != 0
        # The documented rerun: the command the CLI printed, else the same command.
        rerun = _command(kind, mode, tmp)
        if kind == "cli" and sig == signal.SIGINT and interrupted:
            printed = [line for line in err.splitlines() if line.startswith("  ")]
            resume = [line.strip() for line in printed if "tasks create" in line]
            assert resume, err
            rerun = shlex.split(resume[-1])
            rerun[0] = str(BIN / "toloka-ext")
        second = subprocess.run(
            rerun, cwd=tmp, env=env, capture_output=True, text=True, timeout=300
        )
        third = subprocess.run(  # a finished job run again creates nothing
            _command(kind, mode, tmp), cwd=tmp, env=env, capture_output=True, text=True
        )
    return {
        "interrupted": interrupted,
        "first": (first.returncode, err),
        "second": (second.returncode, second.stdout, second.stderr),
        "third": (third.returncode, third.stdout, third.stderr),
        "held": _held(db, tag),
    }


def _check(trial: dict[str, Any], kind: str, sig: signal.Signals) -> None:
    code, err = trial["first"]
    if trial["interrupted"]:
        expected = 130 if sig == signal.SIGINT else -9
        if kind == "python" and sig == signal.SIGINT:
            expected = -2  # an uncaught KeyboardInterrupt: Python ends by its SIGINT
        assert code == expected, (code, err)
        if kind == "cli" and sig == signal.SIGINT:
            assert "tasks created so far" in err and "Resume with:" in err, err
    assert trial["second"][0] == 0, trial["second"]
    assert trial["third"][0] == 0, trial["third"]
    held = trial["held"]
    assert sorted(held) == list(range(N)), f"missing: {sorted(set(range(N)) - set(held))[:10]}"
    duplicated = {n: c for n, c in held.items() if c > 1}
    assert duplicated == {}, f"{len(duplicated)} duplicated tasks"
    if kind == "cli":
        assert "already complete" in trial["third"][1], trial["third"]


KINDS = [
    (kind, mode, sig)
    for kind in ("cli", "python")
    for mode in ("async", "sync")
    for sig in (signal.SIGINT, signal.SIGKILL)
]


def _run(tmp: Path, seeds: range) -> None:
    interrupted = 0
    for kind, mode, sig in KINDS:
        for seed in seeds:
            where = tmp / f"{kind}-{mode}-{sig.name}-{seed}"
            where.mkdir()
            trial = _trial(where, kind, mode, sig, seed)
            _check(trial, kind, sig)
            interrupted += trial["interrupted"]
    assert interrupted >= len(KINDS) * len(seeds) // 2, "most trials must really interrupt"


def test_interrupted_then_rerun_creates_each_task_exactly_once(tmp_path: Path) -> None:
    _run(tmp_path, range(1))


@pytest.mark.slow
def test_interrupted_then_rerun_creates_each_task_exactly_once_many(tmp_path: Path) -> None:
    _run(tmp_path, range(100, 106))
