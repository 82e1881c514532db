"""The journal never lets a crash cost money twice.

* A job SIGKILLed at a random request (seeded trials, a subprocess against the served sandbox
  with SQLite state), then resumed, ends with exactly one dataset, one pipeline copy, one run
  and one export, and complete results.
* A torn last record is cut off and the job resumes; a journal with an unreadable or
  incomplete record, an empty one, or one of another format version is refused with a typed
  error, and nothing is created.
* A resumed job reconciles with the server before every creating step, even when the record
  of its intent was lost.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from toloka_ext import (
    InvalidInputError,
    JournalCorruptError,
    JournalMismatchError,
    PermissionDeniedError,
)
from toloka_ext._journal import VERSION
from toloka_ext.testing import Fault, FaultConfig, Sandbox, SandboxServer
from toloka_ext.testing._backend import Backend

ROOT = Path(__file__).resolve().parents[2]
ROWS = [{"url": f"https://img/{i}.jpg", "lang": "en"} for i in range(40)]
CREATING = ("createDataset", "copyPipeline", "startRun", "createExport")


# ----------------------------------------------------------------- SIGKILL, served, SQLite


def _child(server: SandboxServer, journal: Path, rows: Path, kill_at: int, when: str) -> int:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.pipelines._kill_child",
            server.url,
            server.api_key,
            str(journal),
            str(rows),
            str(kill_at),
            when,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode not in (0, -9):
        raise AssertionError(f"child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode


def _state(db: Path) -> dict[str, Any]:
    backend = Backend(db)
    try:
        datasets = list(backend.all("dataset"))
        copies = [p for p in backend.all("pipeline") if p.get("sourcePipelineId")]
        return {
            "datasets": datasets,
            "copies": copies,
            "runs": list(backend.all("run")),
            "exports": list(backend.all("export")),
            "applied": dict(backend.counters.applied),
        }
    finally:
        backend.close()


def _trial(tmp: Path, seed: int, requests: int) -> dict[str, Any]:
    rng = random.Random(seed)
    kill_at = rng.randint(1, requests)
    when = rng.choice(["before", "after"])
    rows = tmp / "rows.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    journal = tmp / "job.journal"
    db = tmp / "sandbox.sqlite"
    with SandboxServer(db_path=db) as server:
        first = _child(server, journal, rows, kill_at, when)
        resumed = _child(server, journal, rows, 0, "none")
        again = _child(server, journal, rows, 0, "none")  # a finished job creates nothing
    state = _state(db)
    return {
        "kill_at": kill_at,
        "when": when,
        "killed": first == -9,
        "resumed": resumed,
        "again": again,
        **state,
    }


def _check_exactly_once(trial: dict[str, Any], results: Path) -> None:
    where = f"killed {trial['when']} request {trial['kill_at']}"
    assert trial["resumed"] == 0 and trial["again"] == 0, where
    assert len(trial["datasets"]) == 1, where
    (dataset,) = trial["datasets"]
    assert len(dataset["_items"]) == len(ROWS), where
    assert len(trial["copies"]) == 1 and trial["copies"][0]["datasetId"] == dataset["id"], where
    assert len(trial["runs"]) == 1 and trial["runs"][0]["status"] == "completed", where
    assert len(trial["exports"]) == 1, where
    for op in CREATING:
        assert trial["applied"].get(op) == 1, (where, op, trial["applied"])
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert [{k: r[k] for k in ("url", "lang")} for r in rows] == ROWS, where


def _clean_request_count(tmp: Path) -> int:
    """How many requests a whole job sends: the range the kill point is drawn from."""
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        client.process_new_data("pl-1", ROWS, journal=tmp / "clean.journal")
    return len(sandbox.requests)


def _run_trials(tmp: Path, seeds: range) -> list[dict[str, Any]]:
    requests = _clean_request_count(tmp)
    outcomes = []
    for seed in seeds:
        trial_dir = tmp / f"trial-{seed}"
        trial_dir.mkdir()
        trial = _trial(trial_dir, seed, requests)
        _check_exactly_once(trial, trial_dir / "job.journal.results.jsonl")
        outcomes.append(trial)
    assert any(t["killed"] for t in outcomes), "no trial was killed: the trials test nothing"
    return outcomes


def test_sigkill_at_random_requests_then_resume(tmp_path: Path) -> None:
    _run_trials(tmp_path, range(10))


@pytest.mark.slow
def test_sigkill_at_random_requests_then_resume_many(tmp_path: Path) -> None:
    _run_trials(tmp_path, range(100, 160))


# ----------------------------------------------------------------- journals that lie


def _sandbox_failing_the_run() -> Sandbox:
    """A sandbox whose first start of a run is refused (a 403: not applied, not retried)."""
    return Sandbox(
        faults=FaultConfig(faults=[Fault("status", status=403, route="startRun", on_nth=(1,))])
    )


def _created(sandbox: Sandbox) -> dict[str, int]:
    return {op: sandbox.counters.applied[op] for op in CREATING}


def test_torn_last_record_is_cut_off_and_the_job_resumes_once(tmp_path: Path) -> None:
    """The probe's case: a run step failed, the last line lost 7 bytes, three reruns."""
    journal = tmp_path / "job.journal"
    sandbox = _sandbox_failing_the_run()
    with sandbox.client(max_retries=0) as client:
        with pytest.raises(PermissionDeniedError):
            client.process_new_data("pl-1", ROWS, journal=journal)
        data = journal.read_bytes()
        journal.write_bytes(data[:-7])  # what a power loss mid-write leaves
        for _ in range(3):
            result = client.process_new_data("pl-1", ROWS, journal=journal)
    assert len(result.rows()) == len(ROWS)
    assert _created(sandbox) == dict.fromkeys(CREATING, 1)
    assert journal.read_bytes().endswith(b"\n")
    lines = journal.read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)  # the fragment is gone, not appended to


