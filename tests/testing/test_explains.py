"""The sandbox explains itself: the banner, ``serve --help``, the missing-extra hint, the
fixtures' configured clients on virtual time, and docstrings that list what is seeded."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import textwrap
import time
from typing import Any

import anyio
import httpx
import pytest

import toloka_ext.testing
from toloka_ext import PollPolicy, PollTimeoutError, Toloka
from toloka_ext.testing import ManualClock, Sandbox, SandboxServer
from toloka_ext.testing import _pytest_plugin as plugin
from toloka_ext.testing._cli import parser
from toloka_ext.testing._config import DEFAULT_PIPELINES, DEFAULT_POOLS

from ._serve import read_lines, serve_process

FIRST = re.compile(
    r"Toloka sandbox on (?P<url>http://127\.0\.0\.1:(?P<port>\d+)) "
    r"\(v2: (?P<v2>\S+), v1: (?P<v1>\S+)\) api key: (?P<key>\S+)"
)


# --------------------------------------------------------------------------- serve


def test_serve_port_0_banner_names_everything_and_a_download_works() -> None:
    options = '{"run_polls": 1, "export_polls": 1}'
    with serve_process("--port", "0", "--options", options) as process:
        lines = read_lines(process, 5)
        first = FIRST.fullmatch(lines[0])
        assert first is not None, lines
        port, url = int(first["port"]), first["url"]
        assert port != 0
        assert (first["v2"], first["v1"], first["key"]) == (
            f"{url}/api/v2-beta",
            f"{url}/api/v1",
            "sandbox-key",
        )
        assert lines[1:] == [
            '  v2 projects:  prj-1 "Sandbox project"',
            '  v2 pipelines: pl-1 "Annotate items" (project prj-1)',
            "  v1 pools:     1, pool-1, pool-2 (default overlap 3)",
            f"  clients:      TOLOKA_API_KEY=sandbox-key TOLOKA_BASE_URL={url}/api/v2-beta"
            f" TOLOKA_V1_BASE_URL={url}/api/v1",
        ]
        # What the banner says is enough to work: a client from those values runs the whole
        # flow, and its result download goes through a presigned URL on the real port.
        client = Toloka(
            api_key=first["key"],
            base_url=first["v2"],
            v1_base_url=first["v1"],
            sleep=lambda _s: None,
        )
        with client:
            result = client.process_new_data("pl-1", [{"url": "a"}, {"url": "b"}])
            created = client.tasks.create_tasks(
                [{"pool_id": "pool-1", "input_values": {"url": "a"}, "overlap": 1}]
            )
        assert [r["url"] for r in result.rows()] == ["a", "b"]
        assert created.ok
        download = httpx.URL(result.export.download_url or "")
        assert (download.host, download.port) == ("localhost", port)
        with httpx.Client(timeout=10) as http:  # and the URL works on its own
            assert http.get(str(download)).content == result.path.read_bytes()


def test_the_banner_shows_the_key_given_and_the_objects_a_db_keeps(tmp_path: Any) -> None:
    db = tmp_path / "state.sqlite"
    with Sandbox(db_path=db) as sandbox:
        sandbox.add_project("Second")
        sandbox.add_pool("77", default_overlap=5)
    env = dict(os.environ, TOLOKA_SANDBOX_API_KEY="k-env")
    with serve_process("--port", "0", "--db", str(db), env=env) as process:
        lines = read_lines(process, 5)
        first = FIRST.fullmatch(lines[0])
        assert first is not None and first["key"] == "k-env"
        assert lines[1] == '  v2 projects:  prj-1 "Sandbox project", prj-2 "Second"'
        pools = "1, 77 (default overlap 5), pool-1, pool-2 (default overlap 3)"
        assert lines[3] == f"  v1 pools:     {pools}"


def test_sandbox_server_keeps_the_banner_lines_for_people_out_of_its_stdout(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with SandboxServer() as server:
        assert server.banner is not None and FIRST.fullmatch(server.banner)
        assert httpx.get(f"{server.v2_base_url}/me", headers=server.auth_headers()).is_success
    assert "v2 projects" not in capfd.readouterr().out


def test_serve_help_shows_every_default_and_describes_every_option() -> None:
    env = dict(os.environ, TOLOKA_SANDBOX_API_KEY="from-env-not-shown")
    result = subprocess.run(
        [sys.executable, "-m", "toloka_ext.testing", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps to the terminal's width
    for shown in (
        "--host HOST address to listen on (127.0.0.1: this machine only) (default: 127.0.0.1)",
        "0 picks a free one, which the banner then names (default: 8765)",
        "(default: in memory, lost on exit)",
        "random faults (default: 0)",
        "(default: $TOLOKA_SANDBOX_API_KEY, else sandbox-key)",
        "(default: $TOLOKA_SANDBOX_OAUTH_TOKEN, else sandbox-token)",
        "pip install 'toloka-ext[testing]'",
    ):
        assert shown in text, shown
    assert "from-env-not-shown" not in result.stdout  # --help never prints the environment
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in commands.choices["serve"]._actions:
        assert action.help and len(action.help) > 10, action.dest


def test_unknown_sandbox_options_are_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "toloka_ext.testing", "serve", "--options", '{"run_pols": 1}'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown option(s) run_pols; known: " in result.stderr
    assert "run_polls" in result.stderr


# --------------------------------------------------------------------------- missing extra


def test_without_uvicorn_the_server_parts_say_what_to_install() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["uvicorn"] = None  # as in an install without the testing extra
        import toloka_ext.testing
        from toloka_ext.testing import Sandbox, SandboxServer, serve_in_background
        from toloka_ext.testing._server import ServeError, serve

        with Sandbox().client() as client:  # the in-process sandbox needs no uvicorn
            assert client.me().id == "acc-sandbox"
        for start in (SandboxServer().start, serve_in_background, lambda: serve(port=0)):
            try:
                start()
            except (ImportError, ServeError) as exc:
                print(type(exc).__name__, exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    hint = "the sandbox server needs uvicorn: pip install 'toloka-ext[testing]'"
    assert result.stdout.splitlines() == [
        f"ModuleNotFoundError {hint}",
        f"ModuleNotFoundError {hint}",
        f"ServeError {hint}",
    ]


# --------------------------------------------------------------------------- virtual time


def _forbid_real_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every real sleep longer than zero (zero is a scheduling checkpoint)."""
    real: list[float] = []
    anyio_sleep, time_sleep = anyio.sleep, time.sleep

    async def no_anyio_sleep(delay: float) -> None:
        if delay > 0:
            real.append(delay)
        await anyio_sleep(0)

    def no_time_sleep(delay: float) -> None:
        if delay > 0:
            real.append(delay)
        time_sleep(0)

    monkeypatch.setattr(anyio, "sleep", no_anyio_sleep)
    monkeypatch.setattr(time, "sleep", no_time_sleep)
    return real


