"""The command line speaks in its own terms and answers alike: messages name flags (not the
Python arguments behind them), every command reads a file by one rule (an empty file, a JSON
error, CSV), a failed async operation says why, and bars show the time left and the
polled operation moving. All through the installed ``toloka-ext``."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from toloka_ext.testing import SandboxServer

from .conftest import FAST, KEY, POLL, POOLS, Cli, base_env, server_env, write_jsonl

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _error(result: object) -> str:
    """The one error line of a result, which must have exited 2."""
    assert result.code == 2, result  # type: ignore[attr-defined]
    (line,) = result.err_lines()  # type: ignore[attr-defined]
    return str(line)


# -- one rule for every file --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jsonl", ""),
        ("blank.jsonl", "\n  \n"),
        ("empty.json", " [ ] "),
        ("header.csv", "image,label\n"),
        ("nothing.txt", "\n"),
    ],
)
def test_a_file_without_records_is_refused_by_every_command(
    cli: Cli, tmp_path: Path, name: str, content: str
) -> None:
    (tmp_path / name).write_text(content)
    dataset = cli.json("datasets", "create", "prj-1", "--name", f"empty-{name}")["id"]
    tasks, process, add = cli.many(
        ["tasks", "create", name, "--pool", "pool-1", "--overlap", "1"],
        ["process", name, "--pipeline", "pl-1", "--out", "out.jsonl"],
        ["datasets", "add-items", dataset, name],
    )
    assert _error(tasks) == f"toloka-ext: error: {name}: the file holds no tasks"
    assert _error(process) == f"toloka-ext: error: {name}: the file holds no rows"
    assert _error(add) == _error(process)
    assert not (tmp_path / "out.jsonl.journal").exists()  # refused before anything began


def test_a_json_error_names_one_line_and_the_same_in_every_command(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "bad.jsonl").write_text(
        '{"input_values": {"n": 1}}\n\n{"input_values": \n{"input_values": {"n": 2}}\n'
    )
    tasks, process = cli.many(
        ["tasks", "create", "bad.jsonl", "--pool", "pool-1", "--overlap", "1"],
        ["process", "bad.jsonl", "--pipeline", "pl-1", "--out", "out.jsonl"],
    )
    expected = (
        "toloka-ext: error: InvalidInputError: bad.jsonl: line 3 is not valid JSON: "
        "Expecting value (column 18)"
    )
    assert _error(tasks) == expected
    assert _error(process) == expected
    assert len(re.findall(r"\bline \d", expected)) == 1


def test_a_file_is_told_apart_by_its_name_for_csv_and_by_its_content_for_json(
    cli: Cli, tmp_path: Path
) -> None:
    # JSON Lines in a .json file and an array in a .txt file: read by what they hold.
    write_jsonl(tmp_path / "lines.json", [{"input_values": {"n": 1}}, {"input_values": {"n": 2}}])
    (tmp_path / "array.txt").write_text('[{"input_values": {"n": 3}}]')
    # A table under another name is not guessed at: the message says how files are read.
    (tmp_path / "table.tsv").write_text("image\tlabel\nx\ty\n")
    lines, array, table, table_rows = cli.many(
        ["--json", "tasks", "create", "lines.json", "--pool", "pool-1", "--overlap", "1"],
        ["--json", "tasks", "create", "array.txt", "--pool", "pool-1", "--overlap", "1"],
        ["tasks", "create", "table.tsv", "--pool", "pool-1", "--overlap", "1"],
        ["process", "table.tsv", "--pipeline", "pl-1", "--out", "out.jsonl"],
    )
    assert (lines.code, lines.json()["created"]) == (0, 2), lines
    assert (array.code, array.json()["created"]) == (0, 1), array
    hint = "; a file not named .csv is read as JSON Lines or one JSON array"
    assert _error(table).endswith(hint) and "line 1 is not valid JSON" in _error(table)
    assert _error(table_rows) == _error(table)


def test_tasks_create_reads_csv_by_the_column_rules_of_a_dataframe(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "tasks.csv").write_text(
        "input_values.image,input_values.caption,overlap,known_solutions\n"
        'https://example.com/1.png,"a cat, asleep",3,\n'
        'https://example.com/2.png,,,"[{""output_values"": {""label"": ""cat""}}]"\n'
    )
    created = cli.json("tasks", "create", "tasks.csv", "--pool", "pool-1", "--overlap", "2")
    assert (created["ok"], created["created"]) == (True, 2), created
    first, second = (cli.json("tasks", "get", created["task_ids"][k]) for k in ("0", "1"))
    # Dotted columns nest; text stays text; overlap is a number; a blank cell is no field
    # (so --overlap fills the second task's); a JSON field is read as JSON.
    assert first["input_values"] == {
        "image": "https://example.com/1.png",
        "caption": "a cat, asleep",
    }
    assert (first["overlap"], second["overlap"]) == (3, 2)
    assert second["input_values"] == {"image": "https://example.com/2.png"}
    assert second["known_solutions"][0]["output_values"] == {"label": "cat"}

    (tmp_path / "bad-overlap.csv").write_text("input_values.image,overlap\nx,1\ny,three\n")
    (tmp_path / "clash.csv").write_text("input_values,input_values.image\n{},x\n")
    bad, clash = cli.many(
        ["tasks", "create", "bad-overlap.csv", "--pool", "pool-1"],
        ["tasks", "create", "clash.csv", "--pool", "pool-1"],
    )
    assert _error(bad) == (
        "toloka-ext: error: bad-overlap.csv: row 2, column overlap: 'three' is not a whole number"
    )
    assert _error(clash) == (
        "toloka-ext: error: clash.csv: column 'input_values' is given both whole and as "
        "input_values.<key> columns"
    )


# -- messages name flags ------------------------------------------------------------------


def test_messages_name_the_flags_not_the_python_arguments(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "rows.jsonl", [{"n": 1}])
    write_jsonl(tmp_path / "no-overlap.jsonl", [{"input_values": {"n": 1}}])
    some_id = str(uuid.uuid4())
    insecure, project, overlap, chunk, op_id, json_doc = cli.many(
        ["--base-url", "http://10.0.0.1:9/api/v2-beta", "whoami"],
        ["process", "rows.jsonl", "--pipeline", "pl-none", "--out", "out.jsonl"],
        ["tasks", "create", "no-overlap.jsonl", "--pool", "pool-1"],
        ["tasks", "create", "rows.jsonl", "--pool", "pool-1", "--overlap", "1",
         "--chunk-size", "6000", "--sync-mode"],
        ["tasks", "create", "rows.jsonl", "--pool", "pool-1", "--overlap", "1",
         "--operation-id", some_id, "--sync-mode"],
        ["--json", "--v1-base-url", "http://10.0.0.1:9/api/v1", "tasks", "get", "t-1"],
    )  # fmt: skip
    assert _error(insecure) == (
        "toloka-ext: error: ConfigurationError: --base-url uses plain http:// to 10.0.0.1: "
        "credentials and data would cross the network unencrypted; use https for --base-url, "
        "or pass --allow-insecure-http if you mean it"
    )
    assert project.code == 2 and project.err_lines()[-1].endswith(
        "pipeline pl-none is in none of the projects this key can list; pass --project "
        "(field 'pipeline_id')"
    ), project
    assert _error(overlap).startswith(
        "toloka-ext: error: InvalidInputError: overlap is required: pass --overlap, or "
        '--allow-defaults (the pool\'s default overlap), or set "overlap" (or '
        '"infinite_overlap": true) in the task'
    )
    assert "--chunk-size must be at most 5000 in sync mode" in _error(chunk)
    assert "--operation-id only applies with --async-mode" in _error(op_id)
    message = json_doc.json()["error"]["message"]
    assert (
        message.startswith("--v1-base-url uses plain http://")
        and "--allow-insecure-http" in message
    )
    for result in (insecure, project, overlap, chunk, op_id, json_doc):
        text = result.err + result.out
        assert not re.search(r"\b[a-z]+(_[a-z]+)+=(True|False)?\b", text), text  # no kwargs


def test_an_oauth_token_alone_is_told_which_flag_the_pipeline_api_needs(
    server: SandboxServer, tmp_path: Path
) -> None:
    env = base_env(
        {"TOLOKA_BASE_URL": server.v2_base_url, "TOLOKA_V1_BASE_URL": server.v1_base_url}
    )
    cli = Cli(env, tmp_path)
    result = cli("--oauth-token", "sandbox-token", "projects", "list", secret_ok=True)
    assert _error(result) == (
        "toloka-ext: error: ConfigurationError: the Pipeline API (v2-beta) takes an API key: "
        "pass --api-key or set TOLOKA_API_KEY (an OAuth token works for API v1 only)"
    )


# -- a failed async operation says why ----------------------------------------------------


def test_a_failed_async_operation_prints_its_reason(cli: Cli, tmp_path: Path) -> None:
    # pool-spec declares a string "image": the server refuses the second task, not the client.
    write_jsonl(
        tmp_path / "mixed.jsonl",
        [{"input_values": {"image": "a.png"}}, {"input_values": {"image": 5}}],
    )
    args = [*POLL, "tasks", "create", "mixed.jsonl", "--pool", "pool-spec", "--async-mode"]
    failed = cli(*args, "--allow-defaults")
    assert failed.code == 1, failed
    lines = failed.err_lines()
    assert lines[0].startswith("toloka-ext: error: OperationFailedError: ")
    assert lines[1:] == [
        "toloka-ext: before the error: 0 created, 1 failed, 0 unknown",
        "  position 1: input_values.image: INVALID_TYPE must be of type string",
    ]
    # Other options are another job: its own journal (the first one's would refuse them).
    skipping = [*args, "--allow-defaults", "--skip-invalid-items", "--journal", "skip.journal"]
    operation = cli.json(*skipping)["operations"][0]
    failed_id = cli.json("operations", "list", "--status", "FAIL", "--sort", "-id", "--limit", "0")
    assert operation not in {op["id"] for op in failed_id}  # the skipping one succeeded
    (mine,) = [
        op["id"]
        for op in failed_id
        if cli.json("operations", "log", op["id"])[0]["input"]["input_values"] == {"image": 5}
    ][:1]
    shown = cli("operations", "get", mine)
    assert shown.code == 0, shown
    assert shown.out.splitlines() == [
        f"operation {mine} TASK.BATCH_CREATE FAIL",
        "  TASK_VALIDATE input_values.image: INVALID_TYPE must be of type string; input "
        '{"input_values":{"image":5},"pool_id":"pool-spec"}',
    ]


# -- bars: the time left, and the operation moving ----------------------------------------


@pytest.fixture(scope="module")
def slow_operations(cli_installed: Path) -> Iterator[SandboxServer]:
    """Operations that report RUNNING at 20, 40, 60 and 80 % before they finish."""
    options = {**FAST, "operation_polls": 5}
    with SandboxServer(api_key=KEY, v1_pools=POOLS, **options) as served:
        yield served


def test_bars_show_the_time_left_and_the_operation_moving(
    slow_operations: SandboxServer, tmp_path: Path
) -> None:
    cli = Cli(base_env(server_env(slow_operations)), tmp_path)
    write_jsonl(tmp_path / "t.jsonl", [{"input_values": {"n": i}} for i in range(6)])
    args = ["tasks", "create", "t.jsonl", "--pool", "pool-1", "--overlap", "1", "--async-mode"]
    result = cli("--poll-interval", "0.05", *args, tty=True, tty_stderr=True)
    assert result.code == 0, result
    assert result.out.splitlines()[0] == "created 6 of 6 tasks"
    drawn = ANSI.sub("", result.err)
    operation = [line.split() for line in drawn.splitlines() if "operation" in line]
    percents = [w for words in operation for w in words if re.fullmatch(r"\d+%", w)]
    moves = [p for n, p in enumerate(percents) if n == 0 or percents[n - 1] != p]
    assert moves == ["20%", "40%", "60%", "80%", "100%"], drawn
    assert re.search(r"eta (-:--:--|\d+:\d\d:\d\d)", drawn), drawn  # while it ran
    final = [" ".join(ln.split()) for ln in drawn.splitlines() if ln.strip().startswith("tasks")]
    assert "6/6 created 6" in final[-1] and "eta" not in final[-1]  # done: no estimate left


def test_the_help_says_which_files_are_read(cli: Cli) -> None:
    for command in (["tasks", "create"], ["process"], ["datasets", "add-items"]):
        result = cli(*command, "--help")
        assert result.code == 0, result
        text = " ".join(result.out.replace("│", " ").split())  # the help's boxes wrap lines
        assert "a .csv file with a header line, one JSON array, or JSON Lines" in text, command


def test_json_error_documents_use_the_same_words(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    result = cli("--json", "tasks", "create", "empty.jsonl", "--pool", "pool-1")
    assert result.code == 2
    assert result.json()["error"]["message"] == "empty.jsonl: the file holds no tasks"
    assert json.loads(result.out)["error"]["exit_code"] == 2
