"""Pure logic of ``create_tasks`` shared by the sync and async clients (no I/O here)."""

from __future__ import annotations

import functools
import json
import operator
import tempfile
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, TypeVar, cast

import attrs
import httpx

from .. import _json
from .._constants import V1_MAX_TASKS_PER_SYNC_REQUEST
from .._exceptions import (
    APIError,
    APIStatusError,
    InvalidInputError,
    OutcomeUnknownError,
    TolokaError,
)
from ._chunking import Chunk
from ._models import (
    FieldError,
    Operation,
    OperationLogItem,
    Task,
    TaskCreateResult,
    _drift,
    parse_field_errors,
)
from ._validation import check_operation_id, encode_tasks, normalize_chunk

__all__ = [
    "CreateOptions",
    "all_decided",
    "json_body",
    "mark_unaccounted_unknown",
    "in_flight_allowed",
    "rerun_hint",
    "skipped_whole",
]

T = TypeVar("T")

MAX_IN_FLIGHT = 4
"""Async operations submitted ahead of the one being awaited (bounds memory to a few chunks)."""


class Pending:
    """An async operation submitted for one chunk, with what is needed to read its log
    (``slot``: its place in ``result.operations``; ``body``: the bytes sent)."""

    __slots__ = ("body", "chunk", "operation", "payloads", "slot")

    def __init__(
        self,
        chunk: Chunk[Any],
        payloads: list[dict[str, Any]],
        operation: Operation,
        slot: int,
        body: bytes | None = None,
    ) -> None:
        self.chunk = chunk
        self.payloads = payloads
        self.operation = operation
        self.slot = slot
        self.body = body


def in_flight_allowed(chunk: Chunk[Any], options: CreateOptions) -> int:
    """How many earlier operations may still be unfinished when ``chunk`` is submitted:
    fewer than :data:`MAX_IN_FLIGHT`, or none when ``chunk`` is the last and opens the pool
    (``open_pool`` rides on the last request: everything before it goes first)."""
    return 0 if chunk.is_last and options.open_pool else MAX_IN_FLIGHT - 1


def all_decided(result: TaskCreateResult, chunk: Chunk[Any]) -> bool:
    """Every position of ``chunk`` has its task or its error in ``result``."""
    return all(p in result.errors or p in result.task_ids for p in chunk.positions)


def skipped_whole(result: TaskCreateResult, chunk: Chunk[Any], options: CreateOptions) -> bool:
    """A refused request whose every task was recorded invalid, with ``skip_invalid_items``:
    Toloka refuses such a request whole although it was asked to skip them; the call goes
    on (anything else refused raises)."""
    return options.skip_invalid_items and all_decided(result, chunk)


def rerun_hint(error: TolokaError, options: CreateOptions) -> TolokaError:
    """An async submission left in doubt: say how to settle it exactly once."""
    return OutcomeUnknownError(
        f"{error}; the operation may exist or still come to: run the same call again with "
        f"operation_id={str(options.base_operation_id)!r} to finish the batch exactly once",
        request=getattr(error, "request", None),
    )


class SubmitOutcomeUnknown(Exception):
    """An async submit failed and asking for its operation by id failed too (or found none,
    while the submit could still be applied): ``operation_id`` settles it when asked again."""

    def __init__(self, error: APIError, operation_id: uuid.UUID) -> None:
        super().__init__(str(error))
        self.error = error
        self.operation_id = operation_id


def attach(exc: TolokaError, result: TaskCreateResult) -> TolokaError:
    """Hang the result so far on the error that stopped a batch.

    Bad input found after tasks were already sent says so in its message: how many were
    created, where to find them, and how to have everything checked first.
    """
    exc.partial_result = result
    if isinstance(exc, InvalidInputError) and result.total and not exc.args[0].endswith(_HINT):
        created = len(result.task_ids)
        unknown = result.unknown_count
        exc.args = (
            f"{exc.args[0]}; {created} task(s) before it were already created"
            + (f" and {unknown} may have been" if unknown else "")
            + f" (exc.partial_result: task_ids, errors and unknown by position){_HINT}",
        )
    return exc


