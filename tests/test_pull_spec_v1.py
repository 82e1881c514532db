"""``scripts/pull_spec.py --api v1``: Toloka's published API v1 document against ours.

The reference copy in ``../shared/reference/toloka-v1-openapi/`` is only read: tests that need
it skip when it is absent, and play Toloka's changes on a copy (``--file``) or on files served
by a local HTTP server. Nothing may be written under ``openapi/`` (checked after every test).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts import published_v1, pull_spec, v1_compare
from scripts.pull_spec import main
from tests._http import RouteServer
from toloka_ext import _specdiff as specdiff
from toloka_ext._openapi import RefCycleError, inline, load_text

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
REFERENCE = ROOT.parent / "shared" / "reference" / "toloka-v1-openapi"
BASE = "/Toloka/docs/main/en/api/reference"
OPERATION = "/operations/{id}"
ADDITIONAL = "parts/api/additional.yaml"

Doc = dict[str, Any]


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True)
def openapi_untouched() -> Iterator[None]:
    """Whatever a test does, nothing under openapi/ is created, changed or removed."""
    before = _tree(OPENAPI)
    yield
    assert _tree(OPENAPI) == before
    assert not (OPENAPI / "v1-published.yaml").exists()


@pytest.fixture(scope="module")
def reference() -> dict[str, str]:
    """Every file of the published document, by path relative to ``fullApi.yaml``."""
    if not (REFERENCE / "fullApi.yaml").is_file():
        pytest.skip(f"{REFERENCE} is absent: the published API v1 document is not available")
    return _files(REFERENCE)


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def reference_doc(reference: dict[str, str]) -> Doc:
    """The reference copy pulled once: trimmed and bundled (``$ref``s internal)."""
    return pull_spec.pull_v1(source=str(REFERENCE / "fullApi.yaml"), is_file=True)


# --------------------------------------------------------------------------- the CLI on a copy


def _copy(tmp_path: Path) -> Path:
    """A copy of the reference folder under ``tmp_path``; returns its ``fullApi.yaml``."""
    root = tmp_path / "toloka-v1-openapi"
    shutil.copytree(REFERENCE, root)
    return root / "fullApi.yaml"


Edit = Callable[[Path], None]  # changes the copy whose fullApi.yaml is at the path given


def _edit(change: Callable[[Any], None], rel: str = "fullApi.yaml") -> Edit:
    def edit(root: Path) -> None:
        path = root.parent / rel
        doc = load_text(path.read_text(encoding="utf-8"))
        change(doc)
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")

    return edit


def _schema(name: str, change: Callable[[Doc], None], rel: str = "fullApi.yaml") -> Edit:
    return _edit(lambda doc: change(doc["components"]["schemas"][name]), rel)


def _param(path: str, method: str, name: str, change: Callable[[Doc], None]) -> Edit:
    def edit(doc: Doc) -> None:
        (param,) = [p for p in doc["paths"][path][method]["parameters"] if p["name"] == name]
        change(param)

    return _edit(edit)


def _unused_changes(doc: Doc) -> None:
    del doc["paths"]["/pools"]["post"]
    media = doc["paths"]["/pools/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    media["schema"] = {"$ref": "./parts/api/missing.yaml#/components/schemas/Gone"}  # broken
    doc["components"]["schemas"]["PoolViewV1"]["properties"]["id"]["type"] = "integer"


PROJECT_ID = {"in": "query", "name": "project_id", "required": True, "schema": {"type": "string"}}

# id -> (a change on Toloka's side, a line the report must hold: its level gives the exit code)
CHANGES: dict[str, tuple[Edit, str]] = {
    "response-field-removed": (
        _schema("OperationViewV1", lambda s: s["properties"].pop("status")),
        "[BREAKING] response-property-gone  GET /operations/{id}  responses.200.schema"
        '.properties.status: ours "declared", published "absent"',
    ),
    "response-field-retyped-in-another-file": (
        _schema("HasMore", lambda s: s.update(type="string"), ADDITIONAL),
        "[BREAKING] response-type-changed  GET /operations  responses.200.schema.properties"
        '.has_more.type: ours "boolean", published "string"',
    ),
    "optional-request-field-added": (
        _schema("TaskPatchV1", lambda s: s["properties"].update(priority={"type": "integer"})),
        "[compatible] request-property-added  PATCH /tasks/{id}  requestBody.schema.properties"
        '.priority: ours "absent", published "declared"',
    ),
    "request-field-became-required": (
        _schema("TaskPatchV1", lambda s: s.update(required=["overlap"])),
        "[BREAKING] request-property-became-required  PATCH /tasks/{id}  requestBody.schema"
        '.required: ours [], published ["overlap"]',
    ),
    "response-enum-value-added": (
        _schema("OperationViewV1", lambda s: s["properties"]["status"]["enum"].append("CANCELLED")),
        "[warning] response-enum-value-added  GET /operations/{id}  responses.200.schema"
        '.properties.status.enum: ours ["FAIL", "PENDING", "RUNNING", "SUCCESS"], published'
        ' ["CANCELLED", "FAIL", "PENDING", "RUNNING", "SUCCESS"]',
    ),
    "required-parameter-added": (
        _edit(lambda d: d["paths"]["/tasks"]["get"]["parameters"].append(PROJECT_ID)),
        "[BREAKING] request-parameter-added-required  GET /tasks  parameters[query:project_id]:"
        ' ours "absent", published "declared, required"',
    ),
    "listed-difference-gone": (
        _param("/tasks", "get", "limit", lambda p: p["schema"].update(maximum=300)),
        "[compatible] listed-difference-gone  GET /tasks  parameters[query:limit].schema.maximum:"
        " listed in openapi/v1-differences.yaml, no longer found: review the entry",
    ),
    "request-bound-narrowed": (
        _schema("TaskPatchV1", lambda s: s["properties"]["overlap"].update(maximum=3000)),
        "[BREAKING] request-maximum-lowered  PATCH /tasks/{id}  requestBody.schema.properties"
        ".overlap.maximum: ours 30000, published 3000",
    ),
    "request-enum-restricted": (
        _param("/operations", "get", "status", lambda p: p["schema"].update(enum=["SUCCESS"])),
        "[BREAKING] request-enum-value-removed  GET /operations  parameters[query:status].schema"
        '.enum: ours null, published ["SUCCESS"]',
    ),
    "operation-removed": (
        _edit(lambda d: d["paths"].pop("/operations/{id}/log")),
        '[BREAKING] operation-gone  GET /operations/{id}/log  (operation): ours "declared",'
        ' published "absent"',
    ),
    "security-header-renamed": (
        _edit(lambda d: d["components"]["securitySchemes"]["api_key1"].update(name="X-Api-Key")),
        "[BREAKING] security-credentials-changed  GET /tasks  security.schemes: ours"
        ' ["apiKey header Authorization"], published ["apiKey header X-Api-Key"]',
    ),
    "malformed-parameters": (
        _edit(lambda d: d["paths"]["/tasks/{id}"]["patch"].update(parameters="not a list")),
        "[BREAKING] request-parameter-gone  PATCH /tasks/{id}  parameters[query:open_pool]:"
        ' ours "declared", published "absent"',
    ),
    "unused-operations-changed": (_edit(_unused_changes), "no change"),
    "example-data-changed": (
        _edit(  # a $ref in an example is data: kept, never followed
            lambda e: e["success"]["value"].update(details={"$ref": "./x.yaml"}, status="OTHER"),
            "responses/api/operation-id.yaml",
        ),
        "no change",
    ),
}


def test_the_reference_copy_agrees_with_ours(
    reference: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rj, rm = tmp_path / "report.json", tmp_path / "report.md"
    argv = ["--api", "v1", "--file", str(REFERENCE / "fullApi.yaml")]
    assert main([*argv, "--report-json", str(rj), "--report-md", str(rm)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Compared {REFERENCE / 'fullApi.yaml'} (sha256 ")
    assert "with openapi/v1.yaml: no change" in out
    data = json.loads(rj.read_text(encoding="utf-8"))
    listed = v1_compare.listed_differences()
    assert data["status"] == "no change" and data["exit_code"] == 0 and data["written"] is False
    assert data["listed"] == sum(map(len, listed.values())) > 0
    assert (data["new"], data["gone"], data["changes"]) == (0, 0, [])
    assert (data["api"], data["mode"], data["ours"]) == ("v1", "file", "openapi/v1.yaml")
    assert rm.read_text(encoding="utf-8").startswith("Status: no change (exit 0)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]


@pytest.mark.parametrize("case", list(CHANGES))
def test_a_change_on_tolokas_side_is_reported_and_classified(
    reference: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    edit, line = CHANGES[case]
    root = _copy(tmp_path)
    edit(root)
    assert _files(root.parent) != reference  # the copy changed
    code = 4 if line.startswith("[BREAKING]") else 3 if line.startswith("[") else 0
    assert main(["--api", "v1", "--file", str(root)]) == code
    out = capsys.readouterr().out
    assert line in out, out
    assert "Review openapi/v1.yaml" in out if code else "Review" not in out


def test_report_files_and_dry_run(
    reference: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(tmp_path)
    _schema("OperationViewV1", lambda s: s["properties"].pop("id"))(root)
    _schema("HasMore", lambda s: s.update(type="string"), ADDITIONAL)(root)
    _param("/tasks", "get", "limit", lambda p: p["schema"].update(minimum=1))(root)
    rj, rm = tmp_path / "report.json", tmp_path / "report.md"
    argv = ["--api", "v1", "--file", str(root), "--dry-run", "--date", "2026-11-23"]
    exit_code = main([*argv, "--report-json", str(rj), "--report-md", str(rm)])
    out = capsys.readouterr().out
    assert "(dry run: --api v1 writes nothing anyway)" in out

    data = json.loads(rj.read_text(encoding="utf-8"))
    assert data["exit_code"] == exit_code and data["status"] == "changed"
    assert (data["date"], data["source"], data["written"]) == ("2026-11-23", str(root), False)
    assert data["gone"] == 1 and data["new"] == len(data["changes"]) - 1
    assert data["counts"]["breaking"] == len([c for c in data["changes"] if c["breaking"]]) > 0
    by_rule = {(c["rule_id"], c["method"], c["path"], c["location"]) for c in data["changes"]}
    assert {
        ("response-property-gone", "GET", OPERATION, "responses.200.schema.properties.id"),
        ("response-type-changed", "GET", "/tasks", "responses.200.schema.properties.has_more.type"),
        ("listed-difference-gone", "GET", "/tasks", "parameters[query:limit].schema.minimum"),
    } <= by_rule
    for change in data["changes"]:  # one line each: operation, what, ours vs published
        assert f"  {change['method']} {change['path']}  {change['location']}: " in out

    md = rm.read_text(encoding="utf-8")
    assert md.startswith(f"Status: changed (exit {exit_code})\n\n")
    assert "compared with `openapi/v1.yaml`" in md
    row = "| response-property-gone | GET /operations/{id} | responses.200.schema.properties.id |"
    assert row in md
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["report.json", "report.md", "toloka-v1-openapi"]


# --------------------------------------------------------------------------- fetching and resolving


class Published:
    """The published document served over HTTP, one route per file, editable per test."""

    def __init__(self, server: RouteServer, files: dict[str, str]) -> None:
        self.server = server
        self.texts = dict(files)
        for rel, text in files.items():
            self.put(rel, text)

    @property
    def url(self) -> str:
        return self.server.url(f"{BASE}/fullApi.yaml")

    def doc(self, rel: str = "fullApi.yaml") -> Doc:
        return load_text(self.texts[rel])  # type: ignore[no-any-return]

    def put(self, rel: str, body: str | Doc) -> None:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        self.texts[rel] = text
        # GitHub serves raw files as text/plain, whatever their extension.
        self.server.set(text, path=f"{BASE}/{rel}", ctype="text/plain; charset=utf-8")

    def remove(self, rel: str) -> None:
        del self.server.routes[f"{BASE}/{rel}"]

    def fetched(self) -> list[str]:
        return [h.removeprefix(f"{BASE}/") for h in self.server.hits]


@pytest.fixture
def published(reference: dict[str, str]) -> Iterator[Published]:
    with RouteServer() as server:
        yield Published(server, reference)


def operations(doc: Doc) -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m != "parameters"}


def refs(doc: Doc) -> list[str]:
    return re.findall(r'"\$ref": "((?:[^"\\]|\\.)*)"', json.dumps(doc))


def test_http_pull_resolves_every_ref_relative_to_the_url(
    published: Published, reference_doc: Doc, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = pull_spec.pull_v1(source=published.url, is_file=False)
    err = capsys.readouterr().err
    assert doc == reference_doc  # the same document as read from files (--file)
    again = pull_spec.pull_v1(source=str(REFERENCE / "fullApi.yaml"), is_file=True)
    assert json.dumps(again) == json.dumps(reference_doc)  # deterministic: same key order too
    pull_spec.validate(doc, "pulled")  # a valid OpenAPI document on its own
    assert operations(doc) == set(published_v1.USED_OPERATIONS)
    assert all(r.startswith("#/components/") for r in refs(doc)), set(refs(doc))
    schemas = doc["components"]["schemas"]
    assert {"OperationLog", "HasMore", "OperationViewV1", "TaskViewV1"} <= set(schemas)
    assert not {"PoolViewV1", "ProjectViewV1", "SkillViewV1"} & set(schemas)
    for ref in refs(doc):  # every internal ref leads somewhere
        kind, name = ref.split("/")[2:]
        assert name in doc["components"][kind], ref
    assert set(doc["components"]["securitySchemes"]) == {"api_key1"}
    assert [t["name"] for t in doc["tags"]] == ["task", "operation"]

    # whole-file refs inlined: a Markdown description, named examples, code samples
    assert doc["info"]["description"].startswith(
        published.texts["parts/api/info-description.md"][:40]
    )
    get_op = doc["paths"][OPERATION]["get"]
    media = get_op["responses"]["200"]["content"]["application/json"]
    assert media["examples"]["success"]["value"]["status"] == "SUCCESS"
    assert get_op["x-code-samples"][0]["lang"] == "shell"

    # each file fetched once, over HTTP, and only the files the used operations reach
    fetched = published.fetched()
    assert len(fetched) == len(set(fetched))
    assert {"fullApi.yaml", ADDITIONAL, "parts/api/info-description.md"} <= set(fetched)
    assert {"responses/api/operation-id.yaml", "code-samples/api/post-tasks.yaml"} <= set(fetched)
    assert not [f for f in fetched if "pool" in f or "skill" in f]

    # the published document repeats some enum values: dropped, with a note on stderr
    language = schemas["AdditionalLanguage"]["properties"]["language"]["enum"]
    assert len(language) == len(set(language))
    assert "repeated enum values dropped at $.components.schemas.AdditionalLanguage" in err


def _with_tree(published: Published) -> None:
    """A recursive schema across two files, reached from a response the client reads."""
    doc, extra = published.doc(), published.doc(ADDITIONAL)
    node_ref = f"./{ADDITIONAL}#/components/schemas/TreeNode"
    schemas = doc["components"]["schemas"]
    schemas["Tree"] = {"type": "object", "properties": {"node": {"$ref": node_ref}}}
    schemas["OperationViewV1"]["properties"]["tree"] = {"$ref": node_ref}
    extra["components"]["schemas"]["TreeNode"] = load_text("""
