"""``make bench``: v1 task creation side by side with toloka-kit and hand-written httpx, in one run.

    .venv/bin/python bench/compare.py [--quick] [--budget 840] [--out bench/out]

Every measurement is a fresh interpreter (``bench/_child.py``) against a fresh sandbox
server process (``toloka_ext.testing.SandboxServer``, uvicorn on 127.0.0.1, faults off): the
child's CPU (user+sys) and peak RSS come from ``os.wait4`` (in ``bench/_measure.py``, a
small launcher between this process and the child), the server's CPU from
``/proc/<pid>/stat`` before and after, and what the server really created from the newest
task id of the pool (ids number every task the server made). The toloka-kit measurements run
in their own pinned virtualenv, ``bench/.venv-toloka-kit/`` (made here on first use).

Runs, in this order (each with a timeout; the server is stopped whatever happens):

1. import times (fresh interpreter each, median of 5);
2. 100,000 tasks, median of 3 (rounds interleave the clients): toloka-kit default, toloka-kit
   sync chunks, a plain httpx loop (stdlib json / orjson), ``Toloka`` sync mode
   (``keep_tasks`` True / False), async mode, ``AsyncToloka`` sync and async mode;
3. 10,000 tasks, median of 3: ``Toloka`` sync mode (both ``keep_tasks``) and the loop;
4. the fault mix, 20,000 tasks, ``Toloka`` and toloka-kit's sync chunk loop, a fresh server
   with a SQLite file each (read afterwards: created, duplicated, lost);
5. v2 upload of 1,000,000 rows (``bench/bench_upload_memory.py``'s children), median of 3;
6. 1,000,000 tasks once: ``Toloka`` sync mode and the loop (then ``keep_tasks=False`` if the
   budget allows); if they would not fit in ``--budget`` the largest count that fits is used.

Writes ``bench/out/v1_create.md`` (the tables it prints), ``v1_create.png`` (throughput and
peak RSS against task count) and ``v1_create.json`` (every raw figure). Exit 1 if any
measurement failed (figures missing an aim do not fail the run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from toloka_ext.testing import Fault, FaultConfig, SandboxServer

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CHILD = BENCH / "_child.py"
MEASURE = BENCH / "_measure.py"
UPLOAD = BENCH / "bench_upload_memory.py"
TK_VENV = BENCH / ".venv-toloka-kit"
TK_PINS = ("toloka-kit==1.2.3", "httpx==0.27.2", "cattrs==23.2.3")
TK_PYTHON = TK_VENV / "bin" / "python"
OURS_PYTHON = Path(sys.executable)
MIB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")

FAULTS = FaultConfig(
    faults=[
        Fault("status", status=500, rate=0.10, route="createTasks"),
        Fault("status", status=503, rate=0.05, route="createTasks"),
        Fault("status", status=429, rate=0.05, route="createTasks", retry_after=1),
        Fault("reset_after", rate=0.02, route="createTasks"),
    ]
)

# kind -> (label, python, uses toloka-kit)
CLIENTS: dict[str, tuple[str, str]] = {
    "tk_default": ("toloka-kit create_tasks default (async op per 10k, polled, log read)", "tk"),
    "tk_sync": ("toloka-kit create_tasks(async_mode=False), 5000 a call", "tk"),
    "loop_json": ("plain httpx loop, 5000 a POST, stdlib json", "ours"),
    "loop_orjson": ("plain httpx loop, 5000 a POST, orjson", "ours"),
    "ours_sync": ("Toloka, sync mode, keep_tasks=True", "ours"),
    "ours_nokeep": ("Toloka, sync mode, keep_tasks=False", "ours"),
    "ours_async": ("Toloka, async_mode=True", "ours"),
    "aours_sync": ("AsyncToloka, sync mode", "ours"),
    "aours_async": ("AsyncToloka, async_mode=True", "ours"),
}
MAIN_KINDS = list(CLIENTS)
SMALL_KINDS = ["ours_sync", "ours_nokeep", "loop_json"]
LARGE_KINDS = ["ours_sync", "loop_json"]  # the brief's pair; ours_nokeep follows if it fits
LARGE_OPTIONAL = ["ours_nokeep"]
# key -> (child kind, tasks a request (None: the client's default), label)
FAULT_RUNS: dict[str, tuple[str, int | None, str]] = {
    "ours": ("fault_ours", None, "Toloka, sync mode, defaults, raise_on_unknown=False"),
    "toloka-kit": ("fault_tk", 5000, "toloka-kit create_tasks(5000 a call, async_mode=False)"),
    "ours/500": ("fault_ours", 500, "Toloka, same, chunk_size=500 (more requests, more faults)"),
    "toloka-kit/500": ("fault_tk", 500, "toloka-kit, same loop, 500 a call"),
}

_current: subprocess.Popen[bytes] | None = None  # the running child, for cleanup on a signal


def log(message: str) -> None:
    print(message, flush=True)


# -- children -------------------------------------------------------------------------------


@dataclass
class ChildRun:
    cmd: list[str]
    returncode: int | None = None
    timed_out: bool = False
    wall: float = 0.0
    cpu: float = 0.0  # user + sys of the command, from wait4 in bench/_measure.py
    maxrss: int = 0  # the command's peak RSS, bytes
    stdout: str = ""
    stderr: str = ""
    result: dict[str, Any] | None = None

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


def run_child(cmd: list[str], timeout: float) -> ChildRun:
    """Run ``cmd`` in its own session through ``bench/_measure.py``, which reports the
    command's own CPU and peak RSS (see there why they cannot be read from here)."""
    global _current
    run = ChildRun(cmd)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [str(OURS_PYTHON), str(MEASURE), *cmd],
            stdout=out,
            stderr=err,
            start_new_session=True,
            cwd=ROOT,
        )
        _current = proc
        try:
            while True:
                pid, status, _usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - t0 > timeout:
                    run.timed_out = True
                    _kill(proc)
                    pid, status, _usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.01)
        except BaseException:
            _kill(proc)
            try:
                os.wait4(proc.pid, 0)
            except ChildProcessError:
                pass
            proc.returncode = -9
            raise
        finally:
            _current = None
        run.wall = time.monotonic() - t0
        run.returncode = proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run.stdout = out.read().decode(errors="replace")
        run.stderr = err.read().decode(errors="replace")
    for line in run.stdout.splitlines():
        if line.startswith("RESULT "):
            run.result = json.loads(line[len("RESULT ") :])
        elif line.startswith("RUSAGE "):
            usage = json.loads(line[len("RUSAGE ") :])
            run.cpu = usage["utime"] + usage["stime"]
            run.maxrss = usage["maxrss"]
    return run


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def child_cmd(python: str, args: dict[str, Any]) -> list[str]:
    exe = str(TK_PYTHON if python == "tk" else OURS_PYTHON)
    return [exe, str(CHILD), json.dumps(args)]


