"""The command line: ``python -m toloka_ext.testing serve [options]``.

Example::

    python -m toloka_ext.testing serve --port 0 --db state.sqlite
    # Toloka sandbox on http://127.0.0.1:41234 (v2: ..., v1: ...) api key: sandbox-key
    #   v2 projects:  prj-1 "Sandbox project"
    #   ...

``serve --help`` lists every option with its default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from ._server import ServeError, faults_from_json, serve

__all__ = ["main", "parser"]

_DESCRIPTION = """\
Serve a stateful local Toloka (Pipeline API v2-beta and API v1 tasks) over HTTP, for
trying toloka-ext and for testing code that calls Toloka without an account.

Once listening it prints one banner: the URL, the v2 and v1 base URLs, the API key, the
seeded projects, pipelines and v1 pools, and the environment variables that point a
toloka_ext client at it. Stop it with Ctrl-C (or SIGTERM)."""

_EPILOG = """\
examples:
  python -m toloka_ext.testing serve --port 0
  python -m toloka_ext.testing serve --db state.sqlite --options '{"run_polls": 1}'

then, in another shell (the banner prints these values):
  TOLOKA_API_KEY=sandbox-key TOLOKA_BASE_URL=http://127.0.0.1:8765/api/v2-beta \\
  TOLOKA_V1_BASE_URL=http://127.0.0.1:8765/api/v1 python your_script.py

needs the testing extra: pip install 'toloka-ext[testing]'"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's line breaks and shows each default, but not ``None``: an
    option without a default says in its help what happens then."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m toloka_ext.testing",
        description="The toloka_ext sandbox: a local, stateful Toloka for tests and trials.",
        epilog="Run 'python -m toloka_ext.testing serve --help' for the options.",
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cmd = sub.add_parser(
        "serve",
        help="serve the sandbox over HTTP",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_HelpFormatter,
    )
    cmd.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)"
    )
    cmd.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to listen on; 0 picks a free one, which the banner then names",
    )
    cmd.add_argument(
        "--db",
        default=None,
        metavar="FILE",
        help="SQLite file keeping the state across restarts (default: in memory, lost on exit)",
    )
    cmd.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the fake labeller, of task and operation ids and of random faults",
    )
    # Defaults resolved after parsing, so that --help never shows the environment's values.
    cmd.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="the API key clients must send (ApiKey, both APIs) "
        "(default: $TOLOKA_SANDBOX_API_KEY, else sandbox-key)",
    )
    cmd.add_argument(
        "--oauth-token",
        default=None,
        metavar="TOKEN",
        help="an OAuth token also accepted by API v1 "
        "(default: $TOLOKA_SANDBOX_OAUTH_TOKEN, else sandbox-token)",
    )
    cmd.add_argument(
        "--faults",
        default=None,
        metavar="JSON",
        help="scripted faults, latency and rate limits: a FaultConfig as JSON "
        "(toloka_ext.testing._server.faults_to_json writes it) (default: none)",
    )
    cmd.add_argument(
        "--options",
        default=None,
        metavar="JSON",
        help="other Sandbox options as a JSON object, e.g. "
        '\'{"run_polls": 1, "max_page_size": 2}\' (default: none; see help(Sandbox))',
    )
    return root


def _check_options(options: object) -> None:
    """Unknown or flag-owned keys are a usage error here, not a traceback from the server."""
    import dataclasses

    from ._config import SandboxConfig

    if not isinstance(options, dict):
        raise ValueError("--options must be a JSON object")
    known = {f.name for f in dataclasses.fields(SandboxConfig)} - _FLAG_OWNED
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


# Set by their own flags, or meaningless in a served process.
_FLAG_OWNED = frozenset(
    {"api_key", "oauth_token", "seed", "db_path", "faults", "api_base", "storage_base", "clock"}
    | {"rewrite", "record_requests", "allow_kill"}
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code (1 with a one-line message when serving fails)."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        faults = faults_from_json(args.faults)
        options = json.loads(args.options) if args.options else None
        if options is not None:
            _check_options(options)
    except (ValueError, TypeError) as exc:
        cli.error(f"--faults / --options: {exc}")
    try:
        serve(
            host=args.host,
            port=args.port,
            db_path=args.db,
            seed=args.seed,
            api_key=args.api_key or os.environ.get("TOLOKA_SANDBOX_API_KEY", "sandbox-key"),
            oauth_token=args.oauth_token
            or os.environ.get("TOLOKA_SANDBOX_OAUTH_TOKEN", "sandbox-token"),
            faults=faults,
            options=options,
        )
    except ServeError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0
