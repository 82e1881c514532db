"""Progress as a person at a terminal sees it: the commands draw the library's bars (on
stderr) only when stdout is a terminal and neither ``--json`` nor ``--quiet`` is given."""

from __future__ import annotations

from pathlib import Path

from .conftest import POLL, Cli, write_jsonl


def _bars(err: str) -> dict[str, str]:
    """The final drawing: ``{"tasks": "━━━ 6/6 created 6 0:00:00"}``, one line per stage."""
    found = {}
    for line in err.splitlines():
        stage, _, rest = line.strip().partition(" ")
        if stage:
            found[stage] = " ".join(rest.split())
    return found


def test_tasks_create_draws_the_tasks_bar_to_the_files_count(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "t.jsonl", [{"input_values": {"n": i}} for i in range(6)])
    result = cli(
        "tasks", "create", "t.jsonl", "--pool", "pool-1", "--overlap", "1", "--sync-mode", tty=True
    )
    assert result.code == 0, result
    assert result.out.splitlines()[0] == "created 6 of 6 tasks"
    bars = _bars(result.err)
    assert list(bars) == ["tasks"] and "6/6 created 6 " in bars["tasks"], result.err


def test_process_draws_upload_run_and_download(cli: Cli, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", [{"url": f"u{i}"} for i in range(5)])
    result = cli(*POLL, "process", str(rows), "--pipeline", "pl-1", "--out", "o.jsonl", tty=True)
    assert result.code == 0, result
    assert result.out.startswith("results: o.jsonl (5 rows, jsonl)")
    bars = _bars(result.err)
    assert list(bars) == ["upload", "run", "download"], result.err
    assert "5 rows done" in bars["upload"]
    assert "5/5 items completed" in bars["run"]
    size = (tmp_path / "o.jsonl").stat().st_size
    # Bytes received (the served sandbox streams without a length: no total to show).
    assert f" {size} B done " in bars["download"], bars


def test_an_upload_draws_its_bytes(cli: Cli, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", [{"url": f"u{i}"} for i in range(5)])
    args = [*POLL, "process", str(rows), "--pipeline", "pl-1", "--upload-threshold", "0"]
    result = cli(*args, "--out", "o.jsonl", tty=True)
    assert result.code == 0, result
    upload = _bars(result.err)["upload"]
    # The one JSON array of the rows, as many bytes as were announced.
    sent, _, total = upload.split(" done ")[0].split(" ", 1)[1].partition("/")
    assert sent == total and sent.endswith(" B"), upload


def test_json_and_quiet_draw_nothing_even_on_a_terminal(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "t.jsonl", [{"input_values": {"n": 1}}])
    args = ["tasks", "create", "t.jsonl", "--pool", "pool-1", "--overlap", "1"]
    for flag in ("--json", "--quiet"):
        result = cli(flag, *args, tty=True)
        assert (result.code, result.err) == (0, ""), result
