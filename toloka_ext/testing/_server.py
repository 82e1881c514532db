"""Serving the sandbox over real HTTP: :func:`serve` (what the ``serve`` command runs) and
:class:`SandboxServer` (that command as a managed child process).

Origins: the API is ``http://127.0.0.1:PORT`` and presigned storage URLs point to
``http://localhost:PORT/_storage/...`` — the same server, a different origin, so a client
that attaches ``Authorization`` only to the API origin sends none to storage (and storage
answers 403 to any request that carries one).

Readiness: ``serve`` binds its socket first (``port=0`` picks a free one), builds every URL
from the port it really got (presigned storage URLs included), and then prints one banner
to stdout: a first line for programs, then indented lines for people::

    Toloka sandbox on URL (v2: URL/api/v2-beta, v1: URL/api/v1) api key: sandbox-key
      v2 projects:  prj-1 "Sandbox project"
      v2 pipelines: pl-1 "Annotate items" (project prj-1)
      v1 pools:     1, pool-1, pool-2 (default overlap 3)
      clients:      TOLOKA_API_KEY=sandbox-key TOLOKA_BASE_URL=URL/api/v2-beta ...

(``URL`` is ``http://127.0.0.1:PORT``.)

A parent process reads the port from the first line; ``SandboxServer`` does exactly that
(and keeps the indented lines out of its own stdout).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Any

from ._clock import VirtualTime
from ._faults import Fault, FaultConfig

if TYPE_CHECKING:
    import uvicorn

    from toloka_ext import AsyncToloka, Toloka

    from ._sandbox import Sandbox

__all__ = [
    "BANNER_PREFIX",
    "SandboxServer",
    "ServeError",
    "UVICORN_MISSING",
    "banner",
    "describe",
    "faults_from_json",
    "faults_to_json",
    "serve",
    "serve_in_background",
]

BANNER_PREFIX = "Toloka sandbox on "
_BANNER = re.compile(re.escape(BANNER_PREFIX) + r"(\S+) ")
UVICORN_MISSING = "the sandbox server needs uvicorn: pip install 'toloka-ext[testing]'"


class ServeError(Exception):
    """``serve`` cannot start (a missing dependency, a port in use): a message, no traceback."""


def faults_from_json(text: str | None) -> FaultConfig | None:
    """A :class:`FaultConfig` from :func:`faults_to_json`'s text (``None`` for none)."""
    if not text:
        return None
    data = json.loads(text)
    faults = []
    for f in data.pop("faults", []):
        f = dict(f, on_nth=tuple(f.get("on_nth", ())))
        if "body_base64" in f:
            f["body"] = base64.b64decode(f.pop("body_base64"))
        faults.append(Fault(**f))
    return FaultConfig(faults=faults, **data)


def faults_to_json(config: FaultConfig) -> str:
    """``config`` as JSON, for the ``--faults`` option of ``serve``."""
    data = asdict(config)
    out = []
    for f in data["faults"]:
        f = dict(f, on_nth=list(f["on_nth"]))
        if f["headers"] is not None:
            f["headers"] = dict(f["headers"])
        if isinstance(f["body"], bytes):
            f["body_base64"] = base64.b64encode(f.pop("body")).decode()
        out.append(f)
    data["faults"] = out
    return json.dumps(data)


def banner(url: str, v2_url: str, v1_url: str, api_key: str) -> str:
    return f"{BANNER_PREFIX}{url} (v2: {v2_url}, v1: {v1_url}) api key: {api_key}"


_LISTED = 8  # objects named per kind in the banner; a long-lived --db may hold thousands


def _listing(items: list[str]) -> str:
    if not items:
        return "(none)"
    more = len(items) - _LISTED
    return ", ".join(items[:_LISTED]) + (f" and {more} more" if more > 0 else "")


def describe(sandbox: Sandbox) -> list[str]:
    """The banner's lines for people: what exists to call, and how to point a client at it."""
    backend = sandbox.backend
    with backend.lock:
        projects = [f'{p["id"]} "{p.get("name", "")}"' for p in backend.all("project")]
        pipelines = [
            f'{p["id"]} "{p.get("name", "")}" (project {p.get("projectId")})'
            for p in backend.all("pipeline")
        ]
        pools = [
            p["id"] + (f" (default overlap {n})" if (n := p.get("default_overlap")) else "")
            for p in backend.all("pool")
        ]
    return [
        f"  v2 projects:  {_listing(projects)}",
        f"  v2 pipelines: {_listing(pipelines)}",
        f"  v1 pools:     {_listing(pools)}",
        f"  clients:      TOLOKA_API_KEY={sandbox.api_key} TOLOKA_BASE_URL={sandbox.v2_base_url}"
        f" TOLOKA_V1_BASE_URL={sandbox.v1_base_url}",
    ]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets that
    # say so, and with Nagle on every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # As uvicorn does: a restart on the same port must not wait for TIME_WAIT to clear.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    return sock


