"""Auto-paging over limit/offset: sync pages and the async paginator."""

from __future__ import annotations

import httpx
import pytest

from tests.pipelines.fake_api import API, FakePipelineAPI
from toloka_ext._pipelines import AsyncPage, AsyncPipelineClient, PipelineClient, SyncPage


def _fake() -> FakePipelineAPI:
    fake = FakePipelineAPI()
    for i in range(3, 6):
        fake.projects[f"prj-{i}"] = {"id": f"prj-{i}", "name": f"P{i}"}
    return fake  # five projects, pages of at most two


def _offsets(fake: FakePipelineAPI) -> list[str | None]:
    return [r.url.params.get("offset") for r in fake.requests]


def test_sync_pages_walk_every_item() -> None:
    fake = _fake()
    client = PipelineClient(api_key="k", base_url=API, transport=fake.transport())
    page = client.projects.list(limit=2)
    assert isinstance(page, SyncPage)
    assert [p.id for p in page.items] == ["prj-1", "prj-2"] and page.total == 5
    assert page.has_next_page() and page.next_page_info() == 2
    assert _offsets(fake) == ["0"]
    assert [[p.id for p in pg.items] for pg in page.iter_pages()] == [
        ["prj-1", "prj-2"],
        ["prj-3", "prj-4"],
        ["prj-5"],
    ]
    assert [p.id for p in page] == [f"prj-{i}" for i in range(1, 6)]
    assert _offsets(fake)[:3] == ["0", "2", "4"]


def test_pages_without_a_total_stop_on_a_short_page() -> None:
    served: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        served.append(offset)
        items = [{"id": f"r{i}", "status": "completed"} for i in range(offset, min(offset + 3, 7))]
        return httpx.Response(200, json={"runs": items})

    client = PipelineClient(api_key="k", base_url=API, transport=httpx.MockTransport(handler))
    assert [r.id for r in client.runs.list("pl-1", limit=3)] == [f"r{i}" for i in range(7)]
    assert served == [0, 3, 6]


@pytest.mark.anyio
async def test_async_paginator_awaits_first_page_and_iterates_all() -> None:
    fake = _fake()
    async with AsyncPipelineClient(
        api_key="k", base_url=API, transport=fake.async_transport()
    ) as client:
        first = await client.projects.list(limit=2)
        assert isinstance(first, AsyncPage)
        assert [p.id for p in first.items] == ["prj-1", "prj-2"]
        second = await first.get_next_page()
        assert [p.id for p in second.items] == ["prj-3", "prj-4"]
        assert [p.id async for p in client.projects.list(limit=2)] == [
            f"prj-{i}" for i in range(1, 6)
        ]
        pages = [len(pg.items) async for pg in first.iter_pages()]
        assert pages == [2, 2, 1]
