"""The Pipeline API commands, step by step, as a person without Python would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import POLL, Cli, write_jsonl

ROWS = [{"url": f"https://example.com/{i}.jpg", "lang": "en" if i % 2 else "de"} for i in range(5)]


def test_create_attach_run_export_download(cli: Cli, tmp_path: Path) -> None:
    rows = write_jsonl(tmp_path / "rows.jsonl", ROWS)
    project = cli.json("projects", "create", "cli-lean")
    dataset = cli.json("datasets", "create", project["id"], "--name", "batch-1")
    added, copy = cli.many(
        ["--json", "datasets", "add-items", dataset["id"], str(rows)],
        ["--json", "pipelines", "copy", "pl-1", "--project", project["id"], "--name", "c1"],
    )
    assert (added.json()["rows"], copy.json()["source_pipeline_id"]) == (5, "pl-1")
    attach = cli.json("pipelines", "attach", copy.json()["id"], dataset["id"])
    assert attach["dataset_id"] == dataset["id"]
    run = cli.json(*POLL, "runs", "start", copy.json()["id"], "--watch")
    assert (run["status"], run["progress"]["completed"]) == ("completed", 5)
    export = cli.json(*POLL, "exports", "create", dataset["id"], "--wait")
    assert export["status"] == "ready"
    assert export["download_url"].endswith("?<signature hidden>")  # a credential: hidden
    downloaded = cli("exports", "download", export["id"], "results.jsonl")
    assert (downloaded.code, downloaded.out) == (0, "wrote results.jsonl\n")
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all('"label"' in line for line in lines)


@pytest.mark.slow
def test_every_v2_command(cli: Cli, tmp_path: Path) -> None:
    """Each list/get/import/export command once more, on objects made for it."""
    rows = write_jsonl(tmp_path / "rows.jsonl", ROWS)
    project = cli.json("projects", "create", "cli-flow", "--description", "from the CLI")
    assert project["name"] == "cli-flow" and project["description"] == "from the CLI"
    dataset = cli.json("datasets", "create", project["id"], "--name", "batch-1")
    added = cli.json("datasets", "add-items", dataset["id"], str(rows))
    assert (added["dataset_id"], added["rows"], added["path"]) == (dataset["id"], 5, "inline")

    fields, datasets, copy, projects, exported = cli.many(
        ["--json", "datasets", "fields", dataset["id"]],
        ["--json", "datasets", "list", project["id"]],
        ["--json", "pipelines", "copy", "pl-1", "--project", project["id"], "--name", "c1"],
        ["--json", "projects", "list", "--limit", "0"],
        ["pipelines", "export", "pl-1", "flow.pipeline"],
    )
    assert {f["name"] for f in fields.json()} == {"url", "lang"}
    assert [(d["id"], d["item_count"]) for d in datasets.json()] == [(dataset["id"], 5)]
    copy_id = copy.json()["id"]
    assert copy.json()["source_pipeline_id"] == "pl-1"
    assert project["id"] in {p["id"] for p in projects.json()}
    assert exported.code == 0 and (tmp_path / "flow.pipeline").stat().st_size > 0

    attach, imported = cli.many(
        ["--json", "pipelines", "attach", copy_id, dataset["id"], "--item-limit", "4",
         "--filter", '[{"field": "lang", "operator": "eq", "value": "en"}]'],
        ["--json", "pipelines", "import", project["id"], "flow.pipeline", "--name", "again"],
    )  # fmt: skip
    assert attach.json()["item_limit"] == 4
    assert attach.json()["item_filter"]["conditions"][0]["value"] == "en"
    assert imported.json()["name"] == "again"

    run = cli.json(*POLL, "runs", "start", copy_id, "--watch")
    assert run["status"] == "completed"
    assert run["progress"]["total"] == 2  # the two English rows

    got, runs, export, pipelines = cli.many(
        ["--json", "runs", "get", run["id"]],
        ["--json", "runs", "list", copy_id],
        ["--json", *POLL, "exports", "create", dataset["id"], "--field", "url",
         "--field", "label", "--format", "jsonl", "--wait"],
        ["pipelines", "list", project["id"]],
    )  # fmt: skip
    assert got.json()["status"] == "completed"
    assert [r["id"] for r in runs.json()] == [run["id"]]
    ready = export.json()
    assert ready["status"] == "ready"
    assert pipelines.code == 0
    for name in ("c1", "again", copy_id):
        assert name in pipelines.out  # a table for people

    shown, listed, downloaded = cli.many(
        ["--json", "exports", "get", ready["id"]],
        ["--json", "exports", "list", dataset["id"]],
        ["exports", "download", ready["id"], "results.jsonl"],
    )
    assert shown.json()["status"] == "ready"
    # A presigned URL is a credential: its query never reaches the output.
    assert shown.json()["download_url"].endswith("?<signature hidden>")
    assert "token=" not in shown.out + listed.out
    assert [e["id"] for e in listed.json()] == [ready["id"]]
    assert downloaded.code == 0 and "results.jsonl" in downloaded.out
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all('"url"' in line for line in lines)


def test_people_get_tables_and_lines(cli: Cli) -> None:
    projects, me = cli.many(["projects", "list"], ["whoami"])
    assert projects.code == 0
    header = projects.out.strip().splitlines()[0].split()
    assert header == ["id", "name", "created_at"]
    assert "prj-1" in projects.out and "Sandbox project" in projects.out
    assert me.out.split()[0] == "acc-sandbox"


def test_bad_inputs_exit_2_before_sending(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "rows.txt").write_text("url\n")
    (tmp_path / "broken.jsonl").write_text('{"url": "https://x/1.jpg"}\n{not json\n')
    suffix, broken, bad_filter = cli.many(
        ["datasets", "add-items", "ds-1", "rows.txt"],
        ["datasets", "add-items", "ds-1", "broken.jsonl"],
        ["pipelines", "attach", "pl-1", "ds-1", "--filter", "{oops"],
    )
    for result in (suffix, broken, bad_filter):
        assert result.code == 2, result
        assert len(result.err_lines()) == 1, result
    # Not named .csv and not JSON: every command reads files by one rule, and says it.
    assert "a file not named .csv is read as JSON Lines or one JSON array" in suffix.err
    assert "line 2" in broken.err
    assert "--filter is not JSON" in bad_filter.err
