"""The package version: the single source (pyproject.toml reads it, the User-Agent sends it)."""

from __future__ import annotations

import platform

import httpx

__version__ = "0.2.0"

USER_AGENT = (
    f"toloka-ext/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)
