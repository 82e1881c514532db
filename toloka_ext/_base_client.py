"""The HTTP core: configuration, one ``httpx`` client per API client, error mapping.

``SyncAPIClient``/``AsyncAPIClient`` own an ``httpx.Client``/``httpx.AsyncClient`` built on
:class:`~toloka_ext._transport.RetryTransport` and :class:`~toloka_ext._auth.TolokaAuth`.
The same client can be handed to the generated v2 client (``http_client`` property), so both
layers share retries, rate limits, logging and auth.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from . import _json
from ._auth import Credentials, TolokaAuth
from ._constants import (
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    IDEMPOTENT_EXTENSION,
    WAIT_FOR_QUOTA_EXTENSION,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    OutcomeUnknownError,
    make_status_error,
)
from ._ratelimit import AsyncRateLimiter, RateLimiter, TokenBucket
from ._retry import classify_transport_error, status_outcome_unknown
from ._transport import AsyncRetryTransport, RetryTransport, is_idempotent, outcome_unknown_error
from ._types import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncAPIClient", "BaseClient", "SyncAPIClient"]

_USER_AGENT = f"toloka-ext/0.1.0 httpx/{httpx.__version__}"


def _join_url(base_url: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}"


def _map_transport_error(exc: httpx.TransportError, request: httpx.Request | None) -> Exception:
    """Map raw httpx errors (from a caller-supplied client without our transport)."""
    where = f"{type(exc).__name__}"
    if request is not None and classify_transport_error(exc) == "unknown":
        if not is_idempotent(request):
            return OutcomeUnknownError(f"{where}: outcome unknown", request=request)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(where, request=request)
    return APIConnectionError(where, request=request)


def _status_error(response: httpx.Response) -> Exception:
    """The error for a 4xx/5xx answer that reached ``request()`` (body already read)."""
    request = response.request
    if status_outcome_unknown(response.status_code, idempotent=is_idempotent(request)):
        # Only reachable with a caller-supplied client; our transport raises this itself.
        return outcome_unknown_error(request, response)
    return make_status_error(response)


class BaseClient:
    """Configuration and pure request building shared by the sync and async clients."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        requests_per_second: float | None = None,
        wait_for_quota: bool = False,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.base_url = str(base_url).rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.max_retries = max_retries
        self.requests_per_second = requests_per_second
        self.wait_for_quota = wait_for_quota
        self.default_headers = {"User-Agent": _USER_AGENT, **(default_headers or {})}
        self.auth = TolokaAuth(credentials, self.base_url)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"auth={self.credentials.scheme} '**********', max_retries={self.max_retries})"
        )

    def _build_request(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: object,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        idempotent: bool,
        wait_for_quota: bool | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> httpx.Request:
        merged = dict(headers or {})
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
        return client.build_request(
            method,
            _join_url(self.base_url, path),
            params=_clean_params(params),
            content=content,
            headers=merged,
            timeout=httpx.USE_CLIENT_DEFAULT if isinstance(timeout, NotGiven) else timeout,
            extensions=extensions,
        )


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if params is None:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None or isinstance(value, NotGiven):
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class SyncAPIClient(BaseClient):
    """A configured, retrying ``httpx.Client`` with Toloka error mapping.

    Example::

        with SyncAPIClient(base_url=V1_BASE_URL, credentials=resolve_credentials()) as api:
            op = api.request("GET", "/operations/123").json()
    """

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        requests_per_second: float | None = None,
        wait_for_quota: bool = False,
        default_headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            base_url=base_url,
            credentials=credentials,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            wait_for_quota=wait_for_quota,
            default_headers=default_headers,
        )
        self.sleep = sleep
        self.retry_transport: RetryTransport | None = None
        if http_client is not None:
            if transport is not None:
                raise TypeError("pass transport or http_client, not both")
            self._client = http_client
            self._owns_client = False
        else:
            limiter = (
                RateLimiter(TokenBucket(requests_per_second), sleep=self._sleep)
                if requests_per_second
                else None
            )
            self.retry_transport = RetryTransport(
                transport or httpx.HTTPTransport(limits=DEFAULT_CONNECTION_LIMITS),
                max_retries=max_retries,
                rate_limiter=limiter,
                wait_for_quota=wait_for_quota,
                sleep=self._sleep,
            )
            self._client = httpx.Client(
                transport=self.retry_transport,
                auth=self.auth,
                timeout=timeout,
                headers=self.default_headers,
            )
            self._owns_client = True

    def _sleep(self, seconds: float) -> None:
        # Indirect, so that replacing ``self.sleep`` later also affects retries.
        self.sleep(seconds)

    @property
    def http_client(self) -> httpx.Client:
        """The configured ``httpx.Client`` (retries, rate limit and origin-bound auth)."""
        return self._client

    def request(
        self,
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
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> httpx.Response:
        """Send a request; return the 2xx/3xx response or raise the mapped error.

        ``idempotent=True`` allows re-sending after an unknown outcome (set it when the
        request carries an idempotency key). With ``stream=True`` the body is not read: use
        the response as a context manager or close it.

        Raises:
            APIStatusError: a 4xx/5xx answer (after retries).
            APIConnectionError: no answer (``OutcomeUnknownError`` if it may have applied).
        """
        request = self._build_request(
            self._client,
            method,
            path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            idempotent=idempotent,
            wait_for_quota=wait_for_quota,
            timeout=timeout,
        )
        try:
            response = self._client.send(
                request,
                stream=stream,
                auth=httpx.USE_CLIENT_DEFAULT if self._owns_client else self.auth,
            )
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, request) from exc
        if response.is_error:
            try:
                response.read()
            finally:
                response.close()
            raise _status_error(response)
        return response

    def close(self) -> None:
        """Close the underlying client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAPIClient(BaseClient):
    """The async twin of :class:`SyncAPIClient`."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        requests_per_second: float | None = None,
        wait_for_quota: bool = False,
        default_headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        super().__init__(
            base_url=base_url,
            credentials=credentials,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            wait_for_quota=wait_for_quota,
            default_headers=default_headers,
        )
        self.sleep = sleep
        self.retry_transport: AsyncRetryTransport | None = None
        if http_client is not None:
            if transport is not None:
                raise TypeError("pass transport or http_client, not both")
            self._client = http_client
            self._owns_client = False
        else:
            limiter = (
                AsyncRateLimiter(TokenBucket(requests_per_second), sleep=self._sleep)
                if requests_per_second
                else None
            )
            self.retry_transport = AsyncRetryTransport(
                transport or httpx.AsyncHTTPTransport(limits=DEFAULT_CONNECTION_LIMITS),
                max_retries=max_retries,
                rate_limiter=limiter,
                wait_for_quota=wait_for_quota,
                sleep=self._sleep,
            )
            self._client = httpx.AsyncClient(
                transport=self.retry_transport,
                auth=self.auth,
                timeout=timeout,
                headers=self.default_headers,
            )
            self._owns_client = True

    async def _sleep(self, seconds: float) -> None:
        await self.sleep(seconds)

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The configured ``httpx.AsyncClient`` (retries, rate limit and origin-bound auth)."""
        return self._client

    async def request(
        self,
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
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> httpx.Response:
        """The async twin of :meth:`SyncAPIClient.request`."""
        request = self._build_request(
            self._client,
            method,
            path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            idempotent=idempotent,
            wait_for_quota=wait_for_quota,
            timeout=timeout,
        )
        try:
            response = await self._client.send(
                request,
                stream=stream,
                auth=httpx.USE_CLIENT_DEFAULT if self._owns_client else self.auth,
            )
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, request) from exc
        if response.is_error:
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise _status_error(response)
        return response

    async def aclose(self) -> None:
        """Close the underlying client if this object created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
