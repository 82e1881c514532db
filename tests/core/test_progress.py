"""``progress=True``: Rich bars on stderr for the long calls; silent by default."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import anyio
import pytest

import toloka_ext as tx
from toloka_ext._progress import ProgressBars
from toloka_ext._progress import size as tx_size
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


def _lines(err: str) -> dict[str, str]:
    """The final drawing, one line per stage: ``{"upload": "... 40 rows done 0:00:00"}``."""
    found = {}
    for line in err.splitlines():
        words = line.split()
        if words and len(words[0]) == 1 and 0x2800 <= ord(words[0]) <= 0x28FF:
            words = words[1:]  # the spinner of a stage that has not ended
        if words:
            found[words[0]] = " ".join(words[1:])
    return found


def test_process_new_data_shows_upload_run_and_download(
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
    size = result.path.stat().st_size
    lines = _lines(capsys.readouterr().err)
    assert list(lines) == ["upload", "run", "download"]
    assert "40 rows done" in lines["upload"]
    assert "40/40 items completed" in lines["run"]
    assert f"{tx_size(size)}/{tx_size(size)} done" in lines["download"]


def test_an_upload_shows_its_bytes_and_add_items_takes_progress(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [{"text": f"row {i}"} for i in range(300)]
    with Sandbox().client() as client:
        dataset = client.datasets.create("prj-1", name="bytes")
        summary = client.datasets.add_items(dataset.id, rows, upload_threshold=1, progress=True)
        inline = client.datasets.add_items(dataset.id, rows[:7], progress=True)
    assert (summary.path, inline.path) == ("upload", "inline")
    err = capsys.readouterr().err.splitlines()
    upload, rows_line = (" ".join(line.split()) for line in err if line.strip())
    # The bytes of the one JSON array sent, of the size announced in Content-Length.
    assert upload.startswith("upload") and upload.endswith("done 0:00:00")
    found = re.search(r" (\d+\.\d kB)/(\d+\.\d kB) done", upload)
    assert found is not None and found[1] == found[2], upload
    assert rows_line.startswith("upload") and "7 rows done" in rows_line


def test_tasks_bar_says_how_positions_were_decided(capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox()
    sandbox.add_pool(POOL, input_spec={"n": "integer"})
    tasks = [*_tasks(10), {"pool_id": POOL, "input_values": {"n": "x"}, "overlap": 1}]
    with sandbox.client() as client:
        result = client.tasks.create_tasks(tasks, skip_invalid_items=True, progress=True)
        # A generator has no length: the bar counts without a total.
        client.tasks.create_tasks(iter(_tasks(4)), progress=True)
    assert (len(result.created), len(result.errors)) == (10, 1)
    first, second = (" ".join(x.split()) for x in capsys.readouterr().err.splitlines() if x)
    assert "11/11 created 10, failed 1" in first
    assert second.startswith("tasks") and " 4 created 4 " in second


def test_after_an_error_the_bars_stay_where_they_were(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sandbox = Sandbox(fail_items_where={"text": "a"})  # every item fails: so does the run
    with sandbox.client() as client, pytest.raises(tx.RunFailedError):
        client.process_new_data("pl-1", [{"text": "a"}], output=tmp_path / "out", progress=True)
    lines = _lines(capsys.readouterr().err)
    assert "1 rows done" in lines["upload"]  # that stage did finish
    assert "failed" in lines["run"] and "done" not in lines["run"]
    assert "download" not in lines


def test_counts_are_whole_numbers_at_any_size(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBars(enabled=True) as display:
        display.update("tasks", 1_000_000, 2_000_000)
        display.update("rows", 123_456_789)
    lines = _lines(capsys.readouterr().err)
    assert "1000000/2000000" in lines["tasks"]  # never 1e+06, nor rounded up at the end
    assert lines["rows"].startswith("━" * 10) and " 123456789 " in lines["rows"]


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_500_000, "1.5 MB"), (2 * 10**9, "2.0 GB"),
     (999_999, "1000.0 kB"), (3 * 10**12, "3000.0 GB")],
)  # fmt: skip
def test_sizes_read_as_rich_writes_them(n: int, text: str) -> None:
    assert tx_size(n) == text


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
    lines = _lines(err)
    assert lines["operation"].startswith("━") and " 100% success " in lines["operation"]
    assert "completed" in lines["run"] and "done" in lines["download"]


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


def test_an_async_create_draws_each_poll_of_its_operation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The operation being polled has a bar of its own: every percent the API reports is
    drawn (at once, not at the display's next tick), and each chunk's operation starts anew."""
    sandbox = _sandbox()
    sandbox.configure(operation_polls=5)  # RUNNING at 20, 40, 60, 80 %, then SUCCESS
    drawn: list[tuple[str, int | None, str]] = []
    real = ProgressBars.operation

    def spy(self: ProgressBars, op: tx.types.Operation, *, chunk: int | None = None) -> None:
        real(self, op, chunk=chunk)
        task = self._progress.tasks[self._stages["operation"]]
        drawn.append((op.id, int(task.completed), task.fields["note"]))

    with pytest.MonkeyPatch.context() as mp, sandbox.client() as client:
        mp.setattr(ProgressBars, "operation", spy)
        result = client.tasks.create_tasks(_tasks(6), async_mode=True, chunk_size=3, progress=True)
    assert result.ok and len(result.operations) == 2
    first, second = (op.id for op in result.operations)
    seen = [(c, n) for i, c, n in drawn if i == first]
    assert [x for n, x in enumerate(seen) if n == 0 or seen[n - 1] != x] == [
        (20, "running (chunk 1)"), (40, "running (chunk 1)"), (60, "running (chunk 1)"),
        (80, "running (chunk 1)"), (100, "success (chunk 1)"),
    ]  # fmt: skip
    assert [c for i, c, _ in drawn if i == second][0] == 20  # the next one starts anew
    lines = _lines(capsys.readouterr().err)
    assert "6/6 created 6" in lines["tasks"] and " 100% success (chunk 2) " in lines["operation"]


def test_a_moving_bar_shows_the_time_left() -> None:
    from rich.console import Console

    from toloka_ext._progress import _time_left_column

    column = _time_left_column()
    console = Console(width=40)
    with ProgressBars(enabled=True) as display:
        progress = display._progress
        display.update("tasks", 0, 100)
        task = progress.tasks[display._stages["tasks"]]
        assert console.render_str(column.render(task).plain).plain == "eta -:--:--"
        # 25 of 100 in 5 s of samples: 75 left at 5 a second.
        task._progress.extend([progress_sample(0.0, 0), progress_sample(5.0, 25)])
        task.completed = 25
        assert column.render(task).plain == "eta 0:00:15"
        display.update("tasks", 100, 100)
        assert column.render(task).plain == ""  # done: no estimate
        display.update("rows", 7)
        assert column.render(progress.tasks[display._stages["rows"]]).plain == ""  # no total


def progress_sample(timestamp: float, completed: float) -> object:
    from rich.progress import ProgressSample

    return ProgressSample(timestamp, completed)
