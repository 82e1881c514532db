"""``PipelineClient``/``AsyncPipelineClient``: every Pipeline API step as a method.

Resource groups (``client.projects``, ``.datasets``, ``.uploads``, ``.pipelines``, ``.runs``,
``.exports``) share the pure request/parse logic of :mod:`._adapter` and the flows of
:mod:`._workflow`; the sync and async twins differ only in ``await``. Presigned storage URLs
(``uploadUrl``, ``downloadUrl``) are reached with a separate client that carries no
credentials, and any ``Authorization`` header is stripped before such a request leaves.
"""

from __future__ import annotations

import builtins
import io
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio
import httpx

from .._auth import resolve_credentials
from .._base_client import AsyncAPIClient, SyncAPIClient
from .._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, V2_BASE_URL
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidInputError,
    OperationFailedError,
    make_status_error,
)
from .._polling import PollPolicy, apoll_until, poll_until
from .._transport import AsyncRetryTransport, RetryTransport
from .._types import NOT_GIVEN, NotGiven, TimeoutTypes
from . import _adapter as A
from ._errors import ExportFailedError, RunFailedError, UploadFailedError
from ._journal import Journal
from ._models import (
    Account,
    AddItemsResult,
    Dataset,
    DatasetAttachment,
    Export,
    ExportStatus,
    Field,
    FieldSpec,
    ItemFilter,
    Pipeline,
    Project,
    Run,
    RunStatus,
    Upload,
    UploadStatus,
)
from ._pagination import AsyncPaginator, SyncPage
from ._results import AtomicFile, IterReader, export_format
from ._rows import (
    DEFAULT_UPLOAD_THRESHOLD,
    MAX_REQUEST_BYTES,
    PreparedRows,
    Rows,
    iter_result_rows,
    prepare_rows,
)
from ._workflow import (
    AddItemsSummary,
    ProcessOptions,
    ProcessResult,
    add_items_flow,
    check_export_fields,
    check_item_limit,
    drive_async,
    drive_sync,
    process_flow,
)

__all__ = ["AsyncPipelineClient", "PipelineClient"]

T = TypeVar("T")
FieldsArg = Sequence[str | FieldSpec | Mapping[str, Any]] | None
DEFAULT_PAGE_SIZE = 20
_RESULT_CHUNK = 64 * 1024


# --------------------------------------------------------------------------- pure helpers


def _policy(
    base: PollPolicy, policy: PollPolicy | None, timeout: float | None | NotGiven
) -> PollPolicy:
    chosen = policy or base
    if not isinstance(timeout, NotGiven):
        chosen = PollPolicy(
            interval=chosen.interval,
            max_interval=chosen.max_interval,
            backoff_factor=chosen.backoff_factor,
            timeout=None if timeout is None else float(timeout),
        )
    return chosen


def run_is_done(run: Run) -> bool:
    return run.status == RunStatus.COMPLETED


def run_is_failed(run: Run) -> bool:
    # An unknown status is neither: polling goes on until the timeout.
    return run.status in (RunStatus.FAILED, RunStatus.CANCELLED)


def _upload_done(u: Upload) -> bool:
    return u.status == UploadStatus.SUCCEEDED


def _upload_failed(u: Upload) -> bool:
    return u.status == UploadStatus.FAILED


def _export_done(e: Export) -> bool:
    return e.status == ExportStatus.READY and bool(e.download_url)


def _export_failed(e: Export) -> bool:
    return e.status == ExportStatus.FAILED


def _check_export_fields(
    available: Sequence[Field], names: Sequence[str] | None, ids: Sequence[str] | None
) -> list[dict[str, str]]:
    if names is None and ids is None:
        if not available:
            raise InvalidInputError("the dataset has no fields to export", field="fields")
        return [{"id": f.id} for f in available]
    refs: list[dict[str, str]] = []
    known_names = {f.name for f in available}
    known_ids = {f.id for f in available}
    listing = ", ".join(f"{f.name} ({f.id})" for f in available) or "none"
    if isinstance(names, str) or isinstance(ids, str):
        raise InvalidInputError("export fields must be a list of names or ids, not a string")
    missing = [n for n in names or () if n not in known_names]
    if missing:
        raise InvalidInputError(
            f"no such field(s) to export: {', '.join(missing)}; the dataset has: {listing}",
            field="fields",
        )
    missing = [i for i in ids or () if i not in known_ids]
    if missing:
        raise InvalidInputError(
            f"no such field id(s) to export: {', '.join(missing)}; the dataset has: {listing}",
            field="field_ids",
        )
    refs.extend({"name": n} for n in names or ())
    refs.extend({"id": i} for i in ids or ())
    if not refs:
        raise InvalidInputError("choose at least one field to export", field="fields")
    return refs


