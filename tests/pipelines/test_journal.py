"""``process_new_data`` with a journal: a crash after any request, then a rerun, creates
every object exactly once and returns the full results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines.fake_api import API, Crash, FakePipelineAPI
from toloka_ext._pipelines import (
    AsyncPipelineClient,
    Journal,
    JournalMismatchError,
    PipelineClient,
)

ROWS_SMALL = [{"url": f"https://img/{i}.jpg", "lang": "en"} for i in range(5)]
# Three rows of ~0.8 MB: the inline path needs two requests (chunks are journaled one by one).
ROWS_CHUNKED = [{"url": f"https://img/{i}.jpg", "lang": "x" * 800_000} for i in range(3)]


def _fake() -> FakePipelineAPI:
    fake = FakePipelineAPI()
    fake.projects["prj-3"] = {"id": "prj-3", "name": "Third"}
    fake.pipelines["pl-1"]["projectId"] = "prj-3"  # on the second page of projects
    return fake


def _client(fake: FakePipelineAPI) -> PipelineClient:
    return PipelineClient(
        api_key="k",
        base_url=API,
        transport=fake.transport(),
        storage_client=httpx.Client(transport=fake.transport()),
        max_retries=0,
        sleep=lambda _: None,
    )


def _aclient(fake: FakePipelineAPI) -> AsyncPipelineClient:
    async def no_sleep(_: float) -> None:
        return None

    return AsyncPipelineClient(
        api_key="k",
        base_url=API,
        transport=fake.async_transport(),
        storage_client=httpx.AsyncClient(transport=fake.async_transport()),
        max_retries=0,
        sleep=no_sleep,
    )


def _expected(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "label": f"label-{i}"} for i, r in enumerate(rows)]


def _assert_exactly_once(fake: FakePipelineAPI, rows: list[dict[str, Any]]) -> None:
    assert len(fake.datasets) == 1, fake.datasets
    assert len(fake.copies()) == 1, fake.copies()
    assert len(fake.runs) == 1, fake.runs
    (dsid,) = fake.datasets
    assert fake.items[dsid] == rows
    assert fake.applied["finalizeUpload"] <= 1
    assert fake.storage_auth_seen == []


def _clean_request_count(rows: list[dict[str, Any]], tmp: Path, **kw: Any) -> int:
    fake = _fake()
    result = _client(fake).process_new_data("pl-1", rows, journal=tmp / "clean.journal", **kw)
    assert result.rows() == _expected(rows)
    _assert_exactly_once(fake, rows)
    return fake.handled


CASES = {
    "inline-two-chunks": (ROWS_CHUNKED, {}),
    "upload": (ROWS_SMALL, {"upload_threshold": 0}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_crash_after_every_request_then_resume(case: str, tmp_path: Path) -> None:
    rows, kw = CASES[case]
    total = _clean_request_count(rows, tmp_path, **kw)
    assert total > 15
    for k in range(1, total + 1):
        fake = _fake()
        journal = tmp_path / f"{case}-{k}.journal"
        output = tmp_path / f"{case}-{k}.jsonl"
        fake.crash_after = k
        with pytest.raises(Crash):
            _client(fake).process_new_data("pl-1", rows, journal=journal, output=output, **kw)
        assert not output.exists() or k == total
        result = _client(fake).process_new_data("pl-1", rows, journal=journal, output=output, **kw)
        _assert_exactly_once(fake, rows)
        assert result.rows() == _expected(rows), k
        assert [p.name for p in tmp_path.glob("*.part")] == []


def test_a_finished_journal_creates_nothing_more(tmp_path: Path) -> None:
    fake = _fake()
    journal = tmp_path / "j"
    first = _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal)
    applied = dict(fake.applied)
    again = _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal)
    assert dict(fake.applied) == applied
    assert again.rows() == first.rows() == _expected(ROWS_SMALL)
    assert again.pipeline.id == first.pipeline.id and again.run.id == first.run.id


def test_names_carry_the_journal_token(tmp_path: Path) -> None:
    fake = _fake()
    journal = tmp_path / "j"
    _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal, name_prefix="batch")
    token = Journal.open(journal).token
    assert [d["name"] for d in fake.datasets.values()] == [f"batch-{token}"]
    assert [p["name"] for p in fake.copies()] == [f"batch-{token}"]


def test_journal_for_other_rows_or_pipeline_is_refused(tmp_path: Path) -> None:
    fake = _fake()
    journal = tmp_path / "j"
    fake.crash_after = 3
    with pytest.raises(Crash):
        _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal)
    before = fake.handled
    with pytest.raises(JournalMismatchError, match="rows_sha256"):
        _client(fake).process_new_data("pl-1", ROWS_SMALL[:-1], journal=journal)
    with pytest.raises(JournalMismatchError, match="pipeline_id"):
        _client(fake).process_new_data("pl-9", ROWS_SMALL, journal=journal)
    assert fake.handled == before


def test_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    fake = _fake()
    journal = tmp_path / "j"
    fake.crash_after = 4
    with pytest.raises(Crash):
        _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal)
    with open(journal, "ab") as fh:
        fh.write(b'{"kind":"done","step":"cop')
    result = _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal)
    _assert_exactly_once(fake, ROWS_SMALL)
    assert result.rows() == _expected(ROWS_SMALL)


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(CASES))
async def test_async_crash_after_every_request_then_resume(case: str, tmp_path: Path) -> None:
    rows, kw = CASES[case]
    total = _clean_request_count(rows, tmp_path, **kw)
    for k in range(1, total + 1):
        fake = _fake()
        journal = tmp_path / f"a-{case}-{k}.journal"
        fake.crash_after = k
        with pytest.raises(Crash):
            await _aclient(fake).process_new_data("pl-1", rows, journal=journal, **kw)
        result = await _aclient(fake).process_new_data("pl-1", rows, journal=journal, **kw)
        _assert_exactly_once(fake, rows)
        assert result.rows() == _expected(rows), k


def test_spent_upload_url_without_bytes_starts_a_new_upload(tmp_path: Path) -> None:
    fake = _fake()
    journal = tmp_path / "j"
    fake.drop_next_put = True
    with pytest.raises(Crash):
        _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    result = _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    _assert_exactly_once(fake, ROWS_SMALL)
    assert result.rows() == _expected(ROWS_SMALL)
    assert len(fake.uploads) == 2 and fake.applied["finalizeUpload"] == 1
    assert Journal.open(journal).get_done("upload.abandoned") is not None


def test_one_time_url_reused_after_a_crash_is_not_fatal(tmp_path: Path) -> None:
    # Crash right after the PUT was stored: the rerun's PUT is refused (URL spent), and
    # finalizing shows the bytes are there.
    fake = _fake()
    journal = tmp_path / "j"
    clean = _fake()
    _client(clean).process_new_data("pl-1", ROWS_SMALL, journal=tmp_path / "c", upload_threshold=0)
    put_index = next(i for i, r in enumerate(clean.requests, start=1) if r.method == "PUT")
    fake.crash_after = put_index
    with pytest.raises(Crash):
        _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    _client(fake).process_new_data("pl-1", ROWS_SMALL, journal=journal, upload_threshold=0)
    _assert_exactly_once(fake, ROWS_SMALL)
    assert len(fake.uploads) == 1
    assert [r.method for r in fake.requests if "storage" in str(r.url)] == ["PUT", "PUT", "GET"]


def test_unknown_chunk_outcome_without_item_count_refuses_to_guess(tmp_path: Path) -> None:
    from toloka_ext import OutcomeUnknownError

    fake = _fake()
    fake.report_item_count = False
    clean = _fake()
    _client(clean).process_new_data("pl-1", ROWS_CHUNKED, journal=tmp_path / "c")
    first_items = next(
        i for i, r in enumerate(clean.requests, start=1) if r.url.path.endswith("/items")
    )
    fake.crash_after = first_items
    journal = tmp_path / "j"
    with pytest.raises(Crash):
        _client(fake).process_new_data("pl-1", ROWS_CHUNKED, journal=journal)
    stored = [list(v) for v in fake.items.values()]
    with pytest.raises(OutcomeUnknownError, match="item count"):
        _client(fake).process_new_data("pl-1", ROWS_CHUNKED, journal=journal)
    assert [list(v) for v in fake.items.values()] == stored  # nothing sent twice
