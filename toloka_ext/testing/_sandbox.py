"""The sandbox: its options, state and helpers, over the shared request pipeline."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, cast, overload

import httpx

from ._backend import Backend, Counters
from ._clock import Clock, SystemClock, VirtualTime, iso_v2
from ._config import (
    DEFAULT_API_BASE,
    DEFAULT_PIPELINES,
    DEFAULT_POOLS,
    DEFAULT_STORAGE_BASE,
    SandboxConfig,
)
from ._dispatch import Rewrite, dispatch, too_large
from ._faults import FaultConfig
from ._inputspec import checked_spec
from ._recording import RecordedRequest
from ._routes import PREFIXES
from ._runtime import Runtime
from ._transport import AsgiApp, SandboxTransport
from ._wire import Incoming, SandboxResponse, Timeout

if TYPE_CHECKING:
    from toloka_ext import AsyncToloka, Toloka

__all__ = ["Sandbox"]

Obj = dict[str, Any]
T = TypeVar("T")


class _Option(Generic[T]):
    """A read-only view of one :class:`SandboxConfig` field on the sandbox."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, _objtype: type | None = None) -> _Option[T]: ...
    @overload
    def __get__(self, obj: Sandbox, _objtype: type | None = None) -> T: ...
    def __get__(self, obj: Sandbox | None, _objtype: type | None = None) -> T | _Option[T]:
        if obj is None:
            return self
        return cast(T, getattr(obj.config, self._name))

    def __set__(self, obj: Sandbox, value: T) -> NoReturn:
        # Without this, assigning would silently shadow the option and change nothing.
        raise AttributeError(f"use sandbox.configure({self._name}=...) to change an option")