@pytest.mark.toloka_sandbox(run_polls=6, export_polls=3, clock=ManualClock())
def test_async_client_waits_on_the_sandbox_clock(
    toloka_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _forbid_real_sleeps(monkeypatch)
    clock = toloka_sandbox.clock
    start = clock.now()
    policy = PollPolicy(interval=30, max_interval=30, timeout=3600)

    async def main() -> Any:
        async with toloka_sandbox.async_client() as client:
            return await client.process_new_data("pl-1", [{"url": "a"}], poll_policy=policy)

    began = time.perf_counter()
    result = asyncio.run(main())
    wall = time.perf_counter() - began
    assert result.rows()[0]["label"] in ("yes", "no")
    waited = toloka_sandbox.client_time.slept
    assert waited >= 5 * 30 and toloka_sandbox.client_time.sleeps >= 5  # minutes of waits...
    assert clock.now() - start == pytest.approx(waited)  # ...on the sandbox's own clock...
    assert real == [] and wall < waited / 10  # ...and none of them real


def test_a_poll_timeout_is_reached_on_virtual_time(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _forbid_real_sleeps(monkeypatch)
    policy = PollPolicy(interval=60, max_interval=600, timeout=7200)
    with Sandbox(run_polls=10**6) as sandbox:  # the run never finishes

        async def main() -> None:
            async with sandbox.async_client() as client:
                await client.process_new_data("pl-1", [{"url": "a"}], poll_policy=policy)

        with pytest.raises(PollTimeoutError):
            asyncio.run(main())
        assert 7200 - 600 <= sandbox.client_time.slept <= 7200  # two hours, virtually
        with sandbox.client() as client, pytest.raises(PollTimeoutError):  # the sync twin too
            client.process_new_data("pl-1", [{"url": "b"}], poll_policy=policy)
    assert real == []


def test_the_fixtures_clients_are_configured(pytester: pytest.Pytester) -> None:
    """A downstream test suite: both clients from both fixtures, nothing to configure."""
    pytester.makepyfile(
        """
        import asyncio

        def _rows(client):
            return client.process_new_data("pl-1", [{"url": "a"}]).rows()

        async def _arows(client):
            async with client:
                return (await client.process_new_data("pl-1", [{"url": "a"}])).rows()

        def test_in_process(toloka_sandbox):
            with toloka_sandbox.client() as client:
                assert _rows(client)[0]["url"] == "a"
                assert client.me().id == "acc-sandbox"
            assert asyncio.run(_arows(toloka_sandbox.async_client()))[0]["url"] == "a"

        def test_served(toloka_sandbox_server):
            with toloka_sandbox_server.client() as client:
                assert _rows(client)[0]["url"] == "a"
            assert asyncio.run(_arows(toloka_sandbox_server.async_client()))[0]["url"] == "a"
            assert toloka_sandbox_server.client_time.sleeps > 0  # it polled, virtually
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_the_fixture_docstring_example_runs(pytester: pytest.Pytester) -> None:
    doc = plugin.toloka_sandbox.__doc__ or ""
    example = textwrap.dedent(doc.split("Example::", 1)[1])
    pytester.makepyfile("import pytest\n" + example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)


# --------------------------------------------------------------------------- docstrings


@pytest.mark.parametrize(
    "doc",
    [
        toloka_ext.testing.__doc__,
        plugin.toloka_sandbox.__doc__,
        Sandbox.__doc__,
    ],
    ids=["package", "fixture", "Sandbox"],
)
def test_docstrings_list_what_is_seeded_and_how_to_add_more(doc: str | None) -> None:
    text = " ".join((doc or "").split())
    with Sandbox() as sandbox:  # what a sandbox really holds, not what the docs remember
        seeded = [sandbox.api_key, "prj-1", *DEFAULT_PIPELINES, *DEFAULT_POOLS]
        assert {p["id"] for p in sandbox.backend.all("pool")} == set(DEFAULT_POOLS)
        assert {p["id"] for p in sandbox.backend.all("project")} == {"prj-1"}
    for item in seeded:
        assert f"``{item}``" in text or f'``"{item}"``' in text, item
    assert "default overlap 3" in text
    for method in ("add_pool", "add_project", "add_pipeline", "configure"):
        assert method in text, method
