"""Class 1 (polling): no unknown status costs more than a bounded wait.

Generated from the snapshots: for every polled status enum, each value the layer treats as
final, renamed (the issue's ``completed`` -> ``succeeded``), must end the wait with
``ApiDriftError`` naming the operation, the field and the value, within the documented
bound (``PollPolicy.unknown_status_polls`` polls / ``unknown_status_timeout`` seconds of
the client's clock, default 10 / 120 s), never the hour-long timeout; and every value the
layer waits through, held for ever, must end in a ``PollTimeoutError`` that names it.
Served by the sandbox (``rewrite=`` answers), on virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.drift.snapshot_cases import PolledStatus, polled_statuses
from toloka_ext import ApiDriftError, PollPolicy, PollTimeoutError, Toloka
from toloka_ext._constants import DEFAULT_UNKNOWN_STATUS_POLLS, DEFAULT_UNKNOWN_STATUS_TIMEOUT
from toloka_ext._polling import Observation, StatusWatch
from toloka_ext.testing import Sandbox

POLLED = polled_statuses()
HOUR = 3600.0


def _renamed(value: str) -> str:
    return f"{value}_v2" if value.islower() else f"{value}_V2"


# ------------------------------------------------------------------ what each poll drives


def _started(sandbox: Sandbox, op: str) -> Callable[[Toloka, float], object]:
    """Start the object ``op`` polls; return the wait on it (``timeout`` seconds)."""
    if op == "getOperation":
        with sandbox.http_client() as http:
            answer = http.post(
                f"{sandbox.v1_base_url}/tasks",
                params={"async_mode": "true", "allow_defaults": "true"},
                json=[{"pool_id": "pool-2", "input_values": {"n": 1}}],
                headers=sandbox.auth_headers("v1"),
            )
        op_id = answer.json()["id"]
        return lambda c, t: c.operations.wait(op_id, timeout=t)
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="polled")
        client.datasets.add_items(dataset.id, [{"n": 1}, {"n": 2}])
        if op == "getRun":
            client.pipelines.attach("pl-1", dataset.id)
            run_id = client.runs.start("pl-1").id
            return lambda c, t: c.runs.watch(run_id, timeout=t)
        if op == "getExport":
            export_id = client.exports.create(dataset.id).id
            return lambda c, t: c.exports.wait(export_id, timeout=t)
        if op == "getUpload":
            upload = client.uploads.create(dataset.id, fields=["n"])
            client.uploads.send(upload, [{"n": 3}], fields=["n"])
            client.uploads.finalize(upload.id)
            return lambda c, t: c.uploads.wait(upload.id, timeout=t)
    raise AssertionError(f"no driver for {op}")


DRIVEN = {"getExport", "getOperation", "getRun", "getUpload"}


def _always(op: str, status: str) -> Callable[[str, Any], Any]:
    """Every answer of ``op`` carries ``status``, whatever the object's real state."""

    def rewrite(operation: str, body: Any) -> Any:
        if operation == op:
            body["status"] = status
        return body

    return rewrite


def _cases() -> list[Any]:
    return [pytest.param(p, v, id=f"{p.operation}:{v}") for p in POLLED for v in p.final]


def _waiting_cases() -> list[Any]:
    return [pytest.param(p, p.waiting[-1], id=f"{p.operation}:{p.waiting[-1]}") for p in POLLED]


def test_every_polled_status_enum_has_a_driver_and_final_values() -> None:
    assert {p.operation for p in POLLED} == DRIVEN
    for polled in POLLED:
        assert polled.final and polled.waiting, polled  # the layer ends on some, waits on others


# ------------------------------------------------------------------ renamed final values


@pytest.mark.parametrize(("polled", "value"), _cases())
def test_a_renamed_final_status_is_drift_within_the_bound(polled: PolledStatus, value: str) -> None:
    sandbox = Sandbox(record_requests=True, upload_polls=10**6, export_polls=10**6)
    sandbox.configure(run_polls=10**6, operation_polls=10**6)
    wait = _started(sandbox, polled.operation)
    renamed = _renamed(value)
    sandbox.rewrite = _always(polled.operation, renamed)
    del sandbox.requests[:]
    start = sandbox.client_time.slept
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        wait(client, HOUR)
    err = info.value
    assert (err.operation, err.field) == (polled.operation, "status")
    assert repr(renamed) in str(err) and polled.operation in str(err)
    # The bound: never more polls nor more (virtual) time than documented, not the hour.
    polls = len(sandbox.requests_for(polled.operation))
    assert 1 <= polls <= DEFAULT_UNKNOWN_STATUS_POLLS
    assert sandbox.client_time.slept - start <= DEFAULT_UNKNOWN_STATUS_TIMEOUT


