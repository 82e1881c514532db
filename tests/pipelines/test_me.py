"""``client.me()``: GET /me, the key check, through Prism, the sandbox and drift."""

from __future__ import annotations

from typing import Any

import pytest

from toloka_ext import ApiDriftError, AuthenticationError, Toloka
from toloka_ext.testing import Sandbox
from toloka_ext.types import Account


@pytest.mark.prism
def test_me_through_prism(prism_client: Toloka) -> None:
    account = prism_client.me()
    assert isinstance(account, Account)
    assert account.id == "acc-7f3a" and account.email == "ml-team@example.com"


def test_me_on_the_sandbox_and_a_wrong_key() -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        account = client.me()
    assert isinstance(account, Account) and account.id == "acc-sandbox"
    with (
        sandbox.client(api_key="wrong", max_retries=0) as client,
        pytest.raises(AuthenticationError) as err,
    ):
        client.me()
    assert "wrong" not in str(err.value)
    assert [r.path for r in sandbox.requests_for("getMe")] == ["/api/v2-beta/me"] * 2
    assert sandbox.counters.applied["getMe"] == 1


@pytest.mark.anyio
async def test_async_me_keeps_unknown_fields() -> None:
    def rewrite(op: str, body: Any) -> Any:
        return {"id": "acc-1", "plan": "trial"} if op == "getMe" else body

    sandbox = Sandbox(record_requests=True, rewrite=rewrite)
    async with sandbox.async_client() as client:
        account = await client.me()
    assert account.id == "acc-1" and account.extra == {"plan": "trial"}
    (request,) = sandbox.requests
    assert (request.operation, request.method, request.path) == ("getMe", "GET", "/api/v2-beta/me")


def test_me_without_id_is_drift() -> None:
    def rewrite(op: str, body: Any) -> Any:
        body.pop("id")
        return body

    with Sandbox(rewrite=rewrite).client() as client, pytest.raises(ApiDriftError) as err:
        client.me()
    assert err.value.operation == "getMe" and err.value.field == "id"