def test_a_torn_first_record_leaves_nothing_to_resume_from(tmp_path: Path) -> None:
    journal = tmp_path / "job.journal"
    journal.write_bytes(b'{"kind":"params","vers')
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(JournalCorruptError) as info:
        client.process_new_data("pl-1", ROWS, journal=journal)
    assert "no complete record" in str(info.value) and info.value.path == str(journal)
    assert journal.read_bytes() == b""  # the fragment was cut off
    assert sum(sandbox.counters.received.values()) == 0


def _started_journal(tmp: Path) -> tuple[Path, Sandbox]:
    """A journal of a job that failed at the run step: dataset, rows and copy are done."""
    journal = tmp / "job.journal"
    sandbox = _sandbox_failing_the_run()
    with sandbox.client(max_retries=0) as client, pytest.raises(PermissionDeniedError):
        client.process_new_data("pl-1", ROWS, journal=journal)
    return journal, sandbox


@pytest.mark.parametrize(
    ("damage", "line", "words"),
    [
        ("garbage", 3, "not a JSON record"),
        ("binary", 3, "not UTF-8"),
        ("no-step", 3, "without its step"),
        ("not-an-object", 3, "must be a JSON object"),
        ("unknown-kind", 3, "unknown record kind"),
        ("no-token", 1, "token is missing"),
        ("first-not-params", 1, "first record must hold the call's parameters"),
    ],
)
def test_an_unreadable_record_is_refused_and_nothing_is_created(
    tmp_path: Path, damage: str, line: int, words: str
) -> None:
    journal, sandbox = _started_journal(tmp_path)
    lines = journal.read_bytes().splitlines(keepends=True)
    if damage == "garbage":
        lines[2] = b"this is not json\n"
    elif damage == "binary":
        lines[2] = b"\xff\xfe\x00garbage\n"
    elif damage == "no-step":
        record = json.loads(lines[2])
        del record["step"]
        lines[2] = json.dumps(record).encode() + b"\n"
    elif damage == "not-an-object":
        lines[2] = b"[1, 2]\n"
    elif damage == "unknown-kind":
        lines[2] = b'{"kind": "maybe", "step": "dataset"}\n'
    elif damage == "no-token":
        record = json.loads(lines[0])
        del record["token"]
        lines[0] = json.dumps(record).encode() + b"\n"
    else:
        lines.insert(0, lines.pop(2))
    journal.write_bytes(b"".join(lines))
    before = dict(sandbox.counters.received)
    with sandbox.client() as client, pytest.raises(JournalCorruptError) as info:
        client.process_new_data("pl-1", ROWS, journal=journal)
    err = info.value
    assert err.path == str(journal) and err.line == line, str(err)
    assert words in str(err) and f"line {line}" in str(err) and str(journal) in str(err)
    assert "start the job over" in str(err)  # what to do
    assert dict(sandbox.counters.received) == before  # not one request