_HINT = "; pass validate_first=True to check every task before the first request"


class ValidatedSpool:
    """Every task of an iterable checked and spooled (memory, then disk) before any request.

    ``validate_first=True`` of ``create_tasks``: a generator is read to its end, each task
    checked as it is read, then the batch is sent from the spool, so bad input anywhere
    stops it before anything is created.
    """

    def __init__(self, options: CreateOptions) -> None:
        self._planner = RequestPlanner(options)
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)

    def add(self, chunk: Chunk[Any]) -> None:
        """Check one chunk (``InvalidInputError`` with its position) and keep its tasks."""
        for planned in self._planner.plan(chunk):
            for payload in planned.payloads:
                self._spool.write(_json.dumps(payload) + b"\n")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._spool.seek(0)
        for line in self._spool:
            task: dict[str, Any] = _json.loads(line)
            yield task

    def close(self) -> None:
        self._spool.close()


_SPOOL_MEMORY = 8 * 1024 * 1024


def single_params(*, allow_defaults: bool, open_pool: bool) -> dict[str, Any]:
    """Query parameters of a single-task create."""
    params: dict[str, Any] = {}
    if allow_defaults:
        params["allow_defaults"] = True
    if open_pool:
        params["open_pool"] = True
    return params


def parse_page(
    data: object, operation: str, parse: Callable[[object, str], T]
) -> tuple[list[T], bool]:
    """A v1 list page ``{items, has_more}``: the parsed items and whether more follow."""
    if not isinstance(data, Mapping):
        raise _drift(operation, "(body)", f"expected a page object, got {type(data).__name__}")
    items, has_more = data.get("items"), data.get("has_more")
    if not isinstance(items, list):
        raise _drift(operation, "items", f"expected an array, got {type(items).__name__}")
    if not isinstance(has_more, bool):
        raise _drift(operation, "has_more", f"needed to page on, got {has_more!r}")
    return [parse(item, f"items[{i}]") for i, item in enumerate(items)], has_more


def parse_log(data: object) -> list[OperationLogItem]:
    """An operation log body: a JSON array of entries."""
    if not isinstance(data, list):
        raise _drift("getOperationLog", "(body)", f"expected an array, got {type(data).__name__}")
    return [OperationLogItem.from_dict(item, index=i) for i, item in enumerate(data)]


_OP = "createTasks"


