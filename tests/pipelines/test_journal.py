"""``process_new_data`` with a journal: a crash after any request, then a rerun, creates
every object exactly once and returns the full results (on the sandbox, whose small pages
put the pipeline's project on the second page of projects)."""

from __future__ import annotations

import json
import logging
import re
import stat
import time
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.pipelines._flows import assert_exactly_once, objects, storage_requests
from toloka_ext import (
    InvalidInputError,
    JournalCorruptError,
    JournalMismatchError,
    OutcomeUnknownError,
)
from toloka_ext._journal import VERSION, Journal
from toloka_ext.testing import Fault, FaultConfig, Sandbox, SimulatedCrash

ROWS_SMALL = [{"url": f"https://img/{i}.jpg", "lang": "en"} for i in range(5)]
# Three rows of ~0.8 MB: the inline path needs two requests (chunks are journaled one by one).
ROWS_CHUNKED = [{"url": f"https://img/{i}.jpg", "lang": "x" * 800_000} for i in range(3)]

CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "inline-two-chunks": (ROWS_CHUNKED, {}),
    "upload": (ROWS_SMALL, {"upload_threshold": 0}),
}


def _sandbox(*faults: Fault, **options: Any) -> Sandbox:
    sandbox = Sandbox(
        record_requests=True,
        max_page_size=2,
        faults=FaultConfig(faults=faults),
        **options,
    )
    sandbox.add_project("Other")
    third = sandbox.add_project("Third")
    sandbox.add_pipeline("pl-1", project_id=third)  # on the second page of projects
    return sandbox


def _crash_after(n: int) -> Fault:
    return Fault("crash_after", route=None, on_nth=(n,))


def _ops(sandbox: Sandbox) -> list[str | None]:
    return [r.operation for r in sandbox.requests]


def _clean(case: str, tmp: Path) -> tuple[list[str | None], list[dict[str, Any]]]:
    """The requests of an uninterrupted run of ``case`` and the rows it returns."""
    rows, kw = CASES[case]
    sandbox = _sandbox()
    with sandbox.client(max_retries=0) as client:
        result = client.process_new_data("pl-1", rows, journal=tmp / f"clean-{case}", **kw)
    assert_exactly_once(sandbox, rows)
    got = result.rows()
    assert [{k: r[k] for k in rows[0]} for r in got] == rows
    assert all(r["label"] in ("yes", "no") for r in got)
    return _ops(sandbox), got


def test_the_clean_flows_cover_every_step(tmp_path: Path) -> None:
    inline, _ = _clean("inline-two-chunks", tmp_path)
    upload, _ = _clean("upload", tmp_path)
    assert inline.count("listProjects") == 2  # the projects were paged through
    assert inline.count("addDatasetItems") == 2
    assert "createUpload" not in inline
    for step in ("createUpload", "storagePut", "finalizeUpload", "getUpload"):
        assert step in upload
    for ops in (inline, upload):
        for step in ("createDataset", "copyPipeline", "attachDataset", "startRun", "getRun"):
            assert step in ops
        assert ops[-3:] == ["getExport", "getExport", "storageGet"]
        assert len(ops) > 15


