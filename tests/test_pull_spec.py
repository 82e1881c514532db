"""scripts/pull_spec.py end to end against a local HTTP server serving successive spec versions."""

from __future__ import annotations

import copy
import hashlib
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scripts.pull_spec import dump_yaml, load_text, main
from tests._http import RouteServer

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).parent / "fixtures" / "specs"
RUN = "/runs/{runId}"


@pytest.fixture
def server() -> Iterator[RouteServer]:
    with RouteServer() as srv:
        yield srv


@pytest.fixture
def base() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SPECS / "base_v30.yaml").read_text(encoding="utf-8"))
    doc["components"]["schemas"]["Run"]["x-guess"] = True
    doc["components"]["schemas"]["Run"]["x-guess-reason"] = "Only the status field is published."
    return doc


def compatible_version(base: dict[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(base)
    new["components"]["schemas"]["Progress"]["properties"]["skipped"] = {"type": "integer"}
    return new


def breaking_version(base: dict[str, Any]) -> dict[str, Any]:
    new = compatible_version(base)
    del new["paths"][RUN]["delete"]
    return new


def pull(server: RouteServer, out: Path, *extra: str, date: str = "2026-11-23") -> int:
    return main(["--url", server.url(), "--output", str(out), "--date", date, *extra])


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_first_pull_writes_normalized_snapshot_with_metadata(
    server: RouteServer, base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server.set(base)
    out = tmp_path / "openapi" / "v2-beta.yaml"
    assert pull(server, out) == 0
    assert "New snapshot" in capsys.readouterr().out

    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert dump_yaml(yaml.safe_load(text)) == text  # already normalized
    top_keys = [line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()]
    assert top_keys == sorted(top_keys) == ["components", "info", "openapi", "paths"]

    doc = yaml.safe_load(text)
    meta = doc["info"].pop("x-snapshot")
    digest = hashlib.sha256(dump_yaml(doc).encode()).hexdigest()
    assert meta == {"source": server.url(), "mode": "live", "date": "2026-11-23", "sha256": digest}
    assert doc == base  # content kept, x-guess extensions included
    assert doc["components"]["schemas"]["Run"]["x-guess"] is True
    assert siblings(out) == ["v2-beta.yaml"]  # no temp file left


def test_successive_versions_no_change_compatible_breaking(
    server: RouteServer, base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v2-beta.yaml"
    server.set(base)
    assert pull(server, out) == 0
    first = out.read_bytes()
    capsys.readouterr()

    # same content (served as YAML this time), another day: the file is not touched at all
    server.set(dump_yaml(base))
    assert pull(server, out, date="2026-11-24") == 0
    assert out.read_bytes() == first
    assert "No change" in capsys.readouterr().out

    server.set(compatible_version(base))
    assert pull(server, out, date="2026-11-25") == 3
    report = capsys.readouterr().out
    assert (
        "[compatible] response-optional-property-added  GET /runs/{runId}  "
        "response 200 body .progress.skipped: optional property added"
    ) in report
    assert "Summary: 3 change(s): 0 breaking, 0 warning(s), 3 compatible" in report
    second = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert second["info"]["x-snapshot"]["date"] == "2026-11-25"
    assert "skipped" in second["components"]["schemas"]["Progress"]["properties"]

    server.set(breaking_version(base))
    assert pull(server, out, date="2026-11-26") == 4
    report = capsys.readouterr().out
    assert "[BREAKING] api-removed-without-deprecation  DELETE /runs/{runId}" in report
    assert "Summary: 1 change(s): 1 breaking" in report
    assert "delete" not in yaml.safe_load(out.read_text(encoding="utf-8"))["paths"][RUN]
    assert server.hits == ["/doc"] * 4


def test_dry_run_and_report_files(
    server: RouteServer, base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v2-beta.yaml"
    server.set(base)
    assert pull(server, out) == 0
    before = out.read_bytes()

    server.set(breaking_version(base))
    rj, rm = tmp_path / "report.json", tmp_path / "report.md"
    code = pull(server, out, "--dry-run", "--report-json", str(rj), "--report-md", str(rm))
    assert code == 4
    assert out.read_bytes() == before
    assert "dry run" in capsys.readouterr().out
    data = json.loads(rj.read_text(encoding="utf-8"))
    assert (data["status"], data["written"], data["exit_code"]) == ("changed", False, 4)
    assert data["counts"] == {"breaking": 1, "warning": 0, "info": 3}
    assert data["old_sha256"] != data["new_sha256"]
    assert {c["rule_id"] for c in data["changes"]} == {
        "api-removed-without-deprecation",
        "response-optional-property-added",
    }
    assert "| api-removed-without-deprecation | DELETE /runs/{runId} |" in rm.read_text("utf-8")


ERROR_CASES = {
    "http-500": (dict(body="boom", status=500, ctype="text/plain"), "returned HTTP 500"),
    "html": (dict(body="<!doctype html><html><body>docs</body></html>", ctype="text/html"), "HTML"),
    "html-as-json": (dict(body="<html>oops</html>", ctype="application/json"), "HTML"),
    "not-a-mapping": (dict(body="just some words\n"), "not a JSON/YAML mapping"),
    "bad-yaml": (dict(body="openapi: [3.0\n  x: }\n"), "neither JSON nor YAML"),
    "not-openapi": (dict(body="name: my config\nversion: 2\n"), "no 'openapi' field"),
    "invalid": (
        dict(body="openapi: 3.0.3\ninfo:\n  title: x\npaths: {}\n"),
        'invalid OpenAPI document at $.info: "version" is a required property',
    ),
    "invalid-deep": (  # a response without its description: the error names where
        dict(
            body="openapi: 3.0.3\ninfo: {title: x, version: '1'}\n"
            "paths: {'/r/{id}': {get: {responses: {'200': {}}}}}\n"
        ),
        "invalid OpenAPI document at $.paths['/r/{id}'].get.responses",
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_failures_leave_the_snapshot_untouched(
    case: str,
    server: RouteServer,
    base: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "v2-beta.yaml"
    server.set(base)
    assert pull(server, out) == 0
    before = out.read_bytes()
    capsys.readouterr()

    kwargs, message = ERROR_CASES[case]
    server.set(**kwargs)  # type: ignore[arg-type]
    rj = tmp_path / "report.json"
    assert pull(server, out, "--report-json", str(rj)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert out.read_bytes() == before
    assert siblings(out) == ["v2-beta.yaml"]  # no temp file, no report file


def test_connection_refused_and_missing_file(
    base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "v2-beta.yaml"
    out.write_bytes(b"previous: snapshot\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # the port is closed now: nothing listens there
    url = f"http://127.0.0.1:{port}/doc"
    assert main(["--url", url, "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot fetch {url}: ConnectError")
    assert out.read_bytes() == b"previous: snapshot\n"

    missing = tmp_path / "nope.yaml"
    assert main(["--file", str(missing), "--output", str(out)]) == 1
    assert capsys.readouterr().err.startswith(f"error: cannot read {missing}")
    assert out.read_bytes() == b"previous: snapshot\n"


def test_file_mode_reconstructed_and_reformatting(
    base: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "hand.json"
    src.write_text(json.dumps(base, indent=4), encoding="utf-8")
    out = tmp_path / "snap.yaml"
    argv = ["--file", str(src), "--output", str(out), "--date", "2026-01-02"]
    assert main([*argv, "--reconstructed"]) == 0
    meta = yaml.safe_load(out.read_text("utf-8"))["info"]["x-snapshot"]
    assert (meta["source"], meta["mode"], meta["date"]) == (str(src), "reconstructed", "2026-01-02")
    assert main(argv) == 0
    assert yaml.safe_load(out.read_text("utf-8"))["info"]["x-snapshot"]["mode"] == "reconstructed"

    # a hand-edited, non-normalized snapshot with the same content is rewritten in normal form
    normal = out.read_bytes()
    out.write_text(json.dumps(yaml.safe_load(normal)), encoding="utf-8")
    capsys.readouterr()
    assert main([*argv, "--date", "2030-01-01"]) == 0
    assert "not in normalized form" in capsys.readouterr().out
    assert out.read_bytes() == normal  # recorded date kept: content did not change


def test_normalization_is_idempotent_and_key_order_insensitive(tmp_path: Path) -> None:
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Проект ✓ — unicode kept",
            "version": "1",
            "description": "first line\nsecond line with trailing text\n\n  indented third\n",
            "x-long": "word " * 80,
        },
        "paths": load_text("""
/b: {get: {responses: {'200': {description: ok}}}}
/a:
  get:
    parameters:
    - {name: z, in: query, schema: {type: string}}
    - {name: a, in: query, schema: {type: string}}
    responses: {'200': {description: '2024-01-01'}}
"""),
    }

    def reverse(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reverse(value[k]) for k in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(v) for v in value]
        return value

    outputs = []
    for i, variant in enumerate([doc, reverse(doc)]):
        src, out = tmp_path / f"in{i}.json", tmp_path / f"out{i}.yaml"
        src.write_text(json.dumps(variant, ensure_ascii=False), encoding="utf-8")
        assert main(["--file", str(src), "--output", str(out), "--date", "2026-11-23"]) == 0
        outputs.append(out.read_text(encoding="utf-8"))
    first = outputs[0]
    assert outputs[1].replace("in1.json", "in0.json") == first

    assert "Проект ✓ — unicode kept" in first
    assert ("word " * 80).strip() in first  # one line, not wrapped
    assert first.index("/a:") < first.index("/b:")
    assert first.index("name: z") < first.index("name: a")  # lists keep their order
    assert "'2024-01-01'" in first  # date-like strings stay strings for every YAML reader
    assert dump_yaml(load_text(first)) == first
    assert load_text(first)["info"]["description"] == doc["info"]["description"]  # type: ignore[index]


def test_yaml_aliases_and_integer_status_keys_are_normalized(tmp_path: Path) -> None:
    src = tmp_path / "spec.yaml"
    src.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"
        "paths: {/a: {get: {responses: {200: &ok {description: ok}, 201: *ok}}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.yaml"
    assert main(["--file", str(src), "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "&" not in text and "*" not in text
    assert "'200':" in text and "'201':" in text


def test_subprocess_exit_codes(server: RouteServer, base: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "v2-beta.yaml"
    script = str(ROOT / "scripts" / "pull_spec.py")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, script, *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    server.set(base)
    assert run("--url", server.url(), "--output", str(out)).returncode == 0
    server.set(breaking_version(base))
    proc = run("--url", server.url(), "--output", str(out))
    assert proc.returncode == 4, proc.stderr
    assert "[BREAKING] api-removed-without-deprecation" in proc.stdout
    server.set("oops", status=503, ctype="text/plain")
    proc = run("--url", server.url(), "--output", str(out))
    assert proc.returncode == 1
    assert "returned HTTP 503" in proc.stderr
    usage = run("--no-such-option")
    assert usage.returncode == 2
    assert "usage:" in usage.stderr
    help_text = run("--help").stdout
    assert "exit codes:" in help_text and "4  breaking change" in help_text


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_json_like = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), _json_like, max_size=5))
def test_dump_yaml_round_trips_and_is_a_fixed_point(doc: dict[str, Any]) -> None:
    text = dump_yaml(doc)
    assert load_text(text) == doc
    assert dump_yaml(load_text(text)) == text
    assert text.endswith("\n")


def test_named_examples_keep_their_order_everything_else_is_sorted() -> None:
    """Prism serves the first named example by default, so that order is content."""
    media = {
        "schema": {"type": "object"},
        "examples": {"running": {"value": {"z": 1, "a": 2}}, "failed": {"value": {}}},
    }
    doc = {"paths": {"/b": {}, "/a": {"get": {"responses": {"200": {"content": {"j": media}}}}}}}
    text = dump_yaml(doc)
    assert text.index("running:") < text.index("failed:")
    assert text.index("/a:") < text.index("/b:")
    assert text.index("a: 2") < text.index("z: 1")
    assert dump_yaml(load_text(text)) == text
    # A schema property that happens to be called "examples" is sorted like any mapping.
    schema = {"properties": {"examples": {"type": "string", "description": "x"}}}
    assert dump_yaml(schema).index("description") < dump_yaml(schema).index("type")
