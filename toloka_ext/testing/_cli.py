"""The command line: ``python -m toloka_ext.testing serve [options]``.

Example::

    python -m toloka_ext.testing serve --port 0 --db state.sqlite
    # Toloka sandbox on http://127.0.0.1:41234 (v2: ..., v1: ...) api key: sandbox-key
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ._server import ServeError, faults_from_json, serve

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m toloka_ext.testing")
    sub = root.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("serve", help="serve the sandbox over HTTP")
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    cmd.add_argument("--db", default=None, help="SQLite file to keep state across restarts")
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--api-key", default=os.environ.get("TOLOKA_SANDBOX_API_KEY", "sandbox-key"))
    cmd.add_argument(
        "--oauth-token", default=os.environ.get("TOLOKA_SANDBOX_OAUTH_TOKEN", "sandbox-token")
    )
    cmd.add_argument("--faults", default=None, help="FaultConfig as JSON")
    cmd.add_argument("--options", default=None, help="extra Sandbox options as JSON")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code (1 with a one-line message when serving fails)."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        faults = faults_from_json(args.faults)
        options = json.loads(args.options) if args.options else None
    except (ValueError, TypeError) as exc:
        cli.error(f"--faults / --options: {exc}")
    try:
        serve(
            host=args.host,
            port=args.port,
            db_path=args.db,
            seed=args.seed,
            api_key=args.api_key,
            oauth_token=args.oauth_token,
            faults=faults,
            options=options,
        )
    except ServeError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0
