"""Client settings: resolved once from arguments and the environment, then immutable.

One name per setting, the same in code, docstrings and README:

======================  ===========================  =========================================
argument                environment variable         default
======================  ===========================  =========================================
``api_key``             ``TOLOKA_API_KEY``           none (``ApiKey``: both APIs)
``oauth_token``         ``TOLOKA_OAUTH_TOKEN``       none (legacy ``OAuth``: API v1 only)
``base_url``            ``TOLOKA_BASE_URL``          ``https://platform.toloka.ai/api/v2-beta``
``v1_base_url``         ``TOLOKA_V1_BASE_URL``       ``https://toloka.dev/api/v1``
======================  ===========================  =========================================

Arguments win over the environment. The request path (retries, timeouts, polling) reads a
:class:`Settings`; ``with_options()`` makes a changed copy.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import httpx

from ._auth import AuthScheme, Credentials, Secret
from ._constants import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_MAX_REQUEST_HOLD,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_OAUTH_TOKEN,
    ENV_V1_BASE_URL,
    V1_BASE_URL,
    V2_BASE_URL,
)
from ._exceptions import ConfigurationError, InvalidInputError
from ._polling import PollPolicy
from ._retry import RetryPolicy
from ._types import NotGiven, TimeoutTypes

__all__ = [
    "Api",
    "ClientCredentials",
    "Settings",
    "check_secure",
    "is_loopback",
    "resolve_base_url",
    "resolve_credentials",
]

Api = Literal["v1", "v2"]


@attrs.frozen
class ClientCredentials:
    """What each API is called with: ``v2`` needs an API key, ``v1`` also takes OAuth."""

    v2: Credentials | None
    v1: Credentials

    def for_api(self, api: Api) -> Credentials:
        if api == "v1":
            return self.v1
        if self.v2 is None:
            raise ConfigurationError(
                f"the Pipeline API (v2-beta) takes an API key: pass api_key= or set "
                f"{ENV_API_KEY} (an OAuth token works for API v1 only)"
            )
        return self.v2


def _secret(value: str | Secret | None, name: str) -> Secret | None:
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, Secret) else value
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigurationError(f"{name} is empty")
    return value if isinstance(value, Secret) else Secret(raw.strip())


def resolve_credentials(
    *,
    api_key: str | Secret | None,
    oauth_token: str | Secret | None,
    env: Mapping[str, str] | None = None,
) -> ClientCredentials:
    """Arguments first, then ``TOLOKA_API_KEY`` / ``TOLOKA_OAUTH_TOKEN``.

    An API key serves both APIs (``Authorization: ApiKey <key>``, the documented form); an
    OAuth token (the legacy form) serves API v1 only.

    Raises:
        ConfigurationError: no credentials anywhere (the message names the variables).
    """
    environ = os.environ if env is None else env
    key = _secret(api_key, "api_key")
    token = _secret(oauth_token, "oauth_token")
    env_key = _secret(environ.get(ENV_API_KEY, "").strip() or None, ENV_API_KEY)
    env_token = _secret(environ.get(ENV_OAUTH_TOKEN, "").strip() or None, ENV_OAUTH_TOKEN)
    v2_key = key if key is not None else env_key
    v2 = Credentials("ApiKey", v2_key) if v2_key is not None else None
    # v1: what was passed beats the environment; within each, the documented ApiKey first.
    ordered: list[tuple[AuthScheme, Secret | None]] = [
        ("ApiKey", key),
        ("OAuth", token),
        ("ApiKey", env_key),
        ("OAuth", env_token),
    ]
    candidates = [Credentials(scheme, secret) for scheme, secret in ordered if secret is not None]
    if not candidates:
        raise ConfigurationError(
            f"no Toloka credentials: pass api_key= (or oauth_token= for API v1), "
            f"or set {ENV_API_KEY} (or {ENV_OAUTH_TOKEN})"
        )
    v1 = candidates[0]
    return ClientCredentials(v2=v2, v1=v1)


def resolve_base_url(
    value: str | httpx.URL | None,
    *,
    setting: str,
    env_name: str,
    default: str,
    env: Mapping[str, str] | None = None,
    allow_insecure_http: bool = False,
) -> str:
    """The argument, else the environment variable, else ``default``; checked.

    Raises:
        ConfigurationError: not an absolute ``http(s)://host/...`` URL, or plain ``http://``
            to another machine without ``allow_insecure_http`` (named by ``setting``).
    """
    environ = os.environ if env is None else env
    raw = str(value) if value is not None else (environ.get(env_name) or default)
    try:
        url = httpx.URL(raw.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigurationError(f"{setting} {raw!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(
            f"{setting} {raw!r} must be an absolute http(s) URL, e.g. {default!r}"
        )
    if url.query or url.fragment:
        raise ConfigurationError(f"{setting} {raw!r} must not carry a query or fragment")
    if not allow_insecure_http:
        check_secure(url, what=setting, fix=f"use https for {setting}")
    return str(url).rstrip("/")


def is_loopback(host: str) -> bool:
    """True for this machine (tests and local sandboxes), where plain HTTP cannot leak."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost") or host == "::1":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secure(url: httpx.URL, *, what: str, fix: str) -> None:
    """Refuse plain ``http://`` off this machine: credentials and data would travel in clear.

    Raises:
        ConfigurationError: naming ``what``, unless the caller opted in.
    """
    if url.scheme == "http" and not is_loopback(url.host):
        raise ConfigurationError(
            f"{what} uses plain http:// to {url.host}: credentials and data would cross the "
            f"network unencrypted; {fix}, or pass allow_insecure_http=True if you mean it"
        )


