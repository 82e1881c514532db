"""schemathesis in-process: the contracts against ``Sandbox().asgi_app`` (no sockets).

The CLI run in test_schemathesis.py covers every phase against the served app; this one
runs the generated cases of every operation straight into the ASGI app with all checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from toloka_ext.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")

SANDBOX = Sandbox()


def _schema(spec: str, prefix: str, api: str) -> schemathesis.BaseSchema:
    # One config object per schema: `update` changes it in place.
    config = SchemathesisConfig.from_path(CONFIG)
    schema = schemathesis.openapi.from_path(ROOT / spec, config=config)
    schema.app = SANDBOX.asgi_app
    schema.config.update(base_url=f"http://testserver{prefix}", headers=SANDBOX.auth_headers(api))
    return schema


V2 = _schema("openapi/v2-beta.yaml", "/api/v2-beta", "v2")
V1 = _schema("openapi/v1.yaml", "/api/v1", "v1")
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@V2.parametrize()
@SETTINGS
def test_v2_in_process(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()


@V1.parametrize()
@SETTINGS
def test_v1_in_process(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate()
