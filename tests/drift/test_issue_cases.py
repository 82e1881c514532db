"""The issue's own cases, tried as the issue tried them: the pinned Prism serving the changed
document, driven through ``toloka_ext`` over real HTTP.

- ``completed`` renamed ``succeeded``: ``runs.watch()`` used to poll for the hour and time
  out without the status; now ``ApiDriftError`` naming ``getRun``, ``status`` and
  ``succeeded`` within the documented bound of polls.
- ``listProjects`` moved to ``pageToken``/``nextPageToken``: ``list(client.projects.list())``
  used to loop (or return a short list); now ``ApiDriftError`` on the first page.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from scripts.mockserver import PrismServer, port_is_free
from tests.drift.mutations import load_snapshot
from tests.drift.snapshot_cases import (
    cursor_paging,
    paginated_lists,
    polled_statuses,
    rename_status,
)
from toloka_ext import ApiDriftError, PollPolicy, Toloka
from toloka_ext._constants import DEFAULT_UNKNOWN_STATUS_POLLS

pytestmark = pytest.mark.prism


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    """One Prism serving both changes at once (they touch different operations)."""
    snapshot = load_snapshot()
    runs = next(p for p in polled_statuses() if p.operation == "getRun")
    projects = next(p for p in paginated_lists() if p.operation == "listProjects")
    changed = cursor_paging(
        rename_status(copy.deepcopy(snapshot), runs, "completed", "succeeded"), projects
    )
    path = tmp_path_factory.mktemp("issue") / "changed.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    server = PrismServer(path)
    with server:
        yield server
    assert port_is_free(server.port)


@contextmanager
def _client(prism: PrismServer, seen: list[httpx.Request], example: str) -> Iterator[Toloka]:
    def hook(request: httpx.Request) -> None:
        seen.append(request)
        if request.url.path.startswith("/runs/"):
            request.headers["Prefer"] = f"example={example}"

    with (
        httpx.Client(event_hooks={"request": [hook]}) as http,
        Toloka(
            api_key="test-key",
            base_url=prism.url,
            http_client=http,
            max_retries=0,
            sleep=lambda _s: None,
            poll_policy=PollPolicy(interval=1, timeout=3600),
        ) as client,
    ):
        yield client


def test_a_renamed_final_status_ends_the_watch_with_drift(prism: PrismServer) -> None:
    seen: list[httpx.Request] = []
    with _client(prism, seen, "completed") as client, pytest.raises(ApiDriftError) as info:
        client.runs.watch("run-1")
    err = info.value
    assert (err.operation, err.field) == ("getRun", "status")
    assert "'succeeded'" in str(err) and "getRun" in str(err)
    polls = [r for r in seen if r.url.path == "/runs/run-1"]
    # Two polls: the run's progress says every item is done under a status nobody knows.
    assert 2 <= len(polls) <= DEFAULT_UNKNOWN_STATUS_POLLS


def test_a_new_paging_scheme_is_drift_on_the_first_page(prism: PrismServer) -> None:
    seen: list[httpx.Request] = []
    with _client(prism, seen, "completed") as client, pytest.raises(ApiDriftError) as info:
        list(client.projects.list())
    assert (info.value.operation, info.value.field) == ("listProjects", "pagination")
    assert "nextPageToken" in str(info.value)
    assert len([r for r in seen if r.url.path == "/projects"]) == 1