def _storage_request(
    client: httpx.Client | httpx.AsyncClient,
    api_origin: httpx.URL,
    method: str,
    url: str,
    **kwargs: Any,
) -> httpx.Request:
    request = client.build_request(method, url, **kwargs)
    # Presigned storage authenticates by the URL's signature; credentials must never go there.
    target = request.url
    if (target.scheme, target.host, target.port) != (
        api_origin.scheme,
        api_origin.host,
        api_origin.port,
    ):
        request.headers.pop("Authorization", None)
    return request


def _storage_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    # Never echo the URL: its query is the presigned signature.
    where = f"{request.method} {request.url.copy_with(query=None)}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"storage {where}: {type(exc).__name__}", request=request)
    return APIConnectionError(f"storage {where}: {type(exc).__name__}", request=request)


def _prepare(
    rows: object, fields: FieldsArg, upload_threshold: int, max_request_bytes: int
) -> PreparedRows:
    return prepare_rows(
        rows,
        fields=fields,
        upload_threshold=upload_threshold,
        max_request_bytes=max_request_bytes,
    )


def _api_key_client_kwargs(
    api_key: str | None,
    base_url: str | None,
    timeout: TimeoutTypes,
    max_retries: int,
    default_headers: Mapping[str, str] | None,
) -> dict[str, Any]:
    return {
        "base_url": base_url or os.environ.get("TOLOKA_V2_BASE_URL") or V2_BASE_URL,
        "credentials": resolve_credentials(api_key=api_key, allowed=("ApiKey",)),
        "timeout": timeout,
        "max_retries": max_retries,
        "default_headers": default_headers,
    }


# =========================================================================== sync


