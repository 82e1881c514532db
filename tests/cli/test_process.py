"""``toloka-ext process``: the whole loop, its journal, and Ctrl-C followed by the printed
command that resumes, checked against the sandbox's own counters (nothing created twice)."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import time
from pathlib import Path

from toloka_ext.testing import Sandbox, SandboxServer

from .conftest import CLI, KEY, POLL, Cli, base_env, run_command, server_env, write_jsonl

ROWS = [{"url": f"https://example.com/{i}.jpg"} for i in range(6)]


def test_process_writes_results_and_a_rerun_creates_nothing(cli: Cli, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", ROWS)
    args = [*POLL, "process", str(rows), "--pipeline", "pl-1", "--out", "out.jsonl"]
    first = cli.json(*args)
    assert first["run"]["status"] == "completed"
    assert first["items"]["rows"] == 6
    assert first["journal"] == "out.jsonl.journal"  # the default: next to the results
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["url"] for r in results] == [r["url"] for r in ROWS]
    assert all(r["label"] in ("yes", "no") for r in results)

    # The same command again resumes the finished journal: the same objects, no new ones.
    again = cli.json(*args)
    for key in ("dataset_id", "project_id"):
        assert again[key] == first[key]
    assert (again["run"]["id"], again["pipeline"]["id"], again["export"]["id"]) == (
        first["run"]["id"],
        first["pipeline"]["id"],
        first["export"]["id"],
    )
    datasets = cli.json("datasets", "list", first["project_id"], "--limit", "0")
    assert [d["id"] for d in datasets].count(first["dataset_id"]) == 1

    # Other rows with the same journal: another call, refused before anything is sent.
    other = write_jsonl(tmp_path / "other.jsonl", ROWS[:2])
    mismatch = cli(*POLL, "process", str(other), "--pipeline", "pl-1", "--out", "out.jsonl")
    assert mismatch.code == 2, mismatch
    (line,) = mismatch.err_lines()
    assert "JournalMismatchError" in line


def test_process_human_output_names_results_and_journal(cli: Cli, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", ROWS[:2])
    result = cli(*POLL, "process", str(rows), "--pipeline", "pl-1", "--out", "r.jsonl",
                 "--journal", "batch.journal")  # fmt: skip
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "results: r.jsonl (2 rows, jsonl)"
    assert lines[1].startswith("run run-") and "2/2 completed" in lines[1]
    assert lines[2].startswith("journal: batch.journal")
    assert result.err == ""  # stdout is not a terminal: no progress drawn


def _wait_for(
    predicate: object, what: str, process: subprocess.Popen[str], deadline: float
) -> None:
    assert callable(predicate)
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"the command ended ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_ctrl_c_leaves_the_journal_and_the_printed_command_resumes(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    journal = tmp_path / "out.jsonl.journal"
    # A run that never finishes: the command is watching it when Ctrl-C comes.
    server = SandboxServer(
        db_path=db, api_key=KEY, run_polls=10**6, upload_polls=1, export_polls=1
    ).start()
    try:
        env = base_env(server_env(server))
        argv = [str(CLI), "--json", *POLL, "process", "rows.jsonl", "--pipeline", "pl-1",
                "--out", "out.jsonl"]  # fmt: skip
        process = subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for(
                lambda: journal.exists() and '"kind":"done","step":"run"' in journal.read_text(),
                "the journal records the started run",
                process,
                time.monotonic() + 120,
            )
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 130, err
        assert "Traceback" not in err and KEY not in err + out
        lines = err.splitlines()
        assert lines[0].startswith("toloka-ext: interrupted; the journal out.jsonl.journal")
        resume = lines[1].strip()
        assert shlex.split(resume) == [
            "toloka-ext", "--json", *POLL, "process", "rows.jsonl", "--pipeline", "pl-1",
            "--out", "out.jsonl", "--journal", "out.jsonl.journal",
        ]  # fmt: skip
        error = json.loads(out)["error"]  # --json: the same, for a script
        assert (error["exit_code"], error["resume"]) == (130, resume)
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        assert {"kind": "done", "step": "run", "id": "run-1"} in records

        # The same sandbox (same file, same port), now finishing runs at once.
        server.stop()
        server.options["run_polls"] = 1
        server.start()
        resumed = run_command(shlex.split(resume), env=env, cwd=tmp_path)
        assert resumed.code == 0, resumed
        done = resumed.json()
        assert (done["path"], done["run"]["id"], done["run"]["status"]) == (
            "out.jsonl",
            "run-1",
            "completed",
        )
    finally:
        server.stop()

    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 6
    with Sandbox(db_path=db) as sandbox:
        applied = sandbox.counters.applied
        for operation in ("createDataset", "copyPipeline", "attachDataset", "startRun",
                          "createExport", "addDatasetItems"):  # fmt: skip
            assert applied[operation] == 1, (operation, dict(applied))
        (dataset,) = [d for d in sandbox.backend.tables["dataset"].values()]
        assert len(sandbox.dataset_rows(dataset["id"])) == 6