def _timeout(value: TimeoutTypes) -> httpx.Timeout:
    """``timeout=``: seconds, a ``(connect, read, write, pool)`` tuple or an
    ``httpx.Timeout``; each part positive or ``None`` (no limit)."""
    try:
        timeout = value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"timeout: {exc}", field="timeout") from None
    for part in ("connect", "read", "write", "pool"):
        seconds = getattr(timeout, part)
        if seconds is None:
            continue
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise InvalidInputError(
                f"timeout must be positive seconds (or None for no limit); its {part} part is "
                f"{seconds!r}",
                field="timeout",
            )
    return timeout


@attrs.frozen(kw_only=True)
class Settings:
    """Everything the request path reads; immutable (``with_options`` evolves a copy)."""

    base_url: str
    v1_base_url: str
    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=_timeout)
    call_timeout: float | None = DEFAULT_CALL_TIMEOUT
    max_request_hold: float = DEFAULT_MAX_REQUEST_HOLD
    max_retries: int
    wait_for_quota: bool = False
    poll_policy: PollPolicy = attrs.field(factory=PollPolicy)
    default_headers: Mapping[str, str] = attrs.field(factory=dict)
    allow_insecure_http: bool = False

    def __attrs_post_init__(self) -> None:
        RetryPolicy(max_retries=self.max_retries)  # validates max_retries
        call = self.call_timeout
        if call is not None and (
            isinstance(call, bool) or not isinstance(call, int | float) or not call > 0
        ):
            raise InvalidInputError(
                f"call_timeout must be positive seconds (or None for no deadline), got {call!r}",
                field="call_timeout",
            )
        hold = self.max_request_hold
        if (
            isinstance(hold, bool)
            or not isinstance(hold, int | float)
            or not 0 <= hold < float("inf")
        ):
            raise InvalidInputError(
                f"max_request_hold must be seconds >= 0, got {hold!r}", field="max_request_hold"
            )

    def gave_up_wall(self, sent_at: float, now: float) -> float:
        """When a run that is gone gave up on a request it sent at ``sent_at`` (wall time):
        at the latest when its call's deadline passed; with no deadline, ``now`` (it may have
        waited until it died)."""
        return now if self.call_timeout is None else min(now, sent_at + self.call_timeout)

    def settle_deadline(self, gave_up_at: float) -> float:
        """When a request the client stopped waiting for at ``gave_up_at`` (``clock`` time)
        can no longer be applied: only after it is its outcome settled as "not applied"."""
        return gave_up_at + self.max_request_hold

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | httpx.URL | None,
        v1_base_url: str | httpx.URL | None,
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> Settings:
        return cls(
            base_url=resolve_base_url(
                base_url,
                setting="base_url",
                env_name=ENV_BASE_URL,
                default=V2_BASE_URL,
                allow_insecure_http=allow_insecure_http,
            ),
            v1_base_url=resolve_base_url(
                v1_base_url,
                setting="v1_base_url",
                env_name=ENV_V1_BASE_URL,
                default=V1_BASE_URL,
                allow_insecure_http=allow_insecure_http,
            ),
            allow_insecure_http=allow_insecure_http,
            **kwargs,
        )

    def base_for(self, api: Api) -> str:
        return self.v1_base_url if api == "v1" else self.base_url

    def retry_policy(self, *, wait_for_quota: bool | None = None) -> RetryPolicy:
        wait = self.wait_for_quota if wait_for_quota is None else wait_for_quota
        return RetryPolicy(max_retries=self.max_retries, wait_for_quota=wait)

    def evolve(self, **changes: Any) -> Settings:
        """A copy with the given settings changed; ``NOT_GIVEN`` values are ignored."""
        given = {k: v for k, v in changes.items() if not isinstance(v, NotGiven)}
        return attrs.evolve(self, **given)
