"""Errors the handlers raise and the documented bodies they become.

v2-beta: ``{"message", "code", "requestId"}``.
v1: ``{"request_id", "code", "message", "payload"?}``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_body", "V2_CODES", "V1_CODES"]

# The code each status gets when a handler does not choose one.
V2_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
V1_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "ACCESS_DENIED",
    404: "DOES_NOT_EXIST",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT_STATE",
    413: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    503: "REMOTE_SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer: status, message and optional code, payload and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        payload: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.payload = payload
        self.headers = headers or {}


def error_body(api: str, err: ApiError, request_id: str) -> dict[str, Any]:
    """The error body of ``api`` (``"v1"`` or ``"v2"``) for ``err``."""
    if api == "v1":
        body: dict[str, Any] = {
            "request_id": request_id,
            "code": err.code or V1_CODES.get(err.status, "ERROR"),
            "message": err.message,
        }
        if err.payload is not None:
            body["payload"] = err.payload
        return body
    body = {
        "message": err.message,
        "code": err.code or V2_CODES.get(err.status, "ERROR"),
        "requestId": request_id,
    }
    if err.payload is not None:
        body["details"] = err.payload
    return body
