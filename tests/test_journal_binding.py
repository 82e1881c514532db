"""A journal binds the whole job, one process at a time, and fails loudly: for both jobs that
keep one (``process_new_data`` and ``create_tasks(journal=)``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import toloka_ext as tx
import toloka_ext._journal as journal_module
from toloka_ext.testing import ManualClock, Sandbox

ROWS = [{"url": f"https://img/{i}.jpg", "lang": "en"} for i in range(6)]
TASKS = [{"pool_id": "pool-1", "input_values": {"n": i}, "overlap": 1} for i in range(8)]
CREATES = ("createDataset", "copyPipeline", "startRun", "createExport")


def _process(client: tx.Toloka, journal: Path, **kw: Any) -> Any:
    return client.process_new_data("pl-1", ROWS, journal=journal, **kw)


def _tasks(client: tx.Toloka, journal: Path, **kw: Any) -> Any:
    return client.tasks.create_tasks(TASKS, chunk_size=3, journal=journal, **kw)


def _applied(sandbox: Sandbox) -> dict[str, int]:
    return {op: sandbox.counters.applied[op] for op in CREATES}


# -- what the journal binds ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameter", "first", "second"),
    [
        ("output", {"output": "a.jsonl"}, {"output": "b.jsonl"}),
        ("export_fields", {}, {"export_fields": ["url"]}),
        ("export_format", {}, {"export_format": "csv"}),
        ("name_prefix", {}, {"name_prefix": "other"}),
        ("project_id", {}, {"project_id": "prj-1"}),
        ("rows_path", {}, {"upload_threshold": 0}),
        ("item_limit", {}, {"item_limit": 3}),
    ],
)
def test_a_process_job_rerun_with_anything_changed_is_refused(
    tmp_path: Path, parameter: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    journal = tmp_path / "job.journal"
    for kw in (first, second):
        for key in ("output",):
            if key in kw:
                kw[key] = tmp_path / kw[key]
    sandbox = Sandbox()
    with sandbox.client() as client:
        _process(client, journal, **first)
        before = sum(sandbox.counters.received.values())
        with pytest.raises(tx.JournalMismatchError) as info:
            _process(client, journal, **second)
    assert info.value.parameter == parameter and parameter in str(info.value)
    assert sum(sandbox.counters.received.values()) == before  # not one request
    assert _applied(sandbox) == dict.fromkeys(CREATES, 1)


def test_a_finished_job_whose_file_is_gone_downloads_it_again(tmp_path: Path) -> None:
    journal, output = tmp_path / "job.journal", tmp_path / "out.jsonl"
    sandbox = Sandbox()
    with sandbox.client() as client:
        first = _process(client, journal, output=output)
        output.unlink()
        again = _process(client, journal, output=output)
    assert again.path == output and output.exists()  # never a report of an absent file
    assert again.rows() == first.rows()
    assert _applied(sandbox) == dict.fromkeys(CREATES, 1)


# -- one process per journal ------------------------------------------------------------------

HOLD = """
import sys, time
from toloka_ext._journal import Journal
with Journal.open(sys.argv[1]) as journal:
    journal.start(job="test")
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.mark.parametrize("job", ["process", "tasks"])
def test_a_journal_another_process_holds_is_refused_naming_it(tmp_path: Path, job: str) -> None:
    journal = tmp_path / "job.journal"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(journal)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        sandbox = Sandbox()
        with sandbox.client() as client, pytest.raises(tx.JournalLockedError) as info:
            (_process if job == "process" else _tasks)(client, journal)
        assert f"process {holder.pid}" in info.value.holder
        assert str(journal) in str(info.value) and info.value.path == str(journal)
        assert sum(sandbox.counters.received.values()) == 0
    finally:
        holder.communicate("")
    # Released when its process ended: the journal is usable again (and of another job).
    with Sandbox().client() as client, pytest.raises(tx.JournalMismatchError):
        _process(client, journal)


# -- journal writes that fail ------------------------------------------------------------------


def _failing(monkeypatch: pytest.MonkeyPatch, *, step: str, kind: str) -> None:
    real = journal_module._append

    def append(path: Path, line: bytes) -> None:
        record = json.loads(line)
        if record.get("step") == step and record["kind"] == kind:
            raise OSError(28, "No space left on device")
        real(path, line)

    monkeypatch.setattr(journal_module, "_append", append)


@pytest.mark.parametrize("kind", ["intent", "done"])
@pytest.mark.parametrize("step", ["dataset", "copy", "run", "export"])
def test_a_failed_write_stops_the_job_and_says_what_was_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, kind: str
) -> None:
    journal = tmp_path / "job.journal"
    sandbox = Sandbox(clock=ManualClock())
    _failing(monkeypatch, step=step, kind=kind)
    with sandbox.client() as client, pytest.raises(tx.JournalWriteError) as info:
        _process(client, journal)
    err = info.value
    assert err.step == step and err.sent is (kind == "done") and "No space left" in str(err)
    assert ("completed on the server" if kind == "done" else "was not sent") in str(err)
    op = dict(zip(("dataset", "copy", "run", "export"), CREATES, strict=True))[step]
    assert sandbox.counters.applied[op] == (1 if kind == "done" else 0)
    later = CREATES[CREATES.index(op) + 1 :]
    assert all(sandbox.counters.received[o] == 0 for o in later)  # stopped before them
    monkeypatch.undo()
    with sandbox.client() as client:
        result = _process(client, journal)
    assert len(result.rows()) == len(ROWS)
    assert _applied(sandbox) == dict.fromkeys(CREATES, 1)


@pytest.mark.parametrize("job", ["process", "tasks"])
def test_a_failed_first_record_leaves_nothing_to_block_the_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, job: str
) -> None:
    journal = tmp_path / "job.journal"

    def full(path: Path, line: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_module, "_create", full)
    run = _process if job == "process" else _tasks
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(tx.JournalWriteError) as info:
        run(client, journal)
    assert info.value.sent is False and "first record" in str(info.value)
    assert not journal.exists() and sum(sandbox.counters.applied.values()) == 0
    monkeypatch.undo()
    with sandbox.client() as client:
        run(client, journal)
    assert journal.exists()
