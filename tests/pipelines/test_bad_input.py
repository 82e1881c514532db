"""Bad input is a typed ``InvalidInputError``/``ConfigurationError`` raised *before any
request*: the clients here talk to a sandbox that records every request it receives, and
each test checks that it received none (or only the one read a check needs)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from toloka_ext import AsyncToloka, ConfigurationError, InvalidInputError, PollPolicy, Toloka
from toloka_ext.testing import Sandbox
from toloka_ext.types import Upload, UploadStatus


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(record_requests=True)
    yield sandbox
    assert sandbox.requests == [], [(r.method, r.path) for r in sandbox.requests]


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Toloka]:
    with sandbox.client(max_retries=0) as client:
        yield client


@pytest.fixture
async def aclient(sandbox: Sandbox) -> AsyncIterator[AsyncToloka]:
    async with sandbox.async_client(max_retries=0) as client:
        yield client


def _empty_gen() -> Any:
    yield from ()


BAD_ROWS = [
    pytest.param([], "no rows", id="empty-list"),
    pytest.param(_empty_gen, "no rows", id="empty-generator"),
    pytest.param([{"a": 1}, ["a", 1]], r"object \(dict\)", id="non-dict"),
    pytest.param([{"a": 1}, None], r"object \(dict\)", id="none-row"),
    pytest.param([{"a": math.nan}], "not a valid JSON number", id="nan"),
    pytest.param([{"a": 1}] * 5000 + [{"a": -math.inf}], "not a valid JSON number", id="inf-late"),
    pytest.param([{"a": b"bytes"}], "bytes values", id="bytes"),
    pytest.param([{"a": {"nested": {1, 2}}}], "set values", id="nested-set"),
    pytest.param([{"a": {1: "x"}}], "is not a string", id="non-str-key"),
    pytest.param([{1: "x"}], "is not a string", id="non-str-top-key"),
    pytest.param({"a": 1}, "not a single object", id="single-dict"),
    # Past the rows fields are inferred from, each kind still meets the full check: a batch
    # is encoded before its values' types are looked at.
    *(
        pytest.param([{"a": 1}] * 5000 + [bad], needle, id=f"{name}-late")
        for name, bad, needle in (
            ("nested-set", {"a": {"nested": {1, 2}}}, "set values"),
            ("non-str-key", {"a": {1: "x"}}, "is not a string"),
            ("non-str-key-in-list", {"a": [{1: "x"}]}, "is not a string"),
            ("date", {"a": date(2026, 1, 1)}, "date values"),
            ("bytes", {"a": b"x"}, "bytes values"),
        )
    ),
]


def _rows(rows: Any) -> Any:
    return rows() if callable(rows) else rows


@pytest.mark.parametrize(("rows", "needle"), BAD_ROWS)
def test_bad_rows(client: Toloka, sandbox: Sandbox, rows: Any, needle: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        client.datasets.add_items("ds-1", _rows(rows))
    with pytest.raises(InvalidInputError, match=needle):
        client.process_new_data("pl-1", _rows(rows), journal=tmp_path / "j", project_id="prj-1")
    url = f"{sandbox.storage_base}/_storage/uploads/upl-1?token=t"
    upload = Upload(id="upl-1", status=UploadStatus.PENDING, upload_url=url)
    with pytest.raises(InvalidInputError, match=needle):
        client.uploads.send(upload, _rows(rows))
    assert not (tmp_path / "j").exists()  # not even the journal was started


@pytest.mark.anyio
@pytest.mark.parametrize(("rows", "needle"), BAD_ROWS)
async def test_bad_rows_async(aclient: AsyncToloka, rows: Any, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        await aclient.datasets.add_items("ds-1", _rows(rows))
    with pytest.raises(InvalidInputError, match=needle):
        await aclient.process_new_data("pl-1", _rows(rows), project_id="prj-1")


def test_empty_files_and_header_only_csv(client: Toloka, tmp_path: Path) -> None:
    for name, text in (("a.jsonl", "\n\n"), ("b.json", "[ ]"), ("c.csv", "url,lang\n")):
        (tmp_path / name).write_text(text)
        with pytest.raises(InvalidInputError, match="no rows"):
            client.datasets.add_items("ds-1", tmp_path / name)


@pytest.mark.parametrize("item_limit", [0, -1, True, 2.5, "3"])
def test_item_limit(client: Toloka, item_limit: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        client.pipelines.attach("pl-1", "ds-1", item_limit=item_limit)
    assert info.value.field == "item_limit"
    with pytest.raises(InvalidInputError, match="item_limit"):
        client.process_new_data("pl-1", [{"a": 1}], item_limit=item_limit, project_id="prj-1")


@pytest.mark.anyio
@pytest.mark.parametrize("item_limit", [0, -5])
async def test_item_limit_async(aclient: AsyncToloka, item_limit: int) -> None:
    with pytest.raises(InvalidInputError, match="at least 1"):
        await aclient.pipelines.attach("pl-1", "ds-1", item_limit=item_limit)
    with pytest.raises(InvalidInputError, match="at least 1"):
        await aclient.process_new_data("pl-1", [{"a": 1}], item_limit=item_limit)


def test_export_fields_given_as_one_string(client: Toloka) -> None:
    with pytest.raises(InvalidInputError, match="list"):
        client.process_new_data("pl-1", [{"a": 1}], export_fields="a", project_id="prj-1")  # type: ignore[arg-type]


def _dataset_with_fields(sandbox: Sandbox) -> tuple[str, dict[str, str]]:
    """A dataset with the fields ``url`` and ``label``; its id and the field ids by name."""
    with sandbox.client() as setup:
        dataset = setup.datasets.create("prj-1", name="d")
        setup.datasets.add_items(dataset.id, [{"url": "https://x/1.jpg", "label": "yes"}])
        ids = {f.name: f.id for f in setup.datasets.list_fields(dataset.id)}
    assert set(ids) == {"url", "label"}
    del sandbox.requests[:]
    return dataset.id, ids


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"fields": ["url", "colour"]}, "no such field(s) to export: colour"),
        ({"field_ids": ["fld-404"]}, "no such field id(s) to export: fld-404"),
    ],
)
def test_unknown_export_fields_list_the_existing_ones(kwargs: Any, needle: str) -> None:
    # Checking names needs the dataset's fields: that one GET is the only request allowed.
    sandbox = Sandbox(record_requests=True)
    dataset_id, ids = _dataset_with_fields(sandbox)
    with sandbox.client(max_retries=0) as client, pytest.raises(InvalidInputError) as info:
        client.exports.create(dataset_id, **kwargs)
    assert needle in str(info.value)
    assert f"url ({ids['url']})" in str(info.value)
    assert f"label ({ids['label']})" in str(info.value)
    assert [(r.method, r.path) for r in sandbox.requests] == [
        ("GET", f"/api/v2-beta/datasets/{dataset_id}/fields")
    ]
    assert sandbox.counters.applied["createExport"] == 0


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"fields": "url"}, "fields", "a list of field names, not str"),
        ({"field_ids": "fld-1"}, "field_ids", "a list of field ids, not str"),
        ({"fields": ["url", ""]}, "fields", "non-empty strings"),
        ({"fields": ["url", 3]}, "fields", "non-empty strings"),
        ({"fields": []}, "fields", "at least one field"),
        ({"fields": [], "field_ids": []}, "fields", "at least one field"),
        ({"format": ""}, "format", "non-empty string"),
        ({"format": 5}, "format", "non-empty string"),
    ],
)
def test_the_shape_of_an_export_request_is_checked_before_any_request(
    kwargs: Any, field: str, needle: str
) -> None:
    sandbox = Sandbox(record_requests=True)
    dataset_id, _ = _dataset_with_fields(sandbox)
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.exports.create(dataset_id, **kwargs)
    assert info.value.field == field and needle in str(info.value)
    assert sandbox.requests == []


@pytest.mark.anyio
async def test_unknown_export_fields_async() -> None:
    sandbox = Sandbox(record_requests=True)
    dataset_id, ids = _dataset_with_fields(sandbox)
    async with sandbox.async_client(max_retries=0) as client:
        with pytest.raises(
            InvalidInputError, match=rf"colour; the dataset has: url \({ids['url']}\)"
        ):
            await client.exports.create(dataset_id, fields=["colour"])
    assert [r.operation for r in sandbox.requests] == ["listDatasetFields"]


@pytest.mark.anyio
async def test_missing_api_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        sandbox.client(api_key=None)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        sandbox.async_client(api_key=None)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        Toloka(base_url=sandbox.v2_base_url, transport=sandbox.transport)


def test_undeclared_key_is_named(client: Toloka) -> None:
    with pytest.raises(InvalidInputError) as info:
        client.datasets.add_items(
            "ds-1", [{"url": "a"}, {"url": "b", "lang": "en"}], fields=["url"]
        )
    assert (info.value.position, info.value.field) == (1, "lang")
    assert "'lang' is not a declared field (declared: url)" in str(info.value)


# The checks of REQUEST_CHECKS (derived from the snapshot's spec) and of the generated request
# models: what the client can know is wrong is refused before any request.
REFUSED = [
    (lambda c: c.runs.get(""), "run_id", "non-empty"),
    (lambda c: c.runs.get(7), "run_id", "a string"),
    (lambda c: c.uploads.get(""), "upload_id", "non-empty"),
    (lambda c: c.exports.get(""), "export_id", "non-empty"),
    (lambda c: c.datasets.create("", name="d"), "project_id", "non-empty"),
    (lambda c: c.datasets.create("prj-1", name=""), "name", "non-empty"),
    (lambda c: c.datasets.create("prj-1", name=5), "name", "expected str"),
    (lambda c: c.datasets.list_fields(""), "dataset_id", "non-empty"),
    (lambda c: c.projects.create(""), "name", "non-empty"),
    (lambda c: c.pipelines.copy("pl-1", name=3), "name", "expected str"),
    (lambda c: c.pipelines.attach("pl-1", ""), "dataset_id", "non-empty"),
    (lambda c: c.runs.start("pl-1", name=7), "name", "expected str"),
    (lambda c: c.runs.start("", name="r"), "pipeline_id", "non-empty"),
    (lambda c: c.runs.list("pl-1", limit=0), "limit", "positive integer"),
    (lambda c: c.exports.list("ds-1", limit="10"), "limit", "positive integer"),
    (lambda c: c.runs.watch("run-1", timeout=-1), "timeout", "negative"),
    (
        lambda c: c.runs.watch("run-1", poll_policy=PollPolicy(interval=float("nan"))),
        "interval",
        "",
    ),
]


@pytest.mark.parametrize(("call", "field", "needle"), REFUSED)
def test_what_the_snapshot_says_cannot_be_sent_is_refused_first(
    call: Any, field: str, needle: str
) -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        result = call(client)
        list(result)  # a paginator is lazy: its first page would be the first request
    assert info.value.field == field and needle in str(info.value)
    assert isinstance(info.value, ValueError)  # code that caught ValueError still does
    assert sandbox.requests == []


@pytest.mark.anyio
async def test_the_async_client_refuses_the_same_first() -> None:
    sandbox = Sandbox(record_requests=True)
    async with sandbox.async_client() as client:
        with pytest.raises(InvalidInputError, match="run_id must be non-empty"):
            await client.runs.get("")
        with pytest.raises(InvalidInputError, match="name: expected str"):
            await client.runs.start("pl-1", name=7)  # type: ignore[arg-type]
    assert sandbox.requests == []


def test_a_download_into_a_directory_is_refused_before_any_request(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.exports.download("exp-1", tmp_path)
    assert info.value.field == "path" and sandbox.requests == []
    assert list(tmp_path.iterdir()) == []  # and no scratch file left behind


def test_request_checks_come_from_the_spec_without_guesses_or_enums() -> None:
    from toloka_ext._optable import request_checks

    doc = {
        "paths": {
            "/things/{thingId}": {
                "parameters": [{"name": "thingId", "in": "path",
                                "schema": {"type": "string", "minLength": 1}}],
                "post": {
                    "operationId": "makeThing",
                    "parameters": [
                        {"name": "limit", "in": "query", "x-guess": True,
                         "schema": {"type": "integer", "maximum": 100}},
                        {"name": "offset", "in": "query",
                         "schema": {"$ref": "#/components/schemas/Offset"}},
                    ],
                    "requestBody": {"content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "maxLength": 9, "enum": ["a"]},
                            "size": {"type": "integer", "minimum": 1, "x-guess": True},
                        },
                    }}}},
                },
            }
        },
        "components": {"schemas": {"Offset": {"type": "integer", "minimum": 0}}},
    }  # fmt: skip
    assert request_checks(doc) == {
        "makeThing": {
            "path": {"thingId": {"type": "string", "minLength": 1}},
            "query": {"offset": {"type": "integer", "minimum": 0}},
            "body": {"name": {"type": "string", "maxLength": 9}},
        }
    }
    guessed_body = {**doc}
    body = guessed_body["paths"]["/things/{thingId}"]["post"]["requestBody"]
    body["content"]["application/json"]["schema"]["x-guess"] = True
    assert request_checks(guessed_body)["makeThing"]["body"] == {}


def test_files_are_checked_before_the_requests_that_fill_them(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        with pytest.raises(InvalidInputError) as exported:
            client.pipelines.export_to_file("pl-1", tmp_path)
        with pytest.raises(InvalidInputError) as processed:
            client.process_new_data("pl-1", [{"a": 1}], output=tmp_path)
        with pytest.raises(InvalidInputError) as unnamed:
            client.process_new_data("", [{"a": 1}])
    assert (exported.value.field, processed.value.field) == ("path", "output")
    assert unnamed.value.field == "pipeline_id"
    assert sandbox.requests == [] and list(tmp_path.iterdir()) == []


def test_a_pipeline_file_that_cannot_be_read_or_a_bad_name_is_refused_first(
    tmp_path: Path,
) -> None:
    sandbox = Sandbox(record_requests=True)
    good = tmp_path / "ok.pipeline"
    good.write_bytes(b"PIPELINE")
    with sandbox.client() as client:
        for path in (tmp_path / "missing.pipeline", tmp_path):
            with pytest.raises(InvalidInputError, match="cannot read the pipeline file") as info:
                client.pipelines.import_file("prj-1", path)
            assert info.value.field == "path"
        with pytest.raises(InvalidInputError) as named:
            client.pipelines.import_file("prj-1", good, name=5)  # type: ignore[arg-type]
        assert named.value.field == "name"
        with pytest.raises(InvalidInputError) as project:
            client.pipelines.import_file("", good)
        assert project.value.field == "project_id"
    assert sandbox.requests == []
