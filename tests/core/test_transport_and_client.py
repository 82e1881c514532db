"""The HTTP core of the client: retries, auth, encoding, pacing, through ``_core.request``.

Each request runs through ``Toloka`` / ``AsyncToloka`` (``client._core.request(api, method,
path, ...)``, or ``client._core.storage(...)`` for a presigned URL) over an
``httpx.MockTransport`` stub; the transport form (``RetryTransport``) is tested at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import toloka_ext as tx
from toloka_ext import AsyncRetryTransport, AsyncToloka, RetryTransport, Toloka
from toloka_ext._auth import Credentials, Secret, TolokaAuth
from toloka_ext._settings import resolve_credentials

from ._stubs import AsyncSleeps, Script, Sleeps, ok, status

BASE = "https://api.example.test/api/v1"
SECRET = "tok-SECRET-123"


def make(script: Script, **kwargs: Any) -> tuple[Toloka, Sleeps]:
    """A sync client on an OAuth token (API v1 only) whose requests go to ``script``."""
    sleeps = Sleeps()
    client = Toloka(
        oauth_token=SECRET,
        v1_base_url=BASE,
        transport=httpx.MockTransport(script),
        sleep=sleeps,
        **kwargs,
    )
    return client, sleeps


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Runs one request through Toloka or AsyncToloka's core: same behaviour expected.

    A relative ``path`` goes to API v1 (``core.request``); an absolute URL is a presigned
    storage URL (``core.storage``).
    """

    def run(script: Script, method: str, path: str, *, client_kwargs: Any = None, **kw: Any) -> Any:
        storage = path.startswith("https://")
        if request.param == "sync":
            client, sleeps = make(script, **(client_kwargs or {}))
            with client:
                if storage:
                    return client._core.storage(method, path, **kw), sleeps
                return client._core.request("v1", method, path, **kw), sleeps

        async def go() -> Any:
            sleeps = AsyncSleeps()
            async with AsyncToloka(
                oauth_token=SECRET,
                v1_base_url=BASE,
                transport=httpx.MockTransport(script),
                sleep=sleeps,
                **(client_kwargs or {}),
            ) as client:
                if storage:
                    return await client._core.storage(method, path, **kw), sleeps
                return await client._core.request("v1", method, path, **kw), sleeps

        return anyio.run(go)

    return run


def test_retries_5xx_then_succeeds(call: Callable[..., Any]) -> None:
    script = Script(status(503), status(500), ok())
    response, sleeps = call(script, "GET", "/tasks")
    assert response.json() == {"ok": True}
    assert len(script.requests) == 3
    assert len(sleeps) == 2


def test_gives_up_after_max_retries_and_raises_mapped_error(call: Callable[..., Any]) -> None:
    script = Script(
        status(
            503, body={"code": "REMOTE_SERVICE_UNAVAILABLE", "message": "down", "request_id": "r"}
        )
    )
    with pytest.raises(tx.InternalServerError) as err:
        call(script, "GET", "/x", client_kwargs={"max_retries": 2})
    assert len(script.requests) == 3
    assert err.value.code == "REMOTE_SERVICE_UNAVAILABLE"
    assert err.value.request_id == "r"


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 413, 422])
def test_client_errors_are_not_retried(call: Callable[..., Any], code: int) -> None:
    # v1's own 404 says DOES_NOT_EXIST; any other 404 makes the client check v1_base_url
    # first (tests/drift/test_configuration.py).
    body = {"code": "DOES_NOT_EXIST", "message": "m"} if code == 404 else None
    script = Script(status(code, body=body))
    with pytest.raises(tx.APIStatusError) as err:
        call(script, "POST", "/tasks", json={})
    assert err.value.status_code == code
    assert len(script.requests) == 1


def test_retry_after_is_obeyed(call: Callable[..., Any]) -> None:
    script = Script(status(429, {"Retry-After": "7"}), ok())
    _, sleeps = call(script, "GET", "/x")
    assert sleeps == [7.0]