@attrs.frozen(kw_only=True)
class CreateOptions:
    """The options of one ``create_tasks`` call, checked."""

    async_mode: bool = False
    allow_defaults: bool = False
    skip_invalid_items: bool = False
    open_pool: bool = False
    operation_id: uuid.UUID | None = None
    chunk_size: int = V1_MAX_TASKS_PER_SYNC_REQUEST
    keep_tasks: bool = True
    wait_for_quota: bool | None = None
    call_id: uuid.UUID = attrs.field(factory=uuid.uuid4)
    """The call's own id when the user gave no ``operation_id`` (a journaled job's id)."""

    @property
    def base_operation_id(self) -> uuid.UUID:
        """What every async request's operation id derives from: the user's ``operation_id``,
        else the call's id. A call stopped with operations in doubt is finished exactly once
        by running it again with ``operation_id=`` this."""
        return self.operation_id if self.operation_id is not None else self.call_id

    @classmethod
    def build(
        cls,
        *,
        async_mode: bool,
        allow_defaults: bool,
        skip_invalid_items: bool,
        open_pool: bool,
        operation_id: uuid.UUID | str | None,
        chunk_size: int,
        keep_tasks: bool,
        wait_for_quota: bool | None,
    ) -> CreateOptions:
        parsed_id = None
        if operation_id is not None:
            if not async_mode:
                raise InvalidInputError(
                    "operation_id only applies with async_mode=True", field="operation_id"
                )
            parsed_id = check_operation_id(operation_id)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise InvalidInputError("chunk_size must be a positive integer", field="chunk_size")
        if not async_mode and chunk_size > V1_MAX_TASKS_PER_SYNC_REQUEST:
            raise InvalidInputError(
                f"chunk_size must be at most {V1_MAX_TASKS_PER_SYNC_REQUEST} in sync mode",
                field="chunk_size",
            )
        return cls(
            async_mode=async_mode,
            allow_defaults=allow_defaults,
            skip_invalid_items=skip_invalid_items,
            open_pool=open_pool,
            operation_id=parsed_id,
            chunk_size=chunk_size,
            keep_tasks=keep_tasks,
            wait_for_quota=wait_for_quota,
        )

    def params(self, *, is_last: bool, operation_id: uuid.UUID | None = None) -> dict[str, Any]:
        """Query parameters for one request; ``open_pool`` rides only on the last one."""
        params: dict[str, Any] = {}
        if self.async_mode:
            params["async_mode"] = True
            if operation_id is not None:
                params["operation_id"] = str(operation_id)
        if self.allow_defaults:
            params["allow_defaults"] = True
        if self.skip_invalid_items:
            params["skip_invalid_items"] = True
        if self.open_pool and is_last:
            params["open_pool"] = True
        return params

    def chunk_operation_id(self, chunk: Chunk[Any]) -> uuid.UUID:
        """The operation id of a chunk, fixed for all its retries.

        :attr:`base_operation_id` (the user's ``operation_id``, else the call's id) and a
        single chunk: that id. Several chunks: ``uuid5(base, str(chunk_index))`` for every
        chunk, so re-running the same call with the same id and input reuses the same ids
        (the server then does not create the operations twice).
        """
        base = self.base_operation_id
        if chunk.index == 0 and chunk.is_last:
            return base
        return uuid.uuid5(base, str(chunk.index))


def check_tasks_argument(tasks: object) -> None:
    if isinstance(tasks, Task | Mapping | str | bytes):
        raise InvalidInputError(
            "tasks must be an iterable of tasks; use create_task() for a single task",
            field="tasks",
        )


