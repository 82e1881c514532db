"""Settling "outcome unknown": which tasks of a lost request the server did create (no I/O).

A sync create whose answer is lost (or answered 502/504 by a gateway) may or may not have
been applied, and it is never re-sent blindly. With the task list the client can find out:

1. before a call's first request to a pool, the newest task id of that pool is noted (its
   *floor*): every task created since has a greater id (Toloka's task ids grow with
   creation time, and its lists page by them);
2. at the end of the call, the pool's tasks above the floor are read back (bounded), those
   the call already knows are set aside, and the others are matched to the lost positions
   by content (``pool_id`` + ``input_values``):

   * a position whose content matches exactly one new task was created (that task);
   * a position nothing matches was not created, if the read reached the end of the pool
     *and* the request can no longer be applied: a request the client gave up on may still
     be held by a proxy and applied later, so a position is called "not created" only from
     a read made ``max_request_hold`` after the client gave up (the caller waits for that
     only when some position is still absent);
   * anything else (two positions of the same content, a concurrent writer's identical
     task, a read cut short) stays unknown.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ._chunking import Chunk
from ._models import FieldError, Task, TaskCreateResult
from ._validation import pool_of

__all__ = [
    "NOT_CREATED",
    "Settled",
    "UnknownTracker",
    "apply_settled",
    "content_key",
    "merge_ranges",
    "merge_resent",
    "resend_positions",
    "settle",
]

NOT_CREATED = "NOT_CREATED"
"""The field-error code of a position found not created after its answer was lost."""


def content_key(pool_id: object, input_values: object) -> str:
    """What identifies a task's content for matching (canonical JSON)."""
    # Only compared with other keys made here, from JSON values: the key order is all that
    # needs fixing.
    return json.dumps([pool_id, input_values], sort_keys=True)


class UnknownTracker:
    """What one ``create_tasks`` call needs to settle unknown positions at its end."""

    def __init__(self) -> None:
        self.floors: dict[str, str | None] = {}
        """pool id -> the newest task id before the call's first request to it (None: empty)."""
        self.unavailable: set[str] = set()
        """Pools whose floor could not be read: their unknown positions stay unknown."""
        self.lost: dict[int, dict[str, Any]] = {}
        self.settle_after: float | None = None
        """``clock`` time after which no lost request can still be applied (``None``: none
        lost yet): a position absent from a read made before it may still appear."""

    def gave_up(self, until: float) -> None:
        """Note a lost request that may be applied until ``until`` (``clock`` time)."""
        self.settle_after = until if self.settle_after is None else max(self.settle_after, until)

    def pools_to_floor(self, payloads: Iterable[Mapping[str, Any]]) -> list[str]:
        """Pools of ``payloads`` whose floor is not known yet (in first-seen order)."""
        # Normalized payloads: every one has a string pool_id (one C-speed pass).
        pools = dict.fromkeys(map(pool_of, payloads))
        return [p for p in pools if p not in self.floors and p not in self.unavailable]

    def note(
        self, chunk: Chunk[Any], payloads: list[dict[str, Any]], result: TaskCreateResult
    ) -> None:
        """Keep the payloads of the positions of ``chunk`` that ended unknown."""
        for span in result.unknown:
            for position in range(
                max(span.start, chunk.start), min(span.stop, chunk.start + len(payloads))
            ):
                self.lost[position] = payloads[position - chunk.start]

    def by_pool(self, unknown: Iterable[int]) -> dict[str, dict[int, dict[str, Any]]]:
        out: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        for position in unknown:
            payload = self.lost.get(position)
            if payload is not None:
                out[str(payload.get("pool_id"))][position] = payload
        return out


@attrs.frozen
class Settled:
    """The verdict on a pool's lost positions (``absent``: matched by nothing, but read
    while their request could still be applied, so not settled yet)."""

    created: dict[int, Task]
    not_created: list[int]
    still_unknown: list[int]
    absent: list[int] = attrs.field(factory=list)


def settle(
    lost: Mapping[int, Mapping[str, Any]],
    new_tasks: Iterable[Task],
    known_ids: set[str],
    *,
    complete: bool,
    final: bool = True,
) -> Settled:
    """Match lost positions to tasks created since the call began (see the module docstring).

    ``new_tasks`` are the pool's tasks above the floor; ``known_ids`` the ids the call
    already accounts for; ``complete`` whether the read reached the end of the pool;
    ``final`` whether it was made after no lost request could still be applied (if not,
    positions matched by nothing are ``absent``, not ``not_created``).
    """
    candidates: dict[str, list[Task]] = defaultdict(list)
    for task in new_tasks:
        if task.id and task.id not in known_ids:
            candidates[content_key(task.pool_id, task.input_values)].append(task)
    groups: dict[str, list[int]] = defaultdict(list)
    for position, payload in lost.items():
        groups[content_key(payload.get("pool_id"), payload.get("input_values"))].append(position)
    created: dict[int, Task] = {}
    not_created: list[int] = []
    absent: list[int] = []
    unknown: list[int] = []
    for key, positions in groups.items():
        found = candidates.get(key, [])
        if len(positions) == 1 and len(found) == 1:
            created[positions[0]] = found[0]
        elif not found and complete:
            (not_created if final else absent).extend(positions)
        else:
            unknown.extend(positions)
    return Settled(created, sorted(not_created), sorted(unknown), sorted(absent))


def apply_settled(result: TaskCreateResult, settled: Settled, *, keep_tasks: bool) -> None:
    """Move settled positions out of ``result.unknown`` into ``task_ids``/``errors``."""
    for position, task in settled.created.items():
        assert task.id is not None
        result.task_ids[position] = task.id
        if keep_tasks:
            result.created[position] = task
    for position in settled.not_created:
        result.errors[position] = {
            "": FieldError(
                code=NOT_CREATED,
                message="the answer was lost and the server holds no such task: not created "
                "(pass resend_missing=True to send it again)",
            )
        }
    decided = set(settled.created) | set(settled.not_created)
    remaining = [p for p in result.unknown_positions() if p not in decided]
    result.unknown = merge_ranges(remaining)


def merge_ranges(positions: Iterable[int]) -> list[range]:
    out: list[range] = []
    for position in sorted(positions):
        if out and out[-1].stop == position:
            out[-1] = range(out[-1].start, position + 1)
        else:
            out.append(range(position, position + 1))
    return out


def resend_positions(result: TaskCreateResult, lost: Mapping[int, Any]) -> list[int]:
    """The positions to send once more: lost answers found not created, nothing else."""
    return sorted(
        p
        for p, errors in result.errors.items()
        if p in lost and set(errors) == {""} and errors[""].code == NOT_CREATED
    )


def merge_resent(
    result: TaskCreateResult, positions: Sequence[int], sub: TaskCreateResult
) -> list[int]:
    """What a resend of ``positions`` decided (``sub``, by place in ``positions``) merged
    into ``result``; returns the positions it left undecided (unknown again)."""
    for local, position in enumerate(positions):
        del result.errors[position]
        if local in sub.task_ids:
            result.task_ids[position] = sub.task_ids[local]
        if local in sub.created:
            result.created[position] = sub.created[local]
        if local in sub.errors:
            result.errors[position] = sub.errors[local]
    decided = set(sub.task_ids) | set(sub.errors)
    still = [positions[p] for p in range(len(positions)) if p not in decided]
    result.unknown = merge_ranges([*result.unknown_positions(), *still])
    result.operations.extend(sub.operations)
    return still
