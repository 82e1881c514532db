"""The HTTP core: the one retry loop, rate limits, per-API auth and error mapping.

Every request of the package goes through :meth:`AsyncCore.request` (the APIs) or
:meth:`AsyncCore.storage` (presigned upload/download URLs), which run
:func:`send_with_retries` around whatever ``httpx.AsyncClient`` the client holds — its own
or one the user passed as ``http_client=`` — so retries, ``Retry-After``, quota handling and
"outcome unknown" decisions (all taken by :class:`~toloka_ext._retry.RetryPolicy`) hold
either way, and ``max_retries`` always means what it says. :class:`AsyncRetryTransport` runs
the same loop as an httpx transport, for users who drive the generated low-level client
directly. ``Authorization`` is added per request, for the API origin only; storage requests
never carry it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from .. import _json
from .._auth import TolokaAuth
from .._constants import (
    DEFAULT_MAX_RETRIES,
    IDEMPOTENT_EXTENSION,
    V1_BASE_URL,
    V2_BASE_URL,
    WAIT_FOR_QUOTA_EXTENSION,
)
from .._exceptions import ConfigurationError, make_status_error
from .._logging import hide_presigned_queries
from .._primitives_async import sleep as default_sleep
from .._ratelimit import TokenBucket
from .._retry import (
    Deadline,
    RetryPolicy,
    log_retry,
    outcome_unknown_error,
    should_retry_status,
)
from .._settings import Api, ClientCredentials, Settings, check_secure
from .._types import NOT_GIVEN, NotGiven
from .._version import USER_AGENT

__all__ = [
    "AsyncCore",
    "AsyncRetryTransport",
    "AsyncSend",
    "AsyncSleep",
    "base_url_error",
    "looks_like_api",
    "probe_problem",
    "send_with_retries",
]

_PROBE_OPERATION = "00000000-0000-4000-8000-000000000000"
"""An operation id nobody has: API v1 answers it with its JSON 404."""


def looks_like_api(response: httpx.Response) -> bool:
    """True if ``response`` (body read) is what a Toloka API sends: a JSON object."""
    if "json" not in response.headers.get("content-type", ""):
        return False
    try:
        return isinstance(response.json(), dict)
    except ValueError:
        return False


def probe_problem(api: Api, response: httpx.Response) -> str | None:
    """What is wrong with the answer to the base-URL probe (``None``: it is the API).

    v2-beta ``GET /me``: any JSON object but a 404/405 (an answer, or the API refusing a
    key). v1 operation lookup of an id nobody has: the same, where a 404 must be the API's
    own ``DOES_NOT_EXIST``. Anything else (a 404 or 405 of another server, even a JSON one;
    HTML; not an object) means the base URL does not lead to the API.
    """
    status = response.status_code
    if not looks_like_api(response):
        return "not a JSON answer of the API"
    if status in (404, 405):
        if api == "v1" and status == 404 and _error_code(response) == "DOES_NOT_EXIST":
            return None  # the v1 API's own answer for an operation nobody has
        return "no such endpoint under this base"
    return None


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _may_be_elsewhere(api: Api, response: httpx.Response) -> bool:
    """An error answer that may come from another server than the API: not the API's JSON,
    or (v1, whose 404 for an object says ``DOES_NOT_EXIST``) a 404/405 that is not its own.
    v2 404/405 answers are checked by the resource layer, which knows the route."""
    if not looks_like_api(response):
        return True
    return (
        api == "v1"
        and response.status_code in (404, 405)
        and _error_code(response) != "DOES_NOT_EXIST"
    )


def base_url_error(
    api: Api, base: str, path: str, response: httpx.Response, problem: str
) -> ConfigurationError:
    """The :class:`ConfigurationError` naming the setting whose URL is not the API."""
    setting = "base_url" if api == "v2" else "v1_base_url"
    env = "TOLOKA_BASE_URL" if api == "v2" else "TOLOKA_V1_BASE_URL"
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    name = "Pipeline API (v2-beta)" if api == "v2" else "API v1"
    expected = V2_BASE_URL if api == "v2" else V1_BASE_URL
    return ConfigurationError(
        f"{setting} {base!r} does not look like the Toloka {name}: GET {path}, which every "
        f"account may ask, answered {response.status_code} ({kind}): {problem}; check "
        f"{setting} (or {env}; e.g. {expected})",
        setting=setting,
    )


class AsyncSleep(Protocol):
    """``await sleep(seconds)``: how the client waits (tests pass one that does not)."""

    async def __call__(self, seconds: float, /) -> None: ...


class AsyncSend(Protocol):
    """Send one request once; return the response with its body not yet read."""

    async def __call__(self, request: httpx.Request, /) -> httpx.Response: ...


async def send_with_retries(
    send: AsyncSend,
    request: httpx.Request,
    policy: RetryPolicy,
    *,
    sleep: AsyncSleep,
    bucket: TokenBucket | None = None,
    read: bool = False,
    deadline: Deadline | None = None,
) -> httpx.Response:
    """Send ``request`` until it succeeds, fails for good, or may have been applied.

    The only retry loop of the package. ``read=True`` reads a successful body inside the
    attempt, so a connection lost mid-body of an idempotent request is retried too. With a
    ``deadline`` every attempt's timeouts are cut to what is left of it, and no retry starts
    that could not finish before it (waits for a quota the caller asked to wait for aside).

    Raises:
        QuotaExceededError: a daily quota is spent and ``policy.wait_for_quota`` is off.
        OutcomeUnknownError: a non-idempotent request may have been applied (a lost answer,
            any 5xx); it is never re-sent.
        APIConnectionError: no answer after the retries (``APITimeoutError`` for timeouts).
    """
    attempt = 0
    quota_waits = 0
    while True:
        if bucket is not None:
            delay = bucket.reserve()
            if delay > 0:
                await sleep(delay)
        if deadline is not None:
            deadline.fit(request, attempt)
        try:
            response = await send(request)
            if read or should_retry_status(response.status_code) or response.is_error:
                try:
                    await response.aread()
                except httpx.TransportError:
                    await response.aclose()
                    raise
        except httpx.TransportError as exc:
            error = policy.on_error(request, exc, attempt)
            if error is not None:
                raise error from exc
            delay = max(0.0, policy.delay(attempt, None))
            if deadline is not None:
                deadline.check_wait(request, delay, attempt, cause=exc)
            log_retry(request, attempt, delay, repr(exc))
            await sleep(delay)
            attempt += 1
            continue
        if not should_retry_status(response.status_code):
            return response
        response.request = request
        action, delay = policy.on_status(request, response, attempt, quota_waits)
        if action == "return":
            return response
        await response.aclose()
        if action == "raise":
            raise make_status_error(response)
        if action == "unknown":
            raise outcome_unknown_error(request, response)
        if deadline is not None and action == "retry":
            deadline.check_wait(request, delay, attempt, cause=make_status_error(response))
        log_retry(request, attempt, delay, f"status {response.status_code}")
        await sleep(delay)
        if action == "quota":
            quota_waits += 1
        else:
            attempt += 1


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """An httpx transport running the package's retry loop around ``transport``.

    For HTTP calls the client does not make (the generated low-level client, an endpoint
    it does not wrap) with the same retries, ``Retry-After`` and quota handling as
    :class:`AsyncToloka`: a request that may have been applied is never re-sent.

    Example::

        from toloka_ext import AsyncRetryTransport
        from toloka_pipeline_api import AuthenticatedClient

        http = httpx.AsyncClient(transport=AsyncRetryTransport(max_retries=5))
        raw = AuthenticatedClient(base_url=..., token=key, prefix="ApiKey")
        raw.set_async_httpx_client(http)
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        wait_for_quota: bool = False,
        requests_per_second: float | None = None,
        sleep: AsyncSleep = default_sleep,
    ) -> None:
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self.policy = RetryPolicy(max_retries=max_retries, wait_for_quota=wait_for_quota)
        self.bucket = TokenBucket(requests_per_second) if requests_per_second else None
        self.sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await send_with_retries(
            self.transport.handle_async_request,
            request,
            self.policy,
            sleep=self.sleep,
            bucket=self.bucket,
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


def _params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or isinstance(value, NotGiven):
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class AsyncLazyClient:
    """An httpx client made on first use, closed by :meth:`aclose` if it was ever made.

    The presigned-storage client: only uploads and exports use it, and making one costs an
    SSL context (tens of ms, a few MiB), which a v1-only script should not pay. Copies of a
    client (``with_options``) share the holder, so they share the one client it makes.
    """

    def __init__(self, make: Callable[[], httpx.AsyncClient]) -> None:
        self._make = make
        self._client: httpx.AsyncClient | None = None
        self._closed = False
        self._lock = threading.Lock()  # two threads of a sync client: still one client

    def get(self) -> httpx.AsyncClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    if self._closed:  # as a closed httpx client would answer
                        raise RuntimeError("the client has been closed")
                    self._client = self._make()
        return self._client

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()


class AsyncCore:
    """Settings, credentials, connection pools and rate limits shared by every resource.

    ``with_settings()`` gives a copy with other settings over the same pools and limits (what
    ``AsyncToloka.with_options`` uses); only the original closes the pools it created.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        credentials: ClientCredentials,
        http: httpx.AsyncClient,
        storage: httpx.AsyncClient | AsyncLazyClient,
        owned: tuple[httpx.AsyncClient | AsyncLazyClient, ...],
        request_bucket: TokenBucket | None,
        sleep: AsyncSleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.http = http
        self._storage = storage
        self._owned = owned
        self.request_bucket = request_bucket
        self._sleep = sleep
        self.clock = clock
        self._verified: set[Api] = set()
        hide_presigned_queries()
        self._auth = {
            api: TolokaAuth(credentials.for_api(api), settings.base_for(api))
            for api in ("v1", "v2")
            if api == "v1" or credentials.v2 is not None
        }

    def with_settings(self, settings: Settings) -> AsyncCore:
        return AsyncCore(
            settings=settings,
            credentials=self.credentials,
            http=self.http,
            storage=self._storage,
            owned=(),
            request_bucket=self.request_bucket,
            sleep=self._sleep,
            clock=self.clock,
        )

    @property
    def storage_http(self) -> httpx.AsyncClient:
        """The client for presigned storage URLs (made on first use when it is the core's)."""
        storage = self._storage
        return storage.get() if isinstance(storage, AsyncLazyClient) else storage

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)

    def gave_up_on(self, sent_at: object) -> float:
        """The ``clock`` time at which a run that is gone gave up on a request it sent at
        wall time ``sent_at`` (a journal's intent; anything else: now)."""
        now = time.time()
        at = float(sent_at) if isinstance(sent_at, int | float) else now
        return self.clock() + self.settings.gave_up_wall(at, now) - now

    async def wait_out_hold(self, gave_up_at: float) -> None:
        """Sleep until a request the client gave up on at ``gave_up_at`` (``clock`` time)
        can no longer be applied (``max_request_hold``): what is absent then never came."""
        await self.sleep(self.settings.settle_deadline(gave_up_at) - self.clock())

    def auth(self, api: Api) -> TolokaAuth:
        auth = self._auth.get(api)
        if auth is None:
            self.credentials.for_api(api)  # raises the ConfigurationError that explains it
            raise AssertionError("unreachable")
        return auth

    async def request(
        self,
        api: Api,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = NOT_GIVEN,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
        wait_for_quota: bool | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send a request to one of the APIs; return the 2xx/3xx answer or raise.

        ``path`` is relative to the API's base URL. ``idempotent=True`` allows re-sending
        after an unknown outcome (set it when the request carries an idempotency key). With
        ``stream=True`` the body is not read: close the response.

        No call blocks longer than the client's ``call_timeout`` in all (retries and the
        waits between them included; waiting for a quota the caller asked to wait for aside).

        Raises:
            APIStatusError: a 4xx/5xx answer (after retries), typed by status.
            APIConnectionError: no answer (``OutcomeUnknownError`` if it may have applied;
                ``APITimeoutError`` once the call's deadline passed).
        """
        auth = self.auth(api)
        merged = {"User-Agent": USER_AGENT, **self.settings.default_headers, **(headers or {})}
        if not isinstance(json, NotGiven):
            if content is not None:
                raise TypeError("pass json or content, not both")
            content = _json.dumps(json)
            merged.setdefault("Content-Type", "application/json")
        extensions: dict[str, Any] = {}
        if idempotent:
            extensions[IDEMPOTENT_EXTENSION] = True
        if wait_for_quota is not None:
            extensions[WAIT_FOR_QUOTA_EXTENSION] = wait_for_quota
        request = self.http.build_request(
            method,
            f"{self.settings.base_for(api)}/{path.lstrip('/')}",
            params=_params(params),
            content=content,
            headers=merged,
            timeout=self.settings.timeout,
            extensions=extensions,
        )
        http = self.http

        async def send(req: httpx.Request) -> httpx.Response:
            return await http.send(req, stream=True, auth=auth)

        call_timeout = self.settings.call_timeout
        response = await send_with_retries(
            send,
            request,
            self.settings.retry_policy(wait_for_quota=wait_for_quota),
            sleep=self.sleep,
            bucket=self.request_bucket,
            read=not stream,
            deadline=Deadline(call_timeout, self.clock) if call_timeout is not None else None,
        )
        if response.is_error and response.status_code < 500 and _may_be_elsewhere(api, response):
            await self.verify_api(api)  # an HTML 404 is a wrong base_url more often than drift
        return await self._finish(response)

    async def storage(
        self,
        method: str,
        url: str,
        *,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """A request to a presigned storage URL: never with credentials, retried like the API.

        A presigned upload is idempotent (the same bytes to the same key), so a lost answer
        is re-sent. Plain ``http://`` off this machine is refused unless the client was
        built with ``allow_insecure_http=True``.
        """
        if not self.settings.allow_insecure_http:
            check_secure(httpx.URL(url), what="a presigned storage URL", fix="ask Toloka why")
        request = self.storage_http.build_request(
            method,
            url,
            content=content,
            headers=headers,
            timeout=self.settings.timeout,
            extensions={IDEMPOTENT_EXTENSION: True},
        )
        # The signature in the URL is the credential; an API key must never go there.
        request.headers.pop("Authorization", None)
        storage = self.storage_http

        async def send(req: httpx.Request) -> httpx.Response:
            return await storage.send(req, stream=True)

        return await self._finish(
            await send_with_retries(
                send, request, self.settings.retry_policy(), sleep=self.sleep, read=not stream
            )
        )

    @staticmethod
    async def _finish(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            await response.aclose()
            raise make_status_error(response)
        return response

    async def verify_api(self, api: Api) -> None:
        """Raise :class:`ConfigurationError` if the base URL of ``api`` does not lead to the API.

        Called when an answer makes no sense for the API (HTML, a 404 or 405, a 2xx that is
        not JSON): one read-only question every account can ask under the given base (``GET
        /me`` on v2-beta, an operation lookup on v1) tells a wrong ``base_url`` apart from
        drift of one endpoint. The base is wrong when that question is answered 404 or 405
        (JSON or not: a server root answers JSON 404 everywhere), with something that is not
        the API's JSON, or (v1) with a 404 that is not the API's ``DOES_NOT_EXIST``. A 401 /
        403 of the API, or its answer, proves the base right; that is remembered.
        """
        if api in self._verified:
            return
        path = "/me" if api == "v2" else f"/operations/{_PROBE_OPERATION}"
        request = self.http.build_request(
            "GET",
            f"{self.settings.base_for(api)}{path}",
            headers={"User-Agent": USER_AGENT, **self.settings.default_headers},
            timeout=self.settings.timeout,
        )
        try:
            response = await self.http.send(request, auth=self.auth(api))
        except httpx.TransportError:
            return  # no answer at all says nothing about which server this is
        if response.status_code >= 500 or response.status_code in (408, 429):
            return  # busy or broken: no verdict either way, ask again next time
        problem = probe_problem(api, response)
        if problem is None:
            self._verified.add(api)
            return
        raise base_url_error(api, self.settings.base_for(api), path, response, problem)

    async def aclose(self) -> None:
        for client in self._owned:
            await client.aclose()
