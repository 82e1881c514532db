"""One exception hierarchy for the whole package.

::

    TolokaError
    ├── ConfigurationError              bad or missing settings (no credentials, a base URL
    │                                   that does not lead to the API); .setting
    ├── InvalidInputError (+ValueError) rejected before sending; .position, .field
    ├── APIError                        .request, .body, .message
    │   ├── APIStatusError              .status_code, .response, .request_id, .code, .payload
    │   │   ├── BadRequestError               400
    │   │   ├── AuthenticationError           401; .challenge, .schemes (WWW-Authenticate)
    │   │   ├── PermissionDeniedError         403
    │   │   ├── NotFoundError                 404
    │   │   ├── ConflictError                 409
    │   │   ├── RateLimitError                429
    │   │   │   └── QuotaExceededError        429 with payload interval DAY
    │   │   └── InternalServerError           >= 500
    │   ├── APIConnectionError          no (complete) response
    │   │   ├── APITimeoutError
    │   │   └── OutcomeUnknownError     sent, but no complete answer (or a 5xx to a request
    │   │                               that is not idempotent): may have been applied;
    │   │                               .response if any
    │   └── ApiDriftError               the API answered in a shape the snapshot does not know;
    │                                   .operation, .field, .snapshot_version
    ├── OperationFailedError            a long-running object ended failed; .obj, .reason
    │   ├── RunFailedError                  a run ended failed or cancelled; .run
    │   ├── UploadFailedError               an upload's ingestion failed; .upload
    │   └── ExportFailedError               an export failed; .export
    ├── PollTimeoutError                polling gave up; .obj, .elapsed
    └── JournalError                    a resumable job's journal cannot be used; .path
        ├── JournalMismatchError            it belongs to another call; .parameter
        ├── JournalCorruptError             it cannot be trusted; .line
        ├── JournalLockedError              another process is running the job; .holder
        └── JournalWriteError               a record could not be written; .step, .sent

Every class here is exported by ``toloka_ext`` with ``__module__ == "toloka_ext"``, so a
traceback names the public class. No message or repr ever contains the ``Authorization``
value: messages are built from the method, URL, status and response body only.
"""

# No `from __future__ import annotations`: these classes are re-homed to `toloka_ext`
# (``__module__``), and string annotations would then not resolve there.
import re
from typing import TYPE_CHECKING, Any

import httpx

from ._constants import REQUEST_ID_HEADERS

if TYPE_CHECKING:  # types only: the base of the error tree imports no feature package
    from ._v2._models import Export, Run, Upload

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ApiDriftError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ExportFailedError",
    "InternalServerError",
    "InvalidInputError",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
    "JournalWriteError",
    "NotFoundError",
    "OperationFailedError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PollTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "RunFailedError",
    "TolokaError",
    "UploadFailedError",
    "local_status_error",
    "make_status_error",
]


class TolokaError(Exception):
    """Base class of every error raised by ``toloka_ext``.

    ``partial_result`` is set when a batch call (e.g. ``create_tasks``) stops part-way: it
    holds what was done before the error, so nothing already created is lost track of.
    """

    partial_result: Any = None