def test_retry_after_beyond_the_cap_is_not_cut_short(call: Callable[..., Any]) -> None:
    """Retrying before the server allows would only earn another 429: raise at once."""
    script = Script(status(429, {"Retry-After": "600"}), ok())
    with pytest.raises(tx.RateLimitError) as err:
        call(script, "GET", "/x")
    assert len(script.requests) == 1
    assert err.value.response.headers["Retry-After"] == "600"


def test_retry_after_beyond_the_cap_is_waited_in_full_when_asked(call: Callable[..., Any]) -> None:
    script = Script(status(429, {"Retry-After": "600"}), ok())
    response, sleeps = call(script, "GET", "/x", wait_for_quota=True)
    assert response.status_code == 200 and sleeps == [600.0]


def test_minute_quota_interval_waits_to_next_minute(call: Callable[..., Any]) -> None:
    script = Script(
        status(429, body={"code": "TOO_MANY_REQUESTS", "payload": {"interval": "MIN"}}), ok()
    )
    _, sleeps = call(script, "GET", "/x")
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 61


def test_daily_quota_raises_at_once(call: Callable[..., Any]) -> None:
    script = Script(
        status(429, body={"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}}), ok()
    )
    with pytest.raises(tx.QuotaExceededError):
        call(script, "POST", "/tasks", json=[])
    assert len(script.requests) == 1


def test_daily_quota_waits_when_asked(call: Callable[..., Any]) -> None:
    script = Script(
        status(429, body={"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}}), ok()
    )
    response, sleeps = call(script, "POST", "/tasks", json=[], wait_for_quota=True)
    assert response.status_code == 200
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 86401
    # and as a client-wide setting
    script = Script(status(429, body={"payload": {"interval": "DAY"}}), ok())
    response, _ = call(script, "GET", "/x", client_kwargs={"wait_for_quota": True})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("t"),
        httpx.ReadError("r"),
        httpx.RemoteProtocolError("p"),
        httpx.WriteError("w"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_post_with_unknown_outcome_is_never_resent(
    call: Callable[..., Any], exc: Exception
) -> None:
    script = Script(exc, ok())
    with pytest.raises(tx.OutcomeUnknownError):
        call(script, "POST", "/tasks", json=[1])
    assert len(script.requests) == 1


def test_post_marked_idempotent_is_resent(call: Callable[..., Any]) -> None:
    script = Script(httpx.ReadTimeout("t"), ok())
    response, _ = call(script, "POST", "/tasks", json=[1], idempotent=True)
    assert response.status_code == 200
    assert len(script.requests) == 2
    assert script.requests[0].content == script.requests[1].content


def test_get_is_resent_after_read_error_then_times_out(call: Callable[..., Any]) -> None:
    script = Script(httpx.ReadTimeout("t"))
    with pytest.raises(tx.APITimeoutError) as err:
        call(script, "GET", "/x", client_kwargs={"max_retries": 2})
    assert not isinstance(err.value, tx.OutcomeUnknownError)
    assert len(script.requests) == 3


def test_connect_errors_are_retried_for_any_method(call: Callable[..., Any]) -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), ok())
    response, _ = call(script, "POST", "/tasks", json=[1])
    assert response.status_code == 200
    assert len(script.requests) == 3
    script = Script(httpx.ConnectError("refused"))
    with pytest.raises(tx.APIConnectionError) as err:
        call(script, "POST", "/tasks", json=[1], client_kwargs={"max_retries": 1})
    assert not isinstance(err.value, tx.OutcomeUnknownError)


def test_auth_header_query_and_json_encoding(call: Callable[..., Any]) -> None:
    script = Script(ok())
    call(
        script,
        "POST",
        "/tasks",
        json={"a": [1]},
        params={"async_mode": True, "skip": False, "none": None},
    )
    (req,) = script.requests
    assert req.headers["Authorization"] == f"OAuth {SECRET}"
    assert req.headers["Content-Type"] == "application/json"
    assert req.headers["User-Agent"].startswith(f"toloka-ext/{tx.__version__} ")
    assert str(req.url) == f"{BASE}/tasks?async_mode=true&skip=false"
    assert req.content == b'{"a":[1]}'


def test_json_and_content_together_are_refused(call: Callable[..., Any]) -> None:
    script = Script(ok())
    with pytest.raises(TypeError):
        call(script, "POST", "/tasks", json=[1], content=b"[1]")
    assert script.requests == []


def test_presigned_url_on_other_host_gets_no_authorization(call: Callable[..., Any]) -> None:
    script = Script(ok())
    call(
        script,
        "PUT",
        "https://storage.example.test/bucket/obj?X-Sig=abc",
        content=b"[]",
        headers={"Authorization": "OAuth leaked"},
    )
    assert "Authorization" not in script.requests[0].headers


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.test/api/v1/x",
        "https://api.example.test:8443/api/v1/x",
        "https://evil.test/api/v1/x",
    ],
)
def test_auth_is_bound_to_scheme_host_and_port(url: str) -> None:
    auth = TolokaAuth(Credentials("ApiKey", SECRET), BASE)
    request = httpx.Request("GET", url)
    flow = auth.auth_flow(request)
    assert "Authorization" not in next(flow).headers
    same = auth.auth_flow(httpx.Request("GET", "https://api.example.test:443/api/v1/x"))
    assert next(same).headers["Authorization"] == f"ApiKey {SECRET}"


def test_streamed_success_body_is_not_read_by_the_transport() -> None:
    """The transport form (for the generated client) leaves a success body to the caller."""
    pulled: list[int] = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for i in range(3):
                pulled.append(i)
                yield b"x" * 10

    transport = RetryTransport(httpx.MockTransport(lambda r: httpx.Response(200, stream=Body())))
    with httpx.Client(transport=transport) as http:
        with http.stream("GET", "https://storage.example.test/big") as response:
            assert pulled == []
            assert response.read() == b"x" * 30
    assert pulled == [0, 1, 2]


def test_streamed_success_body_is_not_read_by_the_core() -> None:
    pulled: list[int] = []

    class Body(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for i in range(3):
                pulled.append(i)
                yield b"x" * 10

    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=Body()))
    with Toloka(oauth_token=SECRET, v1_base_url=BASE, transport=transport) as client:
        response = client._core.request("v1", "GET", "/big", stream=True)
        assert pulled == []
        assert response.read() == b"x" * 30
        response.close()
        assert pulled == [0, 1, 2]
        client._core.request("v1", "GET", "/big")  # without stream=True: read at once
        assert pulled == [0, 1, 2, 0, 1, 2]


