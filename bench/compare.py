"""``make bench``: v1 task creation side by side with toloka-kit and hand-written httpx, in one run.

    .venv/bin/python bench/compare.py [--quick] [--budget 840] [--out bench/out]

The clients are driven against a server whose cost per task is below every client's
(``bench/_v1_server.py``: raw ASGI + orjson in its own process on 127.0.0.1, about 2 µs of
CPU a task; the sandbox costs 13-22), so what is measured is the client: its throughput,
its CPU (µs a task, ``os.wait4``) and its peak RSS.
The package's own sandbox (``toloka_ext.testing``), which checks every task against the
contract, serves a second, labelled set of the same measurements. Every measurement is a
fresh interpreter against a fresh server (``bench/_harness.py``); every run is checked
against the server, which must have created exactly the tasks asked for.

In this order, within ``--budget`` seconds (840 by default; ``--quick`` checks the harness
in about a minute):

1. import times: ``import httpx``, ``import toloka_ext``, ``from toloka_ext import Toloka``
   (fresh interpreters, median of 7);
2. 100,000 tasks, median of 5 (3 for toloka-kit; rounds interleave the clients):
   toloka-kit's default and its sync chunks, the plain httpx loops, ``Toloka`` and
   ``AsyncToloka`` in sync and async mode; then at 10,000 for the scaling chart;
3. v2 upload of 1,000,000 rows against the naive path (``bench/bench_upload_memory.py``);
4. a cProfile of each client whose aim was missed (``Profiles`` in the report);
5. the fault mix (sandbox with faults, 20,000 tasks): created, duplicated, lost;
6. 1,000,000 tasks: the plain loop and ``create_tasks`` defaults on the same input list
   (median of 3), then generator input for the chart; fewer repeats, or a smaller count, if
   the budget is short (the report says so);
7. last, as far as the budget allows: the sandbox-served figures, at 20,000 tasks (the
   sandbox sets the pace there: toloka-kit's default takes minutes at 100,000).

Writes ``bench/out/v1_create.md`` (the tables it prints, each figure beside its aim),
``v1_create.png`` (the chart) and ``v1_create.json`` (every raw figure). Exit 1 if a
measurement failed; a missed aim does not fail the run. Why not pyperf: ``docs/bench.md``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _harness as H

from toloka_ext.testing import Fault, FaultConfig

UPLOAD = H.BENCH / "bench_upload_memory.py"
MIB = 1024 * 1024

# kind -> (label, python): "tk" runs in toloka-kit's own venv
CLIENTS: dict[str, tuple[str, str]] = {
    "tk_default": ("toloka-kit create_tasks default (async op per 10k, polled, log read)", "tk"),
    "tk_sync": ("toloka-kit create_tasks(async_mode=False), 5000 a call", "tk"),
    "loop_json": ("plain httpx loop, 5000 a POST, stdlib json", "ours"),
    "loop_orjson": ("plain httpx loop, 5000 a POST, orjson", "ours"),
    "ours_sync": ("Toloka, sync mode (keep_tasks=True, the default)", "ours"),
    "ours_nokeep": ("Toloka, sync mode, keep_tasks=False", "ours"),
    "ours_async": ("Toloka, async_mode=True", "ours"),
    "aours_sync": ("AsyncToloka, sync mode", "ours"),
    "aours_async": ("AsyncToloka, async_mode=True", "ours"),
    "loop_list": ("plain httpx loop, stdlib json, over an input list", "ours"),
    "ours_list": ("Toloka create_tasks defaults, the same input list", "ours"),
}
SERVERS: dict[str, tuple[str, Callable[[], Any]]] = {
    "min": ("minimal", H.MinimalServer),
    "bare": ("minimal, no `__item_idx` echo", lambda: H.MinimalServer(echo_item_idx=False)),
    "sandbox": ("**sandbox**", H.Sandbox),
}
Case = tuple[str, str]  # (client kind, server key)
MAIN: list[Case] = [(k, "min") for k in list(CLIENTS)[:9]] + [("tk_default", "bare")]
SANDBOX: list[Case] = [(k, "sandbox") for k in ("tk_default", "loop_json", "ours_sync")]
SANDBOX += [("ours_async", "sandbox")]
SMALL: list[Case] = [("ours_sync", "min"), ("ours_nokeep", "min"), ("loop_json", "min")]
LARGE_AIM: list[Case] = [("loop_list", "min"), ("ours_list", "min")]
LARGE_CHART: list[Case] = SMALL
ESTIMATE_FROM = {"loop_list": "loop_json", "ours_list": "ours_sync"}

FAULTS = FaultConfig(
    faults=[
        Fault("status", status=500, rate=0.10, route="createTasks"),
        Fault("status", status=503, rate=0.05, route="createTasks"),
        Fault("status", status=429, rate=0.05, route="createTasks", retry_after=1),
        Fault("reset_after", rate=0.02, route="createTasks"),
    ]
)
# key -> (child kind, tasks a request (None: the client's default), label)
FAULT_RUNS: dict[str, tuple[str, int | None, str]] = {
    "ours": (
        "fault_ours",
        None,
        "Toloka, sync mode, resend_missing=True, max_request_hold=1 s, raise_on_unknown=False",
    ),
    "toloka-kit": ("fault_tk", 5000, "toloka-kit create_tasks(5000 a call, async_mode=False)"),
    "ours/500": ("fault_ours", 500, "Toloka, same, chunk_size=500 (more requests, more faults)"),
    "toloka-kit/500": ("fault_tk", 500, "toloka-kit, same loop, 500 a call"),
}
IMPORTS: dict[str, tuple[str, str]] = {
    "httpx": ("ours", "import httpx"),
    "toloka_ext": ("ours", "import toloka_ext"),
    "Toloka": ("ours", "from toloka_ext import Toloka"),
    "Toloka().tasks": ("ours", "from toloka_ext import Toloka; Toloka(api_key='k').tasks"),
    "toloka-kit": ("tk", "import toloka.client"),
}


def log(message: str) -> None:
    print(message, flush=True)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass
class Bench:
    args: argparse.Namespace
    t0: float = field(default_factory=time.monotonic)
    records: list[dict[str, Any]] = field(default_factory=list)
    imports: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # cpu/wall
    upload: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)
    tk_ok: bool = False
    large_n: int | None = None

    def remaining(self) -> float:
        return self.args.budget - (time.monotonic() - self.t0)

    def fits(self, need: float, what: str) -> bool:
        """Whether ``need`` seconds fit in the budget, keeping 20 s for the report and the
        chart; if not, ``what`` is noted as skipped."""
        if need <= self.remaining() - 20:
            return True
        self.notes.append(
            f"{what} skipped: about {need:.0f} s needed, "
            f"{max(0, self.remaining()):.0f} s of the budget were left"
        )
        return False

    def fail(self, what: str) -> None:
        self.failures.append(what)
        log(f"   FAILED: {what}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        log(f"== {name} (at {time.monotonic() - self.t0:.0f} s)")
        t = time.monotonic()
        try:
            yield
        finally:
            self.steps[name] = time.monotonic() - t

    # -- figures ---------------------------------------------------------------------------
    def runs(self, case: Case, n: int) -> list[dict[str, Any]]:
        return [r for r in self.records if (r["kind"], r["server"]) == case and r["n"] == n]

    def med(self, case: Case, n: int, key: str) -> float | None:
        return median([r[key] for r in self.runs(case, n) if r["ok"]])

    def rate(self, case: Case, n: int) -> float | None:
        seconds = self.med(case, n, "seconds")
        return n / seconds if seconds else None

    def per_task(self, case: Case, n: int, key: str) -> float | None:
        value = self.med(case, n, key)
        return None if value is None else value / n * 1e6

    # -- one throughput measurement --------------------------------------------------------
    def measure(
        self, case: Case, n: int, run: int, timeout: float, *, keep: bool = True, **extra: Any
    ) -> dict[str, Any]:
        kind, server_key = case
        python = CLIENTS[kind][1]
        rec: dict[str, Any] = {"kind": kind, "server": server_key, "n": n, "run": run}
        rec["ok"] = False
        if keep:
            self.records.append(rec)
        if python == "tk" and not self.tk_ok:
            rec["error"] = "toloka-kit venv unavailable"
            return rec
        try:
            with SERVERS[server_key][1]() as server:
                cpu0 = server.cpu()
                args = {"kind": kind, "n": n, **server.child_args(), **extra}
                child = H.run_child(H.child_cmd(python, args), timeout)
                rec["server_cpu"] = server.cpu() - cpu0
                rec["server_created"] = server.created() if server.alive else None
        except Exception as exc:  # a server that would not start, a failed read-back
            rec["error"] = f"server: {type(exc).__name__}: {exc}"
            self.fail(f"{kind}@{server_key} n={n} run {run}: {rec['error']}")
            return rec
        rec.update(wall=child.wall, client_cpu=child.cpu, maxrss=child.maxrss, error=child.error)
        rec.update({k: v for k, v in (child.result or {}).items() if k != "pid"})
        if rec["error"] is None and rec["server_created"] != n:
            rec["error"] = f"the server created {rec['server_created']} tasks, not {n}"
        rec["ok"] = rec["error"] is None
        if not rec["ok"]:
            self.fail(f"{kind}@{server_key} n={n} run {run}: {rec['error']}")
        elif keep:
            log(
                f"   {kind:<11} {server_key:<7} n={n:>9,} run {run}: {rec['seconds']:6.2f} s "
                f"{n / rec['seconds']:>9,.0f}/s  CPU {child.cpu:6.2f} s  "
                f"RSS {child.maxrss / MIB:6.0f} MiB  server CPU {rec['server_cpu']:5.2f} s"
            )
        return rec

    def series(self, cases: list[Case], n: int, repeat: int, *, budgeted: bool = False) -> None:
        """Rounds, each running every case once (interleaved: a slow minute of the shared
        machine hits every client, not one): ``repeat`` of toloka-kit's, ``--fast-repeat``
        (more, the medians steadier on a shared machine) of the others, whose runs take a
        second or two. ``budgeted``: a run that would not fit in what is left of the budget
        is skipped, with a note."""
        fast = max(repeat, self.args.fast_repeat)
        for run in range(1, fast + 1):
            for case in cases:
                if run > repeat and CLIENTS[case[0]][1] == "tk":
                    continue  # toloka-kit takes 10-30 s a run: its figure is 20× off the aim
                timeout = timeout_for(case[0], n)
                if budgeted:
                    done = [r["seconds"] for r in self.runs(case, n) if r["ok"]]
                    need = (max(done) if done else timeout / 4) + 10
                    if not self.fits(need, f"{case[0]}@{case[1]} at {n:,}, run {run}"):
                        continue
                self.measure(case, n, run, timeout)

    def estimate(self, case: Case, n: int) -> float:
        """Seconds a run of ``n`` would take, from the main runs (plus start-up)."""
        base = (ESTIMATE_FROM.get(case[0], case[0]), "min")
        seconds = self.med(base, self.args.tasks, "seconds")
        if seconds is None:
            return float("inf")
        return seconds * n / self.args.tasks * 1.3 + 5 + n / 250_000


def timeout_for(kind: str, n: int) -> float:
    base = 60 + 150 * n / 100_000
    return base * 3 if CLIENTS[kind][1] == "tk" else base


# -- the other measurements ------------------------------------------------------------------


def read_versions(bench: Bench) -> None:
    ours = ["httpx", "httpcore", "h11", "orjson", "toloka-ext", "uvicorn", "attrs", "matplotlib"]
    tk = ["toloka-kit", "httpx", "httpcore", "cattrs", "attrs", "simplejson", "tenacity"]
    for name, python, packages in (("ours", "ours", ours), ("toloka-kit", "tk", tk)):
        if python == "tk" and not bench.tk_ok:
            continue
        run = H.run_child(H.child_cmd(python, {"kind": "versions", "packages": packages}), 60)
        if run.result is None:
            bench.fail(f"versions ({name}): {run.error}")
            continue
        bench.versions[name] = {k: v for k, v in run.result.items() if k in ["python", *packages]}


def measure_imports(bench: Bench, repeat: int) -> None:
    """Each statement in a fresh interpreter, timed inside it (interpreter start excluded);
    rounds interleave the statements; the first round writes the .pyc files, not counted.

    The CPU time of the import is the figure compared: an import is single-threaded work,
    and on a shared machine its wall time mostly measures the wait for a core (its medians
    moved by 2× between runs here, the CPU time's by a few percent)."""
    for i in range(repeat + 1):
        for name, (python, statement) in IMPORTS.items():
            if python == "tk" and not bench.tk_ok:
                continue
            exe = str(H.TK_PYTHON if python == "tk" else H.OURS_PYTHON)
            code = (
                "import time; t0, c0 = time.perf_counter(), time.process_time(); "
                f"{statement}; print('RESULT', [time.process_time() - c0, "
                "time.perf_counter() - t0])"
            )
            run = H.run_child([exe, "-c", code], 120)
            if run.returncode != 0 or run.result is None:
                bench.fail(f"import {name}: {run.error}")
            elif i:
                figures = bench.imports.setdefault(name, {"cpu": [], "wall": []})
                figures["cpu"].append(run.result[0])
                figures["wall"].append(run.result[1])
    for name, figures in bench.imports.items():
        cpu, wall = (statistics.median(figures[k]) * 1000 for k in ("cpu", "wall"))
        log(f"   {IMPORTS[name][1]}: CPU {cpu:.0f} ms, wall {wall:.0f} ms (medians)")


def measure_upload(bench: Bench, rows: int, repeat: int) -> None:
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "naive": []}
    for r in range(1, repeat + 1):
        for mode in ("ours", "naive"):
            cmd = [str(H.OURS_PYTHON), str(UPLOAD), "--mode", mode, "--rows", str(rows)]
            child = H.run_child(cmd, bench.args.upload_timeout)
            if child.returncode != 0:
                bench.fail(f"upload {mode} run {r}: {child.error}")
                continue
            result = json.loads([ln for ln in child.stdout.splitlines() if ln.startswith("{")][-1])
            result.update(client_cpu=child.cpu, wait4_maxrss=child.maxrss)
            runs[mode].append(result)
            rss = child.maxrss / MIB
            log(f"   upload {mode:<5} run {r}: {result['seconds']:.2f} s, RSS {rss:.0f} MiB")
    bench.upload = runs


