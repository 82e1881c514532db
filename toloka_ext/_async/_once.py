"""Creating an object exactly once when an answer may be lost (a journaled job's steps)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._exceptions import OutcomeUnknownError
from .._logging import logger
from ._core import AsyncCore
from ._polling import AsyncFetch

__all__ = ["MAX_CREATE_ATTEMPTS", "create_once"]

T = TypeVar("T")

MAX_CREATE_ATTEMPTS = 3
"""Creates sent for one step, each only after the one before was proven not applied."""


async def create_once(
    core: AsyncCore,
    what: str,
    *,
    find: AsyncFetch[T | None],
    create: AsyncFetch[T],
    before_send: Callable[[], object] | None = None,
    look_first: bool = False,
    sent_before: Mapping[str, Any] | None = None,
) -> T:
    """``create()`` an object that ``find()`` can look up by what only this job uses (its
    token in a name, its own dataset or pipeline copy), never creating it twice.

    ``look_first``: a resumed job looks before it creates; ``sent_before``, the journal's
    intent of a run that is gone and sent this create without recording its answer: absent
    at first look, it is looked for again once that request can no longer be applied
    (its run's deadline, then ``max_request_hold``). When a create's outcome is
    unknown (:class:`OutcomeUnknownError`: a 5xx, a lost answer), the object is looked up;
    if it is absent, the lookup is repeated once the request can no longer be applied
    (``max_request_hold`` after the client gave up), and only an object still absent then
    is created again. ``before_send`` runs before every create (the journal's intent).

    Raises:
        OutcomeUnknownError: :data:`MAX_CREATE_ATTEMPTS` creates all ended unknown and
            absent; the journal keeps the intent, and the job's rerun looks again.
    """
    if look_first or sent_before is not None:
        found = await find()
        if found is None and sent_before is not None:
            await core.wait_out_hold(core.gave_up_on(sent_before.get("at")))
            found = await find()
        if found is not None:
            return found
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        if before_send is not None:
            before_send()
        try:
            return await create()
        except OutcomeUnknownError as exc:
            gave_up = core.clock()
            found = await find()
            if found is None:
                # Absent now, but the request may still be held somewhere and applied.
                await core.wait_out_hold(gave_up)
                found = await find()
            if found is not None:
                return found
            if attempt == MAX_CREATE_ATTEMPTS:
                raise
            logger.warning(
                "%s: not created after an unknown outcome (%s); sending again", what, exc
            )
    raise AssertionError("unreachable")
