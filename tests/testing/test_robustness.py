"""Bad input, auth and faults answered the same in-process and served (never a stack trace)."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from toloka_ext.testing import Fault, FaultConfig, Sandbox, SandboxServer
from toloka_ext.testing._routes import ROUTES

V1_KEYS = {"request_id", "code", "message"}
V2_KEYS = {"message", "code", "requestId"}


@dataclass
class Target:
    """One sandbox, reached in-process or over real HTTP."""

    http: httpx.Client
    url: str
    auth: dict[str, dict[str, str]]


@contextmanager
def _target(mode: str, **options: object) -> Iterator[Target]:
    if mode == "in-process":
        sandbox = Sandbox(**options)  # type: ignore[arg-type]
        auth = {api: sandbox.auth_headers(api) for api in ("v1", "v2")}
        with sandbox, sandbox.http_client(timeout=30) as http:
            yield Target(http, sandbox.api_base, auth)
        return
    with SandboxServer(**options) as server, httpx.Client(timeout=30) as http:  # type: ignore[arg-type]
        yield Target(http, server.url, {api: server.auth_headers(api) for api in ("v1", "v2")})
        assert server.running, "the sandbox process died"


MODES = ["in-process", "served"]


@pytest.fixture(params=MODES)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    with _target(request.param) as target:
        yield target


def _assert_documented_error(r: httpx.Response, api: str, what: object) -> None:
    assert 400 <= r.status_code < 500, (what, r.status_code, r.content[:300])
    assert b"Traceback" not in r.content, what
    body = r.json()
    assert set(body) >= (V1_KEYS if api == "v1" else V2_KEYS), (what, body)
    assert isinstance(body["message"], str) and body["message"], what


_RNG = random.Random(7)
BAD_BODIES = {
    "random-bytes": bytes(_RNG.getrandbits(8) for _ in range(700)),
    "invalid-utf8": b'{"name": "\xff\xfe"}',
    "lone-surrogate": b'{"name": "\xed\xa0\x80"}',
    "truncated": b'{"name": ',
    "deep-objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "deep-arrays": b"[" * 100_000,
    "nested-65": b"[" * 65 + b"]" * 65,
    "huge": b'{"name": 5, "fields": 5, "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}',
    "wrong-types": b'{"name": 5, "fields": 5, "items": "x", "datasetId": null, "pool_id": []}',
    "scalar": b"42",
}
CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=zz",
    "application/x-www-form-urlencoded",
]
WRITE_ROUTES = [r for r in ROUTES if r.method == "POST"]


def _path(template: str) -> str:
    # ids that exist in a fresh sandbox, so the bodies reach the handlers
    ids = {"projectId": "prj-1", "pipelineId": "pl-1", "datasetId": "ds-1", "uploadId": "upl-1"}
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m[1], "x"), template)


@pytest.mark.parametrize("body", sorted(BAD_BODIES))
def test_bad_bodies_get_documented_errors(target: Target, body: str) -> None:
    h = target.auth["v2"]
    target.http.post(
        f"{target.url}/api/v2-beta/projects/prj-1/datasets", headers=h, json={"name": "d"}
    )
    for n, route in enumerate(WRITE_ROUTES):
        prefix = "/api/v1" if route.api == "v1" else "/api/v2-beta"
        headers = {**target.auth[route.api], "content-type": CONTENT_TYPES[n % len(CONTENT_TYPES)]}
        r = target.http.post(
            f"{target.url}{prefix}{_path(route.template)}",
            headers=headers,
            content=BAD_BODIES[body],
        )
        _assert_documented_error(r, route.api, (route.operation_id, body, headers["content-type"]))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/api/v2-beta", 404),
        ("GET", "/api/v2-beta/%ff%fe", 404),
        ("GET", "/api/v2-beta/me/", 404),
        ("DELETE", "/api/v2-beta/projects", 405),
        ("PATCH", "/api/v1/tasks", 405),
        ("GET", "/api/v1/nope", 404),
        ("GET", "/api/v2-beta/projects?limit=abc", 400),
        ("GET", "/api/v2-beta/projects?limit=%ff", 400),
        ("GET", "/api/v2-beta/projects?offset=-1", 400),
        ("POST", "/api/v1/tasks?async_mode=maybe", 400),
        ("POST", "/api/v1/tasks?async_mode=true&operation_id=zz", 400),
    ],
)
def test_unknown_paths_and_bad_parameters(
    target: Target, method: str, path: str, status: int
) -> None:
    api = "v1" if path.startswith("/api/v1") else "v2"
    r = target.http.request(method, target.url + path, headers=target.auth[api], json=[])
    assert r.status_code == status
    _assert_documented_error(r, api, path)


@pytest.mark.parametrize(
    ("api", "header", "status", "code"),
    [
        ("v2", None, 401, "UNAUTHORIZED"),
        ("v2", "ApiKey wrong", 401, "UNAUTHORIZED"),
        ("v2", "Bearer sandbox-key", 401, "UNAUTHORIZED"),
        ("v2", "OAuth sandbox-token", 403, "FORBIDDEN"),
        ("v1", None, 401, "AUTHENTICATION_ERROR"),
        ("v1", "OAuth wrong", 401, "AUTHENTICATION_ERROR"),
    ],
)
def test_auth_errors(target: Target, api: str, header: str | None, status: int, code: str) -> None:
    path = "/api/v2-beta/projects" if api == "v2" else "/api/v1/operations/x"
    r = target.http.get(target.url + path, headers={"Authorization": header} if header else {})
    assert r.status_code == status and r.json()["code"] == code
    _assert_documented_error(r, api, header)


def test_storage_rejects_any_authorization(target: Target) -> None:
    h = target.auth["v2"]
    v2 = f"{target.url}/api/v2-beta"
    ds = target.http.post(f"{v2}/projects/prj-1/datasets", headers=h, json={"name": "d"}).json()
    up = target.http.post(f"{v2}/datasets/{ds['id']}/uploads", headers=h).json()
    for header in (h["Authorization"], "Bearer x", "OAuth sandbox-token", ""):
        r = target.http.put(up["uploadUrl"], content=b"[]", headers={"Authorization": header})
        assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
    assert target.http.put(up["uploadUrl"], content=b"[]").status_code == 200


def _statuses(target: Target, n: int) -> list[int]:
    url = f"{target.url}/api/v2-beta/me"
    return [target.http.get(url, headers=target.auth["v2"]).status_code for _ in range(n)]


def test_seeded_faults_are_the_same_in_both_modes() -> None:
    faults = FaultConfig(
        faults=[
            Fault("status", status=500, route="getMe", on_nth=(3,)),
            Fault("status", status=429, route="getMe", on_nth=(5,), retry_after=7),
            Fault("status", status=503, rate=0.25),
        ]
    )
    patterns = []
    for mode in MODES:
        with _target(mode, seed=11, faults=faults) as target:
            statuses = _statuses(target, 30)
            v1 = target.http.get(f"{target.url}/api/v1/operations/x", headers=target.auth["v1"])
            patterns.append((statuses, v1.status_code))
    assert patterns[0] == patterns[1]
    statuses = patterns[0][0]
    assert statuses[2] == 500 and statuses[4] == 429
    assert 503 in statuses and statuses.count(200) > 10


@pytest.mark.parametrize("mode", MODES)
def test_injected_429_carries_retry_after_and_interval(mode: str) -> None:
    faults = FaultConfig(faults=[Fault("status", status=429, route="getMe", on_nth=(1,))])
    with _target(mode, faults=faults) as target:
        r = target.http.get(f"{target.url}/api/v2-beta/me", headers=target.auth["v2"])
        assert r.status_code == 429 and r.headers["retry-after"] == "1"
        assert r.json()["code"] == "TOO_MANY_REQUESTS"


@pytest.mark.parametrize("mode", MODES)
def test_latency_delays_answers(mode: str) -> None:
    with _target(mode, faults=FaultConfig(latency=0.2)) as target:
        started = time.monotonic()
        assert _statuses(target, 2) == [200, 200]
        assert time.monotonic() - started >= 0.4
