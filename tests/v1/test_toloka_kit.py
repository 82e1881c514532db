"""The official SDK against the served sandbox: toloka-kit's task and operation flows
(``toloka_kit_flows.py``) run as its users run them, and what they get back is what the
sandbox stored.

toloka-kit runs in a virtualenv of its own, ``.venv-toloka-kit/`` at the repository root
(gitignored), made on first use from ``toloka-kit-requirements.txt`` (pip reaches PyPI for
that, as ``make install`` does) and reused while the pins are unchanged. The sandbox is
served on 127.0.0.1 like any other test's.

Where toloka-kit and the sandbox disagreed, Toloka's published v1 document decided: its
``OperationLog.input`` "is copied from the input data passed when creating the operation",
so the log echoes each task as sent, keys the API does not know included. toloka-kit tags
every task with ``__item_idx`` and matches log entries back by it; before the sandbox
echoed that key, toloka-kit's default ``create_tasks`` got 0 of 110 tasks back.
"""

from __future__ import annotations

import json
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toloka_ext.testing import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TK_VENV = ROOT / ".venv-toloka-kit"
TK_PYTHON = TK_VENV / "bin" / "python"
PINS = HERE / "toloka-kit-requirements.txt"
FLOWS = HERE / "toloka_kit_flows.py"
POOL = "pool-kit"
# toloka-kit sends "ApiKey <key>" for a key shaped like Toloka's (three dot-separated parts,
# the first 22-24 characters long) and "OAuth <token>" otherwise: the key is shaped so.
API_KEY = "AQAAAAAAAAAAAAAAAAAAAAAA.sandbox.toloka-kit"


def _toloka_kit_python() -> Path:
    stamp = TK_VENV / ".pins"
    pins = PINS.read_text()
    if TK_PYTHON.exists() and stamp.exists() and stamp.read_text() == pins:
        return TK_PYTHON
    venv.EnvBuilder(with_pip=True, clear=True).create(TK_VENV)
    pip = subprocess.run(
        [str(TK_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        + ["--no-warn-script-location", "-r", str(PINS)],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert pip.returncode == 0, f"cannot install toloka-kit into {TK_VENV}:\n{pip.stderr}"
    stamp.write_text(pins)
    return TK_PYTHON


@pytest.fixture(scope="module")
def served() -> Iterator[SandboxServer]:
    pools = {POOL: {"default_overlap": None}}
    with SandboxServer(api_key=API_KEY, v1_pools=pools) as server:
        yield server


@pytest.fixture(scope="module")
def report(served: SandboxServer) -> dict[str, Any]:
    python = _toloka_kit_python()
    run = subprocess.run(
        [str(python), str(FLOWS), served.url, API_KEY, POOL],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    data: dict[str, Any] = json.loads(run.stdout)
    return data


def _image(i: int) -> dict[str, str]:
    return {"image": f"https://example.com/{i}.png"}


def test_default_create_tasks_gets_every_task_back_by_index(report: dict[str, Any]) -> None:
    default = report["default"]
    assert default["validation_errors"] == {}
    items = default["items"]
    assert sorted(items, key=int) == [str(i) for i in range(110)]
    assert all(items[str(i)]["input_values"] == _image(i) for i in range(110))
    assert len({t["id"] for t in items.values()}) == 110
    assert {t["overlap"] for t in items.values()} == {1}


def test_default_create_with_skip_invalid_items_names_the_invalid_index(
    report: dict[str, Any],
) -> None:
    skipped = report["skip_invalid"]
    assert {k: t["input_values"] for k, t in skipped["items"].items()} == {
        "0": _image(200),
        "2": _image(201),
        "3": _image(202),
    }
    assert list(skipped["validation_errors"]) == ["1"]
    assert skipped["validation_errors"]["1"]["overlap"]["code"] == "VALUE_REQUIRED"
    # Nothing valid at all: toloka-kit raises, as its sync mode does.
    assert report["all_invalid"] == {"code": "VALIDATION_ERROR", "payload": ["0"]}


def test_sync_create_tasks(report: dict[str, Any]) -> None:
    items = report["sync"]["items"]
    assert sorted(items, key=int) == [str(i) for i in range(40)]
    assert all(items[str(i)]["input_values"] == _image(300 + i) for i in range(40))


def test_get_tasks_pages_through_everything_the_sandbox_stored(
    report: dict[str, Any], served: SandboxServer
) -> None:
    with served.client() as client:
        stored = [t.id for t in client.tasks.list(pool_id=POOL, limit=300)]
    assert len(stored) == 110 + 3 + 40
    listed = report["get_tasks"]
    assert listed["ids"] == stored  # every task once, in id order
    assert listed["pages"] == 4  # 50 a page: 50, 50, 50, 3


def test_get_task_and_the_patches(report: dict[str, Any]) -> None:
    first = report["default"]["items"]["0"]
    assert report["get_task"] == first
    patched = report["patch_task"]
    assert (patched["id"], patched["overlap"], patched["remaining_overlap"]) == (first["id"], 5, 5)
    infinite = report["patch_task_infinite"]
    assert (infinite["infinite_overlap"], infinite["overlap"]) == (True, None)
    stopped = report["patch_task_overlap_or_min"]
    assert (stopped["infinite_overlap"], stopped["overlap"]) == (False, 0)
    assert stopped["input_values"] == _image(0)


def test_get_operations_and_the_log(report: dict[str, Any]) -> None:
    ops = report["get_operations"]
    assert {op["type"] for op in ops} == {"TasksCreateOperation"}
    assert {op["status"] for op in ops} == {"SUCCESS"}
    totals = sorted(op["details"]["total_count"] for op in ops)
    assert totals == [4, 110]  # the default create and the one with an invalid task
    skip = next(op for op in ops if op["details"]["total_count"] == 4)
    assert skip["parameters"]["skip_invalid_items"] is True
    assert skip["details"]["not_valid_count"] == 1
    (failed,) = report["get_operations_fail"]
    assert failed["details"]["not_valid_count"] == 1

    mine = report["get_operation"]
    assert mine["status"] == "SUCCESS" and mine["progress"] == 100
    log = report["get_operation_log"]
    assert [e["type"] for e in log] == ["TASK_CREATE"] * 110 and all(e["success"] for e in log)
    items = report["default"]["items"]
    for entry in log:
        index = entry["input"]["__item_idx"]  # echoed as sent
        assert entry["input"]["input_values"] == _image(int(index))
        assert entry["output"] == {"task_id": items[index]["id"]}