class ConfigurationError(TolokaError):
    """Settings are missing or inconsistent (e.g. no credentials, a base URL that does not
    lead to the API).

    ``setting`` names the setting at fault when one is (``"base_url"``, ``"v1_base_url"``),
    so a command line can name its own option for it (``--base-url``).
    """

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class InvalidInputError(TolokaError, ValueError):
    """Input rejected before anything was sent.

    ``position`` is the index of the offending item in the caller's iterable (``None`` for a
    call-level argument) and ``field`` the dotted path of the offending field.
    """

    def __init__(self, message: str, *, position: int | None = None, field: str | None = None):
        self.reason = message
        self.position = position
        self.field = field
        where = []
        if position is not None:
            where.append(f"position {position}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class APIError(TolokaError):
    """An error tied to an HTTP request."""

    message: str
    request: httpx.Request | None
    body: object | None

    def __init__(
        self, message: str, request: httpx.Request | None = None, *, body: object | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body


class APIStatusError(APIError):
    """The API answered with a 4xx or 5xx status."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object | None,
        request_id: str | None = None,
        code: str | None = None,
        payload: object | None = None,
    ) -> None:
        try:
            request: httpx.Request | None = response.request
        except RuntimeError:
            request = None
        super().__init__(message, request, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = request_id
        self.code = code
        self.payload = payload

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )


class BadRequestError(APIStatusError):
    """400: the request was rejected (Toloka ``VALIDATION_ERROR`` and similar)."""


class AuthenticationError(APIStatusError):
    """401: the credentials are missing or wrong.

    ``challenge`` is the server's ``WWW-Authenticate`` header (what it asks for, any
    credential echoed in it masked) and ``schemes`` the authentication schemes it names
    there (e.g. ``("Bearer",)``); both empty when the server sent none. The message names
    them next to the scheme this client sent, never the key or token itself.
    """

    challenge: str | None = None
    schemes: tuple[str, ...] = ()


class PermissionDeniedError(APIStatusError):
    """403: the credentials do not grant access (``ACCESS_DENIED``)."""


class NotFoundError(APIStatusError):
    """404: no such object (``DOES_NOT_EXIST``)."""


class ConflictError(APIStatusError):
    """409: the object is in a state that forbids the call (``CONFLICT_STATE``)."""


class RateLimitError(APIStatusError):
    """429: too many requests (retried automatically before this is raised)."""


class QuotaExceededError(RateLimitError):
    """429 with a ``DAY`` interval: the daily quota is used up.

    Note:
        Raised at once rather than sleeping until the quota resets, unless the caller
        passed ``wait_for_quota=True``.
    """


class InternalServerError(APIStatusError):
    """5xx: the server failed (retried automatically before this is raised)."""


class APIConnectionError(APIError):
    """No response was received (connection refused, reset, DNS, ...)."""

    def __init__(
        self, message: str = "Connection error.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request)


class OutcomeUnknownError(APIConnectionError):
    """The request was sent but no complete answer came back; it may have been applied.

    Note:
        Non-idempotent requests in this state are never re-sent automatically.
    """

    def __init__(
        self,
        message: str = "Request sent but no complete response received; it may have been applied.",
        *,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.response = response
        """The 5xx answer, if that is what left the outcome unknown."""
        self.status_code = response.status_code if response is not None else None


class ApiDriftError(APIError):
    """The API answered in a shape the bundled snapshot does not describe."""

    def __init__(
        self,
        *,
        operation: str,
        field: str,
        snapshot_version: str,
        detail: str,
        request: httpx.Request | None = None,
        body: object | None = None,
    ) -> None:
        self.operation = operation
        self.field = field
        self.snapshot_version = snapshot_version
        self.detail = detail
        super().__init__(
            f"API drift in {operation!r} at field {field!r} "
            f"(snapshot {snapshot_version}): {detail}",
            request,
            body=body,
        )


class OperationFailedError(TolokaError):
    """A long-running object (operation, upload, run, export) ended in a failed state.

    ``obj`` is its last state and ``reason`` the server's message, if it gave one.
    """

    def __init__(self, message: str, *, obj: object, reason: str | None = None) -> None:
        super().__init__(message)
        self.obj = obj
        self.reason = reason


def _reason(obj: "Run | Upload | Export") -> str:
    return obj.error.message if obj.error is not None else "the server gave no reason"


class RunFailedError(OperationFailedError):
    """A run ended ``failed`` or ``cancelled``; ``run`` is its last state."""

    def __init__(self, run: "Run") -> None:
        self.run = run
        progress = ""
        if run.progress is not None:
            p = run.progress
            progress = f" ({p.completed}/{p.total} completed, {p.failed} failed)"
        reason = _reason(run)
        super().__init__(
            f"run {run.id} ended {run.status}{progress}: {reason}", obj=run, reason=reason
        )


class UploadFailedError(OperationFailedError):
    """An upload's ingestion failed; ``upload`` is its last state."""

    def __init__(self, upload: "Upload") -> None:
        self.upload = upload
        reason = _reason(upload)
        super().__init__(f"upload {upload.id} {upload.status}: {reason}", obj=upload, reason=reason)


class ExportFailedError(OperationFailedError):
    """An export failed; ``export`` is its last state."""

    def __init__(self, export: "Export") -> None:
        self.export = export
        reason = _reason(export)
        super().__init__(f"export {export.id} {export.status}: {reason}", obj=export, reason=reason)


class JournalError(TolokaError):
    """A resumable job's journal cannot be used as it is; ``path`` is the file.

    Nothing more is sent for the job once this is raised: the message says what was.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class JournalMismatchError(JournalError):
    """The journal file belongs to a different call (another pipeline, other rows or options).

    ``parameter`` names what differs (``None`` for the journal's format version).
    """

    def __init__(
        self, message: str, *, path: str | None = None, parameter: str | None = None
    ) -> None:
        super().__init__(message, path=path)
        self.parameter = parameter


class JournalCorruptError(JournalError):
    """A journal holds a record that cannot be read, or nothing at all.

    Resuming from it could repeat steps that cost money, so nothing is sent. ``path`` is the
    file and ``line`` the 1-based line at fault (``None`` for the whole file).
    """

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        super().__init__(message, path=path)
        self.line = line


class JournalLockedError(JournalError):
    """Another process holds the journal: one job, one process. ``holder`` describes it
    (process id, host and since when, as that process wrote them)."""

    def __init__(self, message: str, *, path: str, holder: str) -> None:
        super().__init__(message, path=path)
        self.holder = holder


class JournalWriteError(JournalError):
    """A journal record could not be written (disk full, read-only, removed directory).

    Raised before the next step that could cost money. ``step`` is the record's step and
    ``sent`` whether that step's request was sent (``True``: it completed on the server and
    a rerun finds it; ``False``: nothing of it was sent).
    """

    def __init__(self, message: str, *, path: str, step: str, sent: bool) -> None:
        super().__init__(message, path=path)
        self.step = step
        self.sent = sent


class PollTimeoutError(TolokaError):
    """Polling stopped because the overall deadline passed; ``obj`` is the last state seen."""

    def __init__(self, message: str, *, obj: object, elapsed: float) -> None:
        super().__init__(message)
        self.obj = obj
        self.elapsed = elapsed


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _parse_body(response: httpx.Response) -> object | None:
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = response.read()
    if not content:
        return None
    try:
        parsed: object = response.json()
    except ValueError:
        return response.text
    return parsed


def _request_id_from_headers(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value: str | None = response.headers.get(name)
        if value:
            return value
    return None


def is_daily_quota_payload(payload: object) -> bool:
    """True if a 429 ``payload`` says the daily quota is used up."""
    return isinstance(payload, dict) and str(payload.get("interval", "")).upper() == "DAY"


def _secret_of(request: httpx.Request | None) -> str | None:
    """The credential the request carried, if long enough to tell from ordinary words."""
    if request is None:
        return None
    value = request.headers.get("authorization", "")
    secret = value.split(" ", 1)[-1].strip()
    return secret if len(secret) >= 6 else None


def _scrub(value: Any, secret: str | None) -> Any:
    """``value`` (a parsed body: strings, lists, objects) with ``secret`` masked everywhere."""
    if secret is None:
        return value
    if isinstance(value, str):
        return value.replace(secret, "**********")
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    if isinstance(value, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in value.items()}
    return value


_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def auth_schemes(challenge: str) -> tuple[str, ...]:
    """The authentication schemes a ``WWW-Authenticate`` value names, in order.

    Challenges and their parameters are both comma-separated (RFC 9110 section 11.6.1): a part
    that starts with a bare token (no ``=`` right after it) starts a new challenge.

    >>> auth_schemes('Bearer realm="api", error="invalid_token", ApiKey')
    ('Bearer', 'ApiKey')
    """
    parts, current, quoted, escaped = [], "", False, False
    for char in challenge:  # commas inside a quoted string separate nothing
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    schemes: list[str] = []
    for part in parts:
        part = part.strip()
        match = _TOKEN.match(part)
        if match is None:
            continue
        rest = part[match.end() :]
        if rest.lstrip().startswith("=") or (not rest.strip() and part.endswith("=")):
            continue  # an auth-param (``error="x"``) or a token68 tail, not a scheme
        if match.group(0) not in schemes:
            schemes.append(match.group(0))
    return tuple(schemes)


def _sent_scheme(request: httpx.Request | None) -> str | None:
    """The scheme word of the request's ``Authorization`` (never the credential after it)."""
    if request is None:
        return None
    value = request.headers.get("authorization", "").strip()
    if not value:
        return None
    match = _TOKEN.match(value)
    return match.group(0) if match is not None and match.end() < len(value) else None


def _challenge_text(challenge: str | None, schemes: tuple[str, ...], sent: str | None) -> str:
    if not challenge:
        return ""
    asked = " or ".join(schemes) if schemes else "another"
    text = f"; the server asks for {asked} authentication (WWW-Authenticate: {challenge})"
    if sent is not None and sent.lower() not in {s.lower() for s in schemes}:
        text += f", this client sent {sent}"
    elif sent is None:
        text += ", this client sent no credentials"
    return text


def local_status_error(
    cls: type[APIStatusError],
    status: int,
    request: httpx.Request,
    *,
    code: str,
    message: str,
    payload: object | None = None,
) -> APIStatusError:
    """The error the API would answer, found out without asking it (nothing was sent).

    Shaped like a real answer (``status_code``, ``code``, ``payload``, a ``response`` whose
    body says so), so callers handle both alike.
    """
    body: dict[str, object] = {"code": code, "message": message, "client_side": True}
    if payload is not None:
        body["payload"] = payload
    response = httpx.Response(status, json=body, request=request)
    return cls(message, response=response, body=body, code=code, payload=payload)


def make_status_error(response: httpx.Response) -> APIStatusError:
    """Build the typed error for a 4xx/5xx response (v1 and v2 bodies alike).

    v1 bodies look like ``{"request_id", "code", "message", "payload"}``; v2 bodies carry
    at least ``message``. The request id falls back to the ``X-Request-Id`` header.
    """
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built by hand, without a request
        request = None
    # A server that echoes the request's credential must not put it in the error's fields.
    body = _scrub(_parse_body(response), _secret_of(request))
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    payload: Any = None
    if isinstance(body, dict):
        raw_code = body.get("code") or body.get("error")
        code = str(raw_code) if isinstance(raw_code, str | int) else None
        raw_message = body.get("message") or body.get("detail")
        message = raw_message if isinstance(raw_message, str) else None
        raw_id = body.get("request_id") or body.get("requestId")
        request_id = raw_id if isinstance(raw_id, str) else None
        payload = body.get("payload")
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    if request_id is None:
        request_id = _request_id_from_headers(response)

    status = response.status_code
    cls: type[APIStatusError]
    if status == 429 and is_daily_quota_payload(payload):
        cls = QuotaExceededError
    elif status >= 500:
        cls = InternalServerError
    else:
        cls = _STATUS_CLASSES.get(status, APIStatusError)

    if request is not None:
        text = f"{request.method} {request.url.copy_with(query=None)} -> {status}"
    else:
        text = f"HTTP {status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {message}"
    if request_id:
        text += f" (request_id={request_id})"
    if cls is QuotaExceededError:
        text += "; the daily quota is used up (pass wait_for_quota=True to wait for the reset)"
    challenge: str | None = None
    schemes: tuple[str, ...] = ()
    if cls is AuthenticationError:
        raw = response.headers.get("www-authenticate")
        if raw and raw.strip():
            # A server may echo what it was sent: the challenge is masked like the body.
            challenge = _scrub(" ".join(raw.split()), _secret_of(request))[:300]
            schemes = auth_schemes(challenge)
        text += _challenge_text(challenge, schemes, _sent_scheme(request))
    error = cls(
        text, response=response, body=body, request_id=request_id, code=code, payload=payload
    )
    if isinstance(error, AuthenticationError):
        error.challenge = challenge
        error.schemes = schemes
    return error