def import_cpu(bench: Bench) -> dict[str, float]:
    """The median CPU time of each import."""
    return {k: statistics.median(v["cpu"]) for k, v in bench.imports.items() if v["cpu"]}


def upload_med(bench: Bench, mode: str, key: str) -> float | None:
    return median([r[key] for r in bench.upload.get(mode, [])])


def measure_faults(bench: Bench, key: str, n: int) -> None:
    kind, chunk, _label = FAULT_RUNS[key]
    python = "tk" if kind == "fault_tk" else "ours"
    if python == "tk" and not bench.tk_ok:
        bench.faults[key] = {"error": "toloka-kit venv unavailable"}
        return
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        db = Path(tmp) / "sandbox.sqlite"
        try:
            with H.Sandbox(faults=FAULTS, db_path=db) as server:
                args = {"kind": kind, "n": n, "chunk": chunk, **server.child_args()}
                child = H.run_child(H.child_cmd(python, args), bench.args.fault_timeout)
        except Exception as exc:
            bench.faults[key] = {"error": f"server: {type(exc).__name__}: {exc}"}
            bench.fail(f"faults {key}: {bench.faults[key]['error']}")
            return
        out: dict[str, Any] = {"wall": child.wall, "client_cpu": child.cpu, "error": child.error}
        if child.result is not None:
            out.update(analyse_faults(db, n, child.result))
    bench.faults[key] = out
    if out["error"]:
        bench.fail(f"faults {key}: {out['error']}")
    else:
        log(
            f"   {key}: {out['seconds']:.1f} s, server has {out['server_tasks']:,} tasks "
            f"({out['distinct_n']:,} distinct), duplicated {out['duplicated_extra']:,}, lost "
            f"{out['lost']:,}, reported unknown {out['reported'][2]:,}"
        )


