"""The client's settings and request path: retries with any httpx client, ``with_options``,
settings resolution from arguments and the environment, the User-Agent and the version.

HTTP answers come from ``httpx.MockTransport`` stubs (status codes and transport errors
only); the one check of a real API v1 call with an OAuth token runs on the sandbox.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

import toloka_ext
import toloka_ext as tx
from toloka_ext import AsyncToloka, PollPolicy, Toloka
from toloka_ext.testing import Sandbox

from ._stubs import AsyncSleeps, Script, Sleeps, ok, status

ROOT = Path(__file__).resolve().parents[2]
V1 = "https://api.example.test/api/v1"
V2 = "https://api.example.test/api/v2-beta"
KEY = "key-SECRET-42"
TOKEN = "oauth-SECRET-42"


def _client(http: httpx.Client, **kwargs: Any) -> Toloka:
    kwargs.setdefault("api_key", KEY)
    return Toloka(base_url=V2, v1_base_url=V1, http_client=http, sleep=Sleeps(), **kwargs)


def _auth(request: httpx.Request) -> str:
    return str(request.headers.get("Authorization", ""))


# -- retries live in the request path, whatever httpx client is used ----------------------


def test_caller_supplied_client_gets_retries() -> None:
    script = Script(status(503), ok())
    sleeps = Sleeps()
    with (
        httpx.Client(transport=httpx.MockTransport(script)) as http,
        Toloka(api_key=KEY, base_url=V2, http_client=http, sleep=sleeps) as client,
    ):
        response = client._core.request("v2", "GET", "/me")
    assert response.json() == {"ok": True}
    assert len(script.requests) == 2 and len(sleeps) == 1
    assert all(_auth(r) == f"ApiKey {KEY}" for r in script.requests)


def test_caller_supplied_client_with_max_retries_0_sends_once() -> None:
    script = Script(status(503), ok())
    sleeps = Sleeps()
    with (
        httpx.Client(transport=httpx.MockTransport(script)) as http,
        Toloka(api_key=KEY, base_url=V2, http_client=http, max_retries=0, sleep=sleeps) as client,
        pytest.raises(tx.InternalServerError) as err,
    ):
        client._core.request("v2", "GET", "/me")
    assert err.value.status_code == 503
    assert len(script.requests) == 1 and sleeps == []


def test_caller_supplied_client_retries_a_public_call() -> None:
    """Through a public method too: ``me()`` is re-sent after a 503 (the stub then answers
    400, so no answer of Toloka's is imitated)."""
    script = Script(status(503), status(400))
    with httpx.Client(transport=httpx.MockTransport(script)) as http, _client(http) as client:
        with pytest.raises(tx.BadRequestError):
            client.me()
    assert [str(r.url) for r in script.requests] == [f"{V2}/me", f"{V2}/me"]


@pytest.mark.anyio
async def test_async_caller_supplied_client_gets_retries() -> None:
    script = Script(status(503), ok())
    sleeps = AsyncSleeps()
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(script)) as http,
        AsyncToloka(api_key=KEY, base_url=V2, http_client=http, sleep=sleeps) as client,
    ):
        response = await client._core.request("v2", "GET", "/me")
        assert response.json() == {"ok": True}
    assert len(script.requests) == 2 and len(sleeps) == 1


@pytest.mark.anyio
async def test_async_caller_supplied_client_with_max_retries_0_sends_once() -> None:
    script = Script(status(503), ok())
    sleeps = AsyncSleeps()
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(script)) as http,
        AsyncToloka(
            api_key=KEY, base_url=V2, http_client=http, max_retries=0, sleep=sleeps
        ) as client,
    ):
        with pytest.raises(tx.InternalServerError):
            await client._core.request("v2", "GET", "/me")
    assert len(script.requests) == 1 and sleeps == []


def test_caller_supplied_client_retries_connect_errors() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ConnectError("refused"), ok())
    sleeps = Sleeps()
    with (
        httpx.Client(transport=httpx.MockTransport(script)) as http,
        Toloka(api_key=KEY, v1_base_url=V1, http_client=http, sleep=sleeps) as client,
    ):
        # A POST too: a connect error means the request never left.
        response = client._core.request("v1", "POST", "/tasks", json=[1])
    assert response.status_code == 200
    assert len(script.requests) == 3 and len(sleeps) == 2


