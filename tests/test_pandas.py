"""pandas: DataFrames in wherever rows or tasks go, ``to_pandas()`` out, no import unless used."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest

from toloka_ext import InvalidInputError, _pandas
from toloka_ext._pandas import iter_frame_rows
from toloka_ext.testing import Sandbox
from toloka_ext.types import FieldError, TaskCreateResult


def _mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "url": ["https://x/1.jpg", None, "https://x/3.jpg"],
            "score": [0.5, np.nan, 2.0],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "flag": [True, False, True],
            "when": pd.to_datetime(["2024-01-02T03:04:05", None, "2024-05-06"], format="ISO8601"),
            "count": pd.array([7, None, 9], dtype="Int64"),
            "tags": [["a", np.str_("b")], [], np.array([1, 2])],
            "meta": [{"k": np.int64(4), "f": np.float32(0.5)}, None, {"nested": [np.nan]}],
        },
        index=["r0", "r1", "r2"],
    )


EXPECTED_ROWS = [
    {
        "url": "https://x/1.jpg",
        "score": 0.5,
        "n": 1,
        "flag": True,
        "when": "2024-01-02T03:04:05",
        "count": 7,
        "tags": ["a", "b"],
        "meta": {"k": 4, "f": 0.5},
    },
    {
        "url": None,
        "score": None,
        "n": 2,
        "flag": False,
        "when": None,
        "count": None,
        "tags": [],
        "meta": None,
    },
    {
        "url": "https://x/3.jpg",
        "score": 2.0,
        "n": 3,
        "flag": True,
        "when": "2024-05-06T00:00:00",
        "count": 9,
        "tags": [1, 2],
        "meta": {"nested": [None]},
    },
]


# --------------------------------------------------------------------------- v2 rows in


def _without_label(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row less the label the sandbox's run wrote into it."""
    return {k: v for k, v in row.items() if k != "label"}


def test_process_new_data_takes_a_dataframe(toloka_sandbox: Sandbox) -> None:
    with toloka_sandbox.client() as client:
        result = client.process_new_data("pl-1", _mixed_frame())
    stored = [_without_label(r) for r in toloka_sandbox.dataset_rows(result.dataset_id)]
    assert stored == EXPECTED_ROWS  # NaN, None, NaT, pd.NA -> null; numpy -> Python; ISO dates
    assert [r["url"] for r in result.rows()] == [r["url"] for r in EXPECTED_ROWS]


def test_datasets_add_items_takes_a_dataframe(toloka_sandbox: Sandbox) -> None:
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(25)], "n": range(25)})
    with toloka_sandbox.client() as client:
        ds = client.datasets.create("prj-1", name="frame")
        summary = client.datasets.add_items(ds.id, frame)
    assert summary.rows == 25
    assert toloka_sandbox.dataset_rows(ds.id) == frame.to_dict("records")


def test_the_async_client_takes_a_dataframe(toloka_sandbox: Sandbox) -> None:
    async def main() -> Any:
        async with toloka_sandbox.async_client() as client:
            return await client.process_new_data("pl-1", pd.DataFrame({"url": ["a", "b"]}))

    result = asyncio.run(main())
    rows = toloka_sandbox.dataset_rows(result.dataset_id)
    assert [_without_label(r) for r in rows] == [{"url": "a"}, {"url": "b"}]


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


def test_cells_become_exact_python_json_values() -> None:
    rows = list(iter_frame_rows(_mixed_frame(), drop_missing=False))
    assert rows == EXPECTED_ROWS
    # Not numpy scalars that merely compare equal: the JSON encoder would refuse those.
    assert [_types(r) for r in rows] == [_types(r) for r in EXPECTED_ROWS]


@pytest.mark.parametrize("chunk_rows", [1, 3, 4, 10_000])
def test_rows_are_the_same_whatever_the_block_size(chunk_rows: int) -> None:
    frame = pd.DataFrame({"i": range(10), "f": [float(i) if i % 3 else np.nan for i in range(10)]})
    rows = list(iter_frame_rows(frame, drop_missing=False, chunk_rows=chunk_rows))
    assert rows == [{"i": i, "f": float(i) if i % 3 else None} for i in range(10)]


def test_rows_are_converted_lazily_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[int] = []
    column = _pandas._Converter.column

    def counting(self: Any, series: Any, gap: Any) -> tuple[list[Any], bool]:
        converted.append(len(series))
        return column(self, series, gap)

    monkeypatch.setattr(_pandas._Converter, "column", counting)
    rows = iter_frame_rows(pd.DataFrame({"i": range(100_000)}), drop_missing=False, chunk_rows=1000)
    assert next(rows) == {"i": 0}
    assert converted == [1000]  # one block of one column, not the frame
    assert [next(rows) for _ in range(1000)][-1] == {"i": 1000}
    assert converted == [1000, 1000]