class _SyncResource:
    def __init__(self, client: PipelineClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    def _call(self, spec: A.RequestSpec, parse: Callable[[str, httpx.Response], T]) -> T:
        return parse(spec.operation, self._client._send(spec))

    def _pager(
        self, limit: int, build: Callable[[int], A.RequestSpec], parse: Callable[..., A.PageData]
    ) -> SyncPage[Any]:
        def fetch(offset: int) -> A.PageData:
            return self._call(build(offset), parse)

        return SyncPage(fetch(0), offset=0, limit=limit, fetch=fetch)


class Projects(_SyncResource):
    """``client.projects``: list and create projects."""

    def list(self, *, limit: int = DEFAULT_PAGE_SIZE) -> SyncPage[Project]:
        """All projects, fetched a page at a time.

        Example::

            for project in client.projects.list():
                print(project.id, project.name)
        """
        return self._pager(
            limit,
            lambda off: A.req_list_projects(limit=limit, offset=off),
            A.parse_project_page,
        )

    def create(self, name: str, *, description: str | None = None) -> Project:
        """Create a project (its pipeline is still designed in the app)."""
        return self._call(A.req_create_project(name=name, description=description), A.parse_project)


class Datasets(_SyncResource):
    """``client.datasets``: create, list, fields and adding rows."""

    def create(self, project_id: str, *, name: str) -> Dataset:
        """Create an empty dataset: ``client.datasets.create("prj-1", name="batch-7")``."""
        return self._call(A.req_create_dataset(project_id, name=name), A.parse_dataset)

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> SyncPage[Dataset]:
        """The datasets of a project (auto-paging)."""
        return self._pager(
            limit,
            lambda off: A.req_list_datasets(project_id, limit=limit, offset=off),
            A.parse_dataset_page,
        )

    def list_fields(self, dataset_id: str) -> builtins.list[Field]:
        """The fields of a dataset."""
        return self._call(A.req_list_fields(dataset_id), A.parse_fields)

    def add_items(
        self,
        dataset_id: str,
        rows: Rows,
        *,
        fields: FieldsArg = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        policy: PollPolicy | None = None,
    ) -> AddItemsSummary:
        """Add rows, inline (packed under 2 MB a request) or through an upload, as fits.

        ``rows``: dicts, or a ``.jsonl``/``.json``/``.csv`` path. Fields are inferred from the
        first rows when not given. Everything is validated before the first request.

        Example::

            client.datasets.add_items("ds-1", [{"url": "https://x/1.jpg"}])
            client.datasets.add_items("ds-1", "rows.jsonl", fields=["url", "lang"])
        """
        with _prepare(rows, fields, upload_threshold, max_request_bytes) as prepared:
            flow = add_items_flow(dataset_id, prepared, policy=policy)
            return drive_sync(self._client, flow)

    def _post_items(self, dataset_id: str, content: bytes) -> AddItemsResult:
        return self._call(A.req_add_items(dataset_id, content), A.parse_add_items)

    def _find(
        self, project_id: str, *, name: str | None = None, dataset_id: str | None = None
    ) -> Dataset | None:
        for ds in self.list(project_id, limit=100):
            if (name is not None and ds.name == name) or (dataset_id and ds.id == dataset_id):
                return ds
        return None


class Uploads(_SyncResource):
    """``client.uploads``: the large-data path (create, send bytes, finalize, wait)."""

    def create(
        self, dataset_id: str, *, fields: FieldsArg = None, file_name: str | None = None
    ) -> Upload:
        """Start an upload; its ``upload_url`` takes the bytes (see ``add_items``)."""
        from ._rows import normalize_fields

        specs = normalize_fields(fields) if fields else None
        return self._call(
            A.req_create_upload(dataset_id, fields=specs, file_name=file_name), A.parse_upload
        )

    def finalize(self, upload_id: str) -> Upload:
        """Start ingesting the uploaded bytes."""
        return self._call(A.req_finalize_upload(upload_id), A.parse_upload)

    def get(self, upload_id: str) -> Upload:
        return self._call(A.req_get_upload(upload_id), A.parse_upload)

    def wait(
        self,
        upload_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Upload:
        """Poll until ``succeeded``.

        Raises:
            UploadFailedError: the upload failed (with the server's reason).
            PollTimeoutError: not done in time.
        """
        c = self._client
        try:
            return poll_until(
                lambda: self.get(upload_id),
                is_done=_upload_done,
                is_failed=_upload_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Upload):
                raise UploadFailedError(exc.obj) from None
            raise

    def send(self, upload: Upload, rows: Rows, *, fields: FieldsArg = None) -> None:
        """Stream ``rows`` as one JSON array to ``upload.upload_url`` (no Authorization header).

        Example::

            upload = client.uploads.create("ds-1", fields=["url", "lang"])
            client.uploads.send(upload, "rows.jsonl", fields=["url", "lang"])
            client.uploads.finalize(upload.id)
            client.uploads.wait(upload.id)
        """
        if not upload.upload_url:
            raise InvalidInputError(f"upload {upload.id} has no upload_url", field="upload")
        with _prepare(rows, fields, 0, MAX_REQUEST_BYTES) as prepared:
            self._put(upload.upload_url, prepared, method=upload.upload_method or "PUT")

    def _put(self, url: str, prepared: PreparedRows, *, method: str = "PUT") -> None:
        c = self._client
        request = _storage_request(
            c._storage,
            c._api_origin,
            method,
            url,
            content=prepared.upload_body(),
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(prepared.upload_size),
            },
        )
        request.extensions["toloka_idempotent"] = True
        try:
            response = c._storage.send(request)
        except httpx.TransportError as exc:
            raise _storage_error(exc, request) from exc
        if response.is_error:
            response.read()
            raise make_status_error(response)
        response.close()


class Pipelines(_SyncResource):
    """``client.pipelines``: copy, import, export, list, attach a dataset."""

    def copy(
        self, pipeline_id: str, *, name: str | None = None, project_id: str | None = None
    ) -> Pipeline:
        """Copy a pipeline (each batch of new data gets its own copy)."""
        return self._call(
            A.req_copy_pipeline(pipeline_id, name=name, project_id=project_id), A.parse_pipeline
        )

    def import_file(
        self, project_id: str, path: str | os.PathLike[str], *, name: str | None = None
    ) -> Pipeline:
        """Import a ``.pipeline`` file exported from the app.

        Example::

            pipeline = client.pipelines.import_file("prj-1", "signs.pipeline")
        """
        p = Path(path)
        with open(p, "rb") as fh:
            spec = A.req_import_pipeline(project_id, payload=fh, file_name=p.name, name=name)
        return self._call(spec, A.parse_pipeline)

    def export_to_file(self, pipeline_id: str, path: str | os.PathLike[str]) -> Path:
        """Save a pipeline as a portable ``.pipeline`` file (written atomically)."""
        spec = A.req_export_pipeline(pipeline_id)
        response = self._client._send(spec, stream=True)
        try:
            with AtomicFile(path) as out:
                for block in response.iter_bytes():
                    out.write(block)
                return out.commit()
        finally:
            response.close()

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> SyncPage[Pipeline]:
        """The pipelines of a project (auto-paging)."""
        return self._pager(
            limit,
            lambda off: A.req_list_pipelines(project_id, limit=limit, offset=off),
            A.parse_pipeline_page,
        )

    def attach(
        self,
        pipeline_id: str,
        dataset_id: str,
        *,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
    ) -> DatasetAttachment:
        """Bind a dataset to a pipeline, optionally capping (``item_limit``) or filtering."""
        check_item_limit(item_limit)
        spec = A.req_attach_dataset(
            pipeline_id, dataset_id=dataset_id, item_limit=item_limit, item_filter=item_filter
        )
        return self._call(
            spec,
            lambda op, r: A.parse_attachment(
                op,
                r,
                pipeline_id=pipeline_id,
                dataset_id=dataset_id,
                item_limit=item_limit,
                item_filter=item_filter,
            ),
        )

    def _find(self, project_id: str, *, name: str) -> Pipeline | None:
        for p in self.list(project_id, limit=100):
            if p.name == name:
                return p
        return None

    def _find_project(self, pipeline_id: str) -> str:
        for project in self._client.projects.list(limit=100):
            for p in self.list(project.id, limit=100):
                if p.id == pipeline_id:
                    return project.id
        raise InvalidInputError(
            f"pipeline {pipeline_id} is in none of the projects this key can list; "
            "pass project_id=",
            field="pipeline_id",
        )


class Runs(_SyncResource):
    """``client.runs``: start, get, list and watch runs."""

    def start(self, pipeline_id: str, *, name: str | None = None) -> Run:
        """Start a run over a snapshot of the attached dataset."""
        return self._call(A.req_start_run(pipeline_id, name=name), A.parse_run)

    def get(self, run_id: str) -> Run:
        return self._call(A.req_get_run(run_id), A.parse_run)

    def list(self, pipeline_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> SyncPage[Run]:
        """The runs of a pipeline (auto-paging)."""
        return self._pager(
            limit,
            lambda off: A.req_list_runs(pipeline_id, limit=limit, offset=off),
            A.parse_run_page,
        )

    def watch(
        self,
        run_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        on_progress: Callable[[Run], object] | None = None,
    ) -> Run:
        """Poll a run (backoff up to a cap) until it completes; return the final run.

        ``on_progress(run)`` is called after every poll (``run.progress`` has total /
        completed / failed). A status this snapshot does not know keeps the poll going until
        ``timeout`` (seconds; ``None`` waits forever; default from the client's policy).

        Example::

            run = client.runs.watch(run.id, timeout=3600, on_progress=lambda r: print(r.progress))

        Raises:
            RunFailedError: the run ended ``failed`` or ``cancelled`` (with the server's message).
            PollTimeoutError: still not finished at the timeout.
        """
        c = self._client
        try:
            return poll_until(
                lambda: self.get(run_id),
                is_done=run_is_done,
                is_failed=run_is_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                on_progress=on_progress,
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Run):
                raise RunFailedError(exc.obj) from None
            raise

    def _list_all(self, pipeline_id: str) -> builtins.list[Run]:
        return list(self.list(pipeline_id, limit=100))


class Exports(_SyncResource):
    """``client.exports``: create, wait, download, iterate result rows."""

    def create(
        self,
        dataset_id: str,
        *,
        fields: Sequence[str] | None = None,
        field_ids: Sequence[str] | None = None,
        format: str | None = None,
    ) -> Export:
        """Request an export of fields chosen by name (``fields``) or id (``field_ids``).

        With neither, every field is exported. The names are checked against the dataset's
        fields first; an unknown one raises ``InvalidInputError`` listing those that exist.

        Example::

            export = client.exports.create("ds-1", fields=["url", "label"])
        """
        available = self._client.datasets.list_fields(dataset_id)
        refs = _check_export_fields(available, fields, field_ids)
        return self._call(
            A.req_create_export(dataset_id, fields=refs, format=format), A.parse_export
        )

    def get(self, export_id: str) -> Export:
        return self._call(A.req_get_export(export_id), A.parse_export)

    def wait(
        self,
        export_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Export:
        """Poll until the export is ``ready`` (with a ``download_url``).

        Raises:
            ExportFailedError: the export failed (with the server's reason).
        """
        c = self._client
        try:
            return poll_until(
                lambda: self.get(export_id),
                is_done=_export_done,
                is_failed=_export_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Export):
                raise ExportFailedError(exc.obj) from None
            raise

    def _ready(self, export: Export | str) -> Export:
        exp = self.get(export) if isinstance(export, str) else export
        if not exp.download_url:
            exp = self.wait(exp.id)
        return exp

    def _open(self, export: Export) -> httpx.Response:
        c = self._client
        assert export.download_url is not None
        request = _storage_request(c._storage, c._api_origin, "GET", export.download_url)
        try:
            response = c._storage.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _storage_error(exc, request) from exc
        if response.is_error:
            response.read()
            response.close()
            raise make_status_error(response)
        return response

    def download(self, export: Export | str, path: str | os.PathLike[str]) -> Path:
        """Download the result file to ``path``, streaming, atomically (no partial file).

        Example::

            client.exports.download(export, "results.jsonl")
        """
        exp = self._ready(export)
        response = self._open(exp)
        try:
            with AtomicFile(path) as out:
                for block in response.iter_bytes(_RESULT_CHUNK):
                    out.write(block)
                return out.commit()
        except httpx.TransportError as exc:
            raise _storage_error(exc, response.request) from exc
        finally:
            response.close()

    def iter_rows(self, export: Export | str) -> Iterator[dict[str, Any]]:
        """Stream the result rows straight from ``download_url`` (nothing kept in memory)."""
        exp = self._ready(export)
        response = self._open(exp)
        try:
            reader = io.BufferedReader(IterReader(response.iter_bytes(_RESULT_CHUNK)))
            yield from iter_result_rows(reader, export_format(exp))
        finally:
            response.close()


class PipelineClient:
    """The Pipeline API (v2-beta): every step of the workflow, and the whole loop in one call.

    The API key comes from ``api_key`` or the ``TOLOKA_API_KEY`` environment variable; the
    base URL from ``base_url``, ``TOLOKA_V2_BASE_URL`` or the public v2-beta address.
    ``storage_client`` reaches presigned ``uploadUrl``/``downloadUrl`` (default: a retrying
    client with no credentials); ``event_hooks`` are added to the API client.

    Note: polling treats a status this snapshot does not know as "not finished yet".

    Example::

        from toloka_ext import PipelineClient

        with PipelineClient() as client:
            result = client.process_new_data("pl-1", "new_rows.jsonl", journal="batch.journal")
            for row in result.iter_rows():
                print(row)
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        event_hooks: Mapping[str, Sequence[Callable[..., Any]]] | None = None,
        storage_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
        poll_policy: PollPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        kwargs = _api_key_client_kwargs(api_key, base_url, timeout, max_retries, default_headers)
        self._api = SyncAPIClient(
            **kwargs, transport=transport, http_client=http_client, sleep=sleep
        )
        for name, hooks in (event_hooks or {}).items():
            self._api.http_client.event_hooks[name].extend(hooks)
        self._api_origin = httpx.URL(self._api.base_url)
        self._owns_storage = storage_client is None
        self._storage = storage_client or httpx.Client(
            transport=RetryTransport(transport or httpx.HTTPTransport(), max_retries=max_retries),
            timeout=timeout,
            follow_redirects=True,
        )
        self._poll_policy = poll_policy or PollPolicy()
        self._sleep = sleep
        self._clock = clock
        self.projects = Projects(self)
        self.datasets = Datasets(self)
        self.uploads = Uploads(self)
        self.pipelines = Pipelines(self)
        self.runs = Runs(self)
        self.exports = Exports(self)

    @property
    def api(self) -> SyncAPIClient:
        """The underlying HTTP core client."""
        return self._api

    def __repr__(self) -> str:
        return f"PipelineClient({self._api!r})"

    def me(self) -> Account:
        """The account the API key belongs to (a cheap key check).

        Example::

            with PipelineClient() as client:
                print(client.me().id)
        """
        return A.parse_account("getMe", self._send(A.req_get_me()))

    def _send(self, spec: A.RequestSpec, *, stream: bool = False) -> httpx.Response:
        try:
            return self._api.request(
                spec.method,
                spec.url,
                params=spec.params,
                content=spec.content,
                headers=spec.headers,
                idempotent=spec.idempotent,
                stream=stream,
            )
        except APIStatusError as exc:
            A.check_status_error(spec, exc)
            raise

    def process_new_data(
        self,
        pipeline_id: str,
        rows: Rows,
        *,
        journal: str | os.PathLike[str] | None = None,
        project_id: str | None = None,
        fields: FieldsArg = None,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
        export_fields: Sequence[str] | None = None,
        export_format: str | None = None,
        output: str | os.PathLike[str] | None = None,
        name_prefix: str = "toloka-ext",
        on_progress: Callable[[Run], object] | None = None,
        policy: PollPolicy | None = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
    ) -> ProcessResult:
        """Run new rows through a pipeline: new dataset, add rows, copy the pipeline, attach,
        run, watch, export, download. Returns the objects and the result file.

        With ``journal`` (a file path) the call is resumable: run it again with the same
        journal after a crash and it continues from the last completed step, creating
        nothing twice. Rows must then be re-readable (a file, or a list), and identical.

        Example::

            result = client.process_new_data(
                "pl-1", [{"url": "https://x/1.jpg"}], journal="batch-7.journal"
            )
            rows = result.rows()

        Raises:
            InvalidInputError: bad rows or options (before any request).
            RunFailedError: the run failed or was cancelled.
            JournalMismatchError: the journal belongs to another call.
        """
        check_item_limit(item_limit)
        export_names = check_export_fields(export_fields)
        with _prepare(rows, fields, upload_threshold, MAX_REQUEST_BYTES) as prepared:
            j = Journal.open(journal) if journal is not None else Journal.memory()
            opts = ProcessOptions(
                project_id=project_id,
                name_prefix=name_prefix,
                item_limit=item_limit,
                item_filter=item_filter,
                export_fields=export_names,
                export_format=export_format,
                output=Path(output) if output is not None else None,
                policy=policy,
                on_progress=on_progress,
            )
            return drive_sync(self, process_flow(pipeline_id, prepared, j, opts))

    def close(self) -> None:
        self._api.close()
        if self._owns_storage:
            self._storage.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# =========================================================================== async


class _AsyncResource:
    def __init__(self, client: AsyncPipelineClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def _call(self, spec: A.RequestSpec, parse: Callable[[str, httpx.Response], T]) -> T:
        return parse(spec.operation, await self._client._send(spec))

    def _pager(
        self, limit: int, build: Callable[[int], A.RequestSpec], parse: Callable[..., A.PageData]
    ) -> AsyncPaginator[Any]:
        async def fetch(offset: int) -> A.PageData:
            return await self._call(build(offset), parse)

        return AsyncPaginator(limit=limit, fetch=fetch)


class AsyncProjects(_AsyncResource):
    """The async twin of :class:`Projects`."""

    def list(self, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Project]:
        """``await`` for the first page, or ``async for project in client.projects.list()``."""
        return self._pager(
            limit,
            lambda off: A.req_list_projects(limit=limit, offset=off),
            A.parse_project_page,
        )

    async def create(self, name: str, *, description: str | None = None) -> Project:
        return await self._call(
            A.req_create_project(name=name, description=description), A.parse_project
        )


class AsyncDatasets(_AsyncResource):
    """The async twin of :class:`Datasets`."""

    async def create(self, project_id: str, *, name: str) -> Dataset:
        return await self._call(A.req_create_dataset(project_id, name=name), A.parse_dataset)

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Dataset]:
        return self._pager(
            limit,
            lambda off: A.req_list_datasets(project_id, limit=limit, offset=off),
            A.parse_dataset_page,
        )

    async def list_fields(self, dataset_id: str) -> builtins.list[Field]:
        return await self._call(A.req_list_fields(dataset_id), A.parse_fields)

    async def add_items(
        self,
        dataset_id: str,
        rows: Rows,
        *,
        fields: FieldsArg = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        policy: PollPolicy | None = None,
    ) -> AddItemsSummary:
        """The async twin of :meth:`Datasets.add_items`.

        Example::

            await client.datasets.add_items("ds-1", "rows.jsonl")
        """
        with _prepare(rows, fields, upload_threshold, max_request_bytes) as prepared:
            return await drive_async(
                self._client, add_items_flow(dataset_id, prepared, policy=policy)
            )

    async def _post_items(self, dataset_id: str, content: bytes) -> AddItemsResult:
        return await self._call(A.req_add_items(dataset_id, content), A.parse_add_items)

    async def _find(
        self, project_id: str, *, name: str | None = None, dataset_id: str | None = None
    ) -> Dataset | None:
        async for ds in self.list(project_id, limit=100):
            if (name is not None and ds.name == name) or (dataset_id and ds.id == dataset_id):
                return ds
        return None


class _AsyncUploadBody:
    def __init__(self, prepared: PreparedRows) -> None:
        self._prepared = prepared

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for block in self._prepared.iter_upload_body():
            yield block


class AsyncUploads(_AsyncResource):
    """The async twin of :class:`Uploads`."""

    async def create(
        self, dataset_id: str, *, fields: FieldsArg = None, file_name: str | None = None
    ) -> Upload:
        from ._rows import normalize_fields

        specs = normalize_fields(fields) if fields else None
        return await self._call(
            A.req_create_upload(dataset_id, fields=specs, file_name=file_name), A.parse_upload
        )

    async def finalize(self, upload_id: str) -> Upload:
        return await self._call(A.req_finalize_upload(upload_id), A.parse_upload)

    async def get(self, upload_id: str) -> Upload:
        return await self._call(A.req_get_upload(upload_id), A.parse_upload)

    async def wait(
        self,
        upload_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Upload:
        c = self._client
        try:
            return await apoll_until(
                lambda: self.get(upload_id),
                is_done=_upload_done,
                is_failed=_upload_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Upload):
                raise UploadFailedError(exc.obj) from None
            raise

    async def send(self, upload: Upload, rows: Rows, *, fields: FieldsArg = None) -> None:
        """The async twin of :meth:`Uploads.send`."""
        if not upload.upload_url:
            raise InvalidInputError(f"upload {upload.id} has no upload_url", field="upload")
        with _prepare(rows, fields, 0, MAX_REQUEST_BYTES) as prepared:
            await self._put(upload.upload_url, prepared, method=upload.upload_method or "PUT")

    async def _put(self, url: str, prepared: PreparedRows, *, method: str = "PUT") -> None:
        c = self._client
        request = _storage_request(
            c._storage,
            c._api_origin,
            method,
            url,
            content=_AsyncUploadBody(prepared),
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(prepared.upload_size),
            },
        )
        request.extensions["toloka_idempotent"] = True
        try:
            response = await c._storage.send(request)
        except httpx.TransportError as exc:
            raise _storage_error(exc, request) from exc
        if response.is_error:
            await response.aread()
            raise make_status_error(response)
        await response.aclose()


class AsyncPipelines(_AsyncResource):
    """The async twin of :class:`Pipelines`."""

    async def copy(
        self, pipeline_id: str, *, name: str | None = None, project_id: str | None = None
    ) -> Pipeline:
        return await self._call(
            A.req_copy_pipeline(pipeline_id, name=name, project_id=project_id), A.parse_pipeline
        )

    async def import_file(
        self, project_id: str, path: str | os.PathLike[str], *, name: str | None = None
    ) -> Pipeline:
        p = Path(path)
        with open(p, "rb") as fh:
            spec = A.req_import_pipeline(project_id, payload=fh, file_name=p.name, name=name)
        return await self._call(spec, A.parse_pipeline)

    async def export_to_file(self, pipeline_id: str, path: str | os.PathLike[str]) -> Path:
        response = await self._client._send(A.req_export_pipeline(pipeline_id), stream=True)
        try:
            with AtomicFile(path) as out:
                async for block in response.aiter_bytes():
                    out.write(block)
                return out.commit()
        finally:
            await response.aclose()

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Pipeline]:
        return self._pager(
            limit,
            lambda off: A.req_list_pipelines(project_id, limit=limit, offset=off),
            A.parse_pipeline_page,
        )

    async def attach(
        self,
        pipeline_id: str,
        dataset_id: str,
        *,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
    ) -> DatasetAttachment:
        check_item_limit(item_limit)
        spec = A.req_attach_dataset(
            pipeline_id, dataset_id=dataset_id, item_limit=item_limit, item_filter=item_filter
        )
        return await self._call(
            spec,
            lambda op, r: A.parse_attachment(
                op,
                r,
                pipeline_id=pipeline_id,
                dataset_id=dataset_id,
                item_limit=item_limit,
                item_filter=item_filter,
            ),
        )

    async def _find(self, project_id: str, *, name: str) -> Pipeline | None:
        async for p in self.list(project_id, limit=100):
            if p.name == name:
                return p
        return None

    async def _find_project(self, pipeline_id: str) -> str:
        async for project in self._client.projects.list(limit=100):
            async for p in self.list(project.id, limit=100):
                if p.id == pipeline_id:
                    return project.id
        raise InvalidInputError(
            f"pipeline {pipeline_id} is in none of the projects this key can list; "
            "pass project_id=",
            field="pipeline_id",
        )


class AsyncRuns(_AsyncResource):
    """The async twin of :class:`Runs`."""

    async def start(self, pipeline_id: str, *, name: str | None = None) -> Run:
        return await self._call(A.req_start_run(pipeline_id, name=name), A.parse_run)

    async def get(self, run_id: str) -> Run:
        return await self._call(A.req_get_run(run_id), A.parse_run)

    def list(self, pipeline_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Run]:
        return self._pager(
            limit,
            lambda off: A.req_list_runs(pipeline_id, limit=limit, offset=off),
            A.parse_run_page,
        )

    async def watch(
        self,
        run_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        on_progress: Callable[[Run], object] | None = None,
    ) -> Run:
        """The async twin of :meth:`Runs.watch`: ``run = await client.runs.watch(run_id)``."""
        c = self._client
        try:
            return await apoll_until(
                lambda: self.get(run_id),
                is_done=run_is_done,
                is_failed=run_is_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                on_progress=on_progress,
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Run):
                raise RunFailedError(exc.obj) from None
            raise

    async def _list_all(self, pipeline_id: str) -> builtins.list[Run]:
        return [r async for r in self.list(pipeline_id, limit=100)]


class AsyncExports(_AsyncResource):
    """The async twin of :class:`Exports`."""

    async def create(
        self,
        dataset_id: str,
        *,
        fields: Sequence[str] | None = None,
        field_ids: Sequence[str] | None = None,
        format: str | None = None,
    ) -> Export:
        available = await self._client.datasets.list_fields(dataset_id)
        refs = _check_export_fields(available, fields, field_ids)
        return await self._call(
            A.req_create_export(dataset_id, fields=refs, format=format), A.parse_export
        )

    async def get(self, export_id: str) -> Export:
        return await self._call(A.req_get_export(export_id), A.parse_export)

    async def wait(
        self,
        export_id: str,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Export:
        c = self._client
        try:
            return await apoll_until(
                lambda: self.get(export_id),
                is_done=_export_done,
                is_failed=_export_failed,
                policy=_policy(c._poll_policy, policy, timeout),
                sleep=c._sleep,
                clock=c._clock,
            )
        except OperationFailedError as exc:
            if isinstance(exc.obj, Export):
                raise ExportFailedError(exc.obj) from None
            raise

    async def _ready(self, export: Export | str) -> Export:
        exp = await self.get(export) if isinstance(export, str) else export
        if not exp.download_url:
            exp = await self.wait(exp.id)
        return exp

    async def _open(self, export: Export) -> httpx.Response:
        c = self._client
        assert export.download_url is not None
        request = _storage_request(c._storage, c._api_origin, "GET", export.download_url)
        try:
            response = await c._storage.send(request, stream=True)
        except httpx.TransportError as exc:
            raise _storage_error(exc, request) from exc
        if response.is_error:
            await response.aread()
            await response.aclose()
            raise make_status_error(response)
        return response

    async def download(self, export: Export | str, path: str | os.PathLike[str]) -> Path:
        """The async twin of :meth:`Exports.download`."""
        exp = await self._ready(export)
        response = await self._open(exp)
        try:
            with AtomicFile(path) as out:
                async for block in response.aiter_bytes(_RESULT_CHUNK):
                    out.write(block)
                return out.commit()
        except httpx.TransportError as exc:
            raise _storage_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def iter_rows(self, export: Export | str) -> AsyncIterator[dict[str, Any]]:
        """Result rows, streamed through a spooled temporary file (bounded memory)."""
        exp = await self._ready(export)
        response = await self._open(exp)
        with tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024) as spool:
            try:
                async for block in response.aiter_bytes(_RESULT_CHUNK):
                    spool.write(block)
            finally:
                await response.aclose()
            spool.seek(0)
            for row in iter_result_rows(spool, export_format(exp)):
                yield row


class AsyncPipelineClient:
    """The async twin of :class:`PipelineClient`.

    Example::

        async with AsyncPipelineClient() as client:
            result = await client.process_new_data("pl-1", rows, journal="batch.journal")
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        event_hooks: Mapping[str, Sequence[Callable[..., Any]]] | None = None,
        storage_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
        poll_policy: PollPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        kwargs = _api_key_client_kwargs(api_key, base_url, timeout, max_retries, default_headers)
        self._api = AsyncAPIClient(
            **kwargs, transport=transport, http_client=http_client, sleep=sleep
        )
        for name, hooks in (event_hooks or {}).items():
            self._api.http_client.event_hooks[name].extend(hooks)
        self._api_origin = httpx.URL(self._api.base_url)
        self._owns_storage = storage_client is None
        self._storage = storage_client or httpx.AsyncClient(
            transport=AsyncRetryTransport(
                transport or httpx.AsyncHTTPTransport(), max_retries=max_retries
            ),
            timeout=timeout,
            follow_redirects=True,
        )
        self._poll_policy = poll_policy or PollPolicy()
        self._sleep = sleep
        self._clock = clock
        self.projects = AsyncProjects(self)
        self.datasets = AsyncDatasets(self)
        self.uploads = AsyncUploads(self)
        self.pipelines = AsyncPipelines(self)
        self.runs = AsyncRuns(self)
        self.exports = AsyncExports(self)

    @property
    def api(self) -> AsyncAPIClient:
        """The underlying HTTP core client."""
        return self._api

    def __repr__(self) -> str:
        return f"AsyncPipelineClient({self._api!r})"

    async def me(self) -> Account:
        """The account the API key belongs to (a cheap key check)."""
        return A.parse_account("getMe", await self._send(A.req_get_me()))

    async def _send(self, spec: A.RequestSpec, *, stream: bool = False) -> httpx.Response:
        try:
            return await self._api.request(
                spec.method,
                spec.url,
                params=spec.params,
                content=spec.content,
                headers=spec.headers,
                idempotent=spec.idempotent,
                stream=stream,
            )
        except APIStatusError as exc:
            A.check_status_error(spec, exc)
            raise

    async def process_new_data(
        self,
        pipeline_id: str,
        rows: Rows,
        *,
        journal: str | os.PathLike[str] | None = None,
        project_id: str | None = None,
        fields: FieldsArg = None,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
        export_fields: Sequence[str] | None = None,
        export_format: str | None = None,
        output: str | os.PathLike[str] | None = None,
        name_prefix: str = "toloka-ext",
        on_progress: Callable[[Run], object] | None = None,
        policy: PollPolicy | None = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
    ) -> ProcessResult:
        """The async twin of :meth:`PipelineClient.process_new_data`."""
        check_item_limit(item_limit)
        export_names = check_export_fields(export_fields)
        with _prepare(rows, fields, upload_threshold, MAX_REQUEST_BYTES) as prepared:
            j = Journal.open(journal) if journal is not None else Journal.memory()
            opts = ProcessOptions(
                project_id=project_id,
                name_prefix=name_prefix,
                item_limit=item_limit,
                item_filter=item_filter,
                export_fields=export_names,
                export_format=export_format,
                output=Path(output) if output is not None else None,
                policy=policy,
                on_progress=on_progress,
            )
            return await drive_async(self, process_flow(pipeline_id, prepared, j, opts))

    async def aclose(self) -> None:
        await self._api.aclose()
        if self._owns_storage:
            await self._storage.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
