from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import toloka_ext as tx
from toloka_ext._auth import Credentials, Secret, TolokaAuth, resolve_credentials
from toloka_ext._base_client import AsyncAPIClient, SyncAPIClient
from toloka_ext._transport import AsyncRetryTransport, RetryTransport

BASE = "https://api.example.test/api/v1"
SECRET = "tok-SECRET-123"
Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests from a list of responses / exceptions, recording every request."""

    def __init__(self, *steps: object) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, httpx.Response)
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def status(code: int, headers: dict[str, str] | None = None, body: object = None) -> httpx.Response:
    return httpx.Response(
        code, headers=headers or {}, json=body or {"code": f"E{code}", "message": "m"}
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make(script: Script, **kwargs: Any) -> tuple[SyncAPIClient, Sleeps]:
    sleeps = Sleeps()
    client = SyncAPIClient(
        base_url=BASE,
        credentials=Credentials("OAuth", SECRET),
        transport=httpx.MockTransport(script),
        sleep=sleeps,
        **kwargs,
    )
    return client, sleeps


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Runs one request through SyncAPIClient or AsyncAPIClient: same behaviour expected."""

    def run(script: Script, method: str, path: str, *, client_kwargs: Any = None, **kw: Any) -> Any:
        sleeps = Sleeps()
        if request.param == "sync":
            with SyncAPIClient(
                base_url=BASE,
                credentials=Credentials("OAuth", SECRET),
                transport=httpx.MockTransport(script),
                sleep=sleeps,
                **(client_kwargs or {}),
            ) as client:
                return client.request(method, path, **kw), sleeps

        async def go() -> Any:
            async def asleep(s: float) -> None:
                sleeps.append(s)

            async with AsyncAPIClient(
                base_url=BASE,
                credentials=Credentials("OAuth", SECRET),
                transport=httpx.MockTransport(script),
                sleep=asleep,
                **(client_kwargs or {}),
            ) as client:
                return await client.request(method, path, **kw), sleeps

        import anyio

        return anyio.run(go)

    return run


def test_retries_5xx_then_succeeds(call: Callable[..., Any]) -> None:
    script = Script(status(503), status(500), ok())
    response, sleeps = call(script, "POST", "/tasks", json=[1])
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
    script = Script(status(code))
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
    assert str(req.url) == f"{BASE}/tasks?async_mode=true&skip=false"
    assert req.content == b'{"a":[1]}'


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


def test_one_debug_line_per_retry_without_secret(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(status(503), status(502), ok())
    client, _ = make(script)
    with caplog.at_level(logging.DEBUG, logger="toloka_ext"):
        client.request("GET", "/x?sig=SIGNATURE")
    lines = [r.getMessage() for r in caplog.records if r.name == "toloka_ext"]
    assert len(lines) == 2
    assert "status 503" in lines[0] and "retry 1/3" in lines[0]
    assert all(SECRET not in line and "SIGNATURE" not in line for line in lines)


def test_transport_is_usable_directly_with_a_plain_httpx_client() -> None:
    script = Script(status(500), ok())
    transport = RetryTransport(httpx.MockTransport(script))
    transport.sleep = lambda s: None
    with httpx.Client(transport=transport) as http:
        assert http.get("https://x.test/").status_code == 200
    assert len(script.requests) == 2


@pytest.mark.anyio
async def test_async_transport_direct() -> None:
    script = Script(status(500), ok())

    async def nosleep(s: float) -> None:
        pass

    transport = AsyncRetryTransport(httpx.MockTransport(script), sleep=nosleep)
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("https://x.test/")).status_code == 200
    assert len(script.requests) == 2


def test_custom_http_client_still_gets_origin_bound_auth() -> None:
    script = Script(ok())
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = SyncAPIClient(
        base_url=BASE, credentials=Credentials("ApiKey", SECRET), http_client=http
    )
    client.request("GET", "/me")
    client.request("GET", "https://elsewhere.test/file")
    assert script.requests[0].headers["Authorization"] == f"ApiKey {SECRET}"
    assert "Authorization" not in script.requests[1].headers
    client.close()
    assert not http.is_closed  # not ours to close
    http.close()


def test_http_client_property_serves_other_code_with_the_same_policy() -> None:
    script = Script(status(503), ok())
    client, sleeps = make(script)
    response = client.http_client.get(f"{BASE}/me")  # as a generated client would call it
    assert response.status_code == 200
    assert script.requests[-1].headers["Authorization"] == f"OAuth {SECRET}"
    assert len(sleeps) == 1


def test_requests_per_second_limit_paces_requests() -> None:
    script = Script(ok())
    client, sleeps = make(script, requests_per_second=2)
    for _ in range(4):
        client.request("GET", "/x")
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_reprs_never_show_the_secret() -> None:
    creds = Credentials("OAuth", SECRET)
    client, _ = make(Script(ok()))
    for obj in (creds, creds.secret, client, client.auth, Secret(SECRET)):
        assert SECRET not in repr(obj) and SECRET not in str(obj)
    with pytest.raises(TypeError):
        vars(creds.secret)


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        ({"api_key": "k"}, {}, ("ApiKey", "k")),
        ({"oauth_token": "t"}, {"TOLOKA_API_KEY": "env"}, ("OAuth", "t")),
        ({}, {"TOLOKA_API_KEY": "env-k", "TOLOKA_OAUTH_TOKEN": "env-t"}, ("ApiKey", "env-k")),
        ({}, {"TOLOKA_OAUTH_TOKEN": "env-t"}, ("OAuth", "env-t")),
    ],
    ids=["arg-key", "arg-wins", "env-key-first", "env-oauth"],
)
def test_resolve_credentials(
    kwargs: dict[str, str], env: dict[str, str], expected: tuple[str, str]
) -> None:
    creds = resolve_credentials(env=env, **kwargs)  # type: ignore[arg-type]
    assert (creds.scheme, creds.secret.get_secret_value()) == expected


def test_resolve_credentials_errors_name_the_variable() -> None:
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY or TOLOKA_OAUTH_TOKEN"):
        resolve_credentials(env={})
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
        resolve_credentials(env={"TOLOKA_OAUTH_TOKEN": "t"}, allowed=("ApiKey",))
    with pytest.raises(tx.ConfigurationError, match="ApiKey"):
        resolve_credentials(oauth_token="t", env={}, allowed=("ApiKey",))
    with pytest.raises(tx.ConfigurationError):
        resolve_credentials(api_key="k", oauth_token="t", env={})
    with pytest.raises(tx.ConfigurationError):
        resolve_credentials(api_key="  ", env={})


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


@pytest.mark.parametrize("code", [408, 429, 500, 503])
def test_api_refusals_are_retried_even_for_post(call: Callable[..., Any], code: int) -> None:
    script = Script(status(code), ok())
    response, _ = call(script, "POST", "/tasks", json=[1])
    assert response.status_code == 200
    assert len(script.requests) == 2


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
    client = SyncAPIClient(
        base_url=BASE, credentials=Credentials("OAuth", SECRET), http_client=http
    )
    with pytest.raises(tx.OutcomeUnknownError):
        client.request("POST", "/tasks", json=[1])
    with pytest.raises(tx.InternalServerError):
        client.request("GET", "/x")
    http.close()
