"""What ``bench/compare.py`` runs measurements with: children, servers, the toloka-kit venv.

Every measurement is a fresh interpreter started through ``bench/_measure.py`` (a 9 MiB
launcher that reports its command's own CPU and peak RSS from ``os.wait4``), in its own
session so a timeout kills the whole group. Servers run in their own processes; their CPU
comes from ``/proc/<pid>/stat``.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from toloka_ext.testing import FaultConfig, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CHILD = BENCH / "_child.py"
MEASURE = BENCH / "_measure.py"
MINIMAL_SERVER = BENCH / "_v1_server.py"
TK_VENV = BENCH / ".venv-toloka-kit"
TK_PINS = ("toloka-kit==1.2.3", "httpx==0.27.2", "cattrs==23.2.3")
TK_PYTHON = TK_VENV / "bin" / "python"
OURS_PYTHON = Path(sys.executable)
CLK_TCK = os.sysconf("SC_CLK_TCK")

current: subprocess.Popen[bytes] | None = None  # the running child, killed on a signal


@dataclass
class ChildRun:
    returncode: int | None = None
    timed_out: bool = False
    wall: float = 0.0
    cpu: float = 0.0  # user + sys of the command (wait4 in bench/_measure.py)
    maxrss: int = 0  # the command's peak RSS, bytes
    stdout: str = ""
    stderr: str = ""
    result: Any = None  # the child's RESULT line, parsed

    @property
    def error(self) -> str | None:
        if self.timed_out:
            return f"timed out after {self.wall:.0f} s"
        if self.returncode != 0:
            tail = self.stderr.strip().splitlines()[-3:]
            return f"exit {self.returncode}: {' | '.join(tail)[-400:]}"
        if self.result is None:
            return "no RESULT line"
        return None


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_child(cmd: list[str], timeout: float) -> ChildRun:
    """Run ``cmd`` through ``bench/_measure.py``; parse its ``RESULT``/``RUSAGE`` lines."""
    global current
    import time

    run = ChildRun()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [str(OURS_PYTHON), str(MEASURE), *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        cwd=ROOT,
    )
    current = proc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.timed_out = True
        kill_group(proc)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:  # interrupted: take the grandchild down too
            kill_group(proc)
            proc.wait()
        current = None
    run.wall = time.monotonic() - t0
    run.returncode = proc.returncode
    run.stdout = out.decode(errors="replace")
    run.stderr = err.decode(errors="replace")
    for line in run.stdout.splitlines():
        if line.startswith("RESULT "):
            run.result = json.loads(line[len("RESULT ") :])
        elif line.startswith("RUSAGE "):
            usage = json.loads(line[len("RUSAGE ") :])
            run.cpu = usage["utime"] + usage["stime"]
            run.maxrss = usage["maxrss"]
    return run


def child_cmd(python: str, args: dict[str, Any]) -> list[str]:
    exe = str(TK_PYTHON if python == "tk" else OURS_PYTHON)
    return [exe, str(CHILD), json.dumps(args)]


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# -- servers -------------------------------------------------------------------------------


class MinimalServer:
    """``bench/_v1_server.py`` in its own process: raw ASGI + orjson, ~1 µs of CPU a task."""

    label = "minimal server"

    def __init__(self, *, echo_item_idx: bool = True) -> None:
        self.args = [] if echo_item_idx else ["--no-echo-item-idx"]
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.created_before = 0

    def __enter__(self) -> MinimalServer:
        self.proc = subprocess.Popen(
            [str(OURS_PYTHON), str(MINIMAL_SERVER), *self.args],
            stdout=subprocess.PIPE,
            start_new_session=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self.__exit__()
            raise RuntimeError(f"the minimal server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self.created_before = self.created()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc.wait()
            self.proc = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cpu(self) -> float:
        assert self.proc is not None
        return proc_cpu(self.proc.pid)

    def created(self) -> int:
        """Tasks created since the server started (checked against the count asked for)."""
        r = httpx.get(f"{self.url}/_bench/stats", timeout=60)
        r.raise_for_status()
        return int(r.json()["created"]) - self.created_before

    def child_args(self) -> dict[str, Any]:
        return {"url": self.url, "token": "bench-token", "api_key": "bench-key"}


class Sandbox:
    """The package's own sandbox (``SandboxServer``: uvicorn, the whole contract checked)."""

    label = "sandbox"

    def __init__(self, *, faults: FaultConfig | None = None, db_path: Path | None = None):
        self.sandbox = SandboxServer(faults=faults, db_path=db_path, startup_timeout=30)
        self.warm = faults is None

    def __enter__(self) -> Sandbox:
        self.sandbox.start()
        if self.warm:  # the create path's first use (imports, schemas) is not the client's
            r = self.http("POST", "/tasks", json={"pool_id": "pool-2", "input_values": {}})
            r.raise_for_status()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.stop()

    @property
    def alive(self) -> bool:
        return self.sandbox.running

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.sandbox.v1_base_url}{path}",
            headers=self.sandbox.auth_headers("v1"),
            timeout=120,
            **kwargs,
        )

    def cpu(self) -> float:
        assert self.sandbox.process is not None
        return proc_cpu(self.sandbox.process.pid)

    def created(self) -> int:
        """The number in the newest pool-1 task id: ids number every task the server made,
        the warm-up task in pool-2 being number 1."""
        r = self.http("GET", "/tasks", params={"pool_id": "pool-1", "sort": "-id", "limit": 1})
        r.raise_for_status()
        items = r.json()["items"]
        return int(items[0]["id"].rsplit("--", 1)[1], 16) - self.warm if items else 0

    def child_args(self) -> dict[str, Any]:
        s = self.sandbox
        return {"url": s.url, "token": s.oauth_token, "api_key": s.api_key}


# -- the toloka-kit venv and versions --------------------------------------------------------


def ensure_toloka_kit_venv(log: Any) -> str | None:
    """Make ``bench/.venv-toloka-kit`` with the pins (once); the error, or None."""
    stamp = TK_VENV / ".bench-pins"
    pins = " ".join(TK_PINS)

    def imports() -> bool:
        check = [str(TK_PYTHON), "-c", "import toloka.client"]
        return subprocess.run(check, capture_output=True, timeout=120).returncode == 0

    if stamp.exists() and stamp.read_text().strip() == pins and TK_PYTHON.exists() and imports():
        return None
    log(f"   creating {TK_VENV.relative_to(ROOT)} with {pins}")
    shutil.rmtree(TK_VENV, ignore_errors=True)
    try:
        venv = [sys.executable, "-m", "venv", str(TK_VENV)]
        subprocess.run(venv, check=True, capture_output=True, timeout=120)
        pip = [str(TK_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run([*pip, *TK_PINS], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return done.stderr.strip()[-1500:]
        if not imports():
            return "toloka.client does not import"
    except (subprocess.SubprocessError, OSError) as exc:
        return str(exc)
    stamp.write_text(pins + "\n")
    return None


def use_bytecode_cache(out: Path) -> None:
    """Let every child (servers too) read and write .pyc files, in ``out/.pycache``.

    This machine sets PYTHONDONTWRITEBYTECODE and the editable ``toloka_ext`` has no .pyc
    files, so each fresh interpreter would compile the package from source (~0.2 s of CPU
    that a pip-installed package never pays) while httpx, installed with its .pyc files,
    would not: imports would not compare like for like. With the prefix, all of them are
    compiled once (the warm-up) and loaded from there."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str((out / ".pycache").resolve())