@pytest.mark.anyio
async def test_async_caller_supplied_client_retries_connect_errors() -> None:
    script = Script(httpx.ConnectError("refused"))
    sleeps = AsyncSleeps()
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(script)) as http,
        AsyncToloka(
            api_key=KEY, v1_base_url=V1, http_client=http, max_retries=2, sleep=sleeps
        ) as client,
    ):
        with pytest.raises(tx.APIConnectionError) as err:
            await client._core.request("v1", "POST", "/tasks", json=[1])
    assert not isinstance(err.value, tx.OutcomeUnknownError)
    assert len(script.requests) == 3 and len(sleeps) == 2


def test_transport_and_http_client_together_are_refused() -> None:
    with httpx.Client() as http, pytest.raises(TypeError):
        Toloka(api_key=KEY, http_client=http, transport=httpx.MockTransport(ok))


def test_a_falsy_sleep_recorder_is_still_used() -> None:
    """A ``sleep=`` that happens to be falsy (an empty list-like recorder) is still the
    sleep: the client must not fall back to real sleeping (``sleep or default_sleep``)."""

    class Recorder(list[float]):
        def __call__(self, seconds: float) -> None:
            self.append(seconds)

    recorder = Recorder()
    with Toloka(api_key=KEY, transport=httpx.MockTransport(ok), sleep=recorder) as client:
        # Checked on the wiring, not by sending a 429: with the bug that would really sleep.
        assert client._core._sleep is recorder


# -- with_options ------------------------------------------------------------------------


def test_with_options_copy_uses_new_settings_and_shares_the_pool() -> None:
    script = Script(status(503))
    with httpx.Client(transport=httpx.MockTransport(script)) as http, _client(http) as client:
        copy = client.with_options(max_retries=0, timeout=5)
        assert type(copy) is Toloka and copy is not client
        assert (copy.max_retries, copy.timeout) == (0, httpx.Timeout(5))
        assert client.max_retries == 3 and client.timeout == httpx.Timeout(60.0, connect=10.0)
        assert copy._core.http is client._core.http
        assert copy._core.storage_http is client._core.storage_http
        assert copy._core.request_bucket is client._core.request_bucket
        assert copy._limits is client._limits  # task budgets shared too

        with pytest.raises(tx.InternalServerError):
            copy._core.request("v1", "GET", "/x")
        assert len(script.requests) == 1  # no retry
        assert script.requests[0].extensions["timeout"] == httpx.Timeout(5).as_dict()

        with pytest.raises(tx.InternalServerError):
            client._core.request("v1", "GET", "/x")
        assert len(script.requests) == 1 + 4  # the original still retries 3 times
        assert script.requests[-1].extensions["timeout"] == {
            "connect": 10.0,
            "read": 60.0,
            "write": 60.0,
            "pool": 60.0,
        }

        # The copy's resources use the copy's settings.
        script.requests.clear()
        with pytest.raises(tx.InternalServerError):
            copy.me()
        assert len(script.requests) == 1


def test_closing_a_copy_does_not_close_the_original_pool() -> None:
    script = Script(ok())
    client = Toloka(api_key=KEY, v1_base_url=V1, transport=httpx.MockTransport(script))
    with client.with_options(max_retries=0, timeout=5) as copy:
        copy._core.request("v1", "GET", "/x")
    assert not client._core.http.is_closed and not client._core.storage_http.is_closed
    client._core.request("v1", "GET", "/x")  # still usable
    assert len(script.requests) == 2
    client.close()
    assert client._core.http.is_closed and client._core.storage_http.is_closed


def test_with_options_other_settings_and_not_given_keeps_them() -> None:
    policy = PollPolicy(interval=0.5, timeout=10)
    with Toloka(api_key=KEY, transport=httpx.MockTransport(ok), max_retries=5) as client:
        copy = client.with_options(wait_for_quota=True, poll_policy=policy)
        assert copy.poll_policy is policy and client.poll_policy == PollPolicy()
        assert copy._core.settings.wait_for_quota and not client._core.settings.wait_for_quota
        assert (copy.max_retries, copy.timeout) == (5, client.timeout)
        assert (copy.base_url, copy.v1_base_url) == (client.base_url, client.v1_base_url)
        with pytest.raises(ValueError):
            client.with_options(max_retries=-1)