class Sandbox:
    """A stateful local Toloka (Pipeline API v2-beta + v1 tasks), in memory or on SQLite.

    Example:
        sandbox = Sandbox()
        with sandbox.client() as client:          # toloka_ext.Toloka, bound to the sandbox
            result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
        with sandbox.http_client() as http:       # or raw HTTP
            r = http.get(f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers("v2"))
            assert r.json()["projects"][0]["id"] == "prj-1"

    Seeded (what :meth:`reset` goes back to): v2 project ``prj-1``, pipeline ``pl-1`` (in
    ``prj-1``, labels each item ``yes``/``no`` in ``label``), v1 pools ``1``, ``pool-1`` (no
    default overlap) and ``pool-2`` (default overlap 3); clients authenticate with
    :attr:`api_key` (``"sandbox-key"``). Add more with :meth:`add_project`,
    :meth:`add_pipeline` and :meth:`add_pool`; change options with :meth:`configure`.

    Options (keyword-only; all but ``db_path``, ``faults``, ``rewrite`` and
    ``record_requests`` are kept in the immutable :attr:`config`, see :meth:`configure`):

    * ``api_key``, ``oauth_token``: the credentials it accepts (``ApiKey`` on both APIs,
      ``OAuth`` on v1 only).
    * ``seed``: seeds the labeller, task and operation ids and random faults.
    * ``clock``: a :class:`~toloka_ext.testing.ManualClock` to move time by hand.
    * ``db_path``: a SQLite file; a sandbox on the same file resumes from it.
    * ``faults``: a :class:`~toloka_ext.testing.FaultConfig` (also settable: ``sandbox.faults
      = FaultConfig(...)`` counts ``on_nth`` afresh from then on).
    * ``api_base``, ``storage_base``: the two origins (storage must be another origin).
    * ``seed_pipelines``, ``v1_pools``: what exists from the start (see :meth:`add_pool`
      for the keys of a pool).
    * ``upload_polls``, ``run_polls``, ``export_polls``, ``operation_polls``: how many GETs
      a long-running object takes to finish; ``step_seconds``: each that many seconds of
      ``clock`` is one more step.
    * ``labels``, ``label_field``, ``fail_items_where``: the fake labeller (a run labels each
      item with one of ``labels`` by a hash of the item, and fails items whose fields equal
      ``fail_items_where``).
    * ``url_ttl``: lifetime of presigned URLs; ``max_inline_bytes``: the add-items body limit.
    * ``max_page_size``: the longest v2 list page it answers, whatever ``limit`` asked for
      (e.g. 2, so that a test sees whether the caller follows pagination).
    * ``max_body_bytes``: an API request body over this many bytes (16 MiB) gets 413 before
      it is read, authenticated or not (presigned storage uploads are not API requests).
    * ``success_status``: answer every successful API request with this 2xx status instead
      of its own (e.g. 200 for creates, 202 for reads), so tests see that a client takes
      any 2xx with a body as success.
    * ``verified``: whether the account may start runs; ``allow_kill``: ``kill_*`` faults
      stop a served process.
    * ``rewrite``: ``rewrite(operation_id, body) -> body`` is applied to every JSON 2xx API
      answer (also settable: ``sandbox.rewrite = ...``); to test drift. It gets a copy of
      the body as parsed from the wire; return it unchanged to leave an answer alone.
    * ``record_requests``: keep every request in :attr:`requests` (off by default: long
      benchmarks send millions of rows; the ``toloka_sandbox`` fixture turns it on).

    Example (drift and recorded requests):
        def drop_item_count(op, body):
            if op == "listDatasets":
                for ds in body["datasets"]:
                    ds.pop("itemCount", None)
            return body

        sandbox = Sandbox(rewrite=drop_item_count, record_requests=True, max_page_size=2)
        ...
        assert [r.params.get("offset") for r in sandbox.requests_for("listProjects")] == [
            "0", "2"]

    Note: long-running objects (uploads, runs, exports, operations) move on when polled:
    each GET of the object is one step (``*_polls`` steps to finish); with ``step_seconds``
    each that many seconds of ``clock`` is one more step.
    """

    # Read-only views of the options (change them with configure()).
    api_key = _Option[str]()
    oauth_token = _Option[str]()
    seed = _Option[int]()
    clock = _Option[Clock]()
    api_base = _Option[str]()
    storage_base = _Option[str]()
    upload_polls = _Option[int]()
    run_polls = _Option[int]()
    export_polls = _Option[int]()
    operation_polls = _Option[int]()
    step_seconds = _Option[float | None]()
    labels = _Option[tuple[str, ...]]()
    label_field = _Option[str]()
    fail_items_where = _Option[Mapping[str, Any]]()
    url_ttl = _Option[float]()
    max_inline_bytes = _Option[int]()
    max_page_size = _Option[int]()
    max_body_bytes = _Option[int]()
    success_status = _Option[int | None]()
    verified = _Option[bool]()
    allow_kill = _Option[bool]()

    def __init__(
        self,
        *,
        api_key: str = "sandbox-key",
        oauth_token: str = "sandbox-token",
        seed: int = 0,
        clock: Clock | None = None,
        db_path: str | Path | None = None,
        faults: FaultConfig | None = None,
        api_base: str = DEFAULT_API_BASE,
        storage_base: str = DEFAULT_STORAGE_BASE,
        seed_pipelines: Mapping[str, str] | None = None,
        v1_pools: Mapping[str, Mapping[str, Any]] | None = None,
        upload_polls: int = 2,
        run_polls: int = 3,
        export_polls: int = 2,
        operation_polls: int = 2,
        step_seconds: float | None = None,
        labels: Sequence[str] = ("yes", "no"),
        label_field: str = "label",
        fail_items_where: Mapping[str, Any] | None = None,
        url_ttl: float = 3600.0,
        max_inline_bytes: int = 2 * 1024 * 1024,
        max_page_size: int = 100,
        max_body_bytes: int = 16 * 1024 * 1024,
        success_status: int | None = None,
        verified: bool = True,
        allow_kill: bool = False,
        rewrite: Rewrite | None = None,
        record_requests: bool = False,
    ) -> None:
        self.config = SandboxConfig(
            api_key=api_key,
            oauth_token=oauth_token,
            seed=seed,
            clock=clock or SystemClock(),
            api_base=api_base,
            storage_base=storage_base,
            seed_pipelines=DEFAULT_PIPELINES if seed_pipelines is None else seed_pipelines,
            v1_pools=DEFAULT_POOLS if v1_pools is None else v1_pools,
            upload_polls=upload_polls,
            run_polls=run_polls,
            export_polls=export_polls,
            operation_polls=operation_polls,
            step_seconds=step_seconds,
            labels=tuple(labels),
            label_field=label_field,
            fail_items_where=fail_items_where or {},
            url_ttl=url_ttl,
            max_inline_bytes=max_inline_bytes,
            max_page_size=max_page_size,
            max_body_bytes=max_body_bytes,
            success_status=success_status,
            verified=verified,
            allow_kill=allow_kill,
        )
        self.backend = Backend(db_path)
        self.runtime = Runtime(seed, faults)
        self.rewrite: Rewrite | None = rewrite
        self.record_requests = record_requests
        self.requests: list[RecordedRequest] = []
        self._seed()

    # -- lifecycle ----------------------------------------------------------------------
    def _seed(self) -> None:
        backend, config = self.backend, self.config
        with backend.lock:
            if backend.get("project", "prj-1") is None and not backend.seq["prj"]:
                self._put_project("prj-1", "Sandbox project")
            for pid, name in config.seed_pipelines.items():
                if backend.get("pipeline", pid) is None:
                    self._put_pipeline(pid, name, "prj-1")
            for pool_id, conf in config.v1_pools.items():
                if backend.get("pool", pool_id) is None:
                    self._put_pool(pool_id, conf)
            backend.flush()

    def _bump_seq(self, oid: str) -> None:
        # Seeded ids like "pl-7" move the sequence on, so created ones never collide.
        prefix, _, num = oid.rpartition("-")
        if prefix and num.isdigit():
            self.backend.seq[prefix] = max(self.backend.seq[prefix], int(num))

    def _put_project(self, project_id: str, name: str) -> None:
        now = iso_v2(self.config.clock.now())
        self.backend.save("project", {"id": project_id, "name": name, "createdAt": now})
        self._bump_seq(project_id)

    def _put_pipeline(self, pipeline_id: str, name: str, project_id: str) -> None:
        graph = {"steps": [{"name": "annotate", "type": "label", "labels": list(self.labels)}]}
        pipeline = {
            "id": pipeline_id,
            "name": name,
            "projectId": project_id,
            "createdAt": iso_v2(self.config.clock.now()),
            "_graph": graph,
        }
        self.backend.save("pipeline", pipeline)
        self._bump_seq(pipeline_id)

    def _put_pool(self, pool_id: str, conf: Mapping[str, Any]) -> None:
        pool = {
            "id": pool_id,
            "status": conf.get("status", "CLOSED"),
            "default_overlap": conf.get("default_overlap"),
            "baseline_solutions_allowed": conf.get("baseline_solutions_allowed", True),
            "input_spec": checked_spec(conf.get("input_spec")),
        }
        self.backend.save("pool", pool)

    def reset(self) -> None:
        """Back to a fresh sandbox: seeded objects only; counters, faults and records restarted."""
        with self.backend.lock:
            self.backend.reset()
            self.runtime = Runtime(self.config.seed, self.runtime.faults)
            self.requests.clear()
            self._seed()

    def configure(self, **changes: Any) -> None:
        """Change options (any :class:`SandboxConfig` field) from the next request on.

        ``seed``, ``seed_pipelines`` and ``v1_pools`` take effect on :meth:`reset`.

        Example:
            sandbox.configure(operation_polls=4, max_page_size=2)
        """
        with self.backend.lock:
            self.config = dataclasses.replace(self.config, **changes)

    def flush(self) -> None:
        """Write pending changes to the SQLite file now (no-op in memory)."""
        with self.backend.lock:
            self.backend.flush()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faults and recorded requests ---------------------------------------------------
    @property
    def faults(self) -> FaultConfig:
        """The faults, latency and rate limits in force (assign a new FaultConfig to change).

        Assigning counts ``on_nth`` from the assignment on and restarts the rate-limit
        windows, so a test can script "the 2nd createTasks from now on answers 429".
        """
        return self.runtime.faults

    @faults.setter
    def faults(self, faults: FaultConfig) -> None:
        with self.backend.lock:
            self.runtime.set_faults(faults)

    def apply_late(self, *, everything: bool = False) -> int:
        """Apply the requests ``late_apply`` faults hold whose delay has passed (with
        ``everything=True``, all of them, as the server eventually would); return how many.

        A test calls it last, before it counts what the server holds: a request the client
        gave up on and re-sent is then seen twice.

        Example:
            sandbox = Sandbox(clock=ManualClock(), faults=FaultConfig(faults=[
                Fault("late_apply", route="startRun", on_nth=(1,), delay=90)]))
            ...  # the code under test
            sandbox.apply_late(everything=True)
            assert sandbox.counters.applied["startRun"] == 1
        """
        with self.backend.lock:
            try:
                return self.runtime.apply_held(None if everything else self.config.clock.now())
            finally:
                self.backend.flush()

    @property
    def held(self) -> int:
        """How many requests ``late_apply`` faults hold (not applied yet)."""
        return len(self.runtime.held)

    def requests_for(self, operation_id: str) -> list[RecordedRequest]:
        """The recorded requests of ``operation_id`` (``"createTasks"``, ``"storagePut"``...).

        Raises ``RuntimeError`` when nothing is recorded because recording is off, so that an
        assertion like ``requests_for("startRun") == []`` cannot pass by accident.

        Example:
            sandbox = Sandbox(record_requests=True)
            ...
            assert [r.params["operation_id"] for r in sandbox.requests_for("createTasks")]
        """
        if not self.record_requests and not self.requests:
            raise RuntimeError("requests are not recorded: use Sandbox(record_requests=True)")
        return [r for r in self.requests if r.operation == operation_id]

    # -- public helpers -----------------------------------------------------------------
    @property
    def v2_base_url(self) -> str:
        return self.config.api_base + PREFIXES["v2"]

    @property
    def v1_base_url(self) -> str:
        return self.config.api_base + PREFIXES["v1"]

    @property
    def url(self) -> str:
        return self.config.api_base

    @property
    def counters(self) -> Counters:
        return self.backend.counters

    def auth_headers(self, api: str = "v2") -> dict[str, str]:
        """``Authorization`` for ``api`` (``"v2"``: ApiKey, ``"v1"``: OAuth)."""
        if api == "v1":
            return {"Authorization": f"OAuth {self.oauth_token}"}
        return {"Authorization": f"ApiKey {self.api_key}"}

    @property
    def transport(self) -> SandboxTransport:
        """An httpx transport (sync and async) answering from this sandbox."""
        return SandboxTransport(self)

    def mock_transport(self) -> httpx.MockTransport:
        """The same as :attr:`transport`, as an ``httpx.MockTransport``."""
        return httpx.MockTransport(SandboxTransport(self)._respond)

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` bound to this sandbox (no auth headers: add them per API)."""
        return httpx.Client(transport=self.transport, **kwargs)

    def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` bound to this sandbox (no auth headers)."""
        return httpx.AsyncClient(transport=self.transport, **kwargs)

    def client(self, **kwargs: Any) -> Toloka:
        """A :class:`toloka_ext.Toloka` bound to this sandbox (both APIs), on virtual time.

        Configured: ``api_key`` (:attr:`api_key`, ``"sandbox-key"`` by default), ``base_url``
        and ``v1_base_url`` (the sandbox's), ``transport`` (in-process, no sockets), and
        ``sleep`` / ``clock`` on :attr:`client_time`: the client never really waits (a
        poll interval or a ``Retry-After`` moves virtual time, and a ``ManualClock``
        sandbox's clock with it), so poll timeouts and call deadlines are reached after
        the same waits every run, in milliseconds. Keyword arguments go to ``Toloka`` and
        override these.

        Example:
            with sandbox.client() as client:
                result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
                created = client.tasks.create_tasks(
                    [{"pool_id": "pool-1", "input_values": {"url": "a"}, "overlap": 1}]
                )
        """
        from toloka_ext import Toloka

        self._client_defaults(kwargs)
        kwargs.setdefault("sleep", self.client_time.sleep)
        return Toloka(**kwargs)

    def async_client(self, **kwargs: Any) -> AsyncToloka:
        """A :class:`toloka_ext.AsyncToloka` bound to this sandbox, on the same virtual time
        as :meth:`client` (its waits move :attr:`client_time`; nothing really sleeps).

        Example:
            async with sandbox.async_client() as client:
                result = await client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
        """
        from toloka_ext import AsyncToloka

        self._client_defaults(kwargs)
        kwargs.setdefault("sleep", self.client_time.async_sleep)
        return AsyncToloka(**kwargs)

    @property
    def client_time(self) -> VirtualTime:
        """The virtual time of the clients from :meth:`client` / :meth:`async_client`
        (shared by all of them): ``.slept`` and ``.sleeps`` say how much they waited."""
        time = self.__dict__.get("_client_time")
        if time is None:
            time = self.__dict__["_client_time"] = VirtualTime(lambda: self.config.clock)
        return cast(VirtualTime, time)

    def _client_defaults(self, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.v2_base_url)
        kwargs.setdefault("v1_base_url", self.v1_base_url)
        if "sleep" not in kwargs:  # a caller's own sleep keeps the real clock with it
            kwargs.setdefault("clock", self.client_time.monotonic)
        if "http_client" not in kwargs:  # the clients take one or the other
            kwargs.setdefault("transport", self.transport)

    @property
    def asgi_app(self) -> AsgiApp:
        """An ASGI application serving this sandbox (for uvicorn or an ASGI test client)."""
        return AsgiApp(self)

    def tasks(self, pool_id: str | None = None) -> list[Obj]:
        """The v1 tasks created, oldest first."""
        tasks = self.backend.all("task")
        return [dict(t) for t in tasks if pool_id is None or t["pool_id"] == pool_id]

    def pool(self, pool_id: str) -> Obj | None:
        pool = self.backend.get("pool", pool_id)
        return dict(pool) if pool else None

    def add_pool(
        self,
        pool_id: str,
        *,
        default_overlap: int | None = None,
        status: str = "CLOSED",
        input_spec: Mapping[str, str] | None = None,
    ) -> None:
        """Create (or replace) a v1 pool.

        ``input_spec`` maps input field names to JSON types (``"string"``, ``"integer"``,
        ``"number"``, ``"boolean"``, ``"object"``, ``"array"``, ``"any"``), as a Toloka
        project's input spec does. With one, every spec field is required in
        ``input_values`` and no other key is allowed: a task breaking that gets the field
        error ``input_values.<key>`` with ``VALUE_NOT_ALLOWED`` (unknown key),
        ``INVALID_TYPE`` or ``VALUE_REQUIRED``, in sync mode (400, or ``validation_errors``
        with ``skip_invalid_items``) and async mode (``TASK_VALIDATE`` in the operation log).
        The same keys work in ``Sandbox(v1_pools={pool_id: {...}})``.

        Example:
            sandbox.add_pool("42", input_spec={"image": "string", "n": "integer"})
        """
        conf = {"default_overlap": default_overlap, "status": status, "input_spec": input_spec}
        with self.backend.lock:
            self._put_pool(pool_id, conf)
            self.backend.flush()

    def add_project(self, name: str = "Sandbox project", *, project_id: str | None = None) -> str:
        """Create a v2 project (``project_id`` like ``"prj-3"``, or the next free id).

        Example:
            other = sandbox.add_project("Other")
            sandbox.add_pipeline("pl-1", project_id=other)   # move pl-1 to a later page
        """
        with self.backend.lock:
            oid = project_id or self.backend.next_id("prj")
            self._put_project(oid, name)
            self.backend.flush()
        return oid

    def add_pipeline(
        self,
        pipeline_id: str | None = None,
        *,
        name: str = "Annotate items",
        project_id: str = "prj-1",
    ) -> str:
        """Create (or replace, keeping nothing) a v2 pipeline labelling with ``labels``.

        Example:
            sandbox.add_pipeline("pl-9", name="Moderate", project_id="prj-1")
        """
        with self.backend.lock:
            if self.backend.get("project", project_id) is None:
                raise KeyError(f"no project {project_id!r}: add_project() it first")
            oid = pipeline_id or self.backend.next_id("pl")
            self._put_pipeline(oid, name, project_id)
            self.backend.flush()
        return oid

    def dataset_rows(self, dataset_id: str) -> list[Obj]:
        """A dataset's rows keyed by field name."""
        ds = self.backend.get("dataset", dataset_id)
        if ds is None:
            raise KeyError(dataset_id)
        names = {f["id"]: f["name"] for f in ds["_fields"]}
        return [{names[k]: v for k, v in item["values"].items()} for item in ds["_items"]]

    # -- the pure core ------------------------------------------------------------------
    def refuse_oversize(self, url: str, length: int) -> SandboxResponse | None:
        """The 413 for an API request whose body is over ``max_body_bytes`` (else ``None``).

        The adapters call it with the declared ``Content-Length`` (or the bytes received so
        far), so an oversized body is refused before it is read.
        """
        return too_large(url, length, self.config.max_body_bytes, self.runtime)

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        timeout: Timeout | None = None,
    ) -> SandboxResponse:
        """Answer one HTTP request (the core that the transport and the ASGI app share).

        ``timeout`` is the request's httpx timeout extension, kept in the recorded request.
        """
        incoming = Incoming.parse(method, url, headers, body, timeout)
        with self.backend.lock:
            recorder = self.requests.append if self.record_requests else None
            try:
                return dispatch(
                    self.backend,
                    self.config,
                    self.runtime,
                    incoming,
                    rewrite=self.rewrite,
                    recorder=recorder,
                )
            finally:
                self.backend.flush()
