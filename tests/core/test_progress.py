"""``progress=True``: Rich bars on stderr for the long calls; silent by default."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

import toloka_ext as tx
from toloka_ext.testing import Sandbox

POOL = "pool-progress"


def _tasks(n: int) -> list[dict[str, object]]:
    return [{"pool_id": POOL, "input_values": {"n": i}, "overlap": 1} for i in range(n)]


def _sandbox() -> Sandbox:
    sandbox = Sandbox()
    sandbox.add_pool(POOL)
    return sandbox


def test_create_tasks_draws_a_bar_that_ends_at_the_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _sandbox().client() as client:
        result = client.tasks.create_tasks(_tasks(1200), chunk_size=500, progress=True)
    assert len(result.created) == 1200
    err = capsys.readouterr().err
    assert "tasks" in err and "1200/1200" in err


def test_async_client_draws_the_same_bar(capsys: pytest.CaptureFixture[str]) -> None:
    async def go() -> int:
        async with _sandbox().async_client() as client:
            result = await client.tasks.create_tasks(_tasks(300), chunk_size=100, progress=True)
            return len(result.created)

    assert anyio.run(go) == 300
    assert "300/300" in capsys.readouterr().err


def test_silent_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    with _sandbox().client() as client:
        client.tasks.create_tasks(_tasks(10))
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_process_new_data_shows_rows_run_and_download(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with Sandbox().client() as client:
        result = client.process_new_data(
            "pl-1",
            [{"text": f"row {i}"} for i in range(40)],
            output=tmp_path / "out",
            progress=True,
        )
    assert len(result.rows()) == 40
    err = capsys.readouterr().err
    for stage in ("rows", "run", "download"):
        assert stage in err, stage
    assert "40/40" in err  # the rows, and the run's items done of total


def test_waits_and_download_take_progress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sandbox = _sandbox()
    with sandbox.client() as client:
        result = client.tasks.create_tasks(_tasks(20), async_mode=True)
        op = client.operations.wait(result.operations[0].id, progress=True)
        assert op.succeeded
        processed = client.process_new_data("pl-1", [{"text": "a"}], output=tmp_path / "r")
        client.runs.watch(processed.run.id, progress=True)
        path = client.exports.download(processed.export, tmp_path / "again", progress=True)
    assert path.read_bytes() == processed.path.read_bytes()
    err = capsys.readouterr().err
    assert "operation" in err and "100/100" in err
    assert "run" in err and "download" in err


def test_without_rich_the_call_names_the_extra_before_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rich.progress", None)
    sandbox = _sandbox()
    with (
        sandbox.client() as client,
        pytest.raises(tx.InvalidInputError, match=r"toloka-ext\[cli\]"),
    ):
        client.tasks.create_tasks(_tasks(5), progress=True)
    assert sandbox.counters.tasks_created == 0


def test_progress_must_be_a_bool() -> None:
    with _sandbox().client() as client, pytest.raises(tx.InvalidInputError, match="progress"):
        client.tasks.create_tasks(_tasks(1), progress="yes")  # type: ignore[arg-type]
