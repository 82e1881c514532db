"""The pytest plugin, through pytester (as a downstream project would use it)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

PLUGIN = "toloka_ext.testing._pytest_plugin"


def _plugin_args() -> list[str]:
    """``-p PLUGIN`` unless the package's pytest11 entry point already loads it."""
    registered = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if registered else ["-p", PLUGIN]


def test_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        def test_workflow(toloka_sandbox):
            sb = toloka_sandbox
            h = {"Authorization": f"ApiKey {sb.api_key}"}
            with sb.http_client(base_url=sb.v2_base_url, headers=h) as http:
                ds = http.post("/projects/prj-1/datasets", json={"name": "d"}).json()
                http.post(f"/datasets/{ds['id']}/items", json={"items": [{"t": "a"}]})
                http.post("/pipelines/pl-1/dataset", json={"datasetId": ds["id"]})
                run = http.post("/pipelines/pl-1/runs").json()
                for _ in range(3):
                    status = http.get(f"/runs/{run['id']}").json()["status"]
                assert status == "completed"

        def test_fresh_each_time(toloka_sandbox):
            assert toloka_sandbox.counters.received == {}

        @pytest.mark.toloka_sandbox(seed=5, run_polls=1)
        def test_marker_options(toloka_sandbox):
            assert (toloka_sandbox.seed, toloka_sandbox.run_polls) == (5, 1)

        def test_real_client(toloka_sandbox):
            with toloka_sandbox.pipeline_client() as client:
                result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
            assert result.rows()[0]["label"] in ("yes", "no")

        def test_server(toloka_sandbox_server):
            server = toloka_sandbox_server
            r = httpx.get(f"{server.v2_base_url}/me", headers=server.auth_headers())
            assert r.status_code == 200
        """
    )
    result = pytester.runpytest_subprocess(
        *_plugin_args(), "-p", "no:cacheprovider", "--strict-markers"
    )
    result.assert_outcomes(passed=5)


def test_plugin_imports_only_stdlib_and_pytest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import sys

        def test_no_heavy_imports():
            import {PLUGIN}
            assert "uvicorn" not in sys.modules
            assert "starlette" not in sys.modules
            assert "toloka_ext.testing._sandbox" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
