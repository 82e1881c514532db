"""Auto-paging over limit/offset: lazy paginators that follow every page, sync and async,
against a sandbox answering pages smaller than asked for."""

from __future__ import annotations

from typing import Any

import pytest

from toloka_ext.testing import Sandbox
from toloka_ext.types import AsyncPage, AsyncPaginator, Page, Paginator

ALL = [f"prj-{i}" for i in range(1, 6)]


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox(record_requests=True, max_page_size=2)
    for i in range(2, 6):
        sandbox.add_project(f"P{i}")
    return sandbox  # five projects, pages of at most two


def _offsets(sandbox: Sandbox) -> list[str | None]:
    return [r.params.get("offset") for r in sandbox.requests_for("listProjects")]


def test_sync_pages_walk_every_item(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        paginator = client.projects.list(limit=2)
        assert isinstance(paginator, Paginator)
        assert sandbox.requests == []  # lazy: nothing fetched until used
        page = paginator.first_page()
        assert isinstance(page, Page)
        assert [p.id for p in page.items] == ["prj-1", "prj-2"] and page.total == 5
        assert page.has_next_page() and page.next_page_info() == 2
        assert _offsets(sandbox) == ["0"]
        second = page.get_next_page()
        assert [p.id for p in second.items] == ["prj-3", "prj-4"] and second.offset == 2
        assert [[p.id for p in pg.items] for pg in paginator.iter_pages()] == [
            ["prj-1", "prj-2"],
            ["prj-3", "prj-4"],
            ["prj-5"],
        ]
        last = list(paginator.iter_pages())[-1]
        assert not last.has_next_page() and last.next_page_info() is None
        del sandbox.requests[:]
        assert [p.id for p in paginator] == ALL
        assert _offsets(sandbox) == ["0", "2", "4"]
        # Asking for more than the server serves still reaches every item.
        del sandbox.requests[:]
        assert [p.id for p in client.projects.list(limit=100)] == ALL
        assert _offsets(sandbox) == ["0", "2", "4"]
        assert [r.params["limit"] for r in sandbox.requests_for("listProjects")] == ["100"] * 3


@pytest.mark.anyio
async def test_async_paginator_fetches_lazily_and_iterates_all(sandbox: Sandbox) -> None:
    async with sandbox.async_client() as client:
        paginator = client.projects.list(limit=2)
        assert isinstance(paginator, AsyncPaginator)
        assert sandbox.requests == []
        first = await paginator.first_page()
        assert isinstance(first, AsyncPage)
        assert [p.id for p in first.items] == ["prj-1", "prj-2"] and first.total == 5
        second = await first.get_next_page()
        assert [p.id for p in second.items] == ["prj-3", "prj-4"]
        assert _offsets(sandbox) == ["0", "2"]
        del sandbox.requests[:]
        assert [p.id async for p in client.projects.list(limit=2)] == ALL
        assert _offsets(sandbox) == ["0", "2", "4"]
        pages = [len(pg.items) async for pg in paginator.iter_pages()]
        assert pages == [2, 2, 1]
        del sandbox.requests[:]
        assert [p.id async for p in client.projects.list(limit=100)] == ALL
        assert _offsets(sandbox) == ["0", "2", "4"]


def _without_totals(op: str, body: Any) -> Any:
    if op == "listRuns":
        body.pop("pagination")
    return body


def _seven_runs(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="d")
        client.datasets.add_items(dataset.id, [{"n": 1}])
        client.pipelines.attach("pl-1", dataset.id)
        for _ in range(7):
            client.runs.start("pl-1")
    del sandbox.requests[:]
    sandbox.rewrite = _without_totals


@pytest.mark.parametrize("limit", [3, 100], ids=["pages-as-asked", "capped-pages"])
def test_pages_without_a_total_go_on_until_an_empty_page(limit: int) -> None:
    """Without a total a short page proves nothing (the server may cap pages below
    ``limit``): only an empty page ends the list, never a silently short list."""
    sandbox = Sandbox(record_requests=True, max_page_size=3)
    _seven_runs(sandbox)
    with sandbox.client() as client:
        assert [r.id for r in client.runs.list("pl-1", limit=limit)] == [
            f"run-{i}" for i in range(1, 8)
        ]
    served = [r.params["offset"] for r in sandbox.requests_for("listRuns")]
    assert served == ["0", "3", "6", "7"]


@pytest.mark.anyio
async def test_async_pages_without_a_total_go_on_until_an_empty_page() -> None:
    sandbox = Sandbox(record_requests=True, max_page_size=3)
    _seven_runs(sandbox)
    async with sandbox.async_client() as client:
        got = [r.id async for r in client.runs.list("pl-1", limit=100)]
    assert got == [f"run-{i}" for i in range(1, 8)]
    served = [r.params["offset"] for r in sandbox.requests_for("listRuns")]
    assert served == ["0", "3", "6", "7"]
