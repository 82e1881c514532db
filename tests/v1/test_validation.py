from __future__ import annotations

import copy
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toloka_ext import InvalidInputError, Task
from toloka_ext._v1._validation import normalize_chunk, normalize_task
from toloka_ext.testing import Sandbox
from toloka_ext.types import BaselineSolution, KnownSolution

from .conftest import posts, task


def _bad(**overrides: Any) -> dict[str, Any]:
    base = task(0)
    for key, value in overrides.items():
        if value is ...:
            base.pop(key)
        else:
            base[key] = value
    return base


CASES = [
    ("missing-pool", _bad(pool_id=...), "pool_id"),
    ("empty-pool", _bad(pool_id=""), "pool_id"),
    ("pool-type", _bad(pool_id=["1"]), "pool_id"),
    ("missing-input", _bad(input_values=...), "input_values"),
    ("input-type", _bad(input_values=[1]), "input_values"),
    ("overlap-0", _bad(overlap=0), "overlap"),
    ("overlap-negative", _bad(overlap=-2), "overlap"),
    ("overlap-float", _bad(overlap=1.5), "overlap"),
    ("overlap-bool", _bad(overlap=True), "overlap"),
    ("overlap-missing", _bad(overlap=...), "overlap"),
    (
        "correctness>1",
        _bad(known_solutions=[{"output_values": {"r": 1}, "correctness_weight": 1.5}]),
        "known_solutions[0].correctness_weight",
    ),
    (
        "correctness<0",
        _bad(
            known_solutions=[
                {"output_values": {}},
                {"output_values": {}, "correctness_weight": -0.1},
            ]
        ),
        "known_solutions[1].correctness_weight",
    ),
    (
        "confidence>1",
        _bad(baseline_solutions=[BaselineSolution(output_values={"r": 1}, confidence_weight=2)]),
        "baseline_solutions[0].confidence_weight",
    ),
    (
        "weight-nan",
        _bad(known_solutions=[KnownSolution(output_values={}, correctness_weight=math.nan)]),
        "known_solutions[0].correctness_weight",
    ),
    (
        "solution-no-output",
        _bad(known_solutions=[{"correctness_weight": 1}]),
        "known_solutions[0].output_values",
    ),
    ("nan-input", _bad(input_values={"x": math.nan}), "input_values.x"),
    ("inf-nested", _bad(input_values={"x": [1, {"y": math.inf}]}), "input_values.x[1].y"),
    ("set-input", _bad(input_values={"tags": {"a", "b"}}), "input_values.tags"),
    ("object-input", _bad(input_values={"o": object()}), "input_values.o"),
    ("reserved-not-strings", _bad(reserved_for=[1, 2]), "reserved_for"),
    ("infinite-not-bool", _bad(infinite_overlap="yes"), "infinite_overlap"),
    ("message-type", _bad(message_on_unknown_solution=3), "message_on_unknown_solution"),
]


@pytest.mark.parametrize(("bad", "field"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_task_is_rejected_before_anything_is_sent(
    twin: Any, sandbox: Sandbox, bad: dict[str, Any], field: str
) -> None:
    tasks = [task(i) for i in range(7)] + [bad] + [task(i) for i in range(8, 20)]
    with pytest.raises(InvalidInputError) as err:
        twin.create_tasks(tasks)
    assert (err.value.position, err.value.field) == (7, field)
    assert "position 7" in str(err.value) and field in str(err.value)
    assert sandbox.requests == []
    with pytest.raises(InvalidInputError) as single:
        twin.create_task(bad)
    assert single.value.field == field
    assert sandbox.requests == []
    assert sandbox.tasks() == []


def test_a_task_holding_itself_is_rejected_before_anything_is_sent(
    twin: Any, sandbox: Sandbox
) -> None:
    """The encoder does not look for cycles (it recurses into one): the error still names
    the position and the field, and nothing is sent."""
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["c"] = cyclic
    tasks = [task(i) for i in range(7)] + [_bad(input_values=cyclic)] + [task(8)]
    with pytest.raises(InvalidInputError, match="nested too deeply") as err:
        twin.create_tasks(tasks)
    assert err.value.position == 7
    assert (err.value.field or "").startswith("input_values.c.c.c")
    assert sandbox.requests == []


def test_missing_overlap_is_fine_with_allow_defaults_or_infinite_overlap(
    twin: Any, sandbox: Sandbox
) -> None:
    result = twin.create_tasks([_bad(overlap=...)], allow_defaults=True)
    assert result.ok
    first, *_ = posts(sandbox)
    assert first.params["allow_defaults"] == "true"
    assert "overlap" not in first.json()[0]
    assert sandbox.tasks()[0]["overlap"] == 2  # pool 42's default overlap
    result = twin.create_tasks([_bad(overlap=..., infinite_overlap=True)])
    assert result.ok
    assert "allow_defaults" not in posts(sandbox)[1].params
    assert sandbox.tasks()[1]["infinite_overlap"] is True


@pytest.mark.parametrize(
    "op_id",
    [
        "not-a-uuid",
        "123",
        str(uuid.UUID(int=0)),
        uuid.UUID("6d9e5b1a-7c1f-4c3e-ca55-2f0e8d4b1c11"),
        42,
    ],
    ids=["garbage", "number-string", "nil-uuid", "non-rfc-variant", "int"],
)
def test_operation_id_must_be_an_rfc4122_uuid(twin: Any, sandbox: Sandbox, op_id: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        twin.create_tasks([task(0)], async_mode=True, operation_id=op_id)
    assert err.value.field == "operation_id"
    assert sandbox.requests == []


def test_call_level_checks(twin: Any, sandbox: Sandbox) -> None:
    with pytest.raises(InvalidInputError, match="async_mode"):
        twin.create_tasks([task(0)], operation_id=str(uuid.uuid4()))
    with pytest.raises(InvalidInputError, match="5000"):
        twin.create_tasks([task(0)], chunk_size=5001)
    with pytest.raises(InvalidInputError, match="create_task"):
        twin.create_tasks(task(0))  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="Task or a mapping"):
        twin.create_tasks([task(0), "nope"])  # type: ignore[list-item]
    assert sandbox.requests == []


def test_generator_is_checked_chunk_by_chunk_and_reports_what_was_done(
    twin: Any, sandbox: Sandbox
) -> None:
    def gen() -> Any:
        for i in range(25):
            yield task(i) if i != 17 else _bad(overlap=0)

    with pytest.raises(InvalidInputError) as err:
        twin.create_tasks(gen(), chunk_size=10)
    assert (err.value.position, err.value.field) == (17, "overlap")
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10))
    assert len(sandbox.tasks()) == 10
    assert len(posts(sandbox)) == 1  # chunk 1 (positions 10-19) held the bad task: not sent


