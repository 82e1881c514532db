"""Recorded requests: what a test asserts about the requests the code under test sent."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ._wire import Incoming, Timeout

__all__ = ["RecordedHeaders", "RecordedRequest", "REDACTED", "record"]

REDACTED = "[REDACTED]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


class RecordedHeaders(Mapping[str, str]):
    """Read-only, case-insensitive request headers (names kept lower-cased).

    Credentials are replaced by ``"[REDACTED]"``, so ``"Authorization" in headers`` still
    tells whether one was sent but no secret ends up in a test log.
    """

    __slots__ = ("_data",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._data = {
            k.lower(): REDACTED if k.lower() in _SECRET_HEADERS else v for k, v in headers.items()
        }

    def __getitem__(self, name: str) -> str:
        return self._data[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"RecordedHeaders({self._data!r})"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received (``Sandbox(record_requests=True)``), immutable.

    ``operation`` is the contract's operationId (``"createTasks"``), ``"storagePut"`` /
    ``"storageGet"`` for presigned storage, or ``None`` for a path no route serves.
    ``params`` holds the query parameters (the last value of a repeated one); ``headers``
    is case-insensitive with credentials redacted; ``body`` is the raw bytes. ``timeout``
    is httpx's timeout extension of the request, known in-process only (``None`` served).

    Example:
        sandbox = Sandbox(record_requests=True)
        ...
        (post,) = sandbox.requests_for("createTasks")
        assert post.params["async_mode"] == "true" and "Authorization" in post.headers
        assert len(post.json()) == 100
    """

    operation: str | None
    method: str
    url: str
    path: str
    params: Mapping[str, str]
    headers: RecordedHeaders
    body: bytes
    timeout: Timeout | None = None

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def record(incoming: Incoming, operation: str | None) -> RecordedRequest:
    return RecordedRequest(
        operation=operation,
        method=incoming.method,
        url=incoming.url,
        path=incoming.path,
        params=MappingProxyType({k: v[-1] for k, v in incoming.query.items() if v}),
        headers=RecordedHeaders(incoming.headers),
        body=incoming.body,
        timeout=MappingProxyType(dict(incoming.timeout)) if incoming.timeout is not None else None,
    )
