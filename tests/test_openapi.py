"""``toloka_ext._openapi``: reading, following ``$ref`` s, ``allOf``, inlining and bundling,
each piece on its own (the differ's, operation table's and v1 pull's tests use it too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from toloka_ext._openapi import (
    METHODS,
    Document,
    RefCycleError,
    RefError,
    bundle,
    flatten,
    inline,
    load_text,
    ref_of,
    template,
)

DOC: dict[str, Any] = {
    "paths": {"/runs/{runId}": {"$ref": "#/components/pathItems/Run"}, "/junk": "not a path item"},
    "components": {
        "pathItems": {"Run": {"parameters": [{"name": "runId"}], "get": {}, "trace": {}}},
        "schemas": {
            "A": {"$ref": "#/components/schemas/B", "description": "outer"},
            "B": {"type": "string", "description": "inner"},
            "Loop": {"$ref": "#/components/schemas/Loop", "title": "loop"},
            "Meta/V1": {"type": "object"},
            "List": {"allOf": [{"type": "object"}]},
        },
    },
}


def test_reading_keeps_dates_as_strings_and_tries_json_first() -> None:
    assert load_text("date: 2026-11-23\nn: 1\n") == {"date": "2026-11-23", "n": 1}
    assert load_text('{"a": [1, 2]}') == {"a": [1, 2]}


def test_one_list_of_methods_and_one_path_template() -> None:
    assert METHODS == ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    assert template("/projects/{projectId}/runs/{id}") == "/projects/{}/runs/{}"
    doc = Document(DOC)
    assert [(p, m, shared) for p, m, _, shared in doc.operations()] == [
        ("/runs/{runId}", "get", [{"name": "runId"}]),  # the path item's $ref followed
        ("/runs/{runId}", "trace", [{"name": "runId"}]),
    ]


def test_a_chain_ends_with_the_siblings_over_the_target() -> None:
    doc = Document(DOC)
    assert doc.resolve({"$ref": "#/components/schemas/A", "nullable": True}) == (
        {"type": "string", "description": "outer", "nullable": True},
        "#/components/schemas/B",
    )
    assert doc.resolve({"$ref": "#/components/schemas/Meta~1V1"})[0] == {"type": "object"}
    assert doc.resolve("not an object") == ({}, None)


@pytest.mark.parametrize(
    ("ref", "left"),
    [
        ("#/components/schemas/Loop", {"title": "loop"}),  # a cycle: the siblings alone
        ("#/components/schemas/Gone", {}),  # dangling
        ("#/paths/~1junk", {}),  # not an object
        ("https://example.invalid/x.json", {}),  # another file, and nothing to fetch it
        ("#/components/schemas/List/allOf/3", {}),  # past a list's end
    ],
)
def test_what_cannot_be_followed_is_unconstrained(ref: str, left: dict[str, Any]) -> None:
    assert Document(DOC).resolve({"$ref": ref}) == (left, ref)


def test_a_lookup_that_fails_says_why_in_one_line() -> None:
    doc = Document(DOC)
    with pytest.raises(RefError, match="has nothing at #/components/schemas/Gone"):
        doc.lookup("#/components/schemas/Gone")
    with pytest.raises(RefError, match=r"\$ref 'x\.yaml#/a' is not internal"):
        doc.lookup("x.yaml#/a")
    assert ref_of({"$ref": "#/a", "x": 1}) == "#/a" and ref_of({"ref": 1}) is None


def test_allof_parts_must_all_hold() -> None:
    schema = load_text("""
description: own
allOf:
- {$ref: '#/components/schemas/Part'}
- {properties: {a: {maxLength: 3}}, required: [a, b], enum: [x, z]}
""")
    doc = Document(
        load_text("""
components:
  schemas:
    Part: {type: object, description: part, required: [b], enum: [x, y],
           properties: {a: {type: string}, b: {}}}
""")
    )
    merged, ref = doc.merged(schema)
    assert merged == {
        "description": "own",  # the schema's own first, then the first part's
        "type": "object",
        "properties": {"a": {"allOf": [{"type": "string"}, {"maxLength": 3}]}, "b": {}},
        "required": ["b", "a"],
        "enum": ["x"],
    }
    assert ref is None  # two parts: none names it
    lone, lone_ref = doc.merged({"allOf": [{"$ref": "#/components/schemas/Part"}]})
    assert lone_ref == "#/components/schemas/Part" and lone["description"] == "part"
    assert flatten({"type": "string"}, lambda s: (s, None)) == ({"type": "string"}, None)


def test_inline_resolves_structure_keeps_data_and_refuses_external_refs() -> None:
    doc = {
        "c": {"type": "integer"},
        "example": {"$ref": "./not-a-file.yaml"},  # data
        "properties": {"example": {"$ref": "#/c"}, "default": {"$ref": "#/c"}},  # names
        "examples": {"one": {"value": {"$ref": "#/c"}}},  # an Example Object's value: data
    }
    assert inline(doc) == {
        "c": {"type": "integer"},
        "example": {"$ref": "./not-a-file.yaml"},
        "properties": {"example": {"type": "integer"}, "default": {"type": "integer"}},
        "examples": {"one": {"value": {"$ref": "#/c"}}},
    }
    with pytest.raises(ValueError, match="is not internal"):
        inline({"a": {"$ref": "./parts/x.yaml#/b"}})
    loop = {"a": {"items": {"$ref": "#/a"}}, "b": {"$ref": "#/a"}}
    # the cycle stops where it would repeat: a tree of depth one, not an endless one
    assert inline(loop, keep_cycles=True)["b"] == {"items": {"$ref": "#/a"}}
    with pytest.raises(RefCycleError):
        inline(loop)


def _read(uri: str) -> str:
    return Path(url2pathname(urlsplit(uri).path)).read_text(encoding="utf-8")


def test_inline_follows_file_relative_refs(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "root.yaml").write_text(
        "a: {$ref: './parts/p.yaml#/defs/A'}\nnote: {$ref: './parts/n.md'}\nB: {x: 1}\n"
    )
    (tmp_path / "parts" / "p.yaml").write_text(
        "defs:\n  A: {local: {$ref: '#/defs/C'}, back: {$ref: '../root.yaml#/B'}}\n  C: 2\n"
    )
    (tmp_path / "parts" / "n.md").write_text("# text\n")
    root = tmp_path / "root.yaml"
    doc = inline(load_text(root.read_text()), uri=root.as_uri(), load=_read)
    assert doc["a"] == {"local": 2, "back": {"x": 1}}
    assert doc["note"] == "# text\n"
    (tmp_path / "loop.yaml").write_text("a: {$ref: '#/b'}\nb: {c: {$ref: '#/a'}}\n")
    loop = tmp_path / "loop.yaml"
    with pytest.raises(RefCycleError):
        inline(load_text(loop.read_text()), uri=loop.as_uri(), load=_read)


FILES = {
    "https://x.test/api/root.yaml": """
