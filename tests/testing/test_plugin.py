"""The pytest plugin, through pytester (as a downstream project would use it)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

PLUGIN = "toloka_ext.testing._pytest_plugin"


def test_plugin_is_registered_through_the_entry_point() -> None:
    found = [ep for ep in entry_points(group="pytest11") if ep.value == PLUGIN]
    assert [ep.name for ep in found] == ["toloka_sandbox"]


def test_downstream_user_story_without_p(pytester: pytest.Pytester) -> None:
    """What a downstream project writes: no ``-p``, no conftest, just the fixture."""
    pytester.makepyfile(
        """
        import uuid

        def test_x(toloka_sandbox):
            rows = [{"url": f"https://x/{i}.jpg"} for i in range(4)]
            tasks = [
                {"pool_id": "pool-1", "input_values": {"url": r["url"]}, "overlap": 1}
                for r in rows
            ]
            with toloka_sandbox.client() as client:
                result = client.process_new_data("pl-1", rows, export_fields=["url", "label"])
                created = client.tasks.create_tasks(
                    tasks, async_mode=True, operation_id=uuid.uuid4()
                )
            assert [r["url"] for r in result.rows()] == [r["url"] for r in rows]
            assert all(r["label"] in ("yes", "no") for r in result.rows())
            assert len(created.created) == 4
            assert len(toloka_sandbox.tasks("pool-1")) == 4
            assert toloka_sandbox.counters.applied["startRun"] == 1
            assert toloka_sandbox.counters.tasks_created == 4
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=1)
    # ...and the fixture really comes from the entry point: disabling it by name removes it.
    disabled = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:toloka_sandbox")
    disabled.assert_outcomes(errors=1)
    disabled.stdout.fnmatch_lines(["*fixture 'toloka_sandbox' not found*"])


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
            with toloka_sandbox.client() as client:
                result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
            assert result.rows()[0]["label"] in ("yes", "no")
            assert len(toloka_sandbox.requests_for("startRun")) == 1

        def test_server(toloka_sandbox_server):
            server = toloka_sandbox_server
            r = httpx.get(f"{server.v2_base_url}/me", headers=server.auth_headers())
            assert r.status_code == 200
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
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


def test_fixture_records_requests_and_the_marker_can_turn_it_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_recorded(toloka_sandbox):
            sb = toloka_sandbox
            with sb.http_client(base_url=sb.v2_base_url, headers=sb.auth_headers()) as http:
                http.get("/projects", params={"limit": 5})
            (request,) = sb.requests_for("listProjects")
            assert request.params == {"limit": "5"}
            assert request.headers["Authorization"] == "[REDACTED]"

        @pytest.mark.toloka_sandbox(record_requests=False, max_page_size=2)
        def test_not_recorded(toloka_sandbox):
            sb = toloka_sandbox
            with sb.http_client(base_url=sb.v2_base_url, headers=sb.auth_headers()) as http:
                http.get("/projects")
            assert sb.requests == [] and sb.max_page_size == 2
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=2)
