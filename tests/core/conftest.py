"""Every core test starts from an environment without Toloka settings.

The client reads ``TOLOKA_API_KEY``, ``TOLOKA_OAUTH_TOKEN``, ``TOLOKA_BASE_URL`` and
``TOLOKA_V1_BASE_URL``; a developer's shell must not change what these tests see.
"""

from __future__ import annotations

import pytest

TOLOKA_ENV = ("TOLOKA_API_KEY", "TOLOKA_OAUTH_TOKEN", "TOLOKA_BASE_URL", "TOLOKA_V1_BASE_URL")


@pytest.fixture(autouse=True)
def _clean_toloka_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TOLOKA_ENV:
        monkeypatch.delenv(name, raising=False)
