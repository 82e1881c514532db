"""The exactly-once matrix: every non-idempotent operation of both snapshots × every fault
point the sandbox can script × every user-level call that sends it.

Nothing here lists operations by hand. The non-idempotent operations are read from the
operation tables (``openapi/v1.yaml``, the v2-beta snapshot's ``OPERATIONS``): every POST
but those the layer declares idempotent (``IDEMPOTENT_OPERATIONS``) and the v1 async
create (keyed by its operation id). Each user-level flow below is run once cleanly with
requests recorded; the matrix is every non-idempotent operation that flow sent × every
fault point, so an operation a flow starts to send joins by itself, and a non-idempotent
operation no flow sends fails :func:`test_every_non_idempotent_operation_is_exercised`.

Each case runs the flow against a sandbox on a manual clock (the client's waits, the
``max_request_hold`` among them, move it) with one fault on one request; a journaled flow
that "crashes" is run again with its journal. Then everything the sandbox still holds is
applied (``apply_late``), and the verdict is: exactly one server object per intended
object, and every report agrees with the server (created means it exists, not created
means it does not, unknown is only ever said of what may exist).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from toloka_pipeline_api._snapshot import OPERATIONS as V2_OPERATIONS

import toloka_ext as tx
from toloka_ext._optable import operation_table
from toloka_ext._v2._adapter import IDEMPOTENT_OPERATIONS
from toloka_ext.testing import Fault, FaultConfig, ManualClock, Sandbox, SimulatedCrash

ROOT = Path(__file__).resolve().parent.parent
POOL = "pool-1"
ROWS = [{"url": f"https://example.com/{i}.jpg", "lang": "en"} for i in range(7)]
TASKS = [{"pool_id": POOL, "input_values": {"n": i}, "overlap": 1} for i in range(12)]
HOLD = 300.0
LATE = 200.0  # a proxy holds the request this long, within the hold the client assumes


def _v1_table() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((ROOT / "openapi" / "v1.yaml").read_text())
    return operation_table(doc)


def non_idempotent_operations() -> set[str]:
    """Every create of both APIs, derived from the snapshots."""
    out = set()
    for table, declared in ((V2_OPERATIONS, IDEMPOTENT_OPERATIONS), (_v1_table(), {})):
        for op, entry in table.items():
            if str(entry["method"]).upper() == "POST" and op not in declared:
                out.add(op)
    return out


# -- fault points --------------------------------------------------------------------------

ANSWERS = (500, 502, 503, 504)


def fault_points(*, crash: bool) -> list[tuple[str, dict[str, Any]]]:
    """Every way one request can fail, as ``(id, Fault kwargs)``."""
    points: list[tuple[str, dict[str, Any]]] = []
    for status in ANSWERS:
        points.append((f"{status}-before", {"action": "status", "status": status}))
        points.append((f"{status}-after", {"action": "status_after", "status": status}))
    points.append(("reset-before", {"action": "reset_before"}))
    points.append(("reset-after", {"action": "reset_after"}))
    points.append(("late-apply", {"action": "late_apply", "delay": LATE}))
    if crash:
        points.append(("crash-before", {"action": "crash_before"}))
        points.append(("crash-after", {"action": "crash_after"}))
        # Held by a proxy, and the process dies before it could wait it out: the rerun
        # must not create again what the proxy still holds.
        points.append(("late-apply-then-die", {"action": "late_apply", "delay": LATE, "die": 1}))
    return points


# -- the flows ---------------------------------------------------------------------------


def _sandbox() -> Sandbox:
    return Sandbox(clock=ManualClock(), operation_polls=1)


@dataclass
class Outcome:
    """What a flow reported: a value, or the error it ended with."""

    value: Any = None
    error: BaseException | None = None


@dataclass(frozen=True)
class Flow:
    """``run(sandbox, tmp, faults)`` arms ``faults`` when its calls begin (after any setup
    of its own, which is not under test)."""

    name: str
    run: Callable[[Sandbox, Path, FaultConfig], Outcome]
    check: Callable[[Sandbox, Outcome], None]
    journaled: bool


_DIE_WAITING = {"armed": False}
"""Set by a case: the process dies as it starts to wait out a request held by a proxy."""


def _client(sandbox: Sandbox) -> tx.Toloka:
    virtual = sandbox.client_time

    def sleep(seconds: float) -> None:
        if _DIE_WAITING["armed"] and seconds >= HOLD / 2:
            _DIE_WAITING["armed"] = False
            raise SimulatedCrash("died waiting out a request held by a proxy")
        virtual.sleep(seconds)

    return sandbox.client(
        max_retries=2, max_request_hold=HOLD, sleep=sleep, clock=virtual.monotonic
    )


def _rerun_on_crash(step: Callable[[], Any]) -> Outcome:
    """Run a journaled step; a simulated crash is followed by the documented rerun."""
    for _ in range(3):
        try:
            return Outcome(value=step())
        except SimulatedCrash:
            continue
        except tx.TolokaError as exc:
            return Outcome(error=exc)
    raise AssertionError("crashed three times")


def _once(step: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=step())
    except tx.TolokaError as exc:
        return Outcome(error=exc)


def _process(path: str) -> Callable[[Sandbox, Path, FaultConfig], Outcome]:
    def run(sandbox: Sandbox, tmp: Path, faults: FaultConfig) -> Outcome:
        sandbox.faults = faults

        def step() -> Any:
            with _client(sandbox) as client:
                return client.process_new_data(
                    "pl-1",
                    ROWS,
                    journal=tmp / "job.journal",
                    output=tmp / "out.jsonl",
                    upload_threshold=0 if path == "upload" else 10**9,
                )

        return _rerun_on_crash(step)

    return run


def _check_process(sandbox: Sandbox, outcome: Outcome) -> None:
    assert outcome.error is None, f"a journaled flow settles its own unknowns: {outcome.error!r}"
    result = outcome.value
    datasets = list(sandbox.backend.all("dataset"))
    copies = [p for p in sandbox.backend.all("pipeline") if p["id"] != "pl-1"]
    assert len(datasets) == 1 and len(copies) == 1
    assert len(list(sandbox.backend.all("run"))) == 1
    assert len(list(sandbox.backend.all("export"))) == 1
    # Each row stored once (the run labels them in place: compare the rows' own fields).
    rows = [{k: r[k] for k in ("url", "lang")} for r in sandbox.dataset_rows(datasets[0]["id"])]
    assert Counter(json.dumps(r, sort_keys=True) for r in rows) == Counter(
        json.dumps(r, sort_keys=True) for r in ROWS
    )
    # The report is the server's: its ids, and every row labelled once.
    assert result.dataset_id == datasets[0]["id"] and result.pipeline.id == copies[0]["id"]
    assert len(result.rows()) == len(ROWS)


def _create_tasks(
    *, async_mode: bool, journal: bool
) -> Callable[[Sandbox, Path, FaultConfig], Outcome]:
    def run(sandbox: Sandbox, tmp: Path, faults: FaultConfig) -> Outcome:
        sandbox.faults = faults

        def step() -> Any:
            with _client(sandbox) as client:
                return client.tasks.create_tasks(
                    TASKS,
                    chunk_size=5,
                    async_mode=async_mode,
                    resend_missing=True,
                    raise_on_unknown=False,
                    journal=tmp / "tasks.journal" if journal else None,
                )

        return _rerun_on_crash(step) if journal else _once(step)

    return run


def _check_tasks(sandbox: Sandbox, outcome: Outcome) -> None:
    held: dict[int, list[str]] = {}
    for task in sandbox.tasks(POOL):
        held.setdefault(task["input_values"]["n"], []).append(task["id"])
    assert all(len(ids) == 1 for ids in held.values()), f"duplicates: {held}"
    result = outcome.value if outcome.error is None else outcome.error.partial_result
    assert isinstance(result, tx.types.TaskCreateResult), outcome.error
    unknown = set(result.unknown_positions())
    for position in range(len(TASKS)):
        if position in result.task_ids:
            assert held.get(position) == [result.task_ids[position]], position
        elif position in result.errors:
            assert position not in held, f"reported not created, but exists: {position}"
        else:
            assert position in unknown or outcome.error is not None, position
    # With one fault and resend_missing, everything ends created.
    assert outcome.error is None and result.ok and sorted(held) == list(range(len(TASKS)))


def _direct(sandbox: Sandbox, tmp: Path, faults: FaultConfig) -> Outcome:
    """Every single create of the public API, each sent once: each its own verdict. What
    they need is made first, before the faults are armed."""
    outcomes: dict[str, Outcome] = {}
    pipeline_file = tmp / "signs.pipeline"
    with _client(sandbox) as client:
        client.pipelines.export_to_file("pl-1", pipeline_file)
        rows_ds = client.datasets.create("prj-1", name="rows")
        upload_ds = client.datasets.create("prj-1", name="up")
        upload = client.uploads.create(upload_ds.id, fields=["url", "lang"])
        client.uploads.send(upload, ROWS)
        export_ds = client.datasets.create("prj-1", name="export")
        client.datasets.add_items(export_ds.id, ROWS)
        copy = client.pipelines.copy("pl-1", name="run-me", project_id="prj-1")
        client.pipelines.attach(copy.id, export_ds.id)
        sandbox.faults = faults
        calls: dict[str, Callable[[], Any]] = {
            "createProject": lambda: client.projects.create("p"),
            "importPipeline": lambda: client.pipelines.import_file(
                "prj-1", pipeline_file, name="imported"
            ),
            "createDataset": lambda: client.datasets.create("prj-1", name="d"),
            "copyPipeline": lambda: client.pipelines.copy("pl-1", name="c", project_id="prj-1"),
            "createTasks": lambda: client.tasks.create_task(TASKS[0]),
            "addDatasetItems": lambda: client.datasets.add_items(rows_ds.id, ROWS),
            "createUpload": lambda: client.uploads.create(upload_ds.id, fields=["url"]),
            "finalizeUpload": lambda: client.uploads.finalize(upload.id),
            "startRun": lambda: client.runs.start(copy.id),
            "createExport": lambda: client.exports.create(export_ds.id),
        }
        for op, call in calls.items():
            outcomes[op] = _once(call)
    return Outcome(value=(outcomes, upload.id))


def _named(sandbox: Sandbox, kind: str, name: str) -> int:
    return sum(1 for obj in sandbox.backend.all(kind) if obj.get("name") == name)


def _check_direct(sandbox: Sandbox, outcome: Outcome) -> None:
    outcomes, upload_id = outcome.value
    rows = next(d for d in sandbox.backend.all("dataset") if d["name"] == "rows")
    counts = {
        "createProject": _named(sandbox, "project", "p"),
        "importPipeline": _named(sandbox, "pipeline", "imported"),
        "createDataset": _named(sandbox, "dataset", "d"),
        "copyPipeline": _named(sandbox, "pipeline", "c"),
        "createTasks": len(sandbox.tasks(POOL)),
        "addDatasetItems": len(rows["_items"]) // len(ROWS),
        "createUpload": len(list(sandbox.backend.all("upload"))) - 1,
        "startRun": len(list(sandbox.backend.all("run"))),
        "createExport": len(list(sandbox.backend.all("export"))),
    }
    for op, got in outcomes.items():
        if op == "finalizeUpload":
            # A state change, not an object: done means no longer pending, and never a 409
            # for the call's own finalize.
            state = sandbox.backend.get("upload", upload_id)
            assert state is not None
            if got.error is None:
                assert state["status"] != "pending"
            else:
                assert isinstance(got.error, tx.OutcomeUnknownError), f"{op}: {got.error!r}"
            continue
        count = counts[op]
        if got.error is None:
            assert count == 1, f"{op}: reported done, the server holds {count}"
        else:
            assert isinstance(got.error, tx.OutcomeUnknownError), f"{op}: {got.error!r}"
            assert count <= 1, f"{op}: sent twice ({count})"
            assert "client." in str(got.error), f"{op}: the error says what to check"


FLOWS = [
    Flow("process-inline", _process("inline"), _check_process, journaled=True),
    Flow("process-upload", _process("upload"), _check_process, journaled=True),
    Flow("tasks-sync", _create_tasks(async_mode=False, journal=False), _check_tasks, False),
    Flow("tasks-async", _create_tasks(async_mode=True, journal=False), _check_tasks, False),
    Flow("tasks-sync-job", _create_tasks(async_mode=False, journal=True), _check_tasks, True),
    Flow("tasks-async-job", _create_tasks(async_mode=True, journal=True), _check_tasks, True),
    Flow("direct", _direct, _check_direct, journaled=False),
]


def _sent(flow: Flow, tmp: Path) -> Counter[str]:
    """The non-idempotent operations a clean run of ``flow`` sends (once armed), with their
    counts."""
    sandbox = _sandbox()
    armed = FaultConfig()
    outcome = flow.run(sandbox, tmp, armed)
    flow.check(sandbox, outcome)  # the clean run is right, or no case below means anything
    creates = non_idempotent_operations()
    # Requests since the faults were armed: assigning restarts the counts it keys on.
    return Counter(
        op
        for op, n in sandbox.runtime._fault_state.route_counts.items()
        for _ in range(n)
        if op in creates
    )


def _cases() -> Iterator[Any]:
    import tempfile

    for flow in FLOWS:
        with tempfile.TemporaryDirectory() as tmp:
            sent = _sent(flow, Path(tmp))
        for op, count in sorted(sent.items()):
            # The first request of the operation, and its last (another chunk) if it differs.
            for nth in sorted({1, count}):
                for point, fault in fault_points(crash=flow.journaled):
                    yield pytest.param(flow, op, nth, fault, id=f"{flow.name}-{op}#{nth}-{point}")


CASES = list(_cases())


@pytest.mark.parametrize(("flow", "operation", "nth", "fault"), CASES)
def test_exactly_once(
    tmp_path: Path, flow: Flow, operation: str, nth: int, fault: dict[str, Any]
) -> None:
    fault = dict(fault)
    _DIE_WAITING["armed"] = bool(fault.pop("die", False))
    sandbox = _sandbox()
    try:
        outcome = flow.run(
            sandbox,
            tmp_path,
            FaultConfig(faults=[Fault(route=operation, on_nth=(nth,), **fault)]),
        )
    finally:
        _DIE_WAITING["armed"] = False
    assert sandbox.counters.received[operation] >= nth  # the fault was met
    sandbox.apply_late(everything=True)  # what the server would still apply, eventually
    flow.check(sandbox, outcome)


def test_every_non_idempotent_operation_is_exercised() -> None:
    """A create in either snapshot that no flow sends is a create nothing here proves."""
    covered = {case.values[1] for case in CASES}
    assert non_idempotent_operations() - covered == set()


def test_the_matrix_is_derived_from_the_snapshots() -> None:
    ops = non_idempotent_operations()
    assert "createTasks" in ops and "startRun" in ops and "attachDataset" not in ops
    assert all(V2_OPERATIONS[op]["method"] == "POST" for op in ops - {"createTasks"})
    assert len(CASES) >= 300