@pytest.mark.anyio
async def test_async_with_options() -> None:
    script = Script(status(503))
    sleeps = AsyncSleeps()
    transport = httpx.MockTransport(script)
    async with AsyncToloka(
        api_key=KEY, v1_base_url=V1, transport=transport, sleep=sleeps
    ) as client:
        copy = client.with_options(max_retries=0, timeout=5)
        assert type(copy) is AsyncToloka and copy.max_retries == 0
        assert copy._core.http is client._core.http
        with pytest.raises(tx.InternalServerError):
            await copy._core.request("v1", "GET", "/x")
        assert len(script.requests) == 1 and sleeps == []
        assert script.requests[0].extensions["timeout"] == httpx.Timeout(5).as_dict()
        await copy.aclose()
        assert not client._core.http.is_closed  # the original's own pool
        with pytest.raises(tx.InternalServerError):
            await client._core.request("v1", "GET", "/x")
        assert len(script.requests) == 1 + 4 and len(sleeps) == 3
    assert client._core.http.is_closed


# -- settings resolution -----------------------------------------------------------------


def test_defaults_without_environment() -> None:
    with Toloka(api_key=KEY, transport=httpx.MockTransport(ok)) as client:
        assert client.base_url == "https://platform.toloka.ai/api/v2-beta"
        assert client.v1_base_url == "https://toloka.dev/api/v1"
        assert client.max_retries == 3


def test_no_credentials_anywhere_fails_at_construction() -> None:
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY") as err:
        Toloka(transport=httpx.MockTransport(ok))
    assert "TOLOKA_OAUTH_TOKEN" in str(err.value)
    with pytest.raises(tx.ConfigurationError):
        AsyncToloka(transport=httpx.MockTransport(ok))


def test_environment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOKA_API_KEY", KEY)
    monkeypatch.setenv("TOLOKA_BASE_URL", "https://env.example.test/api/v2-beta/")
    monkeypatch.setenv("TOLOKA_V1_BASE_URL", "https://env.example.test/api/v1")
    script = Script(ok())
    with Toloka(transport=httpx.MockTransport(script)) as client:
        assert client.base_url == "https://env.example.test/api/v2-beta"  # no trailing /
        assert client.v1_base_url == "https://env.example.test/api/v1"
        client._core.request("v2", "GET", "/me")
        client._core.request("v1", "GET", "/operations/op-1")
    assert [str(r.url) for r in script.requests] == [
        "https://env.example.test/api/v2-beta/me",
        "https://env.example.test/api/v1/operations/op-1",
    ]
    assert [_auth(r) for r in script.requests] == [f"ApiKey {KEY}"] * 2


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOKA_API_KEY", "env-key-SECRET")
    monkeypatch.setenv("TOLOKA_OAUTH_TOKEN", "env-token-SECRET")
    monkeypatch.setenv("TOLOKA_BASE_URL", "https://env.example.test/api/v2-beta")
    monkeypatch.setenv("TOLOKA_V1_BASE_URL", "https://env.example.test/api/v1")
    script = Script(ok())
    transport = httpx.MockTransport(script)
    with Toloka(api_key=KEY, base_url=V2, v1_base_url=V1, transport=transport) as client:
        assert (client.base_url, client.v1_base_url) == (V2, V1)
        client._core.request("v2", "GET", "/me")
        client._core.request("v1", "GET", "/x")
    # An OAuth argument beats the environment's API key for v1; v2 keeps the env key.
    with Toloka(oauth_token=TOKEN, transport=transport) as client:
        client._core.request("v1", "GET", "/x")
        client._core.request("v2", "GET", "/me")
    assert [(str(r.url), _auth(r)) for r in script.requests] == [
        (f"{V2}/me", f"ApiKey {KEY}"),
        (f"{V1}/x", f"ApiKey {KEY}"),
        ("https://env.example.test/api/v1/x", f"OAuth {TOKEN}"),
        ("https://env.example.test/api/v2-beta/me", "ApiKey env-key-SECRET"),
    ]


def test_environment_oauth_token_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOLOKA_OAUTH_TOKEN", TOKEN)
    script = Script(ok())
    with Toloka(v1_base_url=V1, transport=httpx.MockTransport(script)) as client:
        client._core.request("v1", "GET", "/operations/op-1")
        assert _auth(script.requests[0]) == f"OAuth {TOKEN}"
        with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
            client.me()
        with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
            client.projects.list().first_page()
    assert len(script.requests) == 1  # the v2 calls sent nothing


@pytest.mark.anyio
async def test_async_oauth_token_only_refuses_v2_before_sending() -> None:
    script = Script(ok())
    async with AsyncToloka(
        oauth_token=TOKEN, v1_base_url=V1, transport=httpx.MockTransport(script)
    ) as client:
        await client._core.request("v1", "GET", "/operations/op-1")
        with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
            await client.me()
        with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
            await client.runs.get("run-1")
    assert [_auth(r) for r in script.requests] == [f"OAuth {TOKEN}"]


