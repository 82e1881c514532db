"""Help, version, the missing extra, credentials and the exit codes of each kind of error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from toloka_ext import __version__
from toloka_ext.testing import SandboxServer

from .conftest import CLI, KEY, Cli, base_env, run_command, server_env

COMMANDS = (
    "whoami",
    "process",
    "projects",
    "datasets",
    "pipelines",
    "runs",
    "exports",
    "tasks",
    "operations",
    "spec",
    "sandbox",
)
CREATE_OPTIONS = (
    "--pool",
    "--async-mode",
    "--allow-defaults",
    "--skip-invalid-items",
    "--open-pool",
    "--operation-id",
    "--chunk-size",
    "--wait-for-quota",
    "--no-resolve-unknown",
    "--resend-missing",
    "--no-validate-first",
)


def test_help_version_and_no_arguments(cli: Cli) -> None:
    cli.env["COLUMNS"] = "200"  # help is laid out for the width: no option name cut
    top, create, version, bare = cli.many(
        ["--help"], ["tasks", "create", "--help"], ["--version"], []
    )
    assert top.code == 0, top
    for name in COMMANDS:
        assert name in top.out
    table = [line.split()[:2] for line in top.out.split("Exit codes:")[1].splitlines()]
    assert [row[0] for row in table if row and row[0].isdigit()] == ["0", "1", "2", "3", "4", "130"]
    assert create.code == 0, create
    for option in CREATE_OPTIONS:
        assert option in create.out
    assert version.code == 0 and version.out == f"toloka-ext {__version__}\n"
    # No command: the help, and the exit code of bad usage.
    assert bare.code == 2 and "Usage" in bare.out


def test_python_dash_m_runs_the_same_command_line(tmp_path: Path) -> None:
    result = run_command(
        [sys.executable, "-m", "toloka_ext", "--version"], env=base_env(), cwd=tmp_path
    )
    assert (result.code, result.out) == (0, f"toloka-ext {__version__}\n")


@pytest.mark.parametrize("module", ["typer", pytest.param("rich", marks=pytest.mark.slow)])
def test_without_the_cli_extra_the_script_names_the_install_line(
    module: str, tmp_path: Path
) -> None:
    # A module that cannot be imported stands for an install without the extra.
    shadow = tmp_path / "shadow" / module
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        f'raise ModuleNotFoundError("No module named {module!r}", name={module!r})\n'
    )
    env = base_env({"PYTHONPATH": str(tmp_path / "shadow")})
    result = run_command([str(CLI), "--help"], env=env, cwd=tmp_path)
    assert result.code == 2
    assert result.out == ""
    assert result.err_lines() == [
        f"toloka-ext: the command line needs the 'cli' extra ({module} is not installed): "
        "pip install 'toloka-ext[cli]'"
    ]


def test_missing_key_is_bad_usage_with_one_line(server: SandboxServer, tmp_path: Path) -> None:
    env = base_env({"TOLOKA_BASE_URL": server.v2_base_url})  # a URL, but no key anywhere
    cli = Cli(env, tmp_path)
    plain, as_json = cli.many(["whoami"], ["--json", "projects", "list"])
    assert plain.code == 2 and plain.out == ""
    (line,) = plain.err_lines()
    assert line.startswith("toloka-ext: error: no Toloka credentials: pass --api-key")
    assert as_json.code == 2
    assert as_json.json()["error"]["exit_code"] == 2
    assert "TOLOKA_API_KEY" in as_json.json()["error"]["message"]


def test_key_from_the_flag_works_and_is_never_printed(
    server: SandboxServer, tmp_path: Path
) -> None:
    env = base_env({"TOLOKA_BASE_URL": server.v2_base_url})
    cli = Cli(env, tmp_path)
    good, wrong = cli.many(
        ["--api-key", KEY, "--json", "whoami"],
        ["--api-key", "wrong-key-0123456789", "--json", "whoami"],
    )
    assert good.code == 0 and good.json()["id"]
    assert wrong.code == 1
    assert "wrong-key-0123456789" not in wrong.out + wrong.err
    (line,) = wrong.err_lines()
    assert line.startswith("toloka-ext: error: AuthenticationError: ")
    error = wrong.json()["error"]
    assert (error["type"], error["status_code"], error["exit_code"]) == (
        "AuthenticationError",
        401,
        1,
    )


def test_usage_errors_are_one_line_exit_2(cli: Cli) -> None:
    unknown, missing, bad_number = cli.many(
        ["projects", "list", "--bogus"],
        ["runs", "get"],
        ["--json", "projects", "list", "--limit", "lots"],
    )
    for result in (unknown, missing, bad_number):
        assert result.code == 2, result
        (line,) = result.err_lines()
        assert line.startswith("toloka-ext: error: ")
    assert "--bogus" in unknown.err and "toloka-ext projects list --help" in unknown.err
    assert "run_id" in missing.err.lower()
    assert bad_number.json()["error"]["type"] == "UsageError"  # --json: a document too


def test_whoami_and_an_api_error(cli: Cli) -> None:
    me, missing = cli.many(["--json", "whoami"], ["--json", "runs", "get", "run-404"])
    assert me.code == 0 and set(me.json()) >= {"id", "email", "name"}
    assert missing.code == 1
    error = missing.json()["error"]
    assert (error["type"], error["status_code"]) == ("NotFoundError", 404)
    (line,) = missing.err_lines()
    assert line.startswith("toloka-ext: error: NotFoundError: ")


def test_drift_exits_3_and_a_lost_answer_exits_4(
    faulty_server: SandboxServer, tmp_path: Path
) -> None:
    cli = Cli(base_env(server_env(faulty_server)), tmp_path)
    drift, lost = cli.many(["--json", "whoami"], ["--json", "projects", "create", "lost"])
    assert drift.code == 3, drift
    assert drift.json()["error"]["type"] == "ApiDriftError"
    assert drift.json()["error"]["operation"] == "getMe"
    assert lost.code == 4, lost
    assert lost.json()["error"]["type"] == "OutcomeUnknownError"
    (line,) = lost.err_lines()
    assert line.startswith("toloka-ext: error: OutcomeUnknownError: ")