@pytest.mark.parametrize(
    ("column", "values", "position", "field", "reason"),
    [
        ("score", [1.0, np.inf], 1, "score", "inf is not a valid JSON number"),
        ("wait", pd.to_timedelta([1, 2], unit="s"), 0, "wait", "Timedelta"),
        ("meta", [{"a": 1}, {"a": {1, 2}}], 1, "meta.a", "set values cannot be sent as JSON"),
        ("meta", [{"a": [1, float("-inf")]}, {}], 0, "meta.a[1]", "-inf"),
        ("meta", [{1: "x"}, {}], 0, "meta", "mapping key 1 is not a string"),
        ("raw", [b"x", b"y"], 0, "raw", "bytes"),
    ],
)
def test_an_unconvertible_value_names_column_and_row(
    toloka_sandbox: Sandbox,
    column: str,
    values: Any,
    position: int,
    field: str,
    reason: str,
) -> None:
    frame = pd.DataFrame({"url": ["a", "b"], column: values}, index=[10, 11])
    with toloka_sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.process_new_data("pl-1", frame)
    assert info.value.position == position and info.value.field == field
    assert reason in str(info.value)
    assert f"column {column!r}, row {position}, index label {10 + position}" in str(info.value)
    assert toloka_sandbox.requests == []  # refused before any request


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({0: ["a"]}), "column names must be strings"),
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "columns given twice: a"),
        (pd.DataFrame(index=[0, 1]), "no columns"),
    ],
)
def test_frames_that_cannot_be_rows(frame: pd.DataFrame, message: str) -> None:
    with Sandbox(record_requests=True) as sandbox, sandbox.client() as client:
        with pytest.raises(InvalidInputError, match=message):
            client.process_new_data("pl-1", frame)
        assert sandbox.requests == []


# --------------------------------------------------------------------------- v1 tasks in


def test_create_tasks_takes_a_dataframe_one_task_a_row(toloka_sandbox: Sandbox) -> None:
    frame = pd.DataFrame(
        {
            "pool_id": ["pool-2", "pool-2", "pool-1"],
            "input_values": [{"url": "a", "n": np.int64(1)}, {"url": "b"}, {"url": "c"}],
            # a gap turns the column into floats: whole ones are sent as integers, the gap
            # leaves overlap out (pool-2's default overlap then applies)
            "overlap": [2.0, np.nan, 1.0],
        }
    )
    with toloka_sandbox.client() as client:
        result = client.tasks.create_tasks(frame, allow_defaults=True)
    assert result.ok and result.total == 3
    sent = [r.json() for r in toloka_sandbox.requests_for("createTasks")]
    assert sent == [
        [
            {"pool_id": "pool-2", "input_values": {"url": "a", "n": 1}, "overlap": 2},
            {"pool_id": "pool-2", "input_values": {"url": "b"}},
            {"pool_id": "pool-1", "input_values": {"url": "c"}, "overlap": 1},
        ]
    ]
    assert len(toloka_sandbox.tasks("pool-2")) == 2


def test_create_tasks_takes_input_values_dot_key_columns(toloka_sandbox: Sandbox) -> None:
    inputs = pd.DataFrame({"url": ["a", "b", None], "n": [1, 2, 3]})
    frame = inputs.add_prefix("input_values.").assign(pool_id="pool-1", overlap=1)
    result = asyncio.run(_create(toloka_sandbox, frame))
    assert result.ok
    assert [t["input_values"] for t in toloka_sandbox.tasks("pool-1")] == [
        {"url": "a", "n": 1},
        {"url": "b", "n": 2},
        {"n": 3},  # a missing cell leaves its key out of a v1 task
    ]


async def _create(sandbox: Sandbox, frame: pd.DataFrame) -> TaskCreateResult:
    async with sandbox.async_client() as client:
        return await client.tasks.create_tasks(frame, async_mode=True)


def test_a_dataframe_is_checked_whole_before_any_task_is_sent(toloka_sandbox: Sandbox) -> None:
    frame = pd.DataFrame(
        {"pool_id": "pool-1", "input_values": [{"url": str(i)} for i in range(12)], "overlap": 1}
    )
    frame.loc[11, "overlap"] = 0  # the last row is bad
    with toloka_sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.tasks.create_tasks(frame, chunk_size=5)
    assert (info.value.position, info.value.field) == (11, "overlap")
    assert toloka_sandbox.requests_for("createTasks") == []


def test_a_column_both_whole_and_dotted_is_refused(toloka_sandbox: Sandbox) -> None:
    frame = pd.DataFrame(
        {"pool_id": ["pool-1"], "input_values": [{"a": 1}], "input_values.b": [2], "overlap": 1}
    )
    with toloka_sandbox.client() as client, pytest.raises(InvalidInputError, match="both whole"):
        client.tasks.create_tasks(frame)


