"""Class 1 (paging): every list walk advances, or ends with ``ApiDriftError``.

Generated from the snapshot: for every list paged by ``offset`` (``paginated_lists``), a
cursor server (the issue's ``pageToken``/``nextPageToken``: pages capped, ``offset``
ignored, ``pagination`` gone), servers that ignore ``offset`` in other ways, a capped
server that still pages honestly (with and without a total), one that says more than it
gives, and one whose paging fields vanish mid-list. The same for API v1's keyset lists.
Never an endless loop, never a silently short list. Served by the sandbox (``rewrite=``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.drift.snapshot_cases import PaginatedList, paginated_lists
from toloka_ext import ApiDriftError, Toloka
from toloka_ext.testing import Sandbox

LISTS = paginated_lists()
COUNT = 7
Walk = Callable[[Toloka, int], list[str]]


def _populated(sandbox: Sandbox, op: str) -> Walk:
    """``COUNT`` objects in the list ``op`` reads; return the walk over it (``limit``)."""
    with sandbox.client() as client:
        if op == "listProjects":
            for i in range(COUNT - 1):
                sandbox.add_project(f"P{i}")
            return lambda c, n: [p.id for p in c.projects.list(limit=n)]
        if op == "listPipelines":
            have = len(list(client.pipelines.list("prj-1")))
            for i in range(COUNT - have):
                sandbox.add_pipeline(f"pl-x{i}", name=f"X{i}", project_id="prj-1")
            return lambda c, n: [p.id for p in c.pipelines.list("prj-1", limit=n)]
        if op == "listDatasets":
            for i in range(COUNT):
                client.datasets.create("prj-1", name=f"d{i}")
            return lambda c, n: [d.id for d in c.datasets.list("prj-1", limit=n)]
        dataset = client.datasets.create("prj-1", name="listed")
        client.datasets.add_items(dataset.id, [{"n": 1}])
        if op == "listRuns":
            client.pipelines.attach("pl-1", dataset.id)
            for _ in range(COUNT):
                client.runs.start("pl-1")
            return lambda c, n: [r.id for r in c.runs.list("pl-1", limit=n)]
        if op == "listExports":
            for _ in range(COUNT):
                client.exports.create(dataset.id)
            return lambda c, n: [e.id for e in c.exports.list(dataset.id, limit=n)]
    raise AssertionError(f"no driver for {op}")


DRIVEN = {"listDatasets", "listExports", "listPipelines", "listProjects", "listRuns"}


def test_every_paginated_list_has_a_driver() -> None:
    assert {p.operation for p in LISTS} == DRIVEN


def _on(op: str, change: Callable[[int, Any], Any]) -> Callable[[str, Any], Any]:
    """Rewrite the n-th (1-based) answer of ``op`` with ``change(n, body)``."""
    seen = 0

    def rewrite(operation: str, body: Any) -> Any:
        nonlocal seen
        if operation != op:
            return body
        seen += 1
        # A walk that never ends fails (the sandbox answers 500) instead of hanging the suite.
        assert seen <= 50, f"{op} asked for its 51st page: the walk does not end"
        return change(seen, body)

    return rewrite


def _first_forever(drop: tuple[str, ...] = ()) -> Callable[[int, Any], Any]:
    """A server that ignores ``offset``: every answer is the first page (minus ``drop``:
    ``"pagination"``, or ``"pagination.offset"`` for one that does not echo it)."""
    first: list[Any] = []

    def change(n: int, body: Any) -> Any:
        if not first:
            first.append(copy.deepcopy(body))
        answer = copy.deepcopy(first[0])
        for name in drop:
            head, _, tail = name.partition(".")
            if tail:
                answer[head].pop(tail, None)
            else:
                answer.pop(head, None)
        return answer

    return change


def _cursor(key: str) -> Callable[[int, Any], Any]:
    """The issue's new scheme: pages of 3 whatever ``limit``, ``nextPageToken``, no
    ``pagination``, ``offset`` ignored."""

    def change(n: int, body: Any) -> Any:
        return {key: body[key][:3], "nextPageToken": f"t{n}"}

    return change


def _more_than_given(n: int, body: Any) -> Any:
    body["pagination"]["total"] += 5
    return body


def _paging_fields_vanish(n: int, body: Any) -> Any:
    if n >= 2:
        body.pop("pagination")
    return body


def _no_pagination(n: int, body: Any) -> Any:
    body.pop("pagination")
    return body


# (scenario, limit, change(listed) -> rewrite step, expected field or None, requests)
DRIFTED: dict[str, tuple[Callable[[PaginatedList], Callable[[int, Any], Any]], str, int]] = {
    "cursor-server": (lambda lst: _cursor(lst.key), "pagination", 1),
    "ignores-offset-with-total": (
        lambda lst: _first_forever(("pagination.offset",)),
        "offset",
        2,
    ),
    "ignores-offset-echoing-it": (lambda lst: _first_forever(), "pagination.offset", 2),
    "ignores-offset-no-paging-fields": (
        lambda lst: _first_forever(("pagination",)),
        "offset",
        2,
    ),
    "fewer-items-than-said": (lambda lst: _more_than_given, "pagination.total", 4),
    "paging-fields-vanish": (lambda lst: _paging_fields_vanish, "pagination", 2),
}


def _ids(lists: list[PaginatedList], scenarios: Any) -> list[Any]:
    return [
        pytest.param(lst, name, id=f"{lst.operation}:{name}") for lst in lists for name in scenarios
    ]


@pytest.mark.parametrize(("listed", "scenario"), _ids(LISTS, DRIFTED))
def test_a_list_that_does_not_advance_is_drift(listed: PaginatedList, scenario: str) -> None:
    make, field, requests = DRIFTED[scenario]
    sandbox = Sandbox(record_requests=True, max_page_size=3)
    walk = _populated(sandbox, listed.operation)
    sandbox.rewrite = _on(listed.operation, make(listed))
    del sandbox.requests[:]
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        walk(client, 3)
    assert (info.value.operation, info.value.field) == (listed.operation, field)
    assert len(sandbox.requests_for(listed.operation)) == requests


@pytest.mark.parametrize(("listed", "scenario"), _ids(LISTS, ["capped", "capped-without-total"]))
def test_a_capped_server_still_gives_every_item(listed: PaginatedList, scenario: str) -> None:
    """Pages of 3 whatever ``limit`` asks for: with a total the walk follows it; without
    one it goes on to an empty page. Never a silently short list."""
    sandbox = Sandbox(record_requests=True, max_page_size=3)
    walk = _populated(sandbox, listed.operation)
    with sandbox.client() as client:
        honest = walk(client, 100)
    assert len(honest) == COUNT
    if scenario == "capped-without-total":
        sandbox.rewrite = _on(listed.operation, _no_pagination)
    del sandbox.requests[:]
    with sandbox.client() as client:
        assert walk(client, 100) == honest
    offsets = [r.params["offset"] for r in sandbox.requests_for(listed.operation)]
    expected = ["0", "3", "6"] + (["7"] if scenario == "capped-without-total" else [])
    assert offsets == expected


# ------------------------------------------------------------------ API v1 keyset lists

V1_LISTS = ("listOperations", "listTasks")


def _v1_populated(sandbox: Sandbox, op: str) -> Walk:
    if op == "listTasks":
        with sandbox.client() as client:
            client.tasks.create_tasks(
                [{"pool_id": "pool-2", "input_values": {"n": i}} for i in range(COUNT)],
                allow_defaults=True,
            )
        return lambda c, n: [t.id for t in c.tasks.list(pool_id="pool-2", limit=n)]
    with sandbox.http_client() as http:
        for i in range(COUNT):
            http.post(
                f"{sandbox.v1_base_url}/tasks",
                params={"async_mode": "true", "allow_defaults": "true"},
                json=[{"pool_id": "pool-2", "input_values": {"n": i}}],
                headers=sandbox.auth_headers("v1"),
            ).raise_for_status()
    return lambda c, n: [o.id for o in c.operations.list(limit=n)]


def _second(change: Callable[[Any], Any]) -> Callable[[int, Any], Any]:
    return lambda n, body: change(body) if n == 2 else body


def _goes_back() -> Callable[[int, Any], Any]:
    pages: list[Any] = []

    def change(n: int, body: Any) -> Any:
        pages.append(copy.deepcopy(body))
        return copy.deepcopy(pages[0]) if n == 3 else body

    return change


V1_DRIFTED: dict[str, tuple[Callable[[], Callable[[int, Any], Any]], str, int]] = {
    "ignores-keyset": (lambda: _first_forever(), "id_gt", 2),
    "has-more-without-items": (
        lambda: _second(lambda b: {"items": [], "has_more": True}),
        "has_more",
        2,
    ),
    "has-more-vanishes": (lambda: _second(lambda b: {"items": b["items"]}), "has_more", 2),
    "goes-back-to-an-earlier-page": (_goes_back, "items", 3),
}


@pytest.mark.parametrize(
    ("op", "scenario"),
    [pytest.param(op, s, id=f"{op}:{s}") for op in V1_LISTS for s in V1_DRIFTED],
)
def test_a_v1_list_that_does_not_advance_is_drift(op: str, scenario: str) -> None:
    make, field, requests = V1_DRIFTED[scenario]
    sandbox = Sandbox(record_requests=True)
    walk = _v1_populated(sandbox, op)
    sandbox.rewrite = _on(op, make())
    del sandbox.requests[:]
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        walk(client, 3)
    assert (info.value.operation, info.value.field) == (op, field)
    assert len(sandbox.requests_for(op)) == requests


@pytest.mark.parametrize("op", V1_LISTS)
def test_a_capped_v1_list_still_gives_every_item(op: str) -> None:
    def capped(n: int, body: Any) -> Any:
        if len(body["items"]) > 2:
            return {"items": body["items"][:2], "has_more": True}
        return body

    sandbox = Sandbox(record_requests=True)
    walk = _v1_populated(sandbox, op)
    with sandbox.client() as client:
        honest = walk(client, 100)
    assert len(honest) == COUNT
    sandbox.rewrite = _on(op, capped)
    with sandbox.client() as client:
        assert walk(client, 100) == honest
