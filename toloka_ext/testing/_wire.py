"""An HTTP request as the sandbox receives it, and the answer it gives (no HTTP library)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Incoming", "SandboxResponse", "Timeout"]

# httpx's per-request timeout extension: {"connect": s, "read": s, "write": s, "pool": s}.
Timeout = Mapping[str, float | None]


@dataclass(frozen=True)
class Incoming:
    """One request, decoded once: header names lower-cased, query parsed (blanks kept)."""

    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    timeout: Timeout | None = None

    @classmethod
    def parse(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes,
        timeout: Timeout | None = None,
    ) -> Incoming:
        items = headers.items() if isinstance(headers, Mapping) else headers
        parts = urlsplit(url)
        return cls(
            method=method.upper(),
            url=url,
            path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in items},
            body=body,
            timeout=dict(timeout) if timeout is not None else None,
        )


@dataclass
class SandboxResponse:
    """What :meth:`Sandbox.handle` answers.

    ``action`` is ``None`` (send the response), ``"reset"`` (drop the connection instead),
    ``"timeout"`` (no answer in time: the in-process transport raises ``httpx.ReadTimeout``,
    a server drops the connection),
    ``"kill"`` (stop the serving process) or ``"crash"`` (the client process dies: the
    in-process transport raises :class:`~toloka_ext.testing.SimulatedCrash`, a server drops
    the connection); ``delay`` is injected latency in seconds; ``note`` says which fault
    caused the action.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    action: str | None = None
    delay: float = 0.0
    note: str = field(default="", compare=False)

    def json(self) -> Any:
        return json.loads(self.body)
