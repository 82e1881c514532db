"""The installed ``toloka-ext`` console script, run in subprocesses against served sandboxes.

Every run checks what no command may ever print: a traceback, or the API key in use (the
served sandboxes take :data:`KEY`, a value no output has a reason to contain).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from toloka_ext.testing import Fault, FaultConfig, SandboxServer

BIN = Path(sys.executable).parent
CLI = BIN / "toloka-ext"
KEY = "cli-test-key-7c1f9e2a40"
FAST = {"run_polls": 1, "upload_polls": 1, "export_polls": 1, "operation_polls": 1}
POOLS = {
    "pool-1": {"default_overlap": None},
    "pool-2": {"default_overlap": 3},
    # A pool whose project declares one string input: anything else is refused.
    "pool-spec": {"default_overlap": 1, "input_spec": {"image": "string"}},
}
POLL = ["--poll-interval", "0.01"]


@dataclass
class Result:
    args: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"Result({self.args}, code={self.code}, out={self.out!r}, err={self.err!r})"


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without Toloka settings, the venv's scripts first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLOKA_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


def server_env(server: SandboxServer) -> dict[str, str]:
    return {
        "TOLOKA_API_KEY": server.api_key,
        "TOLOKA_BASE_URL": server.v2_base_url,
        "TOLOKA_V1_BASE_URL": server.v1_base_url,
    }


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 120,
    secret_ok: bool = False,
    tty: bool = False,
    tty_stderr: bool = False,
) -> Result:
    if tty:
        result = _run_on_a_terminal(argv, env=env, cwd=cwd, timeout=timeout, stderr_tty=tty_stderr)
    else:
        proc = subprocess.run(
            list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
        result = Result(list(argv[1:]), proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in result.err, result
    if not secret_ok:
        assert KEY not in result.out + result.err, result
    return result


def _run_on_a_terminal(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout: float, stderr_tty: bool
) -> Result:
    """As a person runs it: stdout a terminal (a pseudo-terminal read here), stderr a pipe,
    or (``stderr_tty``) a terminal of its own too, where the bars are drawn as they move:
    then ``err`` is every frame drawn, cursor moves included."""
    main, child = pty.openpty()
    err_main, err_child = pty.openpty() if stderr_tty else (None, None)
    try:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=child,
            stderr=err_child if err_child is not None else subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(child)
        if err_child is not None:
            os.close(err_child)
    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []

    def drain(fd: int, chunks: list[bytes]) -> None:  # a terminal's buffer is small
        while True:
            try:
                block = os.read(fd, 65536)
            except OSError:  # EIO: the command closed its end
                return
            if not block:
                return
            chunks.append(block)

    readers = [threading.Thread(target=drain, args=(main, out_chunks))]
    if err_main is not None:
        readers.append(threading.Thread(target=drain, args=(err_main, err_chunks)))
    for reader in readers:
        reader.start()
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        for reader in readers:
            reader.join(timeout)
        os.close(main)
        if err_main is not None:
            os.close(err_main)
    out = b"".join(out_chunks).decode().replace("\r\n", "\n")  # the terminal's line ends
    if err_main is not None:
        err = b"".join(err_chunks).decode().replace("\r\n", "\n")
    return Result(list(argv[1:]), proc.returncode, out, err)


class Cli:
    """``cli("projects", "list")`` runs ``toloka-ext projects list`` in ``cwd``."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = cwd

    def __call__(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        secret_ok: bool = False,
        tty: bool = False,
        tty_stderr: bool = False,
    ) -> Result:
        merged = {**self.env, **(env or {})}
        return run_command(
            [str(CLI), *args],
            env=merged,
            cwd=self.cwd,
            secret_ok=secret_ok,
            tty=tty,
            tty_stderr=tty_stderr,
        )

    def json(self, *args: str) -> Any:
        """Run with ``--json``; exit 0 expected; the parsed document."""
        result = self("--json", *args)
        assert result.code == 0, result
        return result.json()

    def many(self, *commands: Sequence[str]) -> list[Result]:
        """Independent commands at once (each is a process of its own)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda argv: self(*argv), commands))


@pytest.fixture(scope="session")
def cli_installed() -> Path:
    if not CLI.exists():
        pytest.fail(
            f"{CLI} is missing: install the package with its console script "
            "(.venv/bin/pip install -e '.[testing,cli]')"
        )
    return CLI


@pytest.fixture(scope="session")
def server(cli_installed: Path) -> Iterator[SandboxServer]:
    """One served sandbox for the tests that only add objects of their own."""
    with SandboxServer(api_key=KEY, v1_pools=POOLS, **FAST) as served:
        yield served


@pytest.fixture(scope="session")
def faulty_server(cli_installed: Path) -> Iterator[SandboxServer]:
    """A sandbox whose answers drift or get lost (one route each, the first time)."""
    faults = FaultConfig(
        faults=[
            # 200 with a body the snapshot does not describe: drift.
            Fault(
                "status",
                status=200,
                route="getMe",
                on_nth=(1,),
                body=b'{"who": "knows"}',
                headers={"Content-Type": "application/json"},
            ),
            # Applied, then the answer is lost: the outcome of a create is unknown.
            Fault("reset_after", route="createProject", on_nth=(1,)),
            Fault("reset_after", route="createTasks", on_nth=(1, 2)),
        ]
    )
    with SandboxServer(api_key=KEY, faults=faults, **FAST) as served:
        yield served


@pytest.fixture
def cli(server: SandboxServer, tmp_path: Path) -> Cli:
    return Cli(base_env(server_env(server)), tmp_path)


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