# -- the server -----------------------------------------------------------------------------


class Server:
    """A fresh ``SandboxServer`` for one measurement; its CPU from /proc."""

    def __init__(self, *, faults: FaultConfig | None = None, db_path: Path | None = None):
        self.sandbox = SandboxServer(faults=faults, db_path=db_path, startup_timeout=30)
        self.warm = faults is None

    def __enter__(self) -> Server:
        self.sandbox.start()
        if self.warm:  # the create path's first use (imports, schemas) is not the client's
            r = self.http("POST", "/tasks", json={"pool_id": "pool-2", "input_values": {}})
            r.raise_for_status()
        return self

    def __exit__(self, *exc: object) -> None:
        self.sandbox.stop()

    @property
    def pid(self) -> int:
        assert self.sandbox.process is not None
        return self.sandbox.process.pid

    @property
    def url(self) -> str:
        return self.sandbox.url

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(
            method,
            f"{self.sandbox.v1_base_url}{path}",
            headers=self.sandbox.auth_headers("v1"),
            timeout=120,
            **kwargs,
        )

    def cpu(self) -> float:
        """utime + stime of the server process (all its threads), in seconds."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def newest_number(self) -> int:
        """The sequence number in the newest pool-1 task id: every task the server made
        (the warm-up task is number 1)."""
        r = self.http("GET", "/tasks", params={"pool_id": "pool-1", "sort": "-id", "limit": 1})
        r.raise_for_status()
        items = r.json()["items"]
        return int(items[0]["id"].rsplit("--", 1)[1], 16) if items else 0

    def child_args(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "token": self.sandbox.oauth_token,
            "api_key": self.sandbox.api_key,
        }


# -- the plan and its budget ----------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    t0: float = field(default_factory=time.monotonic)
    records: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tk_ok: bool = False
    steps: dict[str, float] = field(default_factory=dict)
    large_n: int | None = None  # the largest count actually run

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def remaining(self) -> float:
        return self.args.budget - self.elapsed()

    def fail(self, what: str) -> None:
        self.failures.append(what)
        log(f"   FAILED: {what}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        log(f"== {name} (at {self.elapsed():.0f} s)")
        t = time.monotonic()
        try:
            yield
        finally:
            self.steps[name] = time.monotonic() - t

    # -- one throughput measurement --------------------------------------------------------
    def measure(
        self, kind: str, n: int, run: int, timeout: float, *, keep: bool = True
    ) -> dict[str, Any]:
        _label, python = CLIENTS[kind]
        rec: dict[str, Any] = {"kind": kind, "n": n, "run": run, "ok": False}
        if keep:
            self.records.append(rec)
        if python == "tk" and not self.tk_ok:
            rec["error"] = "toloka-kit venv unavailable"
            return rec
        try:
            with Server() as server:
                args = {"kind": kind, "n": n, **server.child_args()}
                cpu0 = server.cpu()
                child = run_child(child_cmd(python, args), timeout)
                rec["server_cpu"] = server.cpu() - cpu0
                rec["server_alive"] = server.sandbox.running
                if rec["server_alive"]:
                    t = time.perf_counter()
                    rec["server_created"] = server.newest_number() - 1
                    rec["newest_lookup_s"] = time.perf_counter() - t
        except Exception as exc:  # a server that would not start, a failed read-back
            rec["error"] = f"server: {type(exc).__name__}: {exc}"
            self.fail(f"{kind} n={n} run {run}: {rec['error']}")
            return rec
        rec.update(wall=child.wall, client_cpu=child.cpu, maxrss=child.maxrss, error=child.error)
        if child.result is not None:
            rec.update({k: v for k, v in child.result.items() if k != "pid"})
        if rec["error"] is None and rec.get("server_created") != n:
            rec["error"] = f"the server created {rec.get('server_created')} tasks, not {n}"
        rec["ok"] = rec["error"] is None
        if rec["ok"]:
            log(
                f"   {kind:<12} n={n:>9,} run {run}: {rec['seconds']:7.2f} s "
                f"{n / rec['seconds']:>9,.0f} tasks/s  client CPU {child.cpu:6.2f} s  "
                f"RSS {child.maxrss / MIB:7.1f} MiB  server CPU {rec['server_cpu']:6.2f} s"
            )
        else:
            self.fail(f"{kind} n={n} run {run}: {rec['error']}")
        return rec

    def median(self, kind: str, n: int, key: str) -> float | None:
        values = [r[key] for r in self.records if r["kind"] == kind and r["n"] == n and r["ok"]]
        return statistics.median(values) if values else None

    def rate(self, kind: str, n: int) -> float | None:
        seconds = self.median(kind, n, "seconds")
        return n / seconds if seconds else None

    def estimate(self, kind: str, n: int) -> float:
        """Seconds a run of ``n`` would take, from the main runs (plus server start/stop)."""
        seconds = self.median(kind, self.args.tasks, "seconds")
        if seconds is None:
            return float("inf")
        return seconds * n / self.args.tasks * 1.25 + 10 + n / 200_000


# -- setup ----------------------------------------------------------------------------------


def ensure_toloka_kit_venv(bench: Bench) -> None:
    stamp = TK_VENV / ".bench-pins"
    pins = " ".join(TK_PINS)
    if stamp.exists() and stamp.read_text().strip() == pins and TK_PYTHON.exists():
        check = subprocess.run(
            [str(TK_PYTHON), "-c", "import toloka.client"], capture_output=True, timeout=120
        )
        if check.returncode == 0:
            bench.tk_ok = True
            return
    log(f"   creating {TK_VENV.relative_to(ROOT)} with {pins}")
    shutil.rmtree(TK_VENV, ignore_errors=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(TK_VENV)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        pip = subprocess.run(
            [str(TK_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            + list(TK_PINS),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if pip.returncode != 0:
            raise RuntimeError(pip.stderr.strip()[-1500:])
        subprocess.run(
            [str(TK_PYTHON), "-c", "import toloka.client"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
        bench.fail(f"cannot make the toloka-kit venv: {exc}")
        return
    stamp.write_text(pins + "\n")
    bench.tk_ok = True


def read_versions(bench: Bench) -> None:
    ours = ["httpx", "httpcore", "orjson", "toloka-ext", "uvicorn", "starlette", "anyio"]
    ours += ["attrs", "matplotlib"]
    tk = ["toloka-kit", "httpx", "httpcore", "cattrs", "attrs", "simplejson", "tenacity"]
    for name, python, packages in (("ours", "ours", ours), ("toloka-kit", "tk", tk)):
        if python == "tk" and not bench.tk_ok:
            continue
        run = run_child(child_cmd(python, {"kind": "versions", "packages": packages}), 60)
        if run.result is None:
            bench.fail(f"versions ({name}): {run.error}")
            continue
        bench.versions[name] = {k: v for k, v in run.result.items() if k in ["python", *packages]}


IMPORTS = {
    "httpx": ("ours", "import httpx"),
    "toloka_ext": ("ours", "import toloka_ext"),
    "toloka_ext (from toloka_ext import Toloka)": ("ours", "from toloka_ext import Toloka"),
    "toloka-kit (import toloka.client)": ("tk", "import toloka.client"),
}


def measure_imports(bench: Bench, repeat: int = 5) -> None:
    for name, (python, statement) in IMPORTS.items():
        if python == "tk" and not bench.tk_ok:
            continue
        exe = str(TK_PYTHON if python == "tk" else OURS_PYTHON)
        code = (
            "import time; t0 = time.perf_counter(); "
            f"{statement}; print('RESULT', time.perf_counter() - t0)"
        )
        times = []
        for i in range(repeat + 1):  # the first run writes the .pyc files: not counted
            run = run_child([exe, "-c", code], 120)
            found = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")]
            if run.returncode != 0 or not found:
                bench.fail(f"import {name}: exit {run.returncode}: {run.stderr[-300:]}")
                break
            if i:
                times.append(float(found[0].split()[1]))
        if len(times) == repeat:
            bench.imports[name] = {"median": statistics.median(times), "runs": times}
            log(f"   import {name}: {statistics.median(times) * 1000:.0f} ms (median of {repeat})")


# -- the fault mix --------------------------------------------------------------------------


def measure_faults(bench: Bench, key: str, n: int) -> None:
    kind, chunk, _label = FAULT_RUNS[key]
    python = "tk" if kind == "fault_tk" else "ours"
    if python == "tk" and not bench.tk_ok:
        bench.faults[key] = {"error": "toloka-kit venv unavailable"}
        return
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        db = Path(tmp) / "sandbox.sqlite"
        try:
            with Server(faults=FAULTS, db_path=db) as server:
                args = {"kind": kind, "n": n, "chunk": chunk, **server.child_args()}
                cpu0 = server.cpu()
                child = run_child(child_cmd(python, args), bench.args.fault_timeout)
                server_cpu = server.cpu() - cpu0
        except Exception as exc:
            bench.faults[key] = {"error": f"server: {type(exc).__name__}: {exc}"}
            bench.fail(f"faults {key}: {bench.faults[key]['error']}")
            return
        out: dict[str, Any] = {
            "wall": child.wall,
            "client_cpu": child.cpu,
            "server_cpu": server_cpu,
            "error": child.error,
        }
        if child.result is not None:
            out.update(analyse_faults(db, n, child.result))
    bench.faults[key] = out
    if out["error"]:
        bench.fail(f"faults {key}: {out['error']}")
    else:
        log(
            f"   {key}: {out['seconds']:.1f} s, server has {out['server_tasks']:,} tasks "
            f"({out['distinct_n']:,} distinct), duplicated {out['duplicated_extra']:,}, lost "
            f"{out['lost']:,}, reported unknown {out['reported_unknown']:,}"
        )


def analyse_faults(db: Path, n: int, result: dict[str, Any]) -> dict[str, Any]:
    with sqlite3.connect(db) as con:
        tasks = [
            json.loads(d) for (d,) in con.execute("SELECT data FROM objects WHERE kind='task'")
        ]
        meta = dict(con.execute("SELECT key, data FROM meta").fetchall())
    con.close()
    pool = [t for t in tasks if t["pool_id"] == "pool-1"]
    counts = Counter(t["input_values"]["n"] for t in pool)
    ids = {t["id"] for t in pool}
    created = set(result["created_positions"])
    errors = set(result["error_positions"])
    unknown = set(result["unknown_positions"])
    never = [i for i in range(n) if i not in counts]
    counters = json.loads(meta.get("counters", "{}"))
    return {
        "seconds": result["seconds"],
        "server_tasks": len(pool),
        "distinct_n": len(counts),
        "duplicated_n": sum(1 for c in counts.values() if c > 1),
        "duplicated_extra": sum(c - 1 for c in counts.values() if c > 1),
        "lost": len(never),
        "lost_reported_created": sum(1 for i in never if i in created),
        "lost_reported_error": sum(1 for i in never if i in errors),
        "lost_reported_unknown": sum(1 for i in never if i in unknown),
        "lost_unreported": sum(1 for i in never if i not in created | errors | unknown),
        "reported_created": len(created),
        "reported_errors": len(errors),
        "reported_unknown": len(unknown),
        "unknown_but_created": sum(1 for i in unknown if i in counts),
        "reported_ids_not_on_server": len(set(result["created_ids"]) - ids),
        "raised": result.get("raised"),
        "create_requests_received": counters.get("received", {}).get("createTasks"),
        "create_requests_applied": counters.get("applied", {}).get("createTasks"),
    }


# -- v2 upload ------------------------------------------------------------------------------


def measure_upload(bench: Bench, rows: int, repeat: int) -> None:
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "naive": []}
    for r in range(repeat):
        for mode in ("ours", "naive"):
            cmd = [str(OURS_PYTHON), str(UPLOAD), "--mode", mode, "--rows", str(rows)]
            child = run_child(cmd, bench.args.upload_timeout)
            if child.returncode != 0:
                bench.fail(f"upload {mode} run {r + 1}: {child.error}")
                continue
            result = json.loads([ln for ln in child.stdout.splitlines() if ln.startswith("{")][-1])
            result.update(client_cpu=child.cpu, wait4_maxrss=child.maxrss)
            runs[mode].append(result)
            log(
                f"   upload {mode:<5} run {r + 1}: {result['seconds']:.2f} s, "
                f"RSS {child.maxrss / MIB:.1f} MiB"
            )
    bench.upload = {"rows": rows, "runs": runs}


# -- the report -----------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def verdict(value: float | None, aim: float, higher: bool) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= aim if higher else value <= aim) else "**missed**"


def report(bench: Bench) -> str:
    a = bench.args
    n, small, large = a.tasks, a.small, bench.large_n or a.large
    lines: list[str] = []
    add = lines.append
    rate, med = bench.rate, bench.median
    add(f"# v1 task creation, side by side ({n:,} tasks; medians of {a.repeat} runs)")
    add("")
    add("## Ratios")
    add("")
    add("| ratio | value | aim | |")
    add("|---|---|---|---|")
    rows: list[tuple[str, float | None, str, float, bool]] = [
        (
            "Toloka sync-mode throughput / toloka-kit default",
            ratio(rate("ours_sync", n), rate("tk_default", n)),
            "≥ 10×",
            10,
            True,
        ),
        (
            "Toloka sync-mode throughput / toloka-kit async_mode=False chunks (not an aim)",
            ratio(rate("ours_sync", n), rate("tk_sync", n)),
            "—",
            float("nan"),
            True,
        ),
    ]
    for kind, name in (("ours_sync", "keep_tasks=True"), ("ours_nokeep", "keep_tasks=False")):
        rows.append(
            (
                f"Toloka client CPU / plain httpx loop CPU ({name})",
                ratio(med(kind, n, "client_cpu"), med("loop_json", n, "client_cpu")),
                "≤ 1.3×",
                1.3,
                False,
            )
        )
    for kind, name in (("ours_sync", "keep_tasks=True"), ("ours_nokeep", "keep_tasks=False")):
        rows.append(
            (
                f"Toloka peak RSS / loop's ({name})",
                ratio(med(kind, n, "maxrss"), med("loop_json", n, "maxrss")),
                "≤ 1.2×",
                1.2,
                False,
            )
        )
    for kind, name in (
        ("ours_sync", "Toloka keep_tasks=True"),
        ("ours_nokeep", "Toloka keep_tasks=False"),
        ("loop_json", "plain loop, for reference"),
    ):
        rows.append(
            (
                f"peak RSS at {large:,} / at {n:,} ({name})",
                ratio(med(kind, large, "maxrss"), med(kind, n, "maxrss")),
                "flat (≤ 1.2×)",
                1.2,
                False,
            )
        )
    rows += [
        (
            "Toloka async mode / sync mode throughput",
            ratio(rate("ours_async", n), rate("ours_sync", n)),
            "≥ 0.8×",
            0.8,
            True,
        ),
        (
            "AsyncToloka async mode / sync mode throughput",
            ratio(rate("aours_async", n), rate("aours_sync", n)),
            "≥ 0.8×",
            0.8,
            True,
        ),
        (
            "AsyncToloka / Toloka throughput, sync mode",
            ratio(rate("aours_sync", n), rate("ours_sync", n)),
            "≥ 1.0×",
            1.0,
            True,
        ),
        (
            "AsyncToloka / Toloka throughput, async mode",
            ratio(rate("aours_async", n), rate("ours_async", n)),
            "≥ 1.0×",
            1.0,
            True,
        ),
    ]
    imp = {k: v["median"] for k, v in bench.imports.items()}
    rows.append(
        (
            "`import toloka_ext` / `import httpx` time",
            ratio(imp.get("toloka_ext"), imp.get("httpx")),
            "≤ 2×",
            2.0,
            False,
        )
    )
    rows.append(
        (
            "toloka-kit `import toloka.client` / `import httpx` time (not an aim)",
            ratio(imp.get("toloka-kit (import toloka.client)"), imp.get("httpx")),
            "—",
            float("nan"),
            False,
        )
    )
    up = upload_summary(bench)
    rows.append(
        (
            f"v2 upload ({bench.upload.get('rows', 0):,} rows) peak RSS, MiB",
            up.get("ours_rss"),
            "≤ 64 MB",
            64.0,
            False,
        )
    )
    rows.append(
        (
            "v2 upload speed, ours / naive json.dumps",
            ratio(up.get("naive_s"), up.get("ours_s")),
            "≥ 1.0×",
            1.0,
            True,
        )
    )
    for name, value, aim_text, aim, higher in rows:
        mark = "" if aim != aim else verdict(value, aim, higher)  # NaN: no aim
        unit = "" if "MiB" in name else "×"
        add(f"| {name} | {fmt(value, '.2f', unit if value is not None else '')} | "
            f"{aim_text} | {mark} |")  # fmt: skip
    add("")

    add(f"## {n:,} tasks per run, median of {a.repeat}")
    add("")
    add(
        "| client | tasks/s | call s | client CPU s (wait4) | CPU in call s | peak RSS MiB "
        "| server CPU s | server busy | runs (s) |"
    )
    add("|---|--:|--:|--:|--:|--:|--:|--:|---|")
    for kind in MAIN_KINDS:
        add(main_row(bench, kind, n))
    add("")

    add("## Scaling (chart: v1_create.png)")
    add("")
    counts = [small, n, large]
    head = " / ".join(f"{c:,}" for c in counts)
    add(f"| client | tasks/s at {head} | peak RSS MiB at {head} | server CPU s at {head} |")
    add("|---|---|---|---|")
    for kind in SMALL_KINDS:
        tps = " / ".join(fmt(rate(kind, c)) for c in counts)
        rss = " / ".join(fmt(_mib(med(kind, c, "maxrss")), ".0f") for c in counts)
        srv = " / ".join(fmt(med(kind, c, "server_cpu"), ".1f") for c in counts)
        add(f"| {CLIENTS[kind][0]} | {tps} | {rss} | {srv} |")
    add("")

    add(f"## Fault mix ({a.fault_tasks:,} tasks; a fresh server each, seeded)")
    add("")
    add(
        "Faults on createTasks: 10% 500, 5% 503, 5% 429 (Retry-After: 1), 2% connection reset "
        "after the tasks were created. Counted from the server's SQLite file."
    )
    add("")
    add(
        "| client | s | on server | duplicated n (extra copies) | lost (said created / error "
        "/ unknown / nothing) | said created | said error | said unknown (of which created) "
        "| createTasks received / applied |"
    )
    add("|---|--:|--:|--:|---|--:|--:|--:|--:|")
    for key, (_kind, _chunk, name) in FAULT_RUNS.items():
        f = bench.faults.get(key)
        if not f or "server_tasks" not in f:
            add(f"| {name} | failed: {(f or {}).get('error', 'not run')} | | | | | | | |")
            continue
        add(
            f"| {name} | {f['seconds']:.1f} | {f['server_tasks']:,} | {f['duplicated_n']:,} "
            f"({f['duplicated_extra']:,}) | {f['lost']:,} ({f['lost_reported_created']:,} / "
            f"{f['lost_reported_error']:,} / {f['lost_reported_unknown']:,} / "
            f"{f['lost_unreported']:,}) | {f['reported_created']:,} | {f['reported_errors']:,} "
            f"| {f['reported_unknown']:,} ({f['unknown_but_created']:,}) | "
            f"{f['create_requests_received']} / {f['create_requests_applied']} |"
        )
    for key in FAULT_RUNS:
        f = bench.faults.get(key) or {}
        if f.get("raised"):
            add("")
            add(f"{key}: calls that raised: " + "; ".join(sorted(set(f["raised"]))))
            if any("RetryCallState" in r for r in f["raised"]):
                add(
                    "(toloka-kit 1.2.3's retry wait returns the tenacity state instead of the "
                    "`Retry-After` seconds, so any answer with `Retry-After` (the 429s here) "
                    "ends the call with this TypeError: "
                    "toloka/client/primitives/retry.py, GetBackoffTime.__call__)"
                )
        if f.get("reported_ids_not_on_server"):
            add("")
            add(f"{key}: {f['reported_ids_not_on_server']} reported ids are not on the server")
    add("")

    add(f"## v2 upload ({bench.upload.get('rows', 0):,} rows, median of {len(up.get('ours', []))})")
    add("")
    add("| mode | seconds | peak RSS MiB (wait4) | client CPU s |")
    add("|---|--:|--:|--:|")
    for mode, name in (
        ("ours", "datasets.add_items(upload_threshold=0)"),
        ("naive", "naive json.dumps"),
    ):
        add(
            f"| {name} | {fmt(up.get(f'{mode}_s'), '.2f')} | {fmt(up.get(f'{mode}_rss'), '.1f')} "
            f"| {fmt(up.get(f'{mode}_cpu'), '.2f')} |"
        )
    add("")

    add("## Import time (fresh interpreter, median of 5)")
    add("")
    add("| import | ms |")
    add("|---|--:|")
    for name, value in bench.imports.items():
        add(f"| {name} | {value['median'] * 1000:.0f} |")
    add("")

    add("## Versions")
    add("")
    for env, packages in bench.versions.items():
        add(f"- {env} venv: " + ", ".join(f"{k} {v}" for k, v in packages.items()))
    add("")

    add("## Notes")
    add("")
    for note in bench.notes:
        add(f"- {note}")
    if bench.failures:
        add("")
        add("## Failures")
        add("")
        for failure in bench.failures:
            add(f"- {failure}")
    add("")
    add(f"Run took {bench.elapsed():.0f} s: " + ", ".join(
        f"{k} {v:.0f} s" for k, v in bench.steps.items()))  # fmt: skip
    return "\n".join(lines) + "\n"


def _mib(value: float | None) -> float | None:
    return None if value is None else value / MIB


def main_row(bench: Bench, kind: str, n: int) -> str:
    med = bench.median
    runs = [r for r in bench.records if r["kind"] == kind and r["n"] == n]
    ok = [r for r in runs if r["ok"]]
    label = CLIENTS[kind][0]
    if not ok:
        errors = "; ".join(sorted({str(r.get("error")) for r in runs})) or "not run"
        return f"| {label} | failed: {errors} | | | | | | | |"
    seconds = med(kind, n, "seconds")
    busy = ratio(med(kind, n, "server_cpu"), seconds)
    reported = {r.get("reported_created") for r in ok}
    flag = "" if reported == {n} else f" (reported {', '.join(map(str, sorted(reported)))})"
    return (
        f"| {label}{flag} | {fmt(bench.rate(kind, n))} | {fmt(seconds, '.2f')} | "
        f"{fmt(med(kind, n, 'client_cpu'), '.2f')} | {fmt(med(kind, n, 'call_cpu'), '.2f')} | "
        f"{fmt(_mib(med(kind, n, 'maxrss')), '.1f')} | {fmt(med(kind, n, 'server_cpu'), '.2f')} | "
        f"{fmt(None if busy is None else busy * 100, '.0f', '%')} | "
        + ", ".join(f"{r['seconds']:.2f}" for r in ok)
        + (f" ({len(runs) - len(ok)} failed)" if len(ok) < len(runs) else "")
        + " |"
    )


def upload_summary(bench: Bench) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, runs in bench.upload.get("runs", {}).items():
        out[mode] = runs
        if runs:
            out[f"{mode}_s"] = statistics.median(r["seconds"] for r in runs)
            out[f"{mode}_rss"] = statistics.median(r["wait4_maxrss"] for r in runs) / MIB
            out[f"{mode}_cpu"] = statistics.median(r["client_cpu"] for r in runs)
    return out


def chart(bench: Bench, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = bench.args
    counts = [a.small, a.tasks, bench.large_n or a.large]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    for kind, style in (("ours_sync", "o-"), ("ours_nokeep", "s--"), ("loop_json", "^-")):
        points = [(c, bench.rate(kind, c), bench.median(kind, c, "maxrss")) for c in counts]
        points = [p for p in points if p[1] is not None]
        if not points:
            continue
        xs = [p[0] for p in points]
        left.plot(xs, [p[1] for p in points], style, label=CLIENTS[kind][0])
        right.plot(xs, [p[2] / MIB for p in points], style, label=CLIENTS[kind][0])
    for ax, title, unit in (
        (left, "throughput", "tasks/s"),
        (right, "peak RSS of the client process", "MiB"),
    ):
        ax.set_xscale("log")
        ax.set_xticks(counts, [f"{c:,}" for c in counts])
        ax.minorticks_off()
        ax.set_xlabel("tasks created in the run")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    left.legend(fontsize=8)
    fig.suptitle("v1 create_tasks against the local sandbox server (medians; largest count once)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- main -----------------------------------------------------------------------------------


def timeout_for(kind: str, n: int) -> float:
    base = 60 + 150 * n / 100_000
    return base * 2 if CLIENTS[kind][1] == "tk" else base


def plan_large(bench: Bench) -> int | None:
    """The largest count in (``--large``, 500k, 300k, 200k) whose runs fit the budget."""
    reserve = 20  # report, chart
    for count in (bench.args.large, 500_000, 300_000, 200_000):
        if count > bench.args.large:
            continue
        need = sum(bench.estimate(k, count) for k in LARGE_KINDS)
        if need <= bench.remaining() - reserve:
            return count
        bench.notes.append(
            f"{count:,} tasks skipped: the runs would take about {need:.0f} s, "
            f"{max(0, bench.remaining()):.0f} s of the budget were left"
        )
    return None


def run_all(bench: Bench) -> None:
    a = bench.args
    with bench.step("setup: toloka-kit venv, versions"):
        ensure_toloka_kit_venv(bench)
        read_versions(bench)
    with bench.step("warm-up: every client once (bytecode, file cache), not counted"):
        for kind in MAIN_KINDS:
            bench.measure(kind, 1000, 0, timeout_for(kind, 1000), keep=False)
        cmd = [str(OURS_PYTHON), str(UPLOAD), "--mode", "ours", "--rows", "1000"]
        if run_child(cmd, 120).returncode != 0:
            bench.fail("warm-up of bench_upload_memory.py failed")
    with bench.step("import times"):
        measure_imports(bench)
    with bench.step(f"{a.tasks:,} tasks x {a.repeat}"):
        for run in range(1, a.repeat + 1):
            for kind in MAIN_KINDS:
                bench.measure(kind, a.tasks, run, timeout_for(kind, a.tasks))
    with bench.step(f"{a.small:,} tasks x {a.repeat}"):
        for run in range(1, a.repeat + 1):
            for kind in SMALL_KINDS:
                bench.measure(kind, a.small, run, timeout_for(kind, a.small))
    with bench.step(f"fault mix, {a.fault_tasks:,} tasks"):
        log("   (uvicorn's 'ASGI callable returned without starting response' below is the")
        log("   sandbox dropping a connection on purpose: the reset_after fault)")
        for key in FAULT_RUNS:
            measure_faults(bench, key, a.fault_tasks)
    with bench.step(f"v2 upload, {a.upload_rows:,} rows x {a.upload_repeat}"):
        measure_upload(bench, a.upload_rows, a.upload_repeat)
    with bench.step("largest count"):
        bench.large_n = plan_large(bench)
        if bench.large_n is None:
            return
        for kind in LARGE_KINDS:
            bench.measure(kind, bench.large_n, 1, 1.5 * bench.estimate(kind, bench.large_n) + 60)
        for kind in LARGE_OPTIONAL:
            need = bench.estimate(kind, bench.large_n)
            if need <= bench.remaining() - 20:
                bench.measure(kind, bench.large_n, 1, 1.5 * need + 60)
            else:
                bench.notes.append(
                    f"{CLIENTS[kind][0]} at {bench.large_n:,} skipped: about {need:.0f} s "
                    f"needed, {max(0, bench.remaining()):.0f} s of the budget left"
                )


def standing_notes(bench: Bench) -> None:
    a = bench.args
    bench.notes += [
        "Our clients run with `tasks_per_minute=None`: the client-side budget would otherwise "
        "pace a benchmark to Toloka's 200,000 tasks a minute. The fault runs use the defaults.",
        "Async mode: `PollPolicy(interval=0.05, max_interval=0.2)`; the sandbox's default "
        "`operation_polls` (an operation finishes on its 2nd poll).",
        "Every child reads bytecode from `bench/out/.pycache` (PYTHONPYCACHEPREFIX; this "
        "machine sets PYTHONDONTWRITEBYTECODE and the editable toloka_ext has no .pyc), and "
        "each client runs once untimed first, so no measurement pays for compiling.",
        "Each measurement: a fresh interpreter against a fresh `SandboxServer` (faults off), "
        "warmed with one task in pool-2. Client CPU and peak RSS: `os.wait4` of the child "
        "(interpreter start and imports included), read by a 9 MiB launcher "
        "(`bench/_measure.py`: a child's ru_maxrss starts at its spawner's peak RSS); "
        "CPU in call: the child's own getrusage "
        "around the create call; server CPU: /proc/<pid>/stat utime+stime over the child's "
        "life; server busy = server CPU / call seconds. Every run is checked against the "
        "server: it must have created exactly the tasks asked for.",
        "The plain loops POST 5000 tasks a request with `Content-Type: application/json`, "
        "check the status and the number of items in the answer (parsed with the same "
        "library), keep nothing.",
        "toloka-kit takes a list of `Task`, not an iterable: it gets lists of 10,000 (its "
        "docstring's recommendation for async mode; one call of 100,000 is refused by the "
        "sandbox, whose 1 MiB cap on a request's input_values it exceeds) or 5000 (sync).",
        "toloka-kit default reports 0 items here: the sandbox's operation log does not echo "
        "the `__item_idx` toloka-kit adds to each task, so toloka-kit skips its read-back "
        "(`get_tasks` over the created ids, 50 a page). Its figure is a lower bound: with the "
        "read-back it would list 100,000 tasks, 2,000 pages, each of which costs the sandbox "
        "a scan of the whole pool.",
        f"Scaling: {a.small:,} and {a.tasks:,} are medians of {a.repeat}; the largest count "
        "runs once.",
        "v2 upload: `bench/bench_upload_memory.py --mode ours|naive` children (in-process "
        "API and storage, no network), untraced; `python bench/bench_upload_memory.py` also "
        "gives the tracemalloc peaks. Aim ≤ 64 MB read as MiB.",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fault-tasks", type=int, default=20_000)
    parser.add_argument("--fault-timeout", type=float, default=300)
    parser.add_argument("--upload-rows", type=int, default=1_000_000)
    parser.add_argument("--upload-repeat", type=int, default=3)
    parser.add_argument("--upload-timeout", type=float, default=180)
    parser.add_argument(
        "--budget", type=float, default=840, help="seconds; the largest count shrinks to fit"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument(
        "--quick", action="store_true", help="small counts, to check the harness (about 2 min)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.small, args.large = 10_000, 2_000, 40_000
        args.repeat, args.fault_tasks, args.upload_rows, args.upload_repeat = 1, 5_000, 50_000, 1
    return args


def _on_sigterm(_sig: int, _frame: object) -> None:
    raise SystemExit(143)  # so every `finally` runs: the child and the server are stopped


def use_bytecode_cache(out: Path) -> None:
    """Let every child (servers too) read and write .pyc files, in ``out/.pycache``.

    This machine sets PYTHONDONTWRITEBYTECODE and the editable ``toloka_ext`` has no .pyc
    files, so each fresh interpreter would compile the package from source (~0.2 s of CPU
    that a pip-installed package never pays) while httpx, installed with its .pyc files,
    would not: imports would not compare like for like. With the prefix, all of them are
    compiled once (the warm-up) and loaded from there."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str((out / ".pycache").resolve())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)
    # Even when started with SIGINT ignored (in the background of a script): Ctrl-C must
    # still stop the run through the `finally` blocks that stop the child and the server.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    use_bytecode_cache(args.out)
    bench = Bench(args)
    standing_notes(bench)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        run_all(bench)
    except BaseException as exc:
        bench.fail(f"run stopped: {type(exc).__name__}: {exc}")
        if _current is not None:
            _kill(_current)
        if not isinstance(exc, Exception):
            write_outputs(bench)
            raise
    write_outputs(bench)
    return 1 if bench.failures else 0


def write_outputs(bench: Bench) -> None:
    out = bench.args.out
    text = report(bench)
    (out / "v1_create.md").write_text(text)
    raw = {
        "args": {k: str(v) for k, v in vars(bench.args).items()},
        "large_n": bench.large_n,
        "records": bench.records,
        "faults": {
            k: {kk: vv for kk, vv in v.items() if not kk.endswith("_positions")}
            for k, v in bench.faults.items()
        },
        "upload": bench.upload,
        "imports": bench.imports,
        "versions": bench.versions,
        "failures": bench.failures,
        "steps": bench.steps,
    }
    (out / "v1_create.json").write_text(json.dumps(raw, indent=1, default=str))
    try:
        chart(bench, out / "v1_create.png")
    except Exception as exc:  # no matplotlib, nothing measured: the table still stands
        bench.fail(f"chart: {type(exc).__name__}: {exc}")
        text = report(bench)
        (out / "v1_create.md").write_text(text)
    print()
    print(text)
    rel = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"written: {rel}/v1_create.md, v1_create.png, v1_create.json")


if __name__ == "__main__":
    sys.exit(main())