def test_typed_tasks_are_sent_with_all_fields(twin: Any, sandbox: Sandbox) -> None:
    def new_key(operation: str, body: Any) -> Any:
        if operation == "createTasks":
            body["queue_position"] = 1  # a key this client version does not know
        return body

    sandbox.rewrite = new_key
    typed = Task(
        "pool-1",  # a pool without an input spec: "image" is an allowed input
        {"image": "https://example.com/1.png"},
        known_solutions=[KnownSolution(output_values={"r": "OK"}, correctness_weight=0.8)],
        baseline_solutions=[BaselineSolution(output_values={"r": "OK"})],
        message_on_unknown_solution="hint",
        overlap=3,
        infinite_overlap=True,
        reserved_for=["w1"],
        unavailable_for=["w2"],
        origin_task_id="t0",
        extra={"traits_all_of": ["x"]},
    )
    created = twin.create_task(typed)
    (post,) = posts(sandbox)
    sent = post.json()
    assert sent["known_solutions"] == [{"output_values": {"r": "OK"}, "correctness_weight": 0.8}]
    assert sent["baseline_solutions"] == [{"output_values": {"r": "OK"}, "confidence_weight": 1.0}]
    assert sent["message_on_unknown_solution"] == "hint"
    assert (sent["reserved_for"], sent["unavailable_for"]) == (["w1"], ["w2"])
    assert sent["origin_task_id"] == "t0"
    assert sent["traits_all_of"] == ["x"]  # an unknown key of the task is sent as is
    assert sent["infinite_overlap"] is True and sent["overlap"] == 3
    (stored,) = sandbox.tasks("pool-1")
    assert stored["id"] == created.id and stored["known_solutions"] == sent["known_solutions"]
    assert created.known_solutions == typed.known_solutions
    assert created.baseline_solutions == [BaselineSolution(output_values={"r": "OK"})]
    assert created.extra["queue_position"] == 1  # unknown response keys are kept


# -- the whole-chunk check: the same payloads, or the same first error, as task by task -----

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=30_001),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
_fields = st.sampled_from(
    ["pool_id", "input_values", "overlap", "infinite_overlap", "origin_task_id", "extra"]
)


@st.composite
def _chunks(draw: st.DrawFn) -> list[object]:
    """Mostly usual tasks, some with one field changed, dropped or added (any type)."""
    tasks: list[object] = []
    for offset in range(draw(st.integers(min_value=0, max_value=6))):
        usual = {"pool_id": "p1", "input_values": {"n": offset}, "overlap": 1 + offset % 3}
        change = draw(st.sampled_from(["none", "none", "set", "drop", "not-a-dict", "overlap"]))
        if change == "overlap":  # its bounds, and values equal to 1 of another type
            usual["overlap"] = draw(st.sampled_from([0, 1, 30_000, 30_001, True, 1.0]))
        elif change == "set":
            usual[draw(_fields)] = draw(_values)
        elif change == "drop":
            usual.pop(draw(_fields), None)
        tasks.append(usual if change != "not-a-dict" else draw(_values))
    return tasks


def _outcome(run: Any) -> Any:
    try:
        return run()
    except InvalidInputError as exc:
        return ("error", exc.position, exc.field, str(exc))


@settings(max_examples=300, deadline=None)  # the first example pays for imports
@given(
    chunk=_chunks(),
    start=st.integers(min_value=0, max_value=10**6),
    defaults=st.booleans(),
)
def test_normalize_chunk_is_normalize_task_over_each_task(
    chunk: list[object], start: int, defaults: bool
) -> None:
    before = copy.deepcopy(chunk)
    whole = _outcome(lambda: normalize_chunk(chunk, start, allow_defaults=defaults))
    one_by_one = _outcome(
        lambda: [
            normalize_task(t, start + i, allow_defaults=defaults, check_json=False)
            for i, t in enumerate(chunk)
        ]
    )
    assert whole == one_by_one
    assert chunk == before  # the caller's tasks are read, never changed