def analyse_faults(db: Path, n: int, result: dict[str, Any]) -> dict[str, Any]:
    con = sqlite3.connect(db)
    with con:
        rows = con.execute("SELECT data FROM objects WHERE kind='task'")
        tasks = [json.loads(d) for (d,) in rows]
        meta = dict(con.execute("SELECT key, data FROM meta").fetchall())
    con.close()
    pool = [t for t in tasks if t["pool_id"] == "pool-1"]
    counts = Counter(t["input_values"]["n"] for t in pool)
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
        "lost_as": [
            sum(1 for i in never if i in created),
            sum(1 for i in never if i in errors),
            sum(1 for i in never if i in unknown),
            sum(1 for i in never if i not in created | errors | unknown),
        ],
        "reported": [len(created), len(errors), len(unknown)],
        "unknown_but_created": sum(1 for i in unknown if i in counts),
        "reported_ids_not_on_server": len(set(result["created_ids"]) - {t["id"] for t in pool}),
        "raised": result.get("raised"),
        "create_requests": [
            counters.get(k, {}).get("createTasks") for k in ("received", "applied")
        ],
    }


# -- aims ------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    value: float | None
    aim: str = "—"  # as written: "≥ 10×", "≤ 64 MiB", "—" for none
    source: str = "issue 21"
    unit: str = "×"

    @property
    def verdict(self) -> str:
        if self.aim[0] not in "≥≤":
            return ""
        if self.value is None:
            return "not measured"
        limit = float(self.aim[1:].split()[0].rstrip("×"))
        ok = self.value >= limit if self.aim[0] == "≥" else self.value <= limit
        return "met" if ok else "**missed**"