def test_an_empty_journal_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    journal = tmp_path / "job.journal"
    journal.write_bytes(b"")
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(JournalCorruptError, match="is empty"):
        client.process_new_data("pl-1", ROWS, journal=journal)
    assert sum(sandbox.counters.received.values()) == 0


def test_a_journal_of_another_format_version_is_refused(tmp_path: Path) -> None:
    journal, sandbox = _started_journal(tmp_path)
    lines = journal.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    other = VERSION + 1  # a format this version does not read
    record["version"] = other
    lines[0] = json.dumps(record).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    before = dict(sandbox.counters.received)
    with sandbox.client() as client, pytest.raises(JournalMismatchError, match=f"format {other}"):
        client.process_new_data("pl-1", ROWS, journal=journal)
    assert dict(sandbox.counters.received) == before


@pytest.mark.parametrize("case", ["directory", "missing-directory", "missing-rows"])
def test_bad_paths_are_refused_before_any_request(tmp_path: Path, case: str) -> None:
    sandbox = Sandbox()
    rows: Any = ROWS
    journal = tmp_path / "job.journal"
    if case == "directory":
        journal = tmp_path
    elif case == "missing-directory":
        journal = tmp_path / "nope" / "job.journal"
    else:
        rows = tmp_path / "missing.jsonl"
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.process_new_data("pl-1", rows, journal=journal)
    assert str(rows if case == "missing-rows" else journal) in str(info.value)
    assert sum(sandbox.counters.received.values()) == 0


# ----------------------------------------------------------------- reconcile, intent or not


@pytest.mark.parametrize("step", ["dataset", "copy", "run"])
def test_a_lost_intent_record_is_reconciled_all_the_same(tmp_path: Path, step: str) -> None:
    """The server holds the object, the journal lost both its records: found, not redone."""
    journal = tmp_path / "job.journal"
    sandbox = Sandbox(
        faults=FaultConfig(faults=[Fault("status", status=403, route="createExport", on_nth=(1,))])
    )
    with sandbox.client(max_retries=0) as client:
        with pytest.raises(PermissionDeniedError):
            client.process_new_data("pl-1", ROWS, journal=journal)
        kept = [
            line
            for line in journal.read_bytes().splitlines(keepends=True)
            if json.loads(line).get("step") != step
        ]
        journal.write_bytes(b"".join(kept))
        result = client.process_new_data("pl-1", ROWS, journal=journal)
    assert len(result.rows()) == len(ROWS)
    assert _created(sandbox) == dict.fromkeys(CREATING, 1)


def test_an_export_created_but_not_journaled_is_reused(tmp_path: Path) -> None:
    """The answer is lost within the call: the call finds its export, it does not ask again."""
    journal = tmp_path / "job.journal"
    sandbox = Sandbox(
        faults=FaultConfig(faults=[Fault("reset_after", route="createExport", on_nth=(1,))])
    )
    with sandbox.client(max_retries=0) as client:
        result = client.process_new_data("pl-1", ROWS, journal=journal)
    assert len(result.rows()) == len(ROWS)
    assert sandbox.counters.applied["createExport"] == 1
    assert sandbox.counters.applied["listExports"] == 1
    assert sandbox.client_time.slept < sandbox.client().max_request_hold  # found at once


def test_process_without_output_leaves_no_directory_behind(tmp_path: Path) -> None:
    """The result file of a call without output= lives as long as the result object."""
    code = (
        "import gc, os, sys\n"
        "from toloka_ext.testing import Sandbox\n"
        "with Sandbox().client() as client:\n"
        "    result = client.process_new_data('pl-1', [{'u': 1}, {'u': 2}])\n"
        "    assert len(result.rows()) == 2\n"
        "print(result.path.parent)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    used = Path(proc.stdout.strip())
    assert used.parent == tmp_path  # it was there while the result lived...
    assert list(tmp_path.iterdir()) == []  # ...and nothing is left after the process