@pytest.mark.parametrize("action", ["crash_after", "crash_before"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_crash_at_every_request_then_resume(
    case: str, action: Literal["crash_after", "crash_before"], tmp_path: Path
) -> None:
    rows, kw = CASES[case]
    clean_ops, expected = _clean(case, tmp_path)
    for n in range(1, len(clean_ops) + 1):
        sandbox = _sandbox(Fault(action, route=None, on_nth=(n,)))
        journal = tmp_path / f"{case}-{action}-{n}.journal"
        output = tmp_path / f"{case}-{action}-{n}.jsonl"
        with sandbox.client(max_retries=0) as client:
            with pytest.raises(SimulatedCrash):
                client.process_new_data("pl-1", rows, journal=journal, output=output, **kw)
            crashed = sandbox.requests[n - 1].operation
            assert _ops(sandbox) == clean_ops[:n], n  # the same flow, up to the crash
            assert not output.exists()
            result = client.process_new_data("pl-1", rows, journal=journal, output=output, **kw)
        assert_exactly_once(sandbox, rows)
        assert result.rows() == expected, (n, crashed)
        assert result.path == output and result.run.status == "completed"
        assert [p.name for p in tmp_path.glob("*.part")] == []


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_async_crash_after_every_request_then_resume(case: str, tmp_path: Path) -> None:
    rows, kw = CASES[case]
    clean_ops, expected = _clean(case, tmp_path)
    for n in range(1, len(clean_ops) + 1):
        sandbox = _sandbox(_crash_after(n))
        journal = tmp_path / f"a-{case}-{n}.journal"
        async with sandbox.async_client(max_retries=0) as client:
            with pytest.raises(SimulatedCrash):
                await client.process_new_data("pl-1", rows, journal=journal, **kw)
            crashed = sandbox.requests[n - 1].operation
            assert _ops(sandbox) == clean_ops[:n], n
            result = await client.process_new_data("pl-1", rows, journal=journal, **kw)
        assert_exactly_once(sandbox, rows)
        assert result.rows() == expected, (n, crashed)


def test_a_finished_journal_creates_nothing_more(tmp_path: Path) -> None:
    sandbox = _sandbox()
    journal = tmp_path / "j"
    with sandbox.client() as client:
        first = client.process_new_data("pl-1", ROWS_SMALL, journal=journal)
        before = len(sandbox.requests)
        again = client.process_new_data("pl-1", ROWS_SMALL, journal=journal)
    # The rerun only reads the final run and export again: nothing is created or sent.
    assert set(_ops(sandbox)[before:]) <= {"getRun", "getExport"}
    assert again.rows() == first.rows()
    assert [{k: r[k] for k in ROWS_SMALL[0]} for r in first.rows()] == ROWS_SMALL
    assert again.pipeline.id == first.pipeline.id and again.run.id == first.run.id
    assert_exactly_once(sandbox, ROWS_SMALL)


def test_names_carry_the_journal_token(tmp_path: Path) -> None:
    sandbox = _sandbox()
    journal = tmp_path / "j"
    with sandbox.client() as client:
        client.process_new_data("pl-1", ROWS_SMALL, journal=journal, name_prefix="batch")
    token = Journal.open(journal).token
    assert [d["name"] for d in objects(sandbox, "dataset")] == [f"batch-{token}"]
    copies = [p for p in objects(sandbox, "pipeline") if p.get("sourcePipelineId")]
    assert [p["name"] for p in copies] == [f"batch-{token}"]


def test_journal_for_other_rows_or_pipeline_is_refused(tmp_path: Path) -> None:
    sandbox = _sandbox(_crash_after(3))
    journal = tmp_path / "j"
    with sandbox.client() as client:
        with pytest.raises(SimulatedCrash):
            client.process_new_data("pl-1", ROWS_SMALL, journal=journal)
        before = len(sandbox.requests)
        with pytest.raises(JournalMismatchError, match="rows_sha256"):
            client.process_new_data("pl-1", ROWS_SMALL[:-1], journal=journal)
        with pytest.raises(JournalMismatchError, match="pipeline_id"):
            client.process_new_data("pl-9", ROWS_SMALL, journal=journal)
    assert len(sandbox.requests) == before == 3


def test_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    sandbox = _sandbox(_crash_after(4))
    journal = tmp_path / "j"
    with sandbox.client() as client:
        with pytest.raises(SimulatedCrash):
            client.process_new_data("pl-1", ROWS_SMALL, journal=journal)
        with open(journal, "ab") as fh:
            fh.write(b'{"kind":"done","step":"cop')
        result = client.process_new_data("pl-1", ROWS_SMALL, journal=journal)
    assert_exactly_once(sandbox, ROWS_SMALL)
    assert [{k: r[k] for k in ROWS_SMALL[0]} for r in result.rows()] == ROWS_SMALL


def test_spent_upload_url_without_bytes_starts_a_new_upload(tmp_path: Path) -> None:
    # The client dies as the PUT starts: storage spent the one-time URL, stored no bytes.
    sandbox = _sandbox(Fault("crash_before", route="storagePut", on_nth=(1,)))
    journal = tmp_path / "j"
    with sandbox.client() as client:
        with pytest.raises(SimulatedCrash):
            client.process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
        result = client.process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    assert_exactly_once(sandbox, ROWS_SMALL)
    assert [{k: r[k] for k in ROWS_SMALL[0]} for r in result.rows()] == ROWS_SMALL
    uploads = objects(sandbox, "upload")
    assert [u["status"] for u in uploads] == ["pending", "succeeded"]
    assert sandbox.counters.applied["finalizeUpload"] == 1
    assert Journal.open(journal).get_done("upload.abandoned") is not None


def test_one_time_url_reused_after_a_crash_is_not_fatal(tmp_path: Path) -> None:
    # Crash right after the PUT was stored: the rerun's PUT is refused (URL spent), and
    # finalizing shows the bytes are there.
    sandbox = _sandbox(Fault("crash_after", route="storagePut", on_nth=(1,)))
    journal = tmp_path / "j"
    with sandbox.client() as client:
        with pytest.raises(SimulatedCrash):
            client.process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
        result = client.process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    assert_exactly_once(sandbox, ROWS_SMALL)
    assert len(result.rows()) == len(ROWS_SMALL)
    assert len(objects(sandbox, "upload")) == 1
    assert [r.operation for r in storage_requests(sandbox)] == [
        "storagePut",
        "storagePut",
        "storageGet",
    ]
    assert sandbox.counters.applied["storagePut"] == 1  # the second PUT was refused


def _drop_item_count(op: str, body: Any) -> Any:
    if op == "listDatasets":
        for ds in body["datasets"]:
            ds.pop("itemCount", None)
    return body


def test_unknown_chunk_outcome_without_item_count_refuses_to_guess(tmp_path: Path) -> None:
    sandbox = _sandbox(Fault("crash_after", route="addDatasetItems", on_nth=(1,)))
    sandbox.rewrite = _drop_item_count
    journal = tmp_path / "j"
    with sandbox.client() as client:
        with pytest.raises(SimulatedCrash):
            client.process_new_data("pl-1", ROWS_CHUNKED, journal=journal)
        (dataset,) = objects(sandbox, "dataset")
        stored = sandbox.dataset_rows(dataset["id"])
        assert len(stored) == 2  # the first chunk was applied, its answer never seen
        with pytest.raises(OutcomeUnknownError, match="item count"):
            client.process_new_data("pl-1", ROWS_CHUNKED, journal=journal)
    assert sandbox.dataset_rows(dataset["id"]) == stored  # nothing sent twice
    assert sandbox.counters.received["addDatasetItems"] == 1
    assert sandbox.requests_for("listDatasets")  # it did look before refusing


# ------------------------------------------ what mutation testing found untested (docs/mutation.md)

ROWS = [{"url": f"https://img/{i}.jpg", "lang": "en"} for i in range(3)]
TOKEN = re.compile(r"[0-9a-f]{12}")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


# ------------------------------------------------------------------------------ the token


def test_a_job_without_a_journal_still_names_its_objects_with_a_fresh_token() -> None:
    sandbox = Sandbox()
    with sandbox.client() as client:
        client.process_new_data("pl-1", ROWS, name_prefix="batch")
        client.process_new_data("pl-1", ROWS, name_prefix="batch")
    names = [d["name"] for d in objects(sandbox, "dataset")]
    assert len(names) == 2 and len(set(names)) == 2
    for name in names:
        prefix, token = name.split("-")
        assert prefix == "batch" and TOKEN.fullmatch(token), name


def test_the_token_on_disk_is_the_one_in_the_names(tmp_path: Path) -> None:
    journal = tmp_path / "job.journal"
    sandbox = Sandbox()
    with sandbox.client() as client:
        client.process_new_data("pl-1", ROWS, journal=journal, name_prefix="batch")
    first = _records(journal)[0]
    assert first["kind"] == "params" and TOKEN.fullmatch(first["token"])
    assert [d["name"] for d in objects(sandbox, "dataset")] == [f"batch-{first['token']}"]


@pytest.mark.parametrize("token", ["", 7, None, ["abc"]], ids=repr)
def test_a_journal_whose_token_is_not_a_word_is_refused(tmp_path: Path, token: object) -> None:
    journal = tmp_path / "job.journal"
    Journal.open(journal).start(pipeline_id="pl-1")
    lines = journal.read_bytes().splitlines(keepends=True)
    first = json.loads(lines[0])
    first["token"] = token
    lines[0] = json.dumps(first).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    with pytest.raises(JournalCorruptError, match="token is missing") as info:
        Journal.open(journal)
    assert info.value.line == 1


# --------------------------------------------------------------------- parameters on resume


def test_parameters_first_seen_on_a_resume_are_recorded_and_checked_next_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "job.journal"
    Journal.open(path).start(pipeline_id="pl-1")
    token = Journal.open(path).token

    with Journal.open(path) as resumed:
        resumed.start(pipeline_id="pl-1", item_limit=10)  # a parameter this journal lacked
    assert _records(path)[1:] == [{"kind": "params", "item_limit": 10}]

    again = Journal.open(path)
    assert again.params == {
        "version": VERSION,
        "token": token,
        "pipeline_id": "pl-1",
        "item_limit": 10,
    }
    size = path.stat().st_size
    again.start(pipeline_id="pl-1", item_limit=10)  # nothing new: nothing written
    assert path.stat().st_size == size
    again.close()
    with pytest.raises(JournalMismatchError, match="item_limit=10, not 20") as info:
        Journal.open(path).start(pipeline_id="pl-1", item_limit=20)
    assert info.value.parameter == "item_limit" and info.value.path == str(path)


def test_an_older_journal_without_a_parameter_takes_it_on_resume(tmp_path: Path) -> None:
    journal = tmp_path / "job.journal"
    sandbox = Sandbox()
    with sandbox.client() as client:
        client.process_new_data("pl-1", ROWS, journal=journal)
        # As if written by a version that did not record item_filter yet.
        lines = journal.read_bytes().splitlines(keepends=True)
        first = json.loads(lines[0])
        del first["item_filter"]
        journal.write_bytes(json.dumps(first).encode() + b"\n" + b"".join(lines[1:]))
        client.process_new_data("pl-1", ROWS, journal=journal)
    added = [r for r in _records(journal) if r["kind"] == "params"][1:]
    assert added == [{"kind": "params", "item_filter": None}]
    assert len(objects(sandbox, "dataset")) == 1


# --------------------------------------------------------------------------------- the file


def test_records_are_compact_utf8_lines_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "job.journal"
    journal = Journal.open(path)
    journal.start(pipeline_id="конвейер-1")
    journal.intent("dataset", name="партия")
    journal.done("dataset", id="ds-1")
    lines = path.read_bytes().splitlines(keepends=True)
    at = json.loads(lines[1])["at"]  # when the step was sent: a rerun waits out its hold
    assert isinstance(at, float) and abs(at - time.time()) < 60
    assert lines[1:] == [
        f'{{"kind":"intent","step":"dataset","name":"партия","at":{at!r}}}\n'.encode(),
        b'{"kind":"done","step":"dataset","id":"ds-1"}\n',
    ]
    assert '"pipeline_id":"конвейер-1"'.encode() in lines[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_memory_journal_keeps_its_records_without_a_file() -> None:
    journal = Journal.memory()
    journal.start(pipeline_id="pl-1")
    journal.intent("dataset", name="x")
    journal.done("dataset", id="ds-1")
    assert journal.path is None and not journal.resumed
    assert TOKEN.fullmatch(journal.token) and journal.params["pipeline_id"] == "pl-1"
    intent = journal.get_intent("dataset")
    assert intent is not None and isinstance(intent.pop("at"), float)
    assert intent == {"kind": "intent", "step": "dataset", "name": "x"}
    assert journal.is_done("dataset") and journal.get_done("dataset") == {
        "kind": "done",
        "step": "dataset",
        "id": "ds-1",
    }


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b'["intent", "dataset"]\n', "must be a JSON object, got list"),
        (b'"done"\n', "must be a JSON object, got str"),
        (b'{"kind": "done", "step": ""}\n', "a done record without its step"),
        (b'{"kind": "intent", "step": 3}\n', "an intent record without its step"),
        (b'{"kind": "done"\n', "not a JSON record"),
    ],
    ids=["array", "string", "empty-step", "number-step", "cut-json"],
)
def test_a_complete_line_that_is_no_record_stops_the_resume(
    tmp_path: Path, line: bytes, words: str
) -> None:
    path = tmp_path / "job.journal"
    with Journal.open(path) as journal:
        journal.start(pipeline_id="pl-1")
        journal.done("project", id="prj-1")
    with open(path, "ab") as fh:
        fh.write(line)
    before = path.read_bytes()
    with pytest.raises(JournalCorruptError) as info:
        Journal.open(path)
    assert (info.value.line, info.value.path) == (3, str(path))
    assert words in str(info.value)
    assert path.read_bytes() == before  # a complete line is never cut off


