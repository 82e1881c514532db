"""Shared fixtures: Prism mocks of both contracts, started once per session on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.mockserver import SPECS, PrismServer, port_is_free

ROOT = Path(__file__).resolve().parent.parent


class ViolationLog:
    """Collects Prism's ``sl-violations`` header from every response (an httpx event hook)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def hook(self, response: httpx.Response) -> None:
        violations = response.headers.get("sl-violations")
        if violations:
            request = response.request
            self.seen.append((request.method, str(request.url), violations))

    async def ahook(self, response: httpx.Response) -> None:
        self.hook(response)

    def assert_none(self) -> None:
        assert not self.seen, "Prism reported contract violations:\n" + "\n".join(
            f"{method} {url}: {v}" for method, url, v in self.seen
        )


def _serve(spec: Path) -> Iterator[PrismServer]:
    server = PrismServer(spec)
    with server:
        yield server
    assert port_is_free(server.port), f"Prism still holds port {server.port}"


@pytest.fixture(scope="session")
def prism_v2() -> Iterator[PrismServer]:
    yield from _serve(SPECS["v2-beta"])


@pytest.fixture(scope="session")
def prism_v1() -> Iterator[PrismServer]:
    yield from _serve(SPECS["v1"])


@pytest.fixture
def violations() -> Iterator[ViolationLog]:
    log = ViolationLog()
    yield log
    log.assert_none()