def aims(bench: Bench) -> list[Row]:
    """Issue 21's "Done when", each figure from this run."""
    n, rate, med = bench.args.tasks, bench.rate, bench.med
    large = bench.large_n or bench.args.large
    imp = import_cpu(bench)
    up = {m: upload_med(bench, m, "seconds") for m in ("ours", "naive")}

    def of(kind: str, key: str, base: str, count: int = n) -> float | None:
        return ratio(med((kind, "min"), count, key), med((base, "min"), count, key))

    def faster(kind: str, base: str) -> float | None:
        return ratio(rate((kind, "min"), n), rate((base, "min"), n))

    return [
        Row(
            "`Toloka` sync mode / toloka-kit default, throughput",
            faster("ours_sync", "tk_default"),
            "≥ 10×",
        ),
        Row(
            "`Toloka` sync mode client CPU / plain stdlib loop's (whole process, imports in)",
            of("ours_sync", "client_cpu", "loop_json"),
            "≤ 1.3×",
        ),
        Row(
            "`Toloka` async mode / sync mode, throughput",
            faster("ours_async", "ours_sync"),
            "≥ 0.8×",
        ),
        Row(
            "`AsyncToloka` async mode / sync mode, throughput",
            faster("aours_async", "aours_sync"),
            "≥ 0.8×",
        ),
        Row(
            f"peak RSS at {large:,} tasks, `create_tasks` defaults / plain loop (same input list)",
            of("ours_list", "maxrss", "loop_list", large),
            "≤ 1.5×",
        ),
        Row(
            "`import toloka_ext` / `import httpx`, CPU time",
            ratio(imp.get("toloka_ext"), imp.get("httpx")),
            "≤ 2×",
        ),
        Row(
            f"v2 upload of {bench.args.upload_rows:,} rows, speed: ours / naive",
            ratio(up["naive"], up["ours"]),
            "≥ 1.0×",
        ),
    ]


def other_ratios(bench: Bench) -> list[Row]:
    """Reference ratios (earlier aims, other yardsticks, the sandbox-served figures)."""
    n, rate, med = bench.args.tasks, bench.rate, bench.med
    large = bench.large_n or bench.args.large
    imp = import_cpu(bench)

    def faster(case: Case, base: Case, count: int = n) -> float | None:
        return ratio(rate(case, count), rate(base, count))

    sn = bench.args.sandbox_tasks
    sb = f"**sandbox-served** ({sn:,} tasks):"
    rows = [
        Row(
            "`Toloka` sync / toloka-kit default, server not echoing `__item_idx` (no read-back)",
            faster(("ours_sync", "min"), ("tk_default", "bare")),
        ),
        Row(
            "`Toloka` sync / toloka-kit async_mode=False chunks",
            faster(("ours_sync", "min"), ("tk_sync", "min")),
        ),
        Row(
            "client CPU in the create call only, `Toloka` sync / loop",
            ratio(
                med(("ours_sync", "min"), n, "call_cpu"), med(("loop_json", "min"), n, "call_cpu")
            ),
        ),
        Row(
            "`AsyncToloka` / `Toloka`, sync mode throughput",
            faster(("aours_sync", "min"), ("ours_sync", "min")),
            "≥ 1.0×",
            "earlier",
        ),
        Row(
            "`AsyncToloka` / `Toloka`, async mode throughput",
            faster(("aours_async", "min"), ("ours_async", "min")),
            "≥ 1.0×",
            "earlier",
        ),
    ]
    rows += [
        Row(
            f"peak RSS at {large:,} / at {n:,}, {CLIENTS[kind][0]} (generator input)",
            ratio(med((kind, "min"), large, "maxrss"), med((kind, "min"), n, "maxrss")),
            "≤ 1.2× (flat)",
            "earlier",
        )
        for kind in ("ours_sync", "ours_nokeep", "loop_json")
    ]
    rows += [
        Row(f"`{IMPORTS[k][1]}` / `import httpx`, CPU time", ratio(imp.get(k), imp.get("httpx")))
        for k in ("Toloka", "Toloka().tasks", "toloka-kit")
    ]
    rows += [
        Row(
            f"v2 upload ({bench.args.upload_rows:,} rows) peak RSS",
            _mib(upload_med(bench, "ours", "wait4_maxrss")),
            "≤ 64 MiB",
            "earlier",
            " MiB",
        ),
        Row(
            f"{sb} `Toloka` sync / toloka-kit default",
            faster(("ours_sync", "sandbox"), ("tk_default", "sandbox"), sn),
        ),
        Row(
            f"{sb} plain loop / toloka-kit default",
            faster(("loop_json", "sandbox"), ("tk_default", "sandbox"), sn),
        ),
        Row(
            f"{sb} `Toloka` async / sync mode",
            faster(("ours_async", "sandbox"), ("ours_sync", "sandbox"), sn),
        ),
    ]
    return rows


# -- the report ------------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _mib(value: float | None) -> float | None:
    return None if value is None else value / MIB


