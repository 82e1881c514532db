"""Start Prism mocks of the contracts on 127.0.0.1 and stop them cleanly.

Used by ``make mock`` (serve until Ctrl-C) and by the test suite (``PrismServer`` as a
context manager). Prism is started from ``node_modules/.bin/prism`` directly, in its own
process group, because killing an ``npx`` wrapper leaves the node child running.

    python scripts/mockserver.py                 # v2-beta on :4010, v1 on :4011
    python scripts/mockserver.py --v2-port 0     # any free port, printed on start
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parent.parent
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPECS = {
    "v2-beta": ROOT / "openapi" / "v2-beta.yaml",
    "v1": ROOT / "openapi" / "v1.yaml",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class PrismServer:
    """One ``prism mock`` (or, with ``upstream``, ``prism proxy``) process on 127.0.0.1.

    >>> with PrismServer(SPECS["v2-beta"]) as prism:
    ...     httpx.get(prism.url + "/me", headers={"Authorization": "ApiKey x"})
    """

    def __init__(
        self,
        spec: Path,
        *,
        port: int = 0,
        dynamic: bool = False,
        upstream: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        if not PRISM.exists():
            raise RuntimeError(f"Prism is not installed at {PRISM}: run `npm ci` first")
        self.spec = Path(spec)
        self.port = port or free_port()
        self.dynamic = dynamic
        self.upstream = upstream
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> PrismServer:
        if self.upstream:
            # Validating proxy: forwards to the real API and flags responses that break
            # the spec with an `sl-violations` header.
            cmd = [str(PRISM), "proxy", str(self.spec), self.upstream, "--errors"]
        else:
            cmd = [str(PRISM), "mock", str(self.spec)]
        cmd += ["-h", "127.0.0.1", "-p", str(self.port)]
        if self.dynamic:
            cmd.append("-d")
        self._proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Prism exited early for {self.spec.name}:\n{self.output()}")
            try:
                # Any HTTP answer (even 401/404) means the server is up.
                httpx.get(self.url + "/", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        self.stop()
        raise RuntimeError(f"Prism did not answer within {self.startup_timeout}s")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # The group may hold children that outlive the leader; make sure none remain.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not port_is_free(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> PrismServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v2-port", type=int, default=4010)
    parser.add_argument("--v1-port", type=int, default=4011)
    parser.add_argument("--dynamic", action="store_true", help="generate data from schemas")
    args = parser.parse_args(argv)
    servers = [
        PrismServer(SPECS["v2-beta"], port=args.v2_port, dynamic=args.dynamic),
        PrismServer(SPECS["v1"], port=args.v1_port, dynamic=args.dynamic),
    ]
    stop = False

    def _handle(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _handle)
    try:
        for server in servers:
            server.start()
        print(f"v2-beta mock: {servers[0].url}  (Authorization: ApiKey <anything>)")
        print(f"v1 mock:      {servers[1].url}  (Authorization: OAuth <anything>)")
        print("Ctrl-C to stop.", flush=True)
        while not stop:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for server in servers:
            server.stop()
    print("mocks stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