@contextmanager
def _signals_stop(server: uvicorn.Server) -> Iterator[None]:
    """SIGTERM / SIGINT stop ``server`` from before the banner is printed to after uvicorn
    returns.

    Installed before the banner because a reader may signal as soon as it has read it,
    before uvicorn has put its own handlers in place: the signal then sets
    ``should_exit``, so uvicorn starts and stops at once (a handler that ignored it left the
    server running for good). After its graceful shutdown uvicorn re-raises the signal that
    stopped it; here that re-raise just returns, so ``serve`` closes the sandbox and a
    SIGTERM'd server exits 0 (and Ctrl-C prints no traceback)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def stop(_sig: int, _frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    db_path: str | Path | None = None,
    seed: int = 0,
    api_key: str = "sandbox-key",
    oauth_token: str = "sandbox-token",
    faults: FaultConfig | None = None,
    options: Mapping[str, Any] | None = None,
    out: IO[str] | None = None,
) -> None:
    """Serve a sandbox on ``host:port`` until SIGTERM / SIGINT (``port=0``: any free port).

    Prints the banner (see the module docstring) to ``out`` (stdout) once the socket
    listens. Raises
    :class:`ServeError` without uvicorn or when the port cannot be bound.

    Example:
        serve(port=0, db_path="state.sqlite")   # blocks; the banner names the port
    """
    try:
        import uvicorn
    except ImportError:
        raise ServeError(UVICORN_MISSING) from None

    from ._sandbox import Sandbox

    sock = _bind(host, port)
    try:
        real_port = int(sock.getsockname()[1])
        url_host = f"[{host}]" if ":" in host else host
        storage_host = "localhost" if host == "127.0.0.1" else "127.0.0.1"
        sandbox = Sandbox(
            api_key=api_key,
            oauth_token=oauth_token,
            seed=seed,
            db_path=db_path,
            faults=faults,
            api_base=f"http://{url_host}:{real_port}",
            storage_base=f"http://{storage_host}:{real_port}",
            allow_kill=True,
            **dict(options or {}),
        )
        try:
            config = uvicorn.Config(
                sandbox.asgi_app, log_level="warning", lifespan="on", access_log=False
            )
            server = uvicorn.Server(config)
            with _signals_stop(server):
                stream = out or sys.stdout
                line = banner(sandbox.url, sandbox.v2_base_url, sandbox.v1_base_url, api_key)
                stream.write("\n".join([line, *describe(sandbox)]) + "\n")
                stream.flush()
                server.run(sockets=[sock])
        finally:
            sandbox.close()
    finally:
        sock.close()


class SandboxServer:
    """The sandbox as a real server process (a context manager).

    Without ``port`` it asks for any free port and reads the one it got from the server's
    banner line; a restart (``start()`` after ``kill()`` / ``stop()``) reuses that port, so
    URLs held by the test stay valid. Options are the :class:`Sandbox` keyword arguments
    that JSON can carry (so not ``rewrite``, ``clock`` or ``record_requests``' records).

    Example:
        with SandboxServer(db_path=tmp_path / "sb.db") as server:
            httpx.get(f"{server.v2_base_url}/projects", headers=server.auth_headers("v2"))
            server.kill()      # the process dies mid-flight
            server.start()     # ...and comes back with the same data on the same port
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
        try:
            json.dumps(options)  # fail here, not in the child process
        except TypeError as exc:
            raise TypeError(
                f"SandboxServer options must be JSON values ({exc}); rewrite= and clock= "
                "work in-process only (Sandbox, mock_toloka)"
            ) from None
        self.port = port
        self.db_path = db_path
        self.seed = seed
        self.api_key = api_key
        self.oauth_token = oauth_token
        self.faults = faults
        self.options = options
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.banner: str | None = None
        self.client_time = VirtualTime()
        """The virtual time of :meth:`client` / :meth:`async_client` (``.slept``, ``.sleeps``)."""

    def _require_port(self) -> int:
        if self.port is None:
            raise RuntimeError("the server has no port yet: start() it first")
        return self.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._require_port()}"

    @property
    def storage_url(self) -> str:
        return f"http://localhost:{self._require_port()}"

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

    def client(self, **kwargs: Any) -> Toloka:
        """A :class:`toloka_ext.Toloka` on this server over real HTTP, on virtual time.

        ``api_key``, ``base_url`` and ``v1_base_url`` are the server's; ``sleep`` and
        ``clock`` run on :attr:`client_time`, so nothing really waits between polls (the
        sandbox moves on when polled) and poll timeouts are reached after the same waits
        every run. Keyword arguments override these.

        Example:
            with SandboxServer() as server, server.client() as client:
                client.process_new_data("pl-1", rows)
        """
        from toloka_ext import Toloka

        self._client_defaults(kwargs)
        kwargs.setdefault("sleep", self.client_time.sleep)
        return Toloka(**kwargs)

    def async_client(self, **kwargs: Any) -> AsyncToloka:
        """A :class:`toloka_ext.AsyncToloka` on this server (see :meth:`client`)."""
        from toloka_ext import AsyncToloka

        self._client_defaults(kwargs)
        kwargs.setdefault("sleep", self.client_time.async_sleep)
        return AsyncToloka(**kwargs)

    def _client_defaults(self, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.v2_base_url)
        kwargs.setdefault("v1_base_url", self.v1_base_url)
        if "sleep" not in kwargs:  # a caller's own sleep keeps the real clock with it
            kwargs.setdefault("clock", self.client_time.monotonic)

    def start(self) -> SandboxServer:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("already running")
        if importlib.util.find_spec("uvicorn") is None:
            # Said here, not as "exited with 1" after the child printed it to its stderr.
            raise ModuleNotFoundError(UVICORN_MISSING, name="uvicorn")
        cmd = [
            sys.executable, "-m", "toloka_ext.testing", "serve",
            "--port", str(self.port or 0), "--seed", str(self.seed),
        ]  # fmt: skip
        if self.db_path is not None:
            cmd += ["--db", str(self.db_path)]
        if self.faults is not None:
            cmd += ["--faults", faults_to_json(self.faults)]
        if self.options:
            cmd += ["--options", json.dumps(self.options)]
        env = dict(os.environ)
        env["TOLOKA_SANDBOX_API_KEY"] = self.api_key
        env["TOLOKA_SANDBOX_OAUTH_TOKEN"] = self.oauth_token
        self.process = subprocess.Popen(
            cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, text=True
        )
        self._wait_for_banner(self.process)
        return self

    def _wait_for_banner(self, process: subprocess.Popen[str]) -> None:
        lines: queue.Queue[str | None] = queue.Queue()
        stdout = process.stdout
        assert stdout is not None

        def pump() -> None:
            # Hands the banner over, then keeps draining stdout (a full pipe would block
            # the server) and passes anything else through but the banner's lines for people.
            banner_seen = in_banner = False
            for line in stdout:
                if not banner_seen and line.startswith(BANNER_PREFIX):
                    banner_seen = in_banner = True
                    lines.put(line.rstrip("\n"))
                    continue
                in_banner = in_banner and line.startswith("  ")
                if in_banner:
                    continue
                try:
                    sys.stdout.write(line)
                except (OSError, ValueError):  # our stdout went away (interpreter exit)
                    pass
            stdout.close()  # here, not in stop(): closing under a reading thread races
            lines.put(None)

        threading.Thread(target=pump, name="sandbox-server-stdout", daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.stop()
            raise TimeoutError(
                f"sandbox server printed no banner within {self.startup_timeout} s"
            ) from None
        if line is None:
            code = process.wait()
            self.process = None
            raise RuntimeError(f"sandbox server exited with {code} before listening")
        found = _BANNER.match(line)
        if found is None:  # pragma: no cover - the banner is ours
            self.stop()
            raise RuntimeError(f"unreadable banner: {line!r}")
        self.banner = line
        self.port = int(found[1].rsplit(":", 1)[1])

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
    """A started :class:`SandboxServer` (stop it, or use it as a context manager).

    Example:
        server = serve_in_background(seed=3)
        try:
            ...
        finally:
            server.stop()
    """
    return SandboxServer(**options).start()