@pytest.mark.parametrize("polled", POLLED, ids=[p.operation for p in POLLED])
def test_a_renamed_status_lasts_at_most_the_policys_bound(polled: PolledStatus) -> None:
    """The bound follows the policy: 3 polls here; turning both bounds off waits to the
    timeout (and then names the last state)."""
    sandbox = Sandbox(record_requests=True, upload_polls=10**6, export_polls=10**6)
    sandbox.configure(run_polls=10**6, operation_polls=10**6)
    wait = _started(sandbox, polled.operation)
    renamed = _renamed(polled.waiting[-1])
    sandbox.rewrite = _always(polled.operation, renamed)
    del sandbox.requests[:]
    strict = PollPolicy(interval=5, backoff_factor=1, unknown_status_polls=3)
    with sandbox.client(poll_policy=strict) as client, pytest.raises(ApiDriftError):
        wait(client, HOUR)
    assert len(sandbox.requests_for(polled.operation)) == 3
    del sandbox.requests[:]
    patient = PollPolicy(
        interval=5, backoff_factor=1, unknown_status_polls=None, unknown_status_timeout=None
    )
    with sandbox.client(poll_policy=patient) as client, pytest.raises(PollTimeoutError) as info:
        wait(client, 60)
    assert len(sandbox.requests_for(polled.operation)) == 13  # 0, 5, ... 60 s
    assert repr(renamed) in str(info.value)


# ------------------------------------------------------------------ a known status for ever


@pytest.mark.parametrize(("polled", "value"), _waiting_cases())
def test_a_poll_timeout_names_the_last_state_seen(polled: PolledStatus, value: str) -> None:
    sandbox = Sandbox(record_requests=True, upload_polls=10**6, export_polls=10**6)
    sandbox.configure(run_polls=10**6, operation_polls=10**6)
    wait = _started(sandbox, polled.operation)
    sandbox.rewrite = _always(polled.operation, value)
    with sandbox.client() as client, pytest.raises(PollTimeoutError) as info:
        wait(client, 30)
    assert f"status {value!r}" in str(info.value) and "last seen" in str(info.value)
    assert getattr(info.value.obj, "status", None) == value


def test_the_async_client_is_bounded_the_same_way() -> None:
    polled = next(p for p in POLLED if p.operation == "getRun")
    sandbox = Sandbox(record_requests=True, run_polls=10**6)
    _started(sandbox, "getRun")
    with sandbox.client() as client:
        run_id = next(iter(client.runs.list("pl-1"))).id
    sandbox.rewrite = _always("getRun", _renamed(polled.final[0]))

    async def main() -> None:
        async with sandbox.async_client() as client:
            await client.runs.watch(run_id, timeout=HOUR)

    with pytest.raises(ApiDriftError) as info:
        asyncio.run(main())
    assert info.value.operation == "getRun"
    assert sandbox.client_time.slept <= DEFAULT_UNKNOWN_STATUS_TIMEOUT


# ------------------------------------------------------------------ the bound itself (pure)


def _seen(value: str, *, known: bool = False, done: bool = False) -> Observation:
    return Observation("getRun", "status", value, known, f"run r status {value!r}", "v", done)


def test_the_watch_counts_polls_in_a_row_and_resets_on_a_known_status() -> None:
    watch = StatusWatch(PollPolicy(unknown_status_polls=3, unknown_status_timeout=None))
    assert watch.see(_seen("x"), 0) is None and watch.see(_seen("x"), 1) is None
    assert watch.see(_seen("running", known=True), 2) is None  # back to a known status
    assert watch.see(_seen("x"), 3) is None and watch.see(_seen("y"), 4) is None
    err = watch.see(_seen("y"), 5)
    assert err is not None and "'y' (first 'x')" in err.detail and "3 polls" in err.detail


def test_the_watch_ends_at_the_time_bound_and_cuts_the_wait_to_it() -> None:
    watch = StatusWatch(PollPolicy(unknown_status_polls=None, unknown_status_timeout=100))
    assert watch.time_left(0) is None
    assert watch.see(_seen("x"), 10) is None
    assert watch.time_left(40) == pytest.approx(70)
    assert watch.see(_seen("x"), 109.9) is None
    err = watch.see(_seen("x"), 110)
    assert err is not None and "unknown_status_timeout 100" in err.detail


def test_work_done_under_an_unknown_status_ends_on_the_second_poll() -> None:
    watch = StatusWatch(PollPolicy(unknown_status_polls=None, unknown_status_timeout=None))
    assert watch.see(_seen("x", done=True), 0) is None
    assert watch.see(_seen("x", done=False), 1) is None  # not in a row
    assert watch.see(_seen("x", done=True), 2) is None
    err = watch.see(_seen("x", done=True), 3)
    assert err is not None and "progress says its work is done" in err.detail


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"unknown_status_polls": 0}, "unknown_status_polls"),
        ({"unknown_status_polls": 2.5}, "unknown_status_polls"),
        ({"unknown_status_polls": True}, "unknown_status_polls"),
        ({"unknown_status_timeout": -1}, "unknown_status_timeout"),
        ({"unknown_status_timeout": "60"}, "unknown_status_timeout"),
    ],
)
def test_bad_bounds_are_refused(kwargs: dict[str, Any], field: str) -> None:
    from toloka_ext import InvalidInputError

    with pytest.raises(InvalidInputError) as info:
        PollPolicy(**kwargs)
    assert info.value.field == field
