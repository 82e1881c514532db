"""A small stateful Pipeline API (v2-beta) + presigned storage, as an httpx MockTransport.

Scripted for the tests of this layer: it counts what was created, can crash the client right
after a request was applied (``crash_after``), can rewrite response bodies (``mutate``) to
simulate drift, and rejects an ``Authorization`` header on storage URLs (as presigned object
storage does) while recording that it saw one.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

API = "https://api.test/api/v2-beta"
STORAGE = "https://storage.test"


class Crash(BaseException):
    """Simulated process death (a BaseException: nothing in the client may swallow it)."""


class FakePipelineAPI:
    def __init__(self, *, run_polls: int = 2) -> None:
        self.ids = itertools.count(1)
        self.projects: dict[str, dict[str, Any]] = {
            "prj-1": {"id": "prj-1", "name": "Signs"},
            "prj-2": {"id": "prj-2", "name": "Other"},
        }
        self.pipelines: dict[str, dict[str, Any]] = {
            "pl-1": {"id": "pl-1", "name": "Annotate signs", "projectId": "prj-2"},
        }
        self.datasets: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.fields: dict[str, list[dict[str, Any]]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.upload_bytes: dict[str, bytes] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.run_polls: dict[str, int] = {}
        self.exports: dict[str, dict[str, Any]] = {}
        self.applied: Counter[str] = Counter()
        self.requests: list[httpx.Request] = []
        self.storage_auth_seen: list[str] = []
        self.polls_to_finish = run_polls
        self.page_size_cap = 2  # small pages: listing must follow pagination
        self.crash_after: int | None = None
        self.mutate: Callable[[str, Any], Any] | None = None
        self.final_run_status = "completed"
        self.used_urls: set[str] = set()
        self.report_item_count = True
        self.drop_next_put = False  # the next PUT spends the one-time URL, stores nothing
        self.handled = 0

    # ------------------------------------------------------------------ plumbing

    def _new(self, prefix: str) -> str:
        return f"{prefix}-{next(self.ids)}"

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response = self._route(request)
        self.handled += 1
        if self.crash_after is not None and self.handled >= self.crash_after:
            self.crash_after = None
            raise Crash(f"crash after request {self.handled}: {request.method} {request.url}")
        return response

    async def ahandler(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def async_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.ahandler)

    def _json(self, op: str, status: int, body: Any) -> httpx.Response:
        if self.mutate is not None:
            body = self.mutate(op, body)
        return httpx.Response(status, json=body)

    def _error(self, status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"message": message, "code": str(status)})

    def _page(self, op: str, key: str, objs: list[dict[str, Any]], request: httpx.Request) -> Any:
        limit = min(int(request.url.params.get("limit", 20)), self.page_size_cap)
        offset = int(request.url.params.get("offset", 0))
        return self._json(
            op,
            200,
            {
                key: objs[offset : offset + limit],
                "pagination": {"total": len(objs), "limit": limit, "offset": offset},
            },
        )

    # ------------------------------------------------------------------ routes

    def _route(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url.startswith(STORAGE):
            return self._storage(request)
        if not url.startswith(API):
            return self._error(404, "unknown host")
        if not request.headers.get("Authorization", "").startswith("ApiKey "):
            return self._error(401, "Invalid API key")
        path = request.url.path[len("/api/v2-beta") :]
        method = request.method
        body = (
            json.loads(request.content)
            if request.content and "json" in request.headers.get("content-type", "")
            else None
        )

        if path == "/projects" and method == "GET":
            return self._page("listProjects", "projects", list(self.projects.values()), request)
        if m := re.fullmatch(r"/projects/([^/]+)/datasets", path):
            pid = m[1]
            if method == "GET":
                objs = [
                    {**d, "itemCount": len(self.items[d["id"]])} if self.report_item_count else d
                    for d in self.datasets.values()
                    if d["projectId"] == pid
                ]
                return self._page("listDatasets", "datasets", objs, request)
            ds = {"id": self._new("ds"), "name": body["name"], "projectId": pid}
            self.datasets[ds["id"]] = ds
            self.items[ds["id"]] = []
            self.fields[ds["id"]] = []
            self.applied["createDataset"] += 1
            return self._json("createDataset", 201, ds)
        if m := re.fullmatch(r"/datasets/([^/]+)/items", path):
            dsid = m[1]
            self._declare(dsid, body.get("fields"))
            self.items[dsid].extend(body["items"])
            self.applied["addDatasetItems"] += 1
            return self._json(
                "addDatasetItems", 200, {"datasetId": dsid, "itemCount": len(body["items"])}
            )
        if m := re.fullmatch(r"/datasets/([^/]+)/uploads", path):
            dsid = m[1]
            up = {"id": self._new("upl"), "datasetId": dsid, "status": "pending"}
            up["uploadUrl"] = f"{STORAGE}/uploads/{up['id']}?X-Signature=s"
            up["uploadMethod"] = "PUT"
            self.uploads[up["id"]] = {**up, "fields": (body or {}).get("fields")}
            self.applied["createUpload"] += 1
            return self._json("createUpload", 201, up)
        if m := re.fullmatch(r"/uploads/([^/]+)/finalize", path):
            up = self.uploads[m[1]]
            if up["status"] != "pending":
                return self._error(409, "Upload was already finalized")
            if m[1] not in self.upload_bytes:
                return self._error(409, "Nothing was uploaded")
            rows = json.loads(self.upload_bytes[m[1]])
            self._declare(up["datasetId"], up["fields"])
            self.items[up["datasetId"]].extend(rows)
            up["status"] = "processing"
            up["itemCount"] = len(rows)
            self.applied["finalizeUpload"] += 1
            return self._json("finalizeUpload", 200, self._public_upload(up))
        if m := re.fullmatch(r"/uploads/([^/]+)", path):
            up = self.uploads[m[1]]
            if up["status"] == "processing":
                up["status"] = "succeeded"
                return self._json(
                    "getUpload", 200, {**self._public_upload(up), "status": "processing"}
                )
            return self._json("getUpload", 200, self._public_upload(up))
        if m := re.fullmatch(r"/datasets/([^/]+)/fields", path):
            return self._json("listDatasetFields", 200, {"fields": self.fields[m[1]]})
        if m := re.fullmatch(r"/projects/([^/]+)/pipelines", path):
            objs = [p for p in self.pipelines.values() if p["projectId"] == m[1]]
            return self._page("listPipelines", "pipelines", objs, request)
        if m := re.fullmatch(r"/pipelines/([^/]+)/copy", path):
            src = self.pipelines[m[1]]
            copy = {
                "id": self._new("pl"),
                "name": (body or {}).get("name") or src["name"] + " (copy)",
                "projectId": (body or {}).get("projectId") or src["projectId"],
                "sourcePipelineId": src["id"],
            }
            self.pipelines[copy["id"]] = copy
            self.applied["copyPipeline"] += 1
            return self._json("copyPipeline", 201, copy)
        if m := re.fullmatch(r"/pipelines/([^/]+)/dataset", path):
            self.attachments[m[1]] = {"pipelineId": m[1], **body}
            self.applied["attachDataset"] += 1
            return httpx.Response(204)
        if m := re.fullmatch(r"/pipelines/([^/]+)/runs", path):
            plid = m[1]
            if method == "GET":
                objs = [r for r in self.runs.values() if r["pipelineId"] == plid]
                return self._page("listRuns", "runs", objs, request)
            att = self.attachments.get(plid)
            if att is None:
                return self._error(409, "No dataset attached")
            total = len(self.items[att["datasetId"]])
            if att.get("itemLimit"):
                total = min(total, att["itemLimit"])
            run = {
                "id": self._new("run"),
                "pipelineId": plid,
                "status": "pending",
                "progress": {"total": total, "completed": 0, "failed": 0},
            }
            self.runs[run["id"]] = run
            self.run_polls[run["id"]] = 0
            self.applied["startRun"] += 1
            return self._json("startRun", 201, run)
        if m := re.fullmatch(r"/runs/([^/]+)", path):
            run = self.runs[m[1]]
            if run["status"] in ("pending", "running"):
                self.run_polls[m[1]] += 1
                total = run["progress"]["total"]
                if self.run_polls[m[1]] >= self.polls_to_finish:
                    run["status"] = self.final_run_status
                    run["progress"]["completed"] = total
                    if self.final_run_status == "failed":
                        run["error"] = {"message": "Pipeline step has no pool"}
                else:
                    run["status"] = "running"
                    run["progress"]["completed"] = total // 2
            return self._json("getRun", 200, run)
        if m := re.fullmatch(r"/datasets/([^/]+)/exports", path):
            exp = {
                "id": self._new("exp"),
                "datasetId": m[1],
                "status": "pending",
                "format": "jsonl",
            }
            self.exports[exp["id"]] = {**exp, "fields": body["fields"]}
            self.applied["createExport"] += 1
            return self._json("createExport", 201, exp)
        if m := re.fullmatch(r"/exports/([^/]+)", path):
            exp = self.exports[m[1]]
            public = {k: v for k, v in exp.items() if k != "fields"}
            if exp["status"] == "pending":
                exp["status"] = "ready"
                exp["downloadUrl"] = f"{STORAGE}/exports/{exp['id']}.jsonl?X-Signature=d"
            return self._json("getExport", 200, public)
        return self._error(404, f"no route {method} {path}")

    def _public_upload(self, up: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in up.items() if k != "fields"}

    def _declare(self, dsid: str, fields: list[dict[str, Any]] | None) -> None:
        known = {f["name"] for f in self.fields[dsid]}
        for f in fields or ():
            if f["name"] not in known:
                self.fields[dsid].append({"id": self._new("fld"), **f})
        if not any(f["name"] == "label" for f in self.fields[dsid]):
            self.fields[dsid].append({"id": self._new("fld"), "name": "label"})

    def _storage(self, request: httpx.Request) -> httpx.Response:
        if "Authorization" in request.headers:
            self.storage_auth_seen.append(str(request.url))
            return httpx.Response(400, text="<Error>Only one auth mechanism allowed</Error>")
        path = request.url.path
        if m := re.fullmatch(r"/uploads/([^/]+)", path):
            if request.method != "PUT":
                return httpx.Response(405)
            if m[1] in self.used_urls:
                return httpx.Response(403, text="<Error>This upload URL was already used</Error>")
            self.used_urls.add(m[1])
            if self.drop_next_put:
                self.drop_next_put = False
                raise Crash("connection lost mid-PUT: the URL is spent, no bytes stored")
            data = request.content
            if request.headers.get("content-length") != str(len(data)):
                return httpx.Response(411, text="Content-Length required")
            self.upload_bytes[m[1]] = data
            self.applied["storagePut"] += 1
            return httpx.Response(200)
        if m := re.fullmatch(r"/exports/([^/]+)\.jsonl", path):
            exp = self.exports[m[1]]
            rows = self.items[exp["datasetId"]]
            out = b"".join(
                json.dumps({**r, "label": f"label-{i}"}).encode() + b"\n"
                for i, r in enumerate(rows)
            )
            return httpx.Response(200, content=out)
        return httpx.Response(404)

    # ------------------------------------------------------------------ views

    def copies(self) -> list[dict[str, Any]]:
        return [p for p in self.pipelines.values() if p.get("sourcePipelineId")]
