"""The sandbox's options, as one immutable object the handlers read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ._clock import Clock, SystemClock
from ._inputspec import checked_spec

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_PIPELINES",
    "DEFAULT_POOLS",
    "DEFAULT_STORAGE_BASE",
    "SandboxConfig",
]

DEFAULT_API_BASE = "https://api.sandbox.test"
DEFAULT_STORAGE_BASE = "https://storage.sandbox.test"
DEFAULT_PIPELINES: Mapping[str, str] = {"pl-1": "Annotate items"}
DEFAULT_POOLS: Mapping[str, Mapping[str, Any]] = {
    "1": {"default_overlap": None},  # the pool of the contract's examples
    "pool-1": {"default_overlap": None},
    "pool-2": {"default_overlap": 3},
}
_POOL_KEYS = frozenset({"default_overlap", "status", "baseline_solutions_allowed", "input_spec"})


@dataclass(frozen=True)
class SandboxConfig:
    """Every option of a :class:`~toloka_ext.testing.Sandbox` (see its docstring).

    Frozen: a sandbox changes options only by swapping in a new config
    (:meth:`Sandbox.configure`), so a handler never sees one change halfway through a request.
    ``seed``, ``seed_pipelines`` and ``v1_pools`` are read when the sandbox is created and
    on ``reset()``.
    """

    api_key: str = "sandbox-key"
    oauth_token: str = "sandbox-token"
    seed: int = 0
    clock: Clock = field(default_factory=SystemClock)
    api_base: str = DEFAULT_API_BASE
    storage_base: str = DEFAULT_STORAGE_BASE
    seed_pipelines: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PIPELINES))
    v1_pools: Mapping[str, Mapping[str, Any]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_POOLS.items()}
    )
    upload_polls: int = 2
    run_polls: int = 3
    export_polls: int = 2
    operation_polls: int = 2
    step_seconds: float | None = None
    labels: tuple[str, ...] = ("yes", "no")
    label_field: str = "label"
    fail_items_where: Mapping[str, Any] = field(default_factory=dict)
    url_ttl: float = 3600.0
    max_inline_bytes: int = 2 * 1024 * 1024
    max_page_size: int = 100
    max_body_bytes: int = 16 * 1024 * 1024
    success_status: int | None = None
    verified: bool = True
    allow_kill: bool = False

    def __post_init__(self) -> None:
        # Normalise once here, so that every reader can rely on the shapes.
        set_ = object.__setattr__
        set_(self, "api_base", self.api_base.rstrip("/"))
        set_(self, "storage_base", self.storage_base.rstrip("/"))
        set_(self, "labels", tuple(self.labels))
        # Read-only copies: a caller's dict changed later must not change a running sandbox.
        set_(self, "seed_pipelines", MappingProxyType(dict(self.seed_pipelines)))
        set_(self, "fail_items_where", MappingProxyType(dict(self.fail_items_where)))
        pools: dict[str, Mapping[str, Any]] = {}
        for pool_id, conf in self.v1_pools.items():
            unknown = set(conf) - _POOL_KEYS
            if unknown:
                raise ValueError(f"v1_pools[{pool_id!r}]: unknown keys {sorted(unknown)}")
            spec = checked_spec(conf.get("input_spec"))
            frozen = {**conf, "input_spec": MappingProxyType(spec) if spec is not None else None}
            pools[pool_id] = MappingProxyType(frozen)
        set_(self, "v1_pools", MappingProxyType(pools))
        if urlsplit(self.api_base)[:2] == urlsplit(self.storage_base)[:2]:
            raise ValueError("storage_base must be a different origin from api_base")
        if not self.labels:
            raise ValueError("labels must not be empty")
        if self.max_page_size < 1:
            raise ValueError("max_page_size must be at least 1")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        if self.success_status is not None and not (
            200 <= self.success_status < 300 and self.success_status != 204
        ):
            raise ValueError("success_status must be a 2xx status with a body (not 204)")
