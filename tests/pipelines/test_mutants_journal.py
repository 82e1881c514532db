"""Journal behaviour that mutation testing found untested (docs/mutation.md).

The job's token names every object (never ``None``, never empty); parameters first seen on a
resume are recorded and checked on the next one; the journal is one private file of compact
UTF-8 JSON lines; a complete line that is not a record stops a resume. Through
``process_new_data`` on the sandbox where a user would see it, through
``toloka_ext._journal.Journal`` for what only the file shows.
"""

from __future__ import annotations

import json
import logging
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from tests.pipelines._flows import objects
from toloka_ext import InvalidInputError, JournalCorruptError, JournalMismatchError
from toloka_ext._journal import Journal
from toloka_ext.testing import Sandbox

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
    assert again.params == {"version": 1, "token": token, "pipeline_id": "pl-1", "item_limit": 10}
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
