"""The sandbox refuses a create-tasks body of the wrong shape with the documented 400, never
a 500 (schemathesis found ``known_solutions: true`` answered 500)."""

from __future__ import annotations

import pytest

from toloka_ext.testing import Sandbox


@pytest.mark.parametrize("value", [True, 5, 1.5, False, "x", {"a": 1}])
def test_known_solutions_that_is_not_a_list_is_a_400(value: object) -> None:
    sandbox = Sandbox()
    with sandbox.http_client() as http:
        answer = http.post(
            f"{sandbox.v1_base_url}/tasks",
            params={"allow_defaults": "true"},
            json=[{"pool_id": "pool-2", "input_values": {"n": 1}, "known_solutions": value}],
            headers=sandbox.auth_headers("v1"),
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["payload"]["0"]["known_solutions"]["code"] == "INVALID_TYPE"
