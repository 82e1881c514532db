"""The package logger, header redaction, and keeping presigned signatures out of httpx's log.

httpx logs every request at INFO with its full URL (``HTTP Request: PUT https://...?...``);
for a presigned storage URL the query *is* the credential. :func:`hide_presigned_queries`
puts a filter on the ``httpx`` logger that replaces such a query before any handler sees it
(only queries that carry a signature parameter: other log lines are left alone).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

from ._constants import LOGGER_NAME

__all__ = ["SENSITIVE_HEADERS", "hide_presigned_queries", "logger", "redact_headers"]

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


SIGNATURE_PARAMS = frozenset(
    {
        "token",
        "signature",
        "sig",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "awsaccesskeyid",
    }
)
"""Query parameters that make a URL a credential (S3, GCS, Azure SAS, generic tokens)."""


def _hidden(value: object) -> object:
    if isinstance(value, httpx.URL) and value.query:
        names = {name.lower() for name in value.params}
        if names & SIGNATURE_PARAMS:
            return f"{value.copy_with(query=None)}?<signature hidden>"
    return value


class _PresignedQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(_hidden(arg) for arg in record.args)
        return True


_FILTER = _PresignedQueryFilter()


def hide_presigned_queries() -> None:
    """Install the filter on the ``httpx`` logger (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if _FILTER not in httpx_logger.filters:
        httpx_logger.addFilter(_FILTER)
