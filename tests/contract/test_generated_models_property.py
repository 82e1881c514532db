"""Property tests: any body valid by a 2xx response schema parses into the generated model.

Objects are generated from the snapshot's own schemas (hypothesis-jsonschema), so when the
snapshot changes this test follows it: no hand-written fixtures to drift.
"""

from __future__ import annotations

import pytest
import toloka_pipeline_api.models as models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.contract._schemas import CUSTOM_FORMATS, json_schema, load, response_schemas

SPEC = load("v2-beta")
CASES = sorted(
    {
        (op, status, schema["$ref"].rsplit("/", 1)[1])
        for op, status, schema in response_schemas(SPEC)
    }
)


def test_every_json_response_is_a_named_model() -> None:
    assert len(CASES) >= 18
    for _, _, name in CASES:
        assert hasattr(models, name), name


@pytest.mark.parametrize(("operation", "status", "model_name"), CASES, ids=[c[0] for c in CASES])
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data())
def test_generated_model_parses_and_round_trips(
    operation: str, status: str, model_name: str, data: st.DataObject
) -> None:
    schema = json_schema(SPEC, {"$ref": f"#/components/schemas/{model_name}"})
    body = data.draw(from_schema(schema, custom_formats=CUSTOM_FORMATS), label=operation)
    model = getattr(models, model_name)
    parsed = model.from_dict(body)
    dumped = parsed.to_dict()
    assert set(dumped) == set(body)
    assert model.from_dict(dumped) == parsed
