"""A local HTTP server for tests: canned answers per path on 127.0.0.1, a free port."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class RouteServer:
    """Answers ``GET path`` with what :meth:`set` put there (404 elsewhere).

    Records each request as ``(path, Authorization header)`` in ``hits``. Use it as a
    context manager: the server thread is stopped and joined on exit.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                requests.append((self.path, self.headers.get("Authorization", "")))
                status, ctype, body = routes.get(path, (404, "text/plain", b"no such path"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def hits(self) -> list[str]:
        return [path for path, _ in self.requests]

    def url(self, path: str = "/doc") -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def set(
        self,
        body: bytes | str | dict[str, Any],
        *,
        path: str = "/doc",
        status: int = 200,
        ctype: str = "",
    ) -> None:
        """Serve ``body`` at ``path``: a dict as JSON, text as YAML unless ``ctype`` says."""
        if isinstance(body, dict):
            body, ctype = json.dumps(body), ctype or "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = (status, ctype or "application/yaml", body)

    def __enter__(self) -> RouteServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
