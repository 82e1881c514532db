"""The whole loop against the stateful local Toloka (``toloka_ext.testing.Sandbox``):
uploads to a different origin that rejects Authorization, runs that progress, exports that
download, and a client crash as each request starts (before the sandbox applied it),
followed by a resume. (``test_journal.py`` crashes after each request was applied.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.pipelines._flows import assert_exactly_once, storage_requests
from toloka_ext.testing import Fault, FaultConfig, Sandbox, SimulatedCrash

ROWS = [{"text": f"item {i}", "n": i} for i in range(7)]
THRESHOLDS = pytest.mark.parametrize(
    "upload_threshold", [16 * 1024 * 1024, 0], ids=["inline", "upload"]
)


def _project(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in ROWS[0]} for r in rows]


def _check_results(sandbox: Sandbox, rows: list[dict[str, Any]], upload_threshold: int) -> None:
    assert _project(rows) == ROWS
    assert all(r["label"] in ("yes", "no") for r in rows)
    assert_exactly_once(sandbox, ROWS)
    puts = [r for r in storage_requests(sandbox) if r.operation == "storagePut"]
    assert bool(puts) == (upload_threshold == 0)
    assert sandbox.requests_for("storageGet")  # the results came from presigned storage


@THRESHOLDS
def test_process_new_data_against_the_sandbox(upload_threshold: int, tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        result = client.process_new_data(
            "pl-1", ROWS, journal=tmp_path / "j", upload_threshold=upload_threshold
        )
    rows = result.rows()
    _check_results(sandbox, rows, upload_threshold)
    assert result.run.status == "completed"
    assert result.run.progress is not None and result.run.progress.completed == len(ROWS)
    # The labels are the sandbox's, stored in the dataset, and exported as they are.
    assert rows == sandbox.dataset_rows(result.dataset_id)
    ops = {r.operation for r in sandbox.requests}
    steps = {"createDataset", "copyPipeline", "attachDataset", "startRun", "createExport"}
    steps |= {"storagePut", "finalizeUpload"} if upload_threshold == 0 else {"addDatasetItems"}
    assert steps <= ops
    total = len(sandbox.requests)
    for n in range(1, total + 1):
        sandbox = Sandbox(
            record_requests=True,
            faults=FaultConfig(faults=[Fault("crash_before", route=None, on_nth=(n,))]),
        )
        journal = tmp_path / f"j-{upload_threshold}-{n}"
        with sandbox.client() as client:
            with pytest.raises(SimulatedCrash):
                client.process_new_data(
                    "pl-1", ROWS, journal=journal, upload_threshold=upload_threshold
                )
            crashed = sandbox.requests[-1].operation
            assert len(sandbox.requests) == n
            counters = sandbox.counters
            assert counters.applied[crashed] == counters.received[crashed] - 1  # not applied
            result = client.process_new_data(
                "pl-1", ROWS, journal=journal, upload_threshold=upload_threshold
            )
        _check_results(sandbox, result.rows(), upload_threshold)
        assert result.rows() == rows, (n, crashed)


@pytest.mark.anyio
@THRESHOLDS
async def test_async_process_new_data_against_the_sandbox(
    upload_threshold: int, tmp_path: Path
) -> None:
    sandbox = Sandbox(record_requests=True)
    async with sandbox.async_client() as client:
        result = await client.process_new_data(
            "pl-1", ROWS, journal=tmp_path / "j", upload_threshold=upload_threshold
        )
    _check_results(sandbox, result.rows(), upload_threshold)
    assert result.run.status == "completed"
