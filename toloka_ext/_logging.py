"""The package logger and header redaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from ._constants import LOGGER_NAME

__all__ = ["SENSITIVE_HEADERS", "logger", "redact_headers"]

logger = logging.getLogger(LOGGER_NAME)

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)


def redact_headers(headers: httpx.Headers | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of ``headers`` fit for logs: secret values are replaced by ``[REDACTED]``."""
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    return {
        name: ("[REDACTED]" if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in items
    }
