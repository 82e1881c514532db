"""Defaults shared by the whole package (retries, timeouts, base URLs, v1 limits)."""

from __future__ import annotations

from typing import Final

import httpx

# Retries
DEFAULT_MAX_RETRIES: Final = 3
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
RETRY_AFTER_CAP: Final = 120.0
"""Longest ``Retry-After`` we obey; a longer hint is cut down to this."""

DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)
"""Per attempt: connect, and each read/write/pool wait."""
DEFAULT_CALL_TIMEOUT: Final = 120.0
"""Per API call, every attempt and the waits between them included (``call_timeout``)."""
DEFAULT_MAX_REQUEST_HOLD: Final = 300.0
"""The longest the server may take to apply a request after the client stopped waiting for
it (``max_request_hold``): an unknown outcome is called "not created" only after it."""
DEFAULT_CONNECTION_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=20)

# Environment variables (one name per setting; see toloka_ext/_settings.py)
ENV_API_KEY: Final = "TOLOKA_API_KEY"
ENV_OAUTH_TOKEN: Final = "TOLOKA_OAUTH_TOKEN"
ENV_BASE_URL: Final = "TOLOKA_BASE_URL"
ENV_V1_BASE_URL: Final = "TOLOKA_V1_BASE_URL"

# API v1 (tasks and operations)
V1_BASE_URL: Final = "https://toloka.dev/api/v1"
V1_MAX_TASKS_PER_SYNC_REQUEST: Final = 5000
V1_TASKS_PER_MINUTE: Final = 200_000
"""Per the create-tasks page; another page of the docs says 100,000."""
V1_TASKS_PER_DAY: Final = 4_000_000
REQUESTS_PER_SECOND: Final = 300
"""v1's documented ceiling; v2-beta publishes none, so the same pace is used for both."""

# Pipeline API v2-beta
V2_BASE_URL: Final = "https://platform.toloka.ai/api/v2-beta"
MAX_REQUEST_BYTES: Final = 2 * 1024 * 1024
"""The documented limit of one inline ``POST /datasets/{id}/items`` request body."""
DEFAULT_UPLOAD_THRESHOLD: Final = 8 * MAX_REQUEST_BYTES
"""Above this many serialized bytes the upload path is used instead of inline requests."""

# Polling
DEFAULT_POLL_INTERVAL: Final = 1.0
DEFAULT_POLL_MAX_INTERVAL: Final = 30.0
DEFAULT_POLL_BACKOFF_FACTOR: Final = 1.5
DEFAULT_POLL_TIMEOUT: Final = 3600.0
DEFAULT_UNKNOWN_STATUS_POLLS: Final = 10
"""Polls in a row that may see a status the snapshot does not know before it is drift."""
DEFAULT_UNKNOWN_STATUS_TIMEOUT: Final = 120.0
"""Seconds a status the snapshot does not know may last before it is drift."""

LOGGER_NAME: Final = "toloka_ext"
REQUEST_ID_HEADERS: Final = ("x-request-id", "x-toloka-request-id", "request-id")
IDEMPOTENT_EXTENSION: Final = "toloka_idempotent"
"""``request.extensions`` key: ``True`` when re-sending the request cannot duplicate effects."""
WAIT_FOR_QUOTA_EXTENSION: Final = "toloka_wait_for_quota"
"""``request.extensions`` key: ``True`` to sleep until a daily quota resets instead of raising."""