def test_oauth_token_works_for_api_v1_on_the_sandbox() -> None:
    sandbox = Sandbox()
    with sandbox.client(api_key=None, oauth_token=sandbox.oauth_token) as client:
        task = client.tasks.create_task(tx.Task("pool-1", {"url": "https://x/1.jpg"}, overlap=1))
        assert task.id
        assert [t["id"] for t in sandbox.tasks("pool-1")] == [task.id]
        with pytest.raises(tx.ConfigurationError, match="TOLOKA_API_KEY"):
            client.me()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("base_url", "platform.toloka.ai/api/v2-beta"),
        ("base_url", "ftp://platform.toloka.ai/api/v2-beta"),
        ("base_url", "https:///api/v2-beta"),
        ("base_url", "https://platform.toloka.ai/api/v2-beta?x=1"),
        ("v1_base_url", "toloka.dev/api/v1"),
        ("v1_base_url", "file:///etc/passwd"),
    ],
    ids=["no-scheme", "ftp", "no-host", "query", "v1-no-scheme", "v1-file"],
)
def test_bad_base_url_fails_at_construction(setting: str, value: str) -> None:
    kwargs: dict[str, Any] = {setting: value, "api_key": KEY, "transport": httpx.MockTransport(ok)}
    with pytest.raises(tx.ConfigurationError, match=rf"^{setting} "):
        Toloka(**kwargs)
    with pytest.raises(tx.ConfigurationError, match=rf"^{setting} "):
        AsyncToloka(**kwargs)


@pytest.mark.parametrize(
    ("env_name", "setting"),
    [("TOLOKA_BASE_URL", "base_url"), ("TOLOKA_V1_BASE_URL", "v1_base_url")],
)
def test_bad_base_url_from_the_environment_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch, env_name: str, setting: str
) -> None:
    monkeypatch.setenv(env_name, "platform.toloka.ai/api")
    with pytest.raises(tx.ConfigurationError, match=rf"^{setting} "):
        Toloka(api_key=KEY, transport=httpx.MockTransport(ok))


def test_repr_shows_settings_not_secrets() -> None:
    with Toloka(api_key=KEY, oauth_token=TOKEN, transport=httpx.MockTransport(ok)) as client:
        text = repr(client)
    assert "platform.toloka.ai" in text and "max_retries=3" in text
    assert KEY not in text and TOKEN not in text


# -- User-Agent and version ----------------------------------------------------------------

# The pattern hatchling's ``regex`` version source uses for ``[tool.hatch.version] path``.
HATCH_VERSION_PATTERN = r"""(?i)^(__version__|VERSION) *= *([\'"])v?(?P<version>.+?)\2"""


def test_user_agent_names_the_package_version() -> None:
    script = Script(ok())
    with Toloka(api_key=KEY, transport=httpx.MockTransport(script)) as client:
        client._core.request("v2", "GET", "/me")
        client._core.request("v1", "GET", "/x")
    for request in script.requests:
        agent = request.headers["User-Agent"]
        assert agent.startswith(f"toloka-ext/{toloka_ext.__version__} "), agent
        assert f"httpx/{httpx.__version__}" in agent


def test_default_headers_are_sent() -> None:
    script = Script(ok())
    transport = httpx.MockTransport(script)
    with Toloka(api_key=KEY, transport=transport, default_headers={"X-Team": "a"}) as client:
        client._core.request("v1", "GET", "/x", headers={"X-Call": "b"})
    assert script.requests[0].headers["X-Team"] == "a"
    assert script.requests[0].headers["X-Call"] == "b"


def test_version_is_the_one_pyproject_reads() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "toloka_ext/_version.py"
    source = (ROOT / "toloka_ext" / "_version.py").read_text(encoding="utf-8")
    found = re.search(HATCH_VERSION_PATTERN, source, flags=re.MULTILINE)
    assert found is not None
    assert found.group("version") == toloka_ext.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", toloka_ext.__version__)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"call_timeout": 0}, "call_timeout"),
        ({"call_timeout": "1"}, "call_timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": "3"}, "max_retries"),
    ],
)
def test_bad_client_options_are_invalid_input_naming_the_option(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(tx.InvalidInputError) as info:
        Toloka(api_key="k", **options)
    assert info.value.field == field
    with Toloka(api_key="k") as client, pytest.raises(tx.InvalidInputError) as again:
        client.with_options(**options)
    assert again.value.field == field
