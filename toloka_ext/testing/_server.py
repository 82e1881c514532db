"""Serving the sandbox over real HTTP: the ``serve`` command and ``SandboxServer``.

Origins: the API is ``http://127.0.0.1:PORT`` and presigned storage URLs point to
``http://localhost:PORT/_storage/...`` — the same server, a different origin, so a client
that attaches ``Authorization`` only to the API origin sends none to storage (and storage
answers 403 to any request that carries one).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any

from ._faults import Fault, FaultConfig

__all__ = ["SandboxServer", "serve_in_background", "main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _faults_from_json(text: str | None) -> FaultConfig | None:
    if not text:
        return None
    data = json.loads(text)
    faults = [Fault(**{**f, "on_nth": tuple(f.get("on_nth", ()))}) for f in data.pop("faults", [])]
    return FaultConfig(faults=faults, **data)


def _faults_to_json(config: FaultConfig) -> str:
    data = asdict(config)
    data["faults"] = [dict(f, on_nth=list(f["on_nth"])) for f in data["faults"]]
    return json.dumps(data)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m toloka_ext.testing serve --port N [--db FILE] [--seed S] [--api-key K]``."""
    parser = argparse.ArgumentParser(prog="python -m toloka_ext.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the sandbox over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", default=None, help="SQLite file to keep state across restarts")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--api-key", default=os.environ.get("TOLOKA_SANDBOX_API_KEY", "sandbox-key"))
    serve.add_argument(
        "--oauth-token", default=os.environ.get("TOLOKA_SANDBOX_OAUTH_TOKEN", "sandbox-token")
    )
    serve.add_argument("--faults", default=None, help="FaultConfig as JSON")
    serve.add_argument("--options", default=None, help="extra Sandbox options as JSON")
    args = parser.parse_args(argv)

    import uvicorn

    from ._sandbox import Sandbox

    storage_host = "localhost" if args.host == "127.0.0.1" else "127.0.0.1"
    options: dict[str, Any] = json.loads(args.options) if args.options else {}
    sandbox = Sandbox(
        api_key=args.api_key,
        oauth_token=args.oauth_token,
        seed=args.seed,
        db_path=args.db,
        faults=_faults_from_json(args.faults),
        api_base=f"http://{args.host}:{args.port}",
        storage_base=f"http://{storage_host}:{args.port}",
        allow_kill=True,
        **options,
    )
    try:
        uvicorn.run(
            sandbox.asgi_app,
            host=args.host,
            port=args.port,
            log_level="warning",
            lifespan="on",
            access_log=False,
        )
    finally:
        sandbox.close()
    return 0


class SandboxServer:
    """The sandbox as a real server process on a free port (a context manager).

    Example:
        with SandboxServer(db_path=tmp_path / "sb.db") as server:
            httpx.get(f"{server.v2_base_url}/projects", headers=server.auth_headers("v2"))
            server.kill()      # the process dies mid-flight
            server.start()     # ...and comes back with the same data
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        db_path: str | Path | None = None,
        seed: int = 0,
        api_key: str = "sandbox-key",
        oauth_token: str = "sandbox-token",
        faults: FaultConfig | None = None,
        startup_timeout: float = 20.0,
        **options: Any,
    ) -> None:
        self.port = port or free_port()
        self.db_path = db_path
        self.seed = seed
        self.api_key = api_key
        self.oauth_token = oauth_token
        self.faults = faults
        self.options = options
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def v2_base_url(self) -> str:
        return f"{self.url}/api/v2-beta"

    @property
    def v1_base_url(self) -> str:
        return f"{self.url}/api/v1"

    def auth_headers(self, api: str = "v2") -> dict[str, str]:
        if api == "v1":
            return {"Authorization": f"OAuth {self.oauth_token}"}
        return {"Authorization": f"ApiKey {self.api_key}"}

    def start(self) -> SandboxServer:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("already running")
        cmd = [
            sys.executable, "-m", "toloka_ext.testing", "serve",
            "--port", str(self.port), "--seed", str(self.seed),
        ]  # fmt: skip
        if self.db_path is not None:
            cmd += ["--db", str(self.db_path)]
        if self.faults is not None:
            cmd += ["--faults", _faults_to_json(self.faults)]
        if self.options:
            cmd += ["--options", json.dumps(self.options)]
        env = dict(os.environ)
        env["TOLOKA_SANDBOX_API_KEY"] = self.api_key
        env["TOLOKA_SANDBOX_OAUTH_TOKEN"] = self.oauth_token
        self.process = subprocess.Popen(cmd, env=env, start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)  # polling the port for readiness, not synchronising tests
        self.stop()
        raise TimeoutError(f"sandbox server did not listen on port {self.port}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """Stop the process at once (SIGKILL): requests in flight get no answer."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_background(**options: Any) -> SandboxServer:
    """A started :class:`SandboxServer` (stop it, or use it as a context manager)."""
    return SandboxServer(**options).start()
