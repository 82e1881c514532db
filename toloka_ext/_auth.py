"""Credentials and the origin-bound auth (resolution from arguments and the environment is
in ``_settings.py``).

The secret lives in a :class:`Secret`, whose ``repr``/``str`` never show it; the httpx auth
adds ``Authorization`` only to requests for the API's own origin, so pre-signed upload and
download URLs on other hosts never receive it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Literal, final

import httpx

from ._exceptions import ConfigurationError

__all__ = ["AuthScheme", "Credentials", "Secret", "TolokaAuth"]

AuthScheme = Literal["ApiKey", "OAuth"]


@final
class Secret:
    """A string that does not show itself: ``repr``/``str`` print ``'**********'``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def get_secret_value(self) -> str:
        """The wrapped value. Keep it out of logs."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.get_secret_value() == self.get_secret_value()

    def __hash__(self) -> int:
        return hash(self.get_secret_value())

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret cannot be pickled")


@final
class Credentials:
    """An auth scheme (``ApiKey`` or ``OAuth``) and its secret."""

    __slots__ = ("scheme", "secret")

    def __init__(self, scheme: AuthScheme, secret: Secret | str) -> None:
        if scheme not in ("ApiKey", "OAuth"):
            raise ConfigurationError(f"unknown auth scheme {scheme!r}; use 'ApiKey' or 'OAuth'")
        self.scheme: AuthScheme = scheme
        self.secret = secret if isinstance(secret, Secret) else Secret(secret)

    def header_value(self) -> str:
        """The ``Authorization`` header value. Keep it out of logs."""
        return f"{self.scheme} {self.secret.get_secret_value()}"

    def __repr__(self) -> str:
        return f"Credentials(scheme={self.scheme!r}, secret=Secret('**********'))"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Credentials)
            and other.scheme == self.scheme
            and other.secret == self.secret
        )

    def __hash__(self) -> int:
        return hash((self.scheme, self.secret))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port if url.port is not None else default_port


class TolokaAuth(httpx.Auth):
    """Adds ``Authorization: <scheme> <secret>`` to requests for the API origin only.

    The origin is scheme + host + port of ``base_url``; requests anywhere else (e.g.
    pre-signed object-storage URLs) go out without it, and any ``Authorization`` a caller put
    on such a request is removed.
    """

    def __init__(self, credentials: Credentials, base_url: str | httpx.URL) -> None:
        self._credentials = credentials
        self._origin = _origin(httpx.URL(str(base_url)))

    def matches(self, url: httpx.URL) -> bool:
        """True if ``url`` belongs to the API origin."""
        return _origin(url) == self._origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.matches(request.url):
            request.headers["Authorization"] = self._credentials.header_value()
        else:
            request.headers.pop("Authorization", None)
        yield request

    def __repr__(self) -> str:
        scheme, host, port = self._origin
        return (
            f"TolokaAuth(scheme={self._credentials.scheme!r}, "
            f"origin='{scheme}://{host}:{port}', secret='**********')"
        )