def test_a_journal_path_that_is_a_directory_names_the_journal_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="is a directory") as info:
        Journal.open(tmp_path)
    assert info.value.field == "journal"
    with pytest.raises(InvalidInputError, match="does not exist") as missing:
        Journal.open(tmp_path / "no" / "job.journal")
    assert missing.value.field == "journal"


def test_an_empty_or_torn_only_journal_says_which(tmp_path: Path) -> None:
    empty = tmp_path / "empty.journal"
    empty.write_bytes(b"")
    with pytest.raises(JournalCorruptError) as info:
        Journal.open(empty)
    assert str(info.value).startswith(f"journal {empty} is empty: ")

    torn = tmp_path / "torn.journal"
    torn.write_bytes(b'{"kind": "params", "vers')
    with pytest.raises(JournalCorruptError) as info:
        Journal.open(torn)
    assert str(info.value).startswith(f"journal {torn} holds no complete record: ")


def test_cutting_off_a_torn_record_is_logged_with_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "job.journal"
    Journal.open(path).start(pipeline_id="pl-1")
    with open(path, "ab") as fh:
        fh.write(b'{"kind": "intent", "st')
    with caplog.at_level(logging.WARNING, logger="toloka_ext"):
        assert Journal.open(path).params["pipeline_id"] == "pl-1"
    assert [r.getMessage() for r in caplog.records] == [
        f"journal {path}: dropping a torn last record (22 bytes)"
    ]


def test_a_journal_that_cannot_be_read_says_so_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "job.journal"
    Journal.open(path).start(pipeline_id="pl-1")

    def denied(self: Path) -> bytes:  # what a user without read permission gets (not root)
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(JournalCorruptError) as info:
        Journal.open(path)
    assert info.value.path == str(path) and info.value.line is None
    assert str(info.value).startswith(f"journal {path} cannot be read (Permission denied); ")