type: object
properties:
  value: {type: string}
  children: {type: array, items: {$ref: '../../fullApi.yaml#/components/schemas/Tree'}}
""")
    published.put("fullApi.yaml", doc)
    published.put(ADDITIONAL, extra)


def test_ref_cycle_across_files_becomes_internal_refs_and_still_compares(
    published: Published, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_tree(published)
    doc = pull_spec.pull_v1(source=published.url, is_file=False)
    schemas = doc["components"]["schemas"]
    node = {"$ref": "#/components/schemas/TreeNode"}
    assert schemas["OperationViewV1"]["properties"]["tree"] == node
    children = schemas["TreeNode"]["properties"]["children"]
    assert children["items"] == {"$ref": "#/components/schemas/Tree"}
    assert schemas["Tree"]["properties"]["node"] == node
    with pytest.raises(RefCycleError):
        inline(doc)

    capsys.readouterr()
    code = main(["--api", "v1", "--url", published.url])
    out = capsys.readouterr().out
    assert code == specdiff.EXIT_COMPATIBLE, out  # an optional response field, however deep
    assert (
        "[compatible] response-property-added  GET /operations/{id}  responses.200.schema"
        '.properties.tree: ours "absent", published "declared"'
    ) in out


def _inline_cycle(p: Published) -> None:
    doc = p.doc()
    doc["paths"][OPERATION]["get"]["x-code-samples"] = {"$ref": "./code-samples/api/loop-a.yaml"}
    p.put("fullApi.yaml", doc)
    p.put("code-samples/api/loop-a.yaml", "$ref: ./loop-b.yaml\n")
    p.put("code-samples/api/loop-b.yaml", "$ref: './loop-a.yaml'\n")


def _drop(rel: str, name: str) -> Callable[[Published], None]:
    def drop(p: Published) -> None:
        doc = p.doc(rel)
        del doc["components"]["schemas"][name]
        p.put(rel, doc)

    return drop


UNRESOLVABLE: dict[str, tuple[Callable[[Published], None], str]] = {
    "file-404": (
        lambda p: p.remove("responses/api/operation-id.yaml"),
        "responses/api/operation-id.yaml returned HTTP 404",
    ),
    "missing-component": (
        _drop(ADDITIONAL, "HasMore"),
        "additional.yaml has nothing at #/components/schemas/HasMore",
    ),
    "missing-internal": (
        _drop("fullApi.yaml", "OperationViewV1"),
        "fullApi.yaml has nothing at #/components/schemas/OperationViewV1",
    ),
    "not-yaml": (
        lambda p: p.put(ADDITIONAL, "components: [unclosed\n"),
        "additional.yaml is not JSON/YAML",
    ),
    "inline-cycle": (_inline_cycle, "$ref cycle cannot be inlined: "),
    "swagger-2": (
        lambda p: p.put("fullApi.yaml", "swagger: '2.0'\npaths: {}\n"),
        "not an OpenAPI 3.0/3.1 document (swagger: '2.0')",
    ),
}


@pytest.mark.parametrize("case", sorted(UNRESOLVABLE))
def test_unresolvable_document_fails_with_one_line_and_writes_nothing(
    case: str, published: Published, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    breaker, message = UNRESOLVABLE[case]
    breaker(published)
    rj, rm = tmp_path / "report.json", tmp_path / "report.md"
    argv = ["--api", "v1", "--url", published.url, "--report-json", str(rj), "--report-md", str(rm)]
    assert main(argv) == pull_spec.EXIT_ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    errors = [line for line in captured.err.splitlines() if not line.startswith("note: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {published.url}: ")
    assert message in errors[0]
    assert list(tmp_path.iterdir()) == []  # no report


def test_file_mode_missing_ref_target(
    reference: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "fullApi.yaml"  # the root alone: its refs lead to files that are not here
    src.write_text(reference["fullApi.yaml"], encoding="utf-8")
    assert main(["--api", "v1", "--file", str(src)]) == pull_spec.EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"error: {src}: cannot resolve $ref ")
    assert f"cannot read {tmp_path}/" in err
    assert [p.name for p in tmp_path.iterdir()] == ["fullApi.yaml"]


# --------------------------------------------------------------------------- CLI


def test_cli_default_sources_and_v1_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each API's official URL by default; a usage error of --api v1 fetches nothing."""
    asked: list[str] = []

    def fake_fetch(url: str, client: object = None) -> str:
        asked.append(url)
        raise pull_spec.PullError(f"cannot fetch {url}: offline in tests")

    monkeypatch.setattr(pull_spec, "fetch", fake_fetch)
    assert main(["--api", "v1"]) == pull_spec.EXIT_ERROR
    url = "https://raw.githubusercontent.com/Toloka/docs/main/en/api/reference/fullApi.yaml"
    assert asked == [url] == [published_v1.DEFAULT_URL]
    assert capsys.readouterr().err == f"error: cannot fetch {asked[0]}: offline in tests\n"
    for argv, message in (
        (["--reconstructed"], "never 'reconstructed'"),
        (["--output", "openapi/v1-published.yaml"], "--api v1 writes no snapshot"),
    ):
        with pytest.raises(SystemExit) as usage:
            main(["--api", "v1", *argv])
        assert usage.value.code == 2
        assert message in capsys.readouterr().err
    assert main(["--dry-run"]) == pull_spec.EXIT_ERROR  # --api v2, the default
    assert asked[1:] == ["https://platform.toloka.ai/api/v2-beta/doc"]  # no usage error fetched
    assert capsys.readouterr().err == f"error: cannot fetch {asked[1]}: offline in tests\n"


def test_the_project_keeps_no_copy_of_the_published_document() -> None:
    """No document under openapi/ carries the published operations' own names."""
    published_ids = {"createTask", "getTasks", "setOverlapOrMin_1", "getOperations"}
    for path in sorted(OPENAPI.rglob("*.y*ml")):
        doc = load_text(path.read_text(encoding="utf-8"))
        paths = doc.get("paths") if isinstance(doc, dict) else None
        ids = {
            op.get("operationId")
            for item in (paths or {}).values()
            for op in item.values()
            if isinstance(op, dict)
        }
        assert not ids & published_ids, f"{path} looks like a copy of the published document"


def test_subprocess_v1_dry_run(reference: dict[str, str], tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "pull_spec.py")
    cmd = [sys.executable, script, "--api", "v1", "--file", str(REFERENCE / "fullApi.yaml")]
    proc = subprocess.run(
        [*cmd, "--dry-run"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "with openapi/v1.yaml: no change" in proc.stdout and "dry run" in proc.stdout
    assert list(tmp_path.iterdir()) == []
