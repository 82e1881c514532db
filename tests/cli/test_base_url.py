"""A wrong ``--base-url`` is bad input (exit 2) naming the option, never drift (exit 3): the
issue's served sandbox root, whose every path answers JSON 404."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, base_env, server_env
from toloka_ext.testing import SandboxServer


def test_a_base_url_without_the_api_path_exits_2_naming_the_option(
    server: SandboxServer, tmp_path: Path
) -> None:
    cli = Cli(base_env(server_env(server)), tmp_path)
    root = server.v2_base_url.removesuffix("/api/v2-beta")
    listed, whoami = cli.many(
        ["--base-url", root, "projects", "list"],
        ["--json", "--base-url", root, "whoami"],
    )
    assert listed.code == 2, listed
    (line,) = listed.err_lines()
    assert line.startswith("toloka-ext: error: ConfigurationError: --base-url ")
    assert "check --base-url" in line and root in line and "base_url" not in line
    assert whoami.code == 2, whoami
    error = whoami.json()["error"]
    assert (error["type"], error["setting"], error["option"]) == (
        "ConfigurationError",
        "base_url",
        "--base-url",
    )


def test_a_v1_base_url_without_the_api_path_names_its_option(
    server: SandboxServer, tmp_path: Path
) -> None:
    cli = Cli(base_env(server_env(server)), tmp_path)
    root = server.v1_base_url.removesuffix("/api/v1")
    result = cli("--v1-base-url", root, "tasks", "list", "--pool", "pool-1")
    assert result.code == 2, result
    assert (
        "ConfigurationError: --v1-base-url " in result.err and "check --v1-base-url" in result.err
    )
