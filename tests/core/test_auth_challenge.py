"""Class 5: an authentication error carries the scheme the server asks for.

A 401's ``WWW-Authenticate`` (the issue's ``Bearer``) reaches ``AuthenticationError`` as
``challenge`` and ``schemes`` and in its message, next to the scheme the client sent; the
key or token never does, even when a server echoes it in the challenge.
"""

from __future__ import annotations

from typing import Any

import pytest

from toloka_ext import AuthenticationError
from toloka_ext._exceptions import auth_schemes, make_status_error
from toloka_ext.testing import Fault, FaultConfig, Sandbox

KEY = "sk-challenge-SECRET-0042"


def _refusing(challenge: str | None, **kwargs: Any) -> Sandbox:
    headers = {} if challenge is None else {"WWW-Authenticate": challenge}
    fault = Fault("status", status=401, route="getMe", on_nth=(1,), headers=headers)
    return Sandbox(api_key=KEY, faults=FaultConfig(faults=[fault]), **kwargs)


def _refusal(sandbox: Sandbox, call: Any = lambda c: c.me(), **kwargs: Any) -> AuthenticationError:
    with (
        sandbox.client(max_retries=0, **kwargs) as client,
        pytest.raises(AuthenticationError) as info,
    ):
        call(client)
    return info.value


def test_the_scheme_the_server_asks_for_is_named() -> None:
    err = _refusal(_refusing('Bearer realm="toloka", error="invalid_token"'), api_key=KEY)
    assert err.schemes == ("Bearer",)
    assert err.challenge == 'Bearer realm="toloka", error="invalid_token"'
    assert "the server asks for Bearer authentication" in str(err)
    assert 'WWW-Authenticate: Bearer realm="toloka"' in str(err)
    assert "this client sent ApiKey" in str(err)
    assert KEY not in str(err) and KEY not in repr(err)


def test_a_challenge_that_echoes_the_key_is_masked() -> None:
    err = _refusal(_refusing(f'Bearer error_description="key {KEY} expired"'), api_key=KEY)
    assert err.challenge is not None and KEY not in err.challenge and "**********" in err.challenge
    assert KEY not in str(err)


def test_without_a_challenge_nothing_is_invented() -> None:
    err = _refusal(_refusing(None), api_key=KEY)
    assert err.challenge is None and err.schemes == ()
    assert "asks for" not in str(err)


@pytest.mark.parametrize(
    ("api", "call", "kwargs", "schemes", "sent"),
    [
        ("v2", lambda c: c.me(), {"api_key": "wrong-key-000"}, ("ApiKey",), None),
        (
            "v1",
            lambda c: c.operations.get("op-1"),
            {"api_key": None, "oauth_token": "wrong-token-000"},
            ("OAuth", "ApiKey"),
            None,
        ),
    ],
)
def test_the_sandboxes_refusals_carry_their_challenge(
    api: str,
    call: Any,
    kwargs: dict[str, Any],
    schemes: tuple[str, ...],
    sent: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    err = _refusal(Sandbox(), call, **kwargs)
    assert err.schemes == schemes
    assert "this client sent" not in str(err)  # it sent one the server takes, but a bad one
    for secret in kwargs.values():
        assert secret is None or secret not in str(err)


def test_no_credentials_at_all_says_so() -> None:
    sandbox = Sandbox()
    with sandbox.http_client() as http:
        response = http.get(f"{sandbox.v2_base_url}/me")  # no Authorization at all
    err = make_status_error(response)
    assert isinstance(err, AuthenticationError) and err.schemes == ("ApiKey",)
    assert "this client sent no credentials" in str(err)


@pytest.mark.parametrize(
    ("challenge", "schemes"),
    [
        ("Bearer", ("Bearer",)),
        ('Bearer realm="api", error="invalid_token", error_description="x, y"', ("Bearer",)),
        ('Basic realm="a", Bearer realm="b"', ("Basic", "Bearer")),
        ("OAuth, ApiKey", ("OAuth", "ApiKey")),
        ("Negotiate abc123==", ("Negotiate",)),
        ('realm="x"', ()),
        ("", ()),
    ],
)
def test_schemes_are_read_from_a_challenge(challenge: str, schemes: tuple[str, ...]) -> None:
    assert auth_schemes(challenge) == schemes
