"""``make contract-live``: check the snapshot against the live v2-beta API.

Runs Prism as a validating proxy (``prism proxy <spec> <upstream> --errors``) and drives a
read-only smoke workflow through it (me, projects, datasets, pipelines, runs). Every
response that breaks the snapshot comes back flagged with ``sl-violations``: the drift
between the snapshot and the live API, named. Without ``TOLOKA_API_KEY`` it is skipped
with one line (exit 0, nothing claimed).

Exit codes: 0 no drift (or skipped), 1 drift found, 2 the API could not be used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.mockserver import SPECS, PrismServer  # noqa: E402

UPSTREAM = "https://platform.toloka.ai/api/v2-beta"


def _first_id(body: object, key: str) -> str | None:
    if isinstance(body, dict) and isinstance(body.get(key), list) and body[key]:
        first = body[key][0]
        if isinstance(first, dict) and isinstance(first.get("id"), str):
            return first["id"]
    return None


def smoke(client: httpx.Client) -> list[tuple[str, int, str]]:
    """The read-only walk; returns (request, status, violations) for every call made."""
    seen: list[tuple[str, int, str]] = []

    def get(path: str, **params: object) -> object:
        response = client.get(path, params=params)
        seen.append(
            (f"GET {path}", response.status_code, response.headers.get("sl-violations", ""))
        )
        try:
            return response.json()
        except ValueError:
            return None

    get("/me")
    project = _first_id(get("/projects", limit=5), "projects")
    if project:
        get(f"/projects/{project}/datasets", limit=5)
        pipeline = _first_id(get(f"/projects/{project}/pipelines", limit=5), "pipelines")
        if pipeline:
            run = _first_id(get(f"/pipelines/{pipeline}/runs", limit=5), "runs")
            if run:
                get(f"/runs/{run}")
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", default=os.environ.get("TOLOKA_BASE_URL", UPSTREAM))
    parser.add_argument("--spec", type=Path, default=SPECS["v2-beta"])
    args = parser.parse_args(argv)
    key = os.environ.get("TOLOKA_API_KEY")
    if not key:
        print(
            "contract-live: SKIPPED - set TOLOKA_API_KEY to check the snapshot against the live API"
        )
        return 0
    with PrismServer(args.spec, upstream=args.upstream) as prism:
        headers = {"Authorization": f"ApiKey {key}"}
        with httpx.Client(base_url=prism.url, headers=headers, timeout=60) as client:
            try:
                seen = smoke(client)
            except httpx.HTTPError as exc:
                print(f"contract-live: could not reach the API through Prism: {type(exc).__name__}")
                return 2
    drift = 0
    for request, status, violations in seen:
        mark = "DRIFT" if violations else "ok"
        print(f"  {mark:5} {status} {request}")
        if violations:
            drift += 1
            try:
                for v in json.loads(violations):
                    print(f"        {v.get('location')}: {v.get('message')}")
            except ValueError:
                print(f"        {violations}")
    if seen and all(status in (401, 403) for _, status, _ in seen):
        print("contract-live: the API rejected the key (401/403)")
        return 2
    print(f"contract-live: {len(seen)} calls, {drift} with drift from {args.spec.name}")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
