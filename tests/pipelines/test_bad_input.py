"""Bad input is a typed ``InvalidInputError``/``ConfigurationError`` raised *before any
request*: the clients here get a transport that fails the test if it is ever called."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import pytest

from toloka_ext import ConfigurationError, InvalidInputError
from toloka_ext._pipelines import AsyncPipelineClient, PipelineClient, Upload, UploadStatus

API = "https://api.test/api/v2-beta"


class Forbidden(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that must not be used (``pytest.fail`` is a BaseException: nothing in the
    client can swallow it)."""

    def __init__(self, allow: tuple[str, ...] = ()) -> None:
        self.allow = allow  # "METHOD path-suffix" that may be answered with ``reply``
        self.reply: dict[str, Any] = {}
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        what = f"{request.method} {request.url.path}"
        self.seen.append(what)
        for allowed in self.allow:
            method, suffix = allowed.split(" ", 1)
            if request.method == method and request.url.path.endswith(suffix):
                return httpx.Response(200, json=self.reply[allowed])
        pytest.fail(f"a request was sent for bad input: {what}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.handle_request(request)


@pytest.fixture
def forbidden() -> Forbidden:
    return Forbidden()


@pytest.fixture
def client(forbidden: Forbidden) -> PipelineClient:
    return PipelineClient(
        api_key="k",
        base_url=API,
        transport=forbidden,
        storage_client=httpx.Client(transport=forbidden),
    )


@pytest.fixture
def aclient(forbidden: Forbidden) -> AsyncPipelineClient:
    return AsyncPipelineClient(
        api_key="k",
        base_url=API,
        transport=forbidden,
        storage_client=httpx.AsyncClient(transport=forbidden),
    )


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
]


def _rows(rows: Any) -> Any:
    return rows() if callable(rows) else rows


@pytest.mark.parametrize(("rows", "needle"), BAD_ROWS)
def test_bad_rows(client: PipelineClient, rows: Any, needle: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        client.datasets.add_items("ds-1", _rows(rows))
    with pytest.raises(InvalidInputError, match=needle):
        client.process_new_data("pl-1", _rows(rows), journal=tmp_path / "j", project_id="p")
    upload = Upload(id="upl-1", status=UploadStatus.PENDING, upload_url="https://s.test/u?sig=1")
    with pytest.raises(InvalidInputError, match=needle):
        client.uploads.send(upload, _rows(rows))
    assert not (tmp_path / "j").exists()  # not even the journal was started


@pytest.mark.anyio
@pytest.mark.parametrize(("rows", "needle"), BAD_ROWS)
async def test_bad_rows_async(aclient: AsyncPipelineClient, rows: Any, needle: str) -> None:
    with pytest.raises(InvalidInputError, match=needle):
        await aclient.datasets.add_items("ds-1", _rows(rows))
    with pytest.raises(InvalidInputError, match=needle):
        await aclient.process_new_data("pl-1", _rows(rows), project_id="p")


def test_empty_files_and_header_only_csv(client: PipelineClient, tmp_path: Path) -> None:
    for name, text in (("a.jsonl", "\n\n"), ("b.json", "[ ]"), ("c.csv", "url,lang\n")):
        (tmp_path / name).write_text(text)
        with pytest.raises(InvalidInputError, match="no rows"):
            client.datasets.add_items("ds-1", tmp_path / name)


@pytest.mark.parametrize("item_limit", [0, -1, True, 2.5, "3"])
def test_item_limit(client: PipelineClient, item_limit: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        client.pipelines.attach("pl-1", "ds-1", item_limit=item_limit)
    assert info.value.field == "item_limit"
    with pytest.raises(InvalidInputError, match="item_limit"):
        client.process_new_data("pl-1", [{"a": 1}], item_limit=item_limit, project_id="p")


@pytest.mark.anyio
@pytest.mark.parametrize("item_limit", [0, -5])
async def test_item_limit_async(aclient: AsyncPipelineClient, item_limit: int) -> None:
    with pytest.raises(InvalidInputError, match="at least 1"):
        await aclient.pipelines.attach("pl-1", "ds-1", item_limit=item_limit)
    with pytest.raises(InvalidInputError, match="at least 1"):
        await aclient.process_new_data("pl-1", [{"a": 1}], item_limit=item_limit)


def test_export_fields_given_as_one_string(client: PipelineClient) -> None:
    with pytest.raises(InvalidInputError, match="list"):
        client.process_new_data("pl-1", [{"a": 1}], export_fields="a", project_id="p")  # type: ignore[arg-type]


FIELDS = {
    "fields": [
        {"id": "fld-1", "name": "url", "jsonSchema": {"type": "string"}},
        {"id": "fld-9", "name": "label", "jsonSchema": {"type": "string"}},
    ]
}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"fields": ["url", "colour"]}, "no such field(s) to export: colour"),
        ({"field_ids": ["fld-404"]}, "no such field id(s) to export: fld-404"),
        ({"fields": "url"}, "not a string"),
    ],
)
def test_unknown_export_fields_list_the_existing_ones(kwargs: Any, needle: str) -> None:
    # Checking names needs the dataset's fields: that one GET is the only request allowed.
    transport = Forbidden(allow=("GET /fields",))
    transport.reply["GET /fields"] = FIELDS
    client = PipelineClient(api_key="k", base_url=API, transport=transport)
    with pytest.raises(InvalidInputError) as info:
        client.exports.create("ds-1", **kwargs)
    assert needle in str(info.value)
    if "fields" in kwargs and not isinstance(kwargs["fields"], str) or "field_ids" in kwargs:
        assert "url (fld-1)" in str(info.value) and "label (fld-9)" in str(info.value)
    assert transport.seen == ["GET /api/v2-beta/datasets/ds-1/fields"]


@pytest.mark.anyio
async def test_unknown_export_fields_async() -> None:
    transport = Forbidden(allow=("GET /fields",))
    transport.reply["GET /fields"] = FIELDS
    async with AsyncPipelineClient(api_key="k", base_url=API, transport=transport) as client:
        with pytest.raises(InvalidInputError, match=r"colour; the dataset has: url \(fld-1\)"):
            await client.exports.create("ds-1", fields=["colour"])
    assert transport.seen == ["GET /api/v2-beta/datasets/ds-1/fields"]


@pytest.mark.anyio
async def test_missing_api_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, forbidden: Forbidden
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        PipelineClient(base_url=API, transport=forbidden)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        AsyncPipelineClient(base_url=API, transport=forbidden)
    assert forbidden.seen == []


def test_undeclared_key_is_named(client: PipelineClient) -> None:
    with pytest.raises(InvalidInputError) as info:
        client.datasets.add_items(
            "ds-1", [{"url": "a"}, {"url": "b", "lang": "en"}], fields=["url"]
        )
    assert (info.value.position, info.value.field) == (1, "lang")
    assert "'lang' is not a declared field (declared: url)" in str(info.value)