# --------------------------------------------------------------------------- results out


def test_task_create_result_to_pandas_one_row_per_position(toloka_sandbox: Sandbox) -> None:
    toloka_sandbox.add_pool("spec", input_spec={"url": "string"})
    frame = pd.DataFrame(
        {
            "pool_id": "spec",
            "input_values": [{"url": "a"}, {"url": 5}, {"url": "c"}, {"other": "d"}],
            "overlap": 1,
        }
    )
    with toloka_sandbox.client() as client:
        result = client.tasks.create_tasks(frame, skip_invalid_items=True)
    out = result.to_pandas()
    assert list(out.columns) == [
        "position",
        "status",
        "task_id",
        "unknown",
        "error_field",
        "error_code",
        "error_message",
    ]
    assert out["position"].tolist() == [0, 1, 2, 3]
    assert out["status"].tolist() == ["created", "failed", "created", "failed"]
    assert out["task_id"].tolist()[0] == result.task_ids[0]
    assert out["task_id"].isna().tolist() == [False, True, False, True]
    assert out["error_code"].tolist()[1] == result.errors[1]["input_values.url"].code
    assert out["error_field"].tolist()[1] == "input_values.url"
    assert not out["unknown"].any()


def test_task_create_result_to_pandas_unknown_and_not_processed() -> None:
    result = TaskCreateResult(
        total=6,
        task_ids={0: "t0"},
        errors={
            1: {
                "overlap": FieldError(code="BAD", message="no"),
                "pool_id": FieldError(code="X", message="y"),
            }
        },
        unknown=[range(2, 4)],
    )
    out = result.to_pandas()
    assert out["status"].tolist() == [
        "created",
        "failed",
        "unknown",
        "unknown",
        "not_processed",
        "not_processed",
    ]
    assert out["unknown"].tolist() == [False, False, True, True, False, False]
    assert out.loc[1, ["error_field", "error_code", "error_message"]].tolist() == [
        "overlap; pool_id",
        "BAD; X",
        "no; y",
    ]
    assert TaskCreateResult().to_pandas().shape == (0, 7)


def test_process_result_to_pandas_is_its_rows(toloka_sandbox: Sandbox) -> None:
    rows = [{"url": f"https://x/{i}.jpg", "n": i} for i in range(5)]
    with toloka_sandbox.client() as client:
        result = client.process_new_data("pl-1", rows, export_fields=["url", "n", "label"])
    frame = result.to_pandas()
    assert list(frame.columns) == ["url", "n", "label"]
    assert frame.to_dict("records") == result.rows()


def test_process_result_to_pandas_for_csv_keeps_strings(toloka_sandbox: Sandbox) -> None:
    with toloka_sandbox.client() as client:
        result = client.process_new_data("pl-1", [{"n": 1}, {"n": 2}], export_format="csv")
    assert result.to_pandas().to_dict("records") == result.rows()


# --------------------------------------------------------------------------- no import unless used


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_using_the_client_without_dataframes_never_imports_pandas() -> None:
    result = _run(
        """
        import sys
        import toloka_ext, toloka_ext.types
        from toloka_ext.testing import Sandbox

        sandbox = Sandbox()
        with sandbox.client() as client:
            result = client.process_new_data("pl-1", [{"url": "a"}])
            result.rows()
            created = client.tasks.create_tasks(
                [{"pool_id": "pool-1", "input_values": {"url": "a"}, "overlap": 1}]
            )
        assert created.ok
        loaded = sorted(m for m in ("pandas", "numpy") if m in sys.modules)
        print("loaded:", loaded)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded: []"


def test_without_pandas_to_pandas_says_what_to_install() -> None:
    result = _run(
        """
        import sys
        sys.modules["pandas"] = None  # as in an install without the pandas extra
        from toloka_ext.testing import Sandbox
        from toloka_ext.types import TaskCreateResult

        with Sandbox().client() as client:  # rows and tasks still work without pandas
            done = client.process_new_data("pl-1", [{"url": "a"}])
        for what in (TaskCreateResult(), done):
            try:
                what.to_pandas()
            except ImportError as exc:
                print(type(exc).__name__, exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ModuleNotFoundError TaskCreateResult.to_pandas() needs pandas: "
        "pip install 'toloka-ext[pandas]'",
        "ModuleNotFoundError to_pandas() needs pandas: pip install 'toloka-ext[pandas]'",
    ]


def test_datetimes_with_a_zone_keep_it() -> None:
    frame = pd.DataFrame(
        {
            "at": pd.to_datetime(["2024-01-01T10:00:00+02:00"], utc=True),
            "day": [dt.date(2024, 1, 2)],
        }
    )
    assert list(iter_frame_rows(frame, drop_missing=False)) == [
        {"at": "2024-01-01T08:00:00+00:00", "day": "2024-01-02"}
    ]
