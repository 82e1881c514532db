"""A ``create_tasks`` job with ``journal=``: whatever stops a run, the next creates nothing
twice and reports what the server holds (in-process: crashes, lost answers, late applies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import toloka_ext as tx
from toloka_ext.testing import Fault, FaultConfig, ManualClock, Sandbox, SimulatedCrash

POOL = "pool-1"
N = 23


def _tasks(n: int = N, *, tag: str = "") -> list[dict[str, Any]]:
    return [{"pool_id": POOL, "input_values": {"n": i, "tag": tag}, "overlap": 1} for i in range(n)]


def _sandbox(*faults: Fault) -> Sandbox:
    return Sandbox(
        clock=ManualClock(),
        operation_polls=1,
        record_requests=True,
        faults=FaultConfig(faults=faults),
    )


def _server_ids(sandbox: Sandbox) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for t in sandbox.tasks(POOL):
        out.setdefault(t["input_values"]["n"], []).append(t["id"])
    return out


def _assert_exactly_once(sandbox: Sandbox, result: tx.types.TaskCreateResult, n: int = N) -> None:
    sandbox.apply_late(everything=True)  # what the server would still apply, eventually
    held = _server_ids(sandbox)
    assert sorted(held) == list(range(n)) and all(len(v) == 1 for v in held.values()), held
    assert result.ok and result.total == n
    assert result.task_ids == {p: ids[0] for p, ids in held.items()}


def _run(sandbox: Sandbox, journal: Path, tasks: Any = None, **kw: Any) -> Any:
    with sandbox.client() as client:
        return client.tasks.create_tasks(
            _tasks() if tasks is None else tasks, chunk_size=5, journal=journal, **kw
        )


@pytest.mark.parametrize("async_mode", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("when", ["crash_before", "crash_after"])
@pytest.mark.parametrize("nth", [1, 3, 5])
def test_a_run_killed_at_any_request_is_finished_exactly_once(
    tmp_path: Path, async_mode: bool, when: str, nth: int
) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox(Fault(when, route="createTasks", on_nth=(nth,)))
    with pytest.raises(SimulatedCrash):
        _run(sandbox, journal, async_mode=async_mode)
    result = _run(sandbox, journal, async_mode=async_mode)
    _assert_exactly_once(sandbox, result)


@pytest.mark.parametrize("async_mode", [False, True], ids=["sync", "async"])
def test_a_request_applied_late_is_never_sent_twice(tmp_path: Path, async_mode: bool) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox(Fault("late_apply", route="createTasks", on_nth=(2,), delay=200))
    result = _run(sandbox, journal, async_mode=async_mode)
    _assert_exactly_once(sandbox, result)


def test_a_crash_after_a_late_request_waits_for_it_on_the_rerun(tmp_path: Path) -> None:
    """The run dies with a request held by a proxy; the rerun must not call it missing."""
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox(
        Fault("late_apply", route="createTasks", on_nth=(2,), delay=250),
        Fault("crash_before", route="createTasks", on_nth=(3,)),
    )
    with pytest.raises(SimulatedCrash):  # before the held request could be waited for
        _run(sandbox, journal)
    result = _run(sandbox, journal)
    _assert_exactly_once(sandbox, result)


def test_a_finished_job_sends_nothing_and_returns_its_result(tmp_path: Path) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox()
    first = _run(sandbox, journal)
    sent = len(sandbox.requests)
    again = _run(sandbox, journal)
    assert len(sandbox.requests) == sent  # not one request
    assert again.task_ids == first.task_ids and again.total == N and again.ok
    with pytest.raises(tx.JournalMismatchError) as info:
        _run(sandbox, journal, tasks=_tasks(tag="other"))
    assert info.value.parameter == "tasks" and "positions 0..4" in str(info.value)
    with pytest.raises(tx.JournalMismatchError, match="request 4 .positions 20..23"):
        _run(sandbox, journal, tasks=_tasks(N + 1))
    with pytest.raises(tx.JournalMismatchError, match="another number of tasks"):
        _run(sandbox, journal, tasks=_tasks(20))
    assert len(sandbox.tasks(POOL)) == N


@pytest.mark.parametrize(
    ("option", "value"),
    [("chunk_size", 4), ("async_mode", True), ("allow_defaults", True), ("open_pool", True)],
)
def test_a_rerun_with_other_options_is_another_job(
    tmp_path: Path, option: str, value: object
) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox(Fault("crash_after", route="createTasks", on_nth=(2,)))
    with pytest.raises(SimulatedCrash):
        _run(sandbox, journal)
    kwargs: dict[str, Any] = {option: value}
    if option == "chunk_size":
        with sandbox.client() as client, pytest.raises(tx.JournalMismatchError) as info:
            client.tasks.create_tasks(_tasks(), journal=journal, **kwargs)
    else:
        with pytest.raises(tx.JournalMismatchError) as info:
            _run(sandbox, journal, **kwargs)
    assert info.value.parameter == option and option in str(info.value)
    assert len(sandbox.tasks(POOL)) == 10  # nothing more sent


def test_the_jobs_operation_ids_are_its_own_run_after_run(tmp_path: Path) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox(Fault("crash_after", route="createTasks", on_nth=(3,)))
    with pytest.raises(SimulatedCrash):
        _run(sandbox, journal, async_mode=True)
    _run(sandbox, journal, async_mode=True)
    ids = [r.params["operation_id"] for r in sandbox.requests_for("createTasks")]
    # Three operations were submitted (the third applied, its answer lost with the process)
    # and none finished: the rerun asks for them again with the same ids (409 for those
    # that exist) instead of creating other operations.
    assert ids[3:6] == ids[:3] and len(ids) == 8 and len(set(ids)) == 5
    assert sandbox.counters.applied["createTasks"] == 5
    first = json.loads(journal.read_text().splitlines()[0])
    assert first["kind"] == "params" and first["job_id"]


def test_a_user_operation_id_is_the_jobs_id(tmp_path: Path) -> None:
    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox()
    op = "6d9e5b1a-7c1f-4c3e-9a55-2f0e8d4b1c11"
    _run(sandbox, journal, async_mode=True, operation_id=op)
    with pytest.raises(tx.JournalMismatchError) as info:
        _run(sandbox, journal, async_mode=True, operation_id="6d9e5b1a-7c1f-4c3e-9a55-2f0e8d4b1c12")
    assert info.value.parameter == "operation_id"


def test_a_failed_journal_write_stops_before_the_next_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import toloka_ext._journal as journal_module

    journal = tmp_path / "tasks.journal"
    sandbox = _sandbox()
    real = journal_module._append
    writes = {"n": 0}

    def full_disk(path: Path, line: bytes) -> None:
        writes["n"] += 1
        if writes["n"] == 6:  # floor, intent 0, done 0, intent 1, done 1: the sixth fails
            raise OSError(28, "No space left on device")
        real(path, line)

    monkeypatch.setattr(journal_module, "_append", full_disk)
    with pytest.raises(tx.JournalWriteError) as info:
        _run(sandbox, journal)
    err = info.value
    assert err.step == "req.2" and err.sent is False and "No space left" in str(err)
    assert "was not sent" in str(err)
    assert len(sandbox.tasks(POOL)) == 10  # requests 0 and 1 only
    monkeypatch.setattr(journal_module, "_append", real)
    result = _run(sandbox, journal)
    _assert_exactly_once(sandbox, result)