def test_one_debug_line_per_retry_without_secret(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(status(503), status(502), ok())
    client, _ = make(script)
    with client, caplog.at_level(logging.DEBUG, logger="toloka_ext"):
        client._core.request("v1", "GET", "/x?sig=SIGNATURE")
    lines = [r.getMessage() for r in caplog.records if r.name == "toloka_ext"]
    assert len(lines) == 2
    # The total ("retry 1/3") is no longer in the line; the retry number is.
    assert "status 503" in lines[0] and "(retry 1)" in lines[0]
    assert "status 502" in lines[1] and "(retry 2)" in lines[1]
    assert all(SECRET not in line and "SIGNATURE" not in line for line in lines)


def test_transport_is_usable_directly_with_a_plain_httpx_client() -> None:
    script = Script(status(500), ok())
    sleeps = Sleeps()
    transport = RetryTransport(httpx.MockTransport(script), sleep=sleeps)
    with httpx.Client(transport=transport) as http:
        assert http.get("https://x.test/").status_code == 200
    assert len(script.requests) == 2 and len(sleeps) == 1


def test_transport_settings_max_retries_quota_and_pace() -> None:
    script = Script(status(500))
    sleeps = Sleeps()
    transport = RetryTransport(httpx.MockTransport(script), max_retries=0, sleep=sleeps)
    with httpx.Client(transport=transport) as http:
        assert http.get("https://x.test/").status_code == 500  # returned, not raised
    assert len(script.requests) == 1 and sleeps == []

    daily = status(429, body={"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}})
    script = Script(daily, ok())
    with httpx.Client(transport=RetryTransport(httpx.MockTransport(script), sleep=sleeps)) as http:
        with pytest.raises(tx.QuotaExceededError):
            http.get("https://x.test/")
    script = Script(daily, ok())
    waiting = RetryTransport(httpx.MockTransport(script), wait_for_quota=True, sleep=sleeps)
    with httpx.Client(transport=waiting) as http:
        assert http.get("https://x.test/").status_code == 200
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 86401

    script = Script(ok())
    sleeps = Sleeps()
    paced = RetryTransport(httpx.MockTransport(script), requests_per_second=2, sleep=sleeps)
    with httpx.Client(transport=paced) as http:
        for _ in range(4):
            http.get("https://x.test/")
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


@pytest.mark.anyio
async def test_async_transport_direct() -> None:
    script = Script(status(500), ok())
    sleeps = AsyncSleeps()
    transport = AsyncRetryTransport(httpx.MockTransport(script), sleep=sleeps)
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("https://x.test/")).status_code == 200
    assert len(script.requests) == 2 and len(sleeps) == 1


@pytest.mark.anyio
async def test_async_transport_never_resends_a_post_with_unknown_outcome() -> None:
    script = Script(status(504), ok())
    transport = AsyncRetryTransport(httpx.MockTransport(script), sleep=AsyncSleeps())
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(tx.OutcomeUnknownError):
            await http.post("https://x.test/tasks", json=[1])
        script.steps = [httpx.ReadTimeout("t"), ok()]
        with pytest.raises(tx.OutcomeUnknownError):
            await http.post("https://x.test/tasks", json=[1])
    assert len(script.requests) == 2  # one each, never re-sent


def test_custom_http_client_still_gets_origin_bound_auth() -> None:
    script = Script(ok())
    http = httpx.Client(transport=httpx.MockTransport(script))
    storage = httpx.Client(transport=httpx.MockTransport(script))
    client = Toloka(api_key=SECRET, v1_base_url=BASE, http_client=http, storage_client=storage)
    client._core.request("v1", "GET", "/me")
    client._core.request("v2", "GET", "/me")
    client._core.storage("GET", "https://elsewhere.test/file", headers={"Authorization": "x"})
    assert script.requests[0].headers["Authorization"] == f"ApiKey {SECRET}"
    assert script.requests[1].headers["Authorization"] == f"ApiKey {SECRET}"
    assert str(script.requests[1].url) == "https://platform.toloka.ai/api/v2-beta/me"
    assert "Authorization" not in script.requests[2].headers
    client.close()
    assert not http.is_closed and not storage.is_closed  # not ours to close
    http.close()
    storage.close()


def test_generated_client_style_use_gets_the_same_policy_through_the_transport() -> None:
    """``client.http_client`` is gone: code driving the generated client wraps its transport
    in ``RetryTransport`` (same loop, same policy) and adds ``TolokaAuth``."""
    script = Script(status(503), ok())
    sleeps = Sleeps()
    http = httpx.Client(
        transport=RetryTransport(httpx.MockTransport(script), sleep=sleeps),
        auth=TolokaAuth(Credentials("OAuth", SECRET), BASE),
    )
    with http:
        response = http.get(f"{BASE}/me")  # as a generated client would call it
        assert response.status_code == 200
        assert script.requests[-1].headers["Authorization"] == f"OAuth {SECRET}"
        assert len(sleeps) == 1
        http.get("https://elsewhere.test/file")
        assert "Authorization" not in script.requests[-1].headers


def test_requests_per_second_limit_paces_requests() -> None:
    script = Script(ok())
    client, sleeps = make(script, requests_per_second=2)
    with client:
        for _ in range(4):
            client._core.request("v1", "GET", "/x")
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)
    assert len(script.requests) == 4


def test_requests_per_second_none_turns_pacing_off() -> None:
    script = Script(ok())
    client, sleeps = make(script, requests_per_second=None)
    with client:
        for _ in range(20):
            client._core.request("v1", "GET", "/x")
    assert sleeps == [] and len(script.requests) == 20


def test_reprs_never_show_the_secret() -> None:
    creds = Credentials("OAuth", SECRET)
    client, _ = make(Script(ok()))
    both = Toloka(api_key=SECRET, transport=httpx.MockTransport(Script(ok())))
    objects: list[object] = [creds, creds.secret, Secret(SECRET)]
    for c in (client, both):
        objects += [c, c._core.credentials, c._core.auth("v1"), c.tasks, c.projects]
    objects.append(both._core.auth("v2"))
    for obj in objects:
        assert SECRET not in repr(obj) and SECRET not in str(obj)
    client.close()
    both.close()
    with pytest.raises(TypeError):
        vars(creds.secret)


def _pair(creds: Credentials | None) -> tuple[str, str] | None:
    return None if creds is None else (creds.scheme, creds.secret.get_secret_value())


@pytest.mark.parametrize(
    ("kwargs", "env", "v1", "v2"),
    [
        ({"api_key": "k"}, {}, ("ApiKey", "k"), ("ApiKey", "k")),
        ({"oauth_token": "t"}, {"TOLOKA_API_KEY": "env"}, ("OAuth", "t"), ("ApiKey", "env")),
        (
            {},
            {"TOLOKA_API_KEY": "env-k", "TOLOKA_OAUTH_TOKEN": "env-t"},
            ("ApiKey", "env-k"),
            ("ApiKey", "env-k"),
        ),
        ({}, {"TOLOKA_OAUTH_TOKEN": "env-t"}, ("OAuth", "env-t"), None),
        ({"oauth_token": "t"}, {}, ("OAuth", "t"), None),
        ({"api_key": "k", "oauth_token": "t"}, {}, ("ApiKey", "k"), ("ApiKey", "k")),
        ({"api_key": "k"}, {"TOLOKA_API_KEY": "env"}, ("ApiKey", "k"), ("ApiKey", "k")),
        ({"api_key": Secret(" k ")}, {}, ("ApiKey", " k "), ("ApiKey", " k ")),
        ({"api_key": " k "}, {}, ("ApiKey", "k"), ("ApiKey", "k")),
    ],
    ids=[
        "arg-key",
        "arg-wins",
        "env-key-first",
        "env-oauth",
        "arg-oauth",
        "key-and-oauth",
        "arg-key-over-env",
        "secret-kept",
        "str-stripped",
    ],
)
def test_resolve_credentials(
    kwargs: dict[str, Any],
    env: dict[str, str],
    v1: tuple[str, str],
    v2: tuple[str, str] | None,
) -> None:
    creds = resolve_credentials(env=env, **{"api_key": None, "oauth_token": None, **kwargs})
    assert _pair(creds.v1) == v1 and _pair(creds.for_api("v1")) == v1
    assert _pair(creds.v2) == v2
    if v2 is not None:
        assert _pair(creds.for_api("v2")) == v2


def test_resolve_credentials_errors_name_the_variable() -> None:
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY") as none:
        resolve_credentials(api_key=None, oauth_token=None, env={})
    assert "TOLOKA_OAUTH_TOKEN" in str(none.value)
    only_env_oauth = resolve_credentials(
        api_key=None, oauth_token=None, env={"TOLOKA_OAUTH_TOKEN": "t"}
    )
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
        only_env_oauth.for_api("v2")
    only_oauth = resolve_credentials(api_key=None, oauth_token="t", env={})
    with pytest.raises(tx.ConfigurationError, match="api_key"):
        only_oauth.for_api("v2")
    for blank in ("  ", ""):
        with pytest.raises(tx.ConfigurationError, match="api_key"):
            resolve_credentials(api_key=blank, oauth_token=None, env={})
        with pytest.raises(tx.ConfigurationError, match="oauth_token"):
            resolve_credentials(api_key=None, oauth_token=Secret(blank), env={})
    with pytest.raises(tx.ConfigurationError, match="auth scheme"):
        Credentials("Bearer", "x")  # type: ignore[arg-type]


# -- 502/504: a gateway answered, the API may have applied the request ------------------


@pytest.mark.parametrize("code", [502, 504])
def test_gateway_error_on_non_idempotent_post_is_outcome_unknown(
    call: Callable[..., Any], code: int
) -> None:
    script = Script(status(code, body={"message": "gateway"}), ok())
    with pytest.raises(tx.OutcomeUnknownError) as err:
        call(script, "POST", "/tasks", json=[1])
    assert len(script.requests) == 1  # never re-sent: it may have been applied
    assert err.value.status_code == code
    assert err.value.response is not None and err.value.response.status_code == code
    assert err.value.request is not None and err.value.request.method == "POST"
    assert f"-> {code}" in str(err.value)


@pytest.mark.parametrize("code", [502, 504])
@pytest.mark.parametrize(
    ("method", "kw"),
    [("POST", {"json": [1], "idempotent": True}), ("GET", {}), ("PUT", {"content": b"x"})],
    ids=["post-idempotent", "get", "put"],
)
def test_gateway_error_on_idempotent_request_is_retried(
    call: Callable[..., Any], code: int, method: str, kw: dict[str, Any]
) -> None:
    script = Script(status(code), ok())
    response, sleeps = call(script, method, "/x", **kw)
    assert response.status_code == 200
    assert len(script.requests) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("code", [408, 429])
def test_api_refusals_are_retried_even_for_post(call: Callable[..., Any], code: int) -> None:
    script = Script(status(code), ok())
    response, _ = call(script, "POST", "/tasks", json=[1])
    assert response.status_code == 200
    assert len(script.requests) == 2


@pytest.mark.parametrize("code", [500, 501, 502, 503, 504, 599])
def test_a_5xx_to_a_post_is_outcome_unknown_and_never_resent(
    call: Callable[..., Any], code: int
) -> None:
    script = Script(status(code), ok())
    with pytest.raises(tx.OutcomeUnknownError) as err:
        call(script, "POST", "/tasks", json=[1])
    assert len(script.requests) == 1
    assert err.value.status_code == code and "not re-sent" in str(err.value)


def test_idempotent_gateway_error_after_retries_is_a_status_error(
    call: Callable[..., Any],
) -> None:
    script = Script(status(504))
    with pytest.raises(tx.InternalServerError) as err:
        call(script, "GET", "/x", client_kwargs={"max_retries": 1})
    assert not isinstance(err.value, tx.OutcomeUnknownError)
    assert len(script.requests) == 2


def test_gateway_error_through_a_caller_supplied_client_is_outcome_unknown() -> None:
    script = Script(status(504))  # every answer is a 504
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = Toloka(oauth_token=SECRET, v1_base_url=BASE, http_client=http, sleep=Sleeps())
    with pytest.raises(tx.OutcomeUnknownError):
        client._core.request("v1", "POST", "/tasks", json=[1])
    assert len(script.requests) == 1
    with pytest.raises(tx.InternalServerError):
        client._core.request("v1", "GET", "/x")
    assert len(script.requests) == 1 + 4  # the GET was retried max_retries=3 times
    client.close()
    http.close()
