"""What a route handler gets (:class:`Ctx`: backend, config, runtime, request) and returns.

Handlers see only these, never the :class:`~toloka_ext.testing.Sandbox`, so the sandbox's
public surface can change without touching them (and nothing here imports it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import ApiError
from ._validate import validate

if TYPE_CHECKING:
    from ._backend import Backend
    from ._config import SandboxConfig
    from ._runtime import Runtime

__all__ = ["Ctx", "Reply", "Request", "Handler", "MAX_DEPTH", "parse_json", "public"]

# Deeper JSON is refused (400), so that nothing downstream (validation, storage) recurses too far.
MAX_DEPTH = 64


def parse_json(raw: bytes | str) -> Any:
    """``raw`` parsed as JSON; ``ValueError`` if it is not JSON or nests deeper than MAX_DEPTH."""
    try:
        # RFC 8259: JSON on the wire is UTF-8 (a BOM may be ignored); surrogates are invalid.
        data = json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from None
    # A lone surrogate can only come from an escape (raw UTF-8 cannot hold one): strings are
    # walked only when the text has such an escape; containers always, for their depth.
    if isinstance(raw, bytes):
        strings = _SURROGATE_ESCAPE_BYTES.search(raw) is not None
    else:
        strings = _SURROGATE_ESCAPE.search(raw) is not None
    if strings:
        _check_strings(data)
    # Depth, one level at a time (a comprehension per level, not a step per container).
    level = [data] if isinstance(data, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        level = [
            child
            for value in level
            for child in (value.values() if type(value) is dict else value)
            if type(child) is dict or type(child) is list
        ]
    return data


def _check_strings(data: Any) -> None:
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict):
            for key in value:
                _check_text(key)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: str) -> None:
    # json.loads turns an escaped lone surrogate ("\ud800") into a str no UTF-8 can carry.
    if _SURROGATE.search(text):
        raise ValueError("a string holds a lone UTF-16 surrogate (not valid Unicode text)")


@dataclass
class Reply:
    """A handler's answer: JSON (``body`` any JSON value) or raw bytes with a content type."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


# The booleans a query parameter may hold (``Request.q_bool`` and ``query_problem``).
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_BOOLEANS = _TRUE | _FALSE


@dataclass(frozen=True)
class Request:
    """One API request, as the handlers see it (path parameters already matched)."""

    api: str
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    request_id: str

    def json(self, schema: dict[str, Any], *, required: bool = True) -> Any:
        """The body parsed and checked against ``schema`` (400 with the documented body if not)."""
        if not self.body.strip():
            if required:
                raise ApiError(400, "Request body is required")
            return {}
        try:
            data = parse_json(self.body)
        except ValueError as exc:
            raise ApiError(400, f"Malformed JSON: {exc}") from None
        issues = validate(data, schema)
        if issues:
            raise ApiError(
                400,
                "; ".join(f"{path}: {message}" for path, _code, message in issues[:5]),
                payload={path: {"code": code, "message": msg} for path, code, msg in issues[:50]}
                if self.api == "v1"
                else None,
            )
        return data

    def _one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def q_int(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self._one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"{name}: must be an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise ApiError(400, f"{name}: must be at least {minimum}{upper}")
        return value

    def q_bool(self, name: str) -> bool:
        raw = self._one(name)
        if raw is None:
            return False
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ApiError(400, f"{name}: must be true or false")

    def q_str(self, name: str) -> str | None:
        return self._one(name)


@dataclass(frozen=True)
class Ctx:
    """Everything a handler may use: state, options, runtime state and the request."""

    backend: Backend
    config: SandboxConfig
    runtime: Runtime
    request: Request

    def now(self) -> float:
        return self.config.clock.now()


Handler = Callable[[Ctx], Reply]


def public(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An object without its private (``_``-prefixed) keys."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


_INTEGER = re.compile(r"-?[0-9]+")


def query_problem(raw: str, checks: Mapping[str, Any]) -> str | None:
    """What is wrong with one query value against its parameter's ``checks`` (the keys of
    ``_optable.request_checks``: ``type``, ``minimum``, ``maximum``, ``minLength``,
    ``maxLength``), or ``None``."""
    kind = checks.get("type")
    if kind == "integer":
        if not _INTEGER.fullmatch(raw):
            return "must be an integer"
        value = int(raw)
        if "minimum" in checks and value < checks["minimum"]:
            return f"must be at least {checks['minimum']}"
        if "maximum" in checks and value > checks["maximum"]:
            return f"must be at most {checks['maximum']}"
    elif kind == "boolean":
        if raw.lower() not in _BOOLEANS:
            return "must be true or false"
    elif kind == "string":
        if len(raw) < checks.get("minLength", 0):
            return "must not be empty" if checks["minLength"] == 1 else "is too short"
        if "maxLength" in checks and len(raw) > checks["maxLength"]:
            return "is too long"
    return None