def table(head: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(head) - 1)
    lines = ["| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join("---" if a == "l" else "--:" for a in align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def case_row(bench: Bench, case: Case, n: int) -> list[str]:
    kind, server = case
    runs = bench.runs(case, n)
    ok = [r for r in runs if r["ok"]]
    label = [CLIENTS[kind][0], SERVERS[server][0]]
    if not ok:
        errors = "; ".join(sorted({str(r.get("error")) for r in runs})) or "not run"
        return [*label, f"failed: {errors}", *[""] * 8]
    base = bench.rate(("tk_default", server), n)
    return [
        *label,
        fmt(bench.rate(case, n)),
        fmt(ratio(bench.rate(case, n), base), ".1f", "×"),
        fmt(bench.med(case, n, "client_cpu"), ".2f"),
        fmt(bench.per_task(case, n, "client_cpu"), ".1f"),
        fmt(bench.per_task(case, n, "call_cpu"), ".1f"),
        fmt(_mib(bench.med(case, n, "maxrss")), ".0f"),
        fmt(bench.per_task(case, n, "server_cpu"), ".1f"),
        fmt(ratio(bench.med(case, n, "server_cpu"), bench.med(case, n, "seconds")), ".0%"),
        ", ".join(f"{r['seconds']:.2f}" for r in ok)
        + (f" ({len(runs) - len(ok)} failed)" if len(ok) < len(runs) else ""),
    ]


CASE_HEAD = [
    "client",
    "server",
    "tasks/s",
    "× toloka-kit default",
    "client CPU s",
    "CPU µs/task",
    "in call µs/task",
    "peak RSS MiB",
    "server CPU µs/task",
    "server busy",
    "runs (s)",
]


def report(bench: Bench) -> str:
    a = bench.args
    n, large = a.tasks, bench.large_n or a.large
    runs = (
        f"{a.fast_repeat}"
        if a.fast_repeat == a.repeat
        else f"{a.fast_repeat} ({a.repeat} for toloka-kit)"
    )
    out: list[str] = [f"# v1 task creation, side by side ({n:,} tasks; medians of {runs})", ""]
    add = out.extend

    def ratio_rows(rows: list[Row], with_source: bool) -> list[list[str]]:
        return [
            [r.name, fmt(r.value, ".2f", r.unit), r.aim]
            + ([r.source if r.aim != "—" else "—"] if with_source else [])
            + [r.verdict]
            for r in rows
        ]

    add(['## Aims (issue 21, "Done when")', ""])
    add(table(["figure", "value", "aim", ""], ratio_rows(aims(bench), False), "lrll"))
    add(["## Other ratios", ""])
    add(
        table(
            ["figure", "value", "aim", "aim from", ""],
            ratio_rows(other_ratios(bench), True),
            "lrlll",
        )
    )

    add([f"## {n:,} tasks a run, median of {runs}", ""])
    add(
        [
            "The minimal server (`bench/_v1_server.py`) costs a few µs of CPU a task (its "
            "column), below every client, so these rows show the clients. CPU µs/task: the "
            "whole client process (interpreter start and imports in) and the create call "
            "alone.",
            "",
        ]
    )
    add(table(CASE_HEAD, [case_row(bench, c, n) for c in MAIN], "ll" + "r" * 8 + "l"))
    sn = a.sandbox_tasks
    add([f"## Sandbox-served, {sn:,} tasks a run, median of {runs}", ""])
    add(
        [
            "The same clients against `toloka_ext.testing` (every task checked against the "
            "contract): a separate figure, where the server, not the client, sets the pace. "
            "Measured last, at a smaller count, as far as the budget allows.",
            "",
        ]
    )
    add(table(CASE_HEAD, [case_row(bench, c, sn) for c in SANDBOX], "ll" + "r" * 8 + "l"))

    add([f"## {large:,} tasks (memory; {CLIENTS['loop_list'][0]} is the aim's yardstick)", ""])
    rows = [case_row(bench, c, large) for c in LARGE_AIM + LARGE_CHART]
    rows = [r[:2] + r[2:3] + r[4:8] + r[-1:] for r in rows]
    head = [CASE_HEAD[i] for i in (0, 1, 2, 4, 5, 6, 7, 10)]
    add(table(head, rows, "ll" + "r" * 5 + "l"))

    add(["## Scaling (chart: v1_create.png)", ""])
    counts = [a.small, n, large]
    head_c = " / ".join(f"{c:,}" for c in counts)
    rows = [
        [
            CLIENTS[c[0]][0],
            " / ".join(fmt(bench.rate(c, k)) for k in counts),
            " / ".join(fmt(bench.per_task(c, k, "client_cpu"), ".1f") for k in counts),
            " / ".join(fmt(_mib(bench.med(c, k, "maxrss")), ".0f") for k in counts),
        ]
        for c in SMALL
    ]
    add(table(["client", f"tasks/s at {head_c}", "CPU µs/task", "peak RSS MiB"], rows, "llll"))

    add(fault_section(bench))

    add(
        [
            f"## v2 upload ({a.upload_rows:,} rows, median of {len(bench.upload.get('ours', []))})",
            "",
        ]
    )
    rows = [
        [
            name,
            fmt(upload_med(bench, mode, "seconds"), ".2f"),
            fmt(_mib(upload_med(bench, mode, "wait4_maxrss")), ".1f"),
            fmt(upload_med(bench, mode, "client_cpu"), ".2f"),
        ]
        for mode, name in (
            ("ours", "datasets.add_items(upload_threshold=0)"),
            ("naive", "naive json.dumps"),
        )
    ]
    add(table(["mode", "seconds", "peak RSS MiB", "client CPU s"], rows))

    add(["## Import time (fresh interpreter; the import alone, interpreter start excluded)", ""])
    base = import_cpu(bench).get("httpx")
    rows = [
        [
            f"`{IMPORTS[k][1]}`",
            f"{statistics.median(v['cpu']) * 1000:.0f}",
            fmt(ratio(statistics.median(v["cpu"]), base), ".2f", "×"),
            f"{statistics.median(v['wall']) * 1000:.0f}",
            ", ".join(f"{x * 1000:.0f}" for x in v["cpu"]),
        ]
        for k, v in bench.imports.items()
    ]
    head = ["import", "CPU ms", "× httpx (CPU)", "wall ms", "CPU runs (ms)"]
    add(table(head, rows, "lrrrl"))

    if bench.profiles:
        add(["## Profiles (a missed aim: where the client's time goes)", ""])
        for name, prof in bench.profiles.items():
            total = prof.get("profile_total", 0)
            add([f"{name}: one untimed run under cProfile ({total:.2f} s), by own time", ""])
            add(["```text"])
            add([*prof.get("profile", [prof.get("error", "")]), "```", ""])

    add(["## Versions", ""])
    add(
        [
            f"- {env} venv: " + ", ".join(f"{k} {v}" for k, v in p.items())
            for env, p in bench.versions.items()
        ]
    )
    add(["", "## Notes", ""])
    add([f"- {note}" for note in bench.notes])
    if bench.failures:
        add(["", "## Failures", ""])
        add([f"- {failure}" for failure in bench.failures])
    took = ", ".join(f"{k} {v:.0f} s" for k, v in bench.steps.items())
    add(["", f"Run took {a.budget - bench.remaining():.0f} s (budget {a.budget:.0f} s): {took}"])
    return "\n".join(out) + "\n"


def fault_section(bench: Bench) -> list[str]:
    out = [f"## Fault mix ({bench.args.fault_tasks:,} tasks; a fresh sandbox each, seeded)", ""]
    out += [
        "Faults on createTasks: 10% 500, 5% 503, 5% 429 (Retry-After: 1), 2% connection reset "
        "after the tasks were created. Counted from the server's SQLite file. A 5xx to a "
        "create is never re-sent blindly (docs/exactly-once.md): ours settles it by reading "
        "the pool back and sends again what is proven absent; the served sandbox applies a "
        "request at once or never, so its max_request_hold is 1 s here (300 s by default).",
        "",
    ]
    rows = []
    for key, (_kind, _chunk, name) in FAULT_RUNS.items():
        f = bench.faults.get(key) or {}
        if "server_tasks" not in f:
            rows.append([name, f"failed: {f.get('error', 'not run')}", *[""] * 6])
            continue
        rows.append(
            [
                name,
                f"{f['seconds']:.1f}",
                f"{f['server_tasks']:,}",
                f"{f['duplicated_n']:,} ({f['duplicated_extra']:,})",
                f"{f['lost']:,} (" + " / ".join(f"{x:,}" for x in f["lost_as"]) + ")",
                " / ".join(f"{x:,}" for x in f["reported"]),
                f"{f['unknown_but_created']:,}",
                " / ".join(str(x) for x in f["create_requests"]),
            ]
        )
    head = [
        "client",
        "s",
        "on server",
        "duplicated n (extra copies)",
        "lost (said created / error / unknown / nothing)",
        "said created / error / unknown",
        "unknown but created",
        "createTasks received / applied",
    ]
    out += table(head, rows)
    for key in FAULT_RUNS:
        f = bench.faults.get(key) or {}
        if f.get("raised"):
            out += [f"{key}: calls that raised: " + "; ".join(sorted(set(f["raised"])))]
            if any("RetryCallState" in r for r in f["raised"]):
                out += [
                    "(toloka-kit 1.2.3's retry wait returns the tenacity state instead of the "
                    "`Retry-After` seconds, so any answer with `Retry-After` (the 429s here) "
                    "ends the call with this TypeError: "
                    "toloka/client/primitives/retry.py, GetBackoffTime.__call__)"
                ]
            out += [""]
        if f.get("reported_ids_not_on_server"):
            out += [
                f"{key}: {f['reported_ids_not_on_server']} reported ids are not on the server",
                "",
            ]
    return out


def chart(bench: Bench, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = bench.args
    n = a.tasks
    fig, (bars, cpu, mem) = plt.subplots(1, 3, figsize=(17, 5.2))
    kinds = [k for k, _ in MAIN if _ == "min"]
    ys = range(len(kinds))
    servers: list[tuple[float, str, dict[str, str], int]] = [
        (-0.2, "min", {}, n),
        (0.2, "sandbox", {"hatch": "//"}, a.sandbox_tasks),
    ]
    for offset, server, style, count in servers:
        values = [bench.rate((k, server), count) or 0 for k in kinds]
        bars.barh(
            [y + offset for y in ys],
            values,
            height=0.4,
            label=f"{SERVERS[server][0].strip('*')} ({count:,} tasks)",
            **style,
        )
    tk = bench.rate(("tk_default", "min"), n)
    if tk:
        bars.axvline(10 * tk, color="red", linestyle=":", label="aim: 10× toloka-kit default")
    bars.set_yticks(list(ys), [CLIENTS[k][0][:48] for k in kinds], fontsize=7)
    bars.invert_yaxis()
    bars.set_xlabel("tasks/s")
    bars.set_title(f"throughput at {n:,} tasks, by server")
    bars.legend(fontsize=8)
    cpu.barh(
        list(ys), [bench.per_task((k, "min"), n, "client_cpu") or 0 for k in kinds], label="process"
    )
    cpu.barh(
        list(ys),
        [bench.per_task((k, "min"), n, "call_cpu") or 0 for k in kinds],
        height=0.4,
        label="in the call",
    )
    loop = bench.per_task(("loop_json", "min"), n, "client_cpu")
    if loop:
        cpu.axvline(1.3 * loop, color="red", linestyle=":", label="aim: 1.3× the stdlib loop")
    cpu.set_yticks(list(ys), [""] * len(kinds))
    cpu.invert_yaxis()
    cpu.set_xscale("log")
    cpu.set_xlabel("client CPU µs a task (log)")
    cpu.set_title("client CPU, minimal server")
    cpu.legend(fontsize=8)
    counts = [a.small, n, bench.large_n or a.large]
    for case, style in zip(SMALL, ("o-", "s--", "^-"), strict=True):
        points = [(c, bench.med(case, c, "maxrss")) for c in counts]
        points = [(c, v / MIB) for c, v in points if v is not None]
        if points:
            mem.plot(*zip(*points, strict=True), style, label=CLIENTS[case[0]][0])
    for case, marker in zip(LARGE_AIM, ("P", "X"), strict=True):
        value = bench.med(case, bench.large_n or a.large, "maxrss")
        if value is not None:
            mem.plot(
                [bench.large_n or a.large],
                [value / MIB],
                marker,
                markersize=10,
                label=CLIENTS[case[0]][0],
            )
    yardstick = bench.med(LARGE_AIM[0], bench.large_n or a.large, "maxrss")
    if yardstick:
        mem.axhline(1.5 * yardstick / MIB, color="red", linestyle=":", label="aim: 1.5× the loop's")
    mem.set_xscale("log")
    mem.set_xticks(counts, [f"{c:,}" for c in counts])
    mem.minorticks_off()
    mem.set_xlabel("tasks created in the run")
    mem.set_ylabel("MiB")
    mem.set_title("peak RSS of the client process")
    mem.set_ylim(bottom=0)
    mem.legend(fontsize=7)
    for ax in (bars, cpu, mem):
        ax.grid(True, alpha=0.3)
    fig.suptitle("v1 create_tasks: medians of one `make bench` run (largest count: see the report)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- main ------------------------------------------------------------------------------------


def profile_misses(bench: Bench) -> None:
    """One cProfile run of the client behind each missed CPU or throughput aim."""
    rows = {r.name: r for r in aims(bench)}
    wanted: list[Case] = []
    for name, row in rows.items():
        if row.verdict != "**missed**":
            continue
        if "client CPU" in name or "toloka-kit default" in name:
            wanted.append(("ours_sync", "min"))
        elif name.startswith("`Toloka` async"):
            wanted.append(("ours_async", "min"))
        elif name.startswith("`AsyncToloka` async"):
            wanted.append(("aours_async", "min"))
    for case in dict.fromkeys(wanted):
        n = bench.args.tasks
        log(f"   {case[0]}: one run under cProfile")
        rec = bench.measure(case, n, 0, 3 * timeout_for(case[0], n), keep=False, profile=True)
        bench.profiles[f"{CLIENTS[case[0]][0]}, {n:,} tasks"] = rec


def run_large(bench: Bench) -> None:
    """The aim pair as many times as ``--repeat`` asks and the budget allows, then the
    generator inputs once (the chart); a smaller count if even one pair would not fit."""
    counts = [c for c in (bench.args.large, 500_000, 300_000, 200_000) if c <= bench.args.large]
    for count in counts:
        if bench.fits(sum(bench.estimate(c, count) for c in LARGE_AIM), f"{count:,} tasks"):
            bench.large_n = count
            break
    if bench.large_n is None:
        return
    n = bench.large_n
    plan = [(case, run) for run in range(1, bench.args.repeat + 1) for case in LARGE_AIM]
    plan[2:2] = [(case, 1) for case in LARGE_CHART]  # after the first pair
    for case, run in plan:
        need = bench.estimate(case, n)
        if bench.fits(need, f"{case[0]} at {n:,}, run {run}"):
            bench.measure(case, n, run, 2 * need + 60)


def run_all(bench: Bench) -> None:
    a = bench.args
    with bench.step("setup: toloka-kit venv, versions"):
        error = H.ensure_toloka_kit_venv(log)
        if error:
            bench.fail(f"cannot make the toloka-kit venv: {error}")
        bench.tk_ok = error is None
        read_versions(bench)
    with bench.step("warm-up: every client once (bytecode, file cache), not counted"):
        for case in [*MAIN[:9], *LARGE_AIM, ("ours_sync", "sandbox")]:
            bench.measure(case, 1000, 0, timeout_for(case[0], 1000), keep=False)
        cmd = [str(H.OURS_PYTHON), str(UPLOAD), "--mode", "ours", "--rows", "1000"]
        if H.run_child(cmd, 120).returncode != 0:
            bench.fail("warm-up of bench_upload_memory.py failed")
    with bench.step("import times"):
        measure_imports(bench, a.import_repeat)
    with bench.step(f"{a.tasks:,} tasks x {a.fast_repeat} ({a.repeat} toloka-kit), minimal server"):
        bench.series(MAIN, a.tasks, a.repeat)
    with bench.step(f"{a.small:,} tasks x {a.fast_repeat}"):
        bench.series(SMALL, a.small, a.repeat)
    with bench.step(f"v2 upload, {a.upload_rows:,} rows x {a.upload_repeat}"):
        measure_upload(bench, a.upload_rows, a.upload_repeat)
    with bench.step("profiles of missed aims"):
        profile_misses(bench)
    with bench.step(f"fault mix, {a.fault_tasks:,} tasks"):
        log("   (uvicorn's 'ASGI callable returned without starting response' below is the")
        log("   sandbox dropping a connection on purpose: the reset_after fault)")
        for key in FAULT_RUNS:
            measure_faults(bench, key, a.fault_tasks)
    with bench.step(f"{a.large:,} tasks (or what the budget allows)"):
        run_large(bench)
    # Last: a separate, labelled figure (the sandbox is the bottleneck there, not a client),
    # at a smaller count, run only as far as the budget allows, after every aim.
    with bench.step(f"{a.sandbox_tasks:,} tasks, sandbox (budget allowing)"):
        bench.series(SANDBOX, a.sandbox_tasks, a.repeat, budgeted=True)


def standing_notes(bench: Bench) -> None:
    a = bench.args
    bench.notes += [
        "Minimal server: `bench/_v1_server.py` (raw ASGI on uvicorn/h11, orjson; no "
        "validation; an async operation is `SUCCESS` at its first read; sync-mode tasks are "
        "not kept). Its CPU per task is in the table: below every client's, about a third "
        "of the plain loop's (whose throughput, not its CPU, includes that wait).",
        "toloka-kit's default reads the created tasks back (`get_tasks` by id range, 50 a "
        "page) when the operation log echoes the `__item_idx` it adds to each task, which "
        "toloka-kit relies on Toloka to do; the minimal server echoes it, so the default "
        "row is toloka-kit as it runs against Toloka (and it sleeps 0.5 s before its first "
        "poll of each operation). The `no __item_idx echo` row is the same client when "
        "the log does not echo it (as the sandbox's does not): no read-back.",
        "Our clients run with `tasks_per_minute=None`: the client-side budget would otherwise "
        "pace a benchmark to Toloka's 200,000 tasks a minute. Async mode: "
        "`PollPolicy(interval=0.05, max_interval=0.2)`. The fault runs use the defaults.",
        "Each measurement: a fresh interpreter against a fresh server. Client CPU and peak "
        "RSS: `os.wait4` of the child (interpreter start and imports in), read by a 9 MiB "
        "launcher (`bench/_measure.py`: a child's ru_maxrss starts at its spawner's peak); "
        "CPU in the call: the child's getrusage around the create call; server CPU: "
        "/proc/<pid>/stat over the child's life; server busy = server CPU / call seconds.",
        "Every child reads bytecode from `bench/out/.pycache` (PYTHONPYCACHEPREFIX; this "
        "machine sets PYTHONDONTWRITEBYTECODE and the editable toloka_ext has no .pyc), and "
        "each client runs once untimed first, so no measurement pays for compiling.",
        "The plain loops POST 5000 tasks a request with `Content-Type: application/json`, "
        "check the status and the number of items in the answer (parsed with the same "
        "library), keep nothing. `over an input list`: the 1M tasks are a list built "
        "before the call (so is `create_tasks`'s in the row beside it).",
        "toloka-kit takes a list of `Task`: it gets lists of 10,000 (its docstring's "
        "advice for async mode) or 5000 (sync).",
        f"{a.small:,} and {a.tasks:,} are medians of {a.fast_repeat} runs ({a.repeat} for "
        "toloka-kit, whose runs take 10-30 s); the largest count: "
        "the aim pair up to that many, the generator rows once.",
        "Import times: `python -c` with the statement timed inside, median of the runs "
        "listed; the ratios use CPU time (process_time), wall time is shown beside it. "
        "This venv has the `cli` extra, so `import httpx` also loads click, rich and "
        "pygments (httpx's own command line): without them httpx imports faster and the "
        "ratio is higher.",
        "v2 upload: `bench/bench_upload_memory.py --mode ours|naive` children (in-process "
        "API and storage, no network), untraced. Aim ≤ 64 MB read as MiB.",
        "The machine is shared (2 cores, other sessions' tests): a figure's runs are listed "
        "beside its median.",
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument(
        "--sandbox-tasks",
        type=int,
        default=20_000,
        help="tasks a sandbox-served run (its server is the bottleneck: fewer do)",
    )
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each toloka-kit case")
    parser.add_argument(
        "--fast-repeat", type=int, default=5, help="runs of each other case (1-2 s a run)"
    )
    parser.add_argument("--import-repeat", type=int, default=7)
    parser.add_argument("--fault-tasks", type=int, default=20_000)
    parser.add_argument("--fault-timeout", type=float, default=300)
    parser.add_argument("--upload-rows", type=int, default=1_000_000)
    parser.add_argument("--upload-repeat", type=int, default=5)
    parser.add_argument("--upload-timeout", type=float, default=180)
    parser.add_argument(
        "--budget", type=float, default=840, help="seconds (the largest count fits)"
    )
    parser.add_argument("--out", type=Path, default=H.BENCH / "out")
    parser.add_argument("--quick", action="store_true", help="small counts: checks the harness")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.small, args.large = 10_000, 2_000, 40_000
        args.sandbox_tasks = 2_000
        args.repeat = args.upload_repeat = args.fast_repeat = 1
        args.import_repeat, args.fault_tasks, args.upload_rows = 2, 5_000, 50_000
    return args


def _on_sigterm(_sig: int, _frame: object) -> None:
    raise SystemExit(143)  # so every `finally` runs: the child and the server are stopped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGHUP, _on_sigterm)
    # Even when started with SIGINT ignored (in the background of a script): Ctrl-C must
    # still stop the run through the `finally` blocks that stop the child and the server.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    H.use_bytecode_cache(args.out)
    bench = Bench(args)
    standing_notes(bench)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        run_all(bench)
    except BaseException as exc:
        bench.fail(f"run stopped: {type(exc).__name__}: {exc}")
        if H.current is not None:
            H.kill_group(H.current)
        if not isinstance(exc, Exception):
            write_outputs(bench)
            raise
    write_outputs(bench)
    return 1 if bench.failures else 0


def write_outputs(bench: Bench) -> None:
    out = bench.args.out
    raw = {
        "args": {k: str(v) for k, v in vars(bench.args).items()},
        "large_n": bench.large_n,
        "records": bench.records,
        "imports": bench.imports,
        "upload": bench.upload,
        "faults": bench.faults,
        "profiles": bench.profiles,
        "versions": bench.versions,
        "failures": bench.failures,
        "steps": bench.steps,
    }
    (out / "v1_create.json").write_text(json.dumps(raw, indent=1, default=str))
    try:
        chart(bench, out / "v1_create.png")
    except Exception as exc:  # no matplotlib, nothing measured: the tables still stand
        bench.fail(f"chart: {type(exc).__name__}: {exc}")
    text = report(bench)
    (out / "v1_create.md").write_text(text)
    print()
    print(text)
    rel = out.relative_to(H.ROOT) if out.is_relative_to(H.ROOT) else out
    print(f"written: {rel}/v1_create.md, v1_create.png, v1_create.json")


if __name__ == "__main__":
    sys.exit(main())
