"""The global options of a command line run, and the client they describe."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import httpx
import typer

from .._constants import (
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_MAX_REQUEST_HOLD,
    ENV_API_KEY,
    ENV_OAUTH_TOKEN,
)
from .._polling import PollPolicy
from .._sync._client import Toloka
from ._exit import PROG, CliError
from ._output import Output

__all__ = ["State", "state_of"]


@dataclass
class State:
    """The global options, shared by every command through ``ctx.obj``."""

    api_key: str | None = None
    oauth_token: str | None = None
    base_url: str | None = None
    v1_base_url: str | None = None
    json_mode: bool = False
    quiet: bool = False
    poll_interval: float | None = None
    max_request_hold: float | None = None
    allow_insecure_http: bool = False
    prog: str = PROG
    argv: list[str] = field(default_factory=list)
    interrupt_reported: bool = False
    output: Output = field(default_factory=lambda: Output(json_mode=False))

    @property
    def progress(self) -> bool:
        """Bars only for a person watching: stdout a terminal, no ``--json``/``--quiet``."""
        return not (self.json_mode or self.quiet) and sys.stdout.isatty()

    def poll_policy(self) -> PollPolicy | None:
        if self.poll_interval is None:
            return None
        return PollPolicy(interval=self.poll_interval)

    def client(self) -> Toloka:
        """A :class:`Toloka` from the options (else the environment)."""
        has_key = self.api_key or os.environ.get(ENV_API_KEY)
        if not (has_key or self.oauth_token or os.environ.get(ENV_OAUTH_TOKEN)):
            raise CliError(
                f"no Toloka credentials: pass --api-key or set {ENV_API_KEY} "
                f"(--oauth-token or {ENV_OAUTH_TOKEN} serve API v1 commands only)"
            )
        return Toloka(
            api_key=self.api_key,
            oauth_token=self.oauth_token,
            base_url=self.base_url,
            v1_base_url=self.v1_base_url,
            poll_policy=self.poll_policy(),
            max_request_hold=(
                DEFAULT_MAX_REQUEST_HOLD if self.max_request_hold is None else self.max_request_hold
            ),
            allow_insecure_http=self.allow_insecure_http,
            # One transport for the API and storage: a command is short-lived, and each
            # transport costs a TLS context (~0.1 s) before the first request.
            transport=httpx.HTTPTransport(limits=DEFAULT_CONNECTION_LIMITS),
        )


def state_of(ctx: typer.Context) -> State:
    state = ctx.find_object(State)
    if state is None:  # pragma: no cover - the callback always sets it
        raise RuntimeError("no global state")
    return state