openapi: 3.0.3
info: {title: t, version: '1', description: {$ref: './info.md'}}
tags: [{name: used}, {name: unused}]
paths:
  /a/{id}:
    get:
      tags: [used]
      security: [{key: []}]
      responses:
        '200': {$ref: './parts/r.yaml#/components/responses/Ok'}
    delete: {responses: {'204': {description: gone}}}
  /b: {$ref: './parts/r.yaml#/paths/~1b'}
  /unused: {get: {responses: {'200': {$ref: './missing.yaml#/x'}}}}
components:
  schemas: {Item: {type: string}}
  securitySchemes: {key: {type: apiKey, in: header, name: X}, other: {type: http, scheme: basic}}
""",
    "https://x.test/api/info.md": "# About\n",
    "https://x.test/api/parts/r.yaml": """
paths:
  /b: {post: {responses: {'201': {description: ok}}}}
components:
  responses:
    Ok:
      description: ok
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Item'}
          example: {$ref: 'data, not a reference'}
  schemas:
    Item: {type: object, properties: {root: {$ref: '../root.yaml#/components/schemas/Item'}}}
""",
}


def _bundled(everything: bool = False, **files: str) -> dict[str, Any]:
    texts = {**FILES, **files}
    fetched: list[str] = []

    def load(uri: str) -> str:
        fetched.append(uri)
        if uri not in texts:
            raise OSError(f"{uri} returned HTTP 404")
        return texts[uri]

    root = "https://x.test/api/root.yaml"

    def keep(method: str, path: str) -> bool:  # /unused has a broken ref, read only if kept
        return everything or (method != "delete" and path != "/unused")

    out = bundle(root, load_text(texts[root]), keep=keep, load=load)
    assert len(fetched) == len(set(fetched))  # each file fetched once
    return out


def test_bundle_keeps_what_the_kept_operations_use_as_components() -> None:
    doc = _bundled()
    assert doc["info"]["description"] == "# About\n"  # a whole file, inlined as text
    assert set(doc["paths"]) == {"/a/{id}", "/b"}
    assert set(doc["paths"]["/a/{id}"]) == {"get"}  # delete was not kept
    assert doc["paths"]["/b"] == {"post": {"responses": {"201": {"description": "ok"}}}}
    ok = doc["paths"]["/a/{id}"]["get"]["responses"]["200"]
    assert ok == {"$ref": "#/components/responses/Ok"}
    assert [t["name"] for t in doc["tags"]] == ["used"]
    media = doc["components"]["responses"]["Ok"]["content"]["application/json"]
    assert media["example"] == {"$ref": "data, not a reference"}
    # r.yaml's Item clashes with root.yaml's: it takes its file's stem; root's keeps its name
    assert media["schema"] == {"$ref": "#/components/schemas/Item_r"}
    schemas = doc["components"]["schemas"]
    assert schemas["Item_r"]["properties"]["root"] == {"$ref": "#/components/schemas/Item"}
    assert schemas["Item"] == {"type": "string"}
    assert set(doc["components"]["securitySchemes"]) == {"key"}


def test_bundle_errors_name_the_reference_and_the_cause() -> None:
    with pytest.raises(RefError, match=r"cannot resolve \$ref .*missing\.yaml returned HTTP 404"):
        _bundled(everything=True)
    broken = FILES["https://x.test/api/parts/r.yaml"].replace("    Ok:", "    Fine:")
    with pytest.raises(RefError, match=r"r\.yaml has nothing at #/components/responses/Ok"):
        _bundled(**{"https://x.test/api/parts/r.yaml": broken})
    with pytest.raises(RefError, match=r"r\.yaml is not JSON/YAML"):
        _bundled(**{"https://x.test/api/parts/r.yaml": "paths: [unclosed\n"})
    loop = {"https://x.test/api/info.md": "ignored", "https://x.test/api/a.yaml": "$ref: ./b.yaml"}
    loop["https://x.test/api/b.yaml"] = "$ref: ./a.yaml"
    root = FILES["https://x.test/api/root.yaml"].replace("'./info.md'", "'./a.yaml'")
    with pytest.raises(RefCycleError, match=r"a\.yaml -> https://x\.test/api/b\.yaml -> "):
        _bundled(**loop, **{"https://x.test/api/root.yaml": root})
