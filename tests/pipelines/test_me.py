"""``client.me()``: GET /me, the key check, through Prism, the sandbox and drift."""

from __future__ import annotations

import httpx
import pytest

from toloka_ext import (
    Account,
    ApiDriftError,
    AsyncPipelineClient,
    AuthenticationError,
    PipelineClient,
)
from toloka_ext.testing import Sandbox


@pytest.mark.prism
def test_me_through_prism(prism_client: PipelineClient) -> None:
    account = prism_client.me()
    assert isinstance(account, Account)
    assert account.id == "acc-7f3a" and account.email == "ml-team@example.com"


def test_me_on_the_sandbox_and_a_wrong_key() -> None:
    sandbox = Sandbox()
    with sandbox.pipeline_client() as client:
        assert client.me().id
    with (
        PipelineClient(
            api_key="wrong",
            base_url=sandbox.v2_base_url,
            transport=sandbox.transport,
            max_retries=0,
        ) as client,
        pytest.raises(AuthenticationError) as err,
    ):
        client.me()
    assert "wrong" not in str(err.value)


@pytest.mark.anyio
async def test_async_me_keeps_unknown_fields() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v2/me"
        return httpx.Response(200, json={"id": "acc-1", "plan": "trial"})

    async with AsyncPipelineClient(
        api_key="k", base_url="http://a.test/v2", transport=httpx.MockTransport(handler)
    ) as client:
        account = await client.me()
    assert account.id == "acc-1" and account.extra == {"plan": "trial"}


def test_me_without_id_is_drift() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"email": "x@y.z"}))
    with PipelineClient(api_key="k", base_url="http://a.test/v2", transport=transport) as client:
        with pytest.raises(ApiDriftError) as err:
            client.me()
    assert err.value.operation == "getMe" and err.value.field == "id"