def prevalidate(tasks: Sequence[Any], options: CreateOptions) -> list[Planned] | None:
    """Check a whole list before sending anything (iterators are checked chunk by chunk).

    Checking a list plans all its requests; those are returned to be sent as they are if
    they fit in :data:`KEPT_PLAN_BYTES`, so a list is checked and encoded once. A larger
    list returns ``None``: it is planned again while sending, which costs CPU instead of
    holding every request body at once.
    """
    planner = RequestPlanner(options)
    size = options.chunk_size
    kept: list[Planned] | None = []
    weight = 0
    for start in range(0, len(tasks), size):
        items = list(tasks[start : start + size])
        planned = planner.plan(
            Chunk(index=start // size, start=start, items=items, is_last=start + size >= len(tasks))
        )
        if kept is not None:
            weight += sum(len(p.body) + _KEPT_PAYLOAD_BYTES * len(p.payloads) for p in planned)
            if weight <= KEPT_PLAN_BYTES:
                kept.extend(planned)
            else:
                kept = None  # over budget: drop what was kept, re-plan while sending
    return kept


KEPT_PLAN_BYTES = 64 * 1024 * 1024
"""How much memory the checked requests of a list may hold to be sent without re-planning."""
_KEPT_PAYLOAD_BYTES = 256  # a kept payload's own dict, beyond the body bytes it encodes to


MAX_INPUT_BYTES = 1_048_576
"""The ``input_values`` of one create request total at most this many bytes."""
MAX_OUTPUT_BYTES = 4_194_304
"""The known solutions' ``output_values`` of one create request, at most this many bytes."""


@attrs.frozen
class Planned:
    """One create request: its positions (``chunk``), the tasks to send and the exact body."""

    chunk: Chunk[Any]
    payloads: list[dict[str, Any]]
    body: bytes


def _weights(payload: Mapping[str, Any]) -> tuple[int, int]:
    inputs = len(_json.dumps(payload.get("input_values")))
    outputs = sum(
        len(_json.dumps(s.get("output_values")))
        for s in payload.get("known_solutions") or ()
        if isinstance(s, Mapping)
    )
    return inputs, outputs


class RequestPlanner:
    """Turns chunks of tasks into requests that respect the count and the byte limits.

    A chunk holds at most ``chunk_size`` tasks; a request also carries at most
    :data:`MAX_INPUT_BYTES` of ``input_values`` and :data:`MAX_OUTPUT_BYTES` of known
    solutions' ``output_values``, so a chunk over either is cut in several requests (a task
    over a limit alone is bad input). Requests are numbered in order across the call: the
    number seeds a request's ``operation_id``, so a rerun with the same input reuses them.
    """

    def __init__(self, options: CreateOptions) -> None:
        self.options = options
        self.next_index = 0

    def plan(self, chunk: Chunk[Any]) -> list[Planned]:
        # The payloads are read during the call only (a resend, matching a log); created
        # tasks are built from the bytes sent or answered, so a caller's later change to its
        # own dicts cannot show in the result.
        payloads = normalize_chunk(
            chunk.items, chunk.start, allow_defaults=self.options.allow_defaults
        )
        body = encode_tasks(payloads, chunk.start)
        # input_values are part of the body: under the limit, no need to weigh each task.
        spans = (
            [(0, len(payloads))] if len(body) <= MAX_INPUT_BYTES else self._spans(chunk, payloads)
        )
        planned = []
        for start, end in spans:
            part = payloads[start:end]
            planned.append(
                Planned(
                    Chunk(
                        index=self.next_index,
                        start=chunk.start + start,
                        items=chunk.items[start:end],
                        is_last=chunk.is_last and end == len(payloads),
                    ),
                    part,
                    body if len(spans) == 1 else encode_tasks(part, chunk.start + start),
                )
            )
            self.next_index += 1
        return planned

    @staticmethod
    def _spans(chunk: Chunk[Any], payloads: list[dict[str, Any]]) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        start = inputs = outputs = 0
        for offset, payload in enumerate(payloads):
            size_in, size_out = _weights(payload)
            if size_in > MAX_INPUT_BYTES or size_out > MAX_OUTPUT_BYTES:
                over_input = size_in > MAX_INPUT_BYTES
                raise InvalidInputError(
                    f"{size_in if over_input else size_out} bytes of "
                    f"{'input_values' if over_input else 'known solutions output_values'}: "
                    f"over the {MAX_INPUT_BYTES if over_input else MAX_OUTPUT_BYTES}-byte "
                    "limit of a whole request",
                    position=chunk.start + offset,
                    field="input_values" if over_input else "known_solutions",
                )
            if offset > start and (
                inputs + size_in > MAX_INPUT_BYTES or outputs + size_out > MAX_OUTPUT_BYTES
            ):
                spans.append((start, offset))
                start, inputs, outputs = offset, 0, 0
            inputs += size_in
            outputs += size_out
        spans.append((start, len(payloads)))
        return spans


def _offset(key: object, size: int, field: str) -> int:
    try:
        offset = int(str(key))
    except ValueError:
        raise _drift(_OP, field, f"key {key!r} is not a request position") from None
    if not 0 <= offset < size:
        raise _drift(_OP, field, f"position {offset} is outside the request (size {size})")
    return offset


def _record_created(
    result: TaskCreateResult, position: int, task_data: Mapping[str, Any], field: str
) -> None:
    task_id = task_data.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise _drift(_OP, f"{field}.id", "created task has no id")
    result.task_ids[position] = task_id


def apply_sync_response(
    result: TaskCreateResult,
    chunk: Chunk[Any],
    data: object,
    *,
    keep_tasks: bool,
    body: bytes | None = None,
) -> None:
    """Merge ``{"items": {...}, "validation_errors": {...}}`` of one chunk into ``result``.

    With ``keep_tasks`` the created tasks are built from the answer when read
    (:class:`~toloka_ext.types.CreatedTasks`): from ``body``, the answer's bytes, if given
    (more compact than the parsed answer), else from ``data``.
    """
    if not isinstance(data, Mapping):
        raise _drift(_OP, "(body)", f"expected the batch object, got {type(data).__name__}")
    items = data.get("items", {})
    errors = data.get("validation_errors") or {}
    if not isinstance(items, Mapping):
        raise _drift(_OP, "items", f"expected an object, got {type(items).__name__}")
    if not isinstance(errors, Mapping):
        raise _drift(_OP, "validation_errors", "expected an object")
    size = len(chunk.items)
    start = chunk.start
    task_ids = result.task_ids
    if not errors and len(items) == size:
        ids = _usual_answer_ids(items)
        if ids is not None:
            task_ids.update(zip(range(start, start + size), ids, strict=True))
            if keep_tasks and items:
                result.created.add_chunk(start, start + size, _answer_tasks(start, body, items))
            return
    before = len(task_ids) + len(result.errors)
    for key, task_data in items.items():
        # The usual answer first (a position, a task object with its id): one step a task.
        try:
            offset = int(key)
        except (TypeError, ValueError):
            offset = -1
        task_id = task_data.get("id") if type(task_data) is dict else None
        if 0 <= offset < size and type(task_id) is str and task_id:
            task_ids[start + offset] = task_id
            continue
        offset = _offset(key, size, "items")  # raises, naming what does not fit
        if not isinstance(task_data, Mapping):
            raise _drift(_OP, f"items.{key}", "expected a task object")
        _record_created(result, start + offset, task_data, f"items.{key}")
    if keep_tasks and items:
        result.created.add_chunk(start, start + size, _answer_tasks(start, body, items))
    for key, field_errors in errors.items():
        offset = _offset(key, size, "validation_errors")
        result.errors[start + offset] = parse_field_errors(
            field_errors, operation=_OP, field=f"validation_errors.{key}"
        )
    if len(task_ids) + len(result.errors) - before != size:
        # Positions the answer does not mention (or mentions twice): never guessed.
        seen = {int(k) for k in items} | {int(k) for k in errors}
        _mark_missing_unknown(result, chunk, seen)


_id_of = operator.itemgetter("id")


@functools.lru_cache(maxsize=4)
def _position_keys(size: int) -> list[str]:
    return [str(offset) for offset in range(size)]


def _usual_answer_ids(items: Mapping[str, Any]) -> list[str] | None:
    """The ids of the usual sync answer (every position ``"0"``, ``"1"``, ... in order, each
    a task with a non-empty string id), by whole-answer passes at C speed; ``None`` for any
    other answer (read entry by entry)."""
    try:
        ids: list[str] = list(map(_id_of, items.values()))
    except (KeyError, TypeError):
        return None
    if set(map(type, ids)) != {str} or "" in ids or list(items) != _position_keys(len(ids)):
        return None
    return ids


def _answer_tasks(
    start: int, body: bytes | None, items: Mapping[str, Any]
) -> Callable[[], dict[int, Mapping[str, Any]]]:
    """The created tasks of a sync answer by position, parsed again from its bytes when
    asked for (or from the parsed items, when no bytes were kept)."""

    if body is None:
        return lambda: {start + int(key): value for key, value in items.items()}
    # Only the bytes are kept: the parsed answer is let go (a few times their size).
    return lambda: {start + int(key): value for key, value in _json.loads(body)["items"].items()}


def _mark_missing_unknown(result: TaskCreateResult, chunk: Chunk[Any], seen: set[int]) -> None:
    """Positions the server did not report on are recorded as unknown (never guessed)."""
    run_start: int | None = None
    for offset in range(len(chunk.items) + 1):
        missing = offset < len(chunk.items) and offset not in seen
        if missing and run_start is None:
            run_start = offset
        elif not missing and run_start is not None:
            result.unknown.append(range(chunk.start + run_start, chunk.start + offset))
            run_start = None


def mark_unaccounted_unknown(result: TaskCreateResult, chunk: Chunk[Any]) -> None:
    """After an unreadable answer: positions of the chunk not yet decided become unknown."""
    seen = {
        offset
        for offset, position in enumerate(chunk.positions)
        if position in result.task_ids or position in result.errors
    }
    _mark_missing_unknown(result, chunk, seen)


def json_body(response: httpx.Response, operation: str) -> object:
    """The decoded JSON body, or :class:`ApiDriftError` if it is not JSON."""
    try:
        body: object = _json.loads(response.content)
    except ValueError as exc:
        raise _drift(operation, "(body)", f"response is not JSON: {exc}") from None
    return body


def apply_validation_error(
    result: TaskCreateResult, chunk: Chunk[Any], exc: APIStatusError
) -> bool:
    """Record per-position errors of a 400 ``VALIDATION_ERROR`` keyed by position, if any."""
    payload = exc.payload
    if exc.status_code != 400 or not isinstance(payload, Mapping) or not payload:
        return False
    parsed: dict[int, dict[str, FieldError]] = {}
    for key, field_errors in payload.items():
        try:
            offset = int(str(key))
        except ValueError:
            return False
        if not 0 <= offset < len(chunk.items) or not isinstance(field_errors, Mapping):
            return False
        try:
            parsed[chunk.start + offset] = parse_field_errors(
                field_errors, operation=_OP, field=f"payload.{key}"
            )
        except Exception:
            return False
    result.errors.update(parsed)
    return True


def _log_key(values: object) -> str:
    return json.dumps(values, sort_keys=True)  # a dict key: JSON values, any key order


def _outcome_items(log: Iterable[OperationLogItem]) -> list[OperationLogItem]:
    """Log items that decide one task each: any ``TASK_CREATE``, failed ``TASK_VALIDATE``."""
    return [
        item
        for item in log
        if item.type == "TASK_CREATE" or (item.type == "TASK_VALIDATE" and not item.success)
    ]


def match_log(
    log: Sequence[OperationLogItem], payloads: Sequence[Mapping[str, Any]]
) -> dict[int, OperationLogItem]:
    """Map chunk offsets to the log item that decided each task.

    Assumption (undocumented by Toloka): the log has one deciding item per submitted task, in
    request order. Items whose ``input`` echoes ``input_values`` are checked against it; if
    order does not fit, items are matched by content (``input.input_values``) instead, first
    come first served among identical inputs. Offsets left without an item are not returned.
    """
    items = _outcome_items(log)

    def fits(item: OperationLogItem, payload: Mapping[str, Any]) -> bool:
        echoed = item.input.get("input_values") if item.input else None
        return echoed is None or echoed == payload.get("input_values")

    if len(items) == len(payloads) and all(
        fits(item, payload) for item, payload in zip(items, payloads, strict=True)
    ):
        return dict(enumerate(items))
    by_content: dict[str, deque[int]] = defaultdict(deque)
    for offset, payload in enumerate(payloads):
        by_content[_log_key(payload.get("input_values"))].append(offset)
    matched: dict[int, OperationLogItem] = {}
    for item in items:
        echoed = item.input.get("input_values") if item.input else None
        if echoed is None:
            continue
        queue = by_content.get(_log_key(echoed))
        if queue:
            matched[queue.popleft()] = item
    if len(matched) < len(items) and len(items) == len(payloads):
        # Inputs are not echoed faithfully: fall back to request order.
        return dict(enumerate(items))
    return matched


_type_of = operator.itemgetter("type")
_success_of = operator.itemgetter("success")
_input_of = operator.itemgetter("input")
_output_of = operator.itemgetter("output")
_task_id_of = operator.itemgetter("task_id")
_input_values_of = operator.itemgetter("input_values")
_echoed_values_of = operator.methodcaller("get", "input_values")


def _sent_tasks(
    start: int,
    body: bytes | None,
    payloads: Sequence[Mapping[str, Any]],
    ids: Sequence[str] | Mapping[int, str],
) -> Callable[[], dict[int, Mapping[str, Any]]]:
    """The created tasks of an operation by position (``ids``: by offset), each the task as
    sent with its id, parsed again from the request's bytes when asked for (or from the
    payloads, when no bytes were kept)."""
    by_offset = dict(enumerate(ids)) if isinstance(ids, Sequence) else ids
    if body is None:

        def from_payloads() -> dict[int, Mapping[str, Any]]:
            return {start + o: {**payloads[o], "id": i} for o, i in by_offset.items()}

        return from_payloads

    # Only the bytes are held, not the payloads: those would keep every task dict of the
    # call alive until the result is dropped, walked by every full garbage collection (in
    # async mode, a third of the client's heap and of its collections' time).
    def from_body() -> dict[int, Mapping[str, Any]]:
        sent: Sequence[Mapping[str, Any]] = _json.loads(body)
        return {start + o: {**sent[o], "id": i} for o, i in by_offset.items()}

    return from_body


def _usual_log_ids(log: object, payloads: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """The created task ids of the usual log, in request order, or ``None`` for any other.

    The usual log: one successful ``TASK_CREATE`` entry per task, in request order, each
    echoing its task's ``input_values`` and naming its ``task_id`` (a non-empty string).
    It is checked by whole-log passes at C speed; :func:`match_log` decides any other.
    """
    if type(log) is not list or len(log) != len(payloads) or not log:
        return None
    entries = cast(list[dict[str, Any]], log)
    try:
        if set(map(type, entries)) != {dict} or set(map(_type_of, entries)) != {"TASK_CREATE"}:
            return None
        successes = list(map(_success_of, entries))
        inputs = list(map(_input_of, entries))
        outputs = list(map(_output_of, entries))
        if (
            set(map(type, successes)) != {bool}
            or not all(successes)
            or set(map(type, inputs)) != {dict}
            or set(map(type, outputs)) != {dict}
            or list(map(_echoed_values_of, inputs)) != list(map(_input_values_of, payloads))
        ):
            return None
        ids: list[str] = list(map(_task_id_of, outputs))
    except (KeyError, TypeError):
        return None  # an entry without a field the usual one has
    if set(map(type, ids)) != {str} or "" in ids:
        return None
    return ids


def apply_log(
    result: TaskCreateResult,
    chunk: Chunk[Any],
    payloads: Sequence[Mapping[str, Any]],
    log: object,
    *,
    keep_tasks: bool,
    succeeded: bool = True,
    body: bytes | None = None,
) -> None:
    """Merge an operation log (its decoded JSON body) into ``result`` with the same
    per-position shape as sync mode.

    With ``keep_tasks`` the created tasks are the tasks sent, with their ids, built when
    read: from ``body`` (the request's bytes) if given, else from ``payloads``.

    After a successful operation, positions the log does not account for are recorded as
    unknown; after a failed one they were not created (the operation applies all or none).
    """
    if succeeded:
        ids = _usual_log_ids(log, payloads)
        if ids is not None:
            start = chunk.start
            result.task_ids.update(zip(range(start, start + len(ids)), ids, strict=True))
            if keep_tasks and ids:
                result.created.add_chunk(
                    start, start + len(payloads), _sent_tasks(start, body, payloads, ids)
                )
            return
    matched = match_log(parse_log(log), payloads)
    created: dict[int, str] = {}
    for offset, item in matched.items():
        position = chunk.start + offset
        output = item.output or {}
        if item.type == "TASK_CREATE" and item.success:
            task_id = output.get("task_id")
            if not isinstance(task_id, str) or not task_id:
                raise _drift("getOperationLog", "output.task_id", "missing in TASK_CREATE item")
            result.task_ids[position] = task_id
            created[offset] = task_id
        else:
            errors: dict[str, FieldError] = {}
            for path, err in output.items():
                if isinstance(err, Mapping):
                    errors[str(path)] = FieldError.from_dict(
                        err, operation="getOperationLog", field=f"output.{path}"
                    )
            result.errors[position] = errors or {
                "": FieldError(code=f"{item.type}_FAILED", message="no details in the log")
            }
    if keep_tasks and created:
        start = chunk.start
        result.created.add_chunk(
            start, start + len(payloads), _sent_tasks(start, body, payloads, created)
        )
    if succeeded:
        _mark_missing_unknown(result, chunk, set(matched))
