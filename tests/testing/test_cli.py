"""``python -m toloka_ext.testing serve``: the banner, ``--port 0``, and failing clearly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap

import httpx
import pytest

from toloka_ext.testing import SandboxServer
from toloka_ext.testing import _server as server_module
from toloka_ext.testing._cli import main

from ._serve import read_lines, serve_process

BANNER = re.compile(
    r"Toloka sandbox on http://127\.0\.0\.1:(?P<port>\d+) "
    r"\(v2: http://127\.0\.0\.1:(?P=port)/api/v2-beta, v1: http://127\.0\.0\.1:(?P=port)/api/v1\) "
    r"api key: (?P<key>\S+)"
)


def test_port_0_prints_the_real_port_and_uses_it_everywhere() -> None:
    with serve_process("--port", "0", "--api-key", "k-1") as process:
        [line] = read_lines(process, 1)
        found = BANNER.fullmatch(line)
        assert found is not None, line
        port = int(found["port"])
        assert port != 0 and found["key"] == "k-1"
        base = f"http://127.0.0.1:{port}/api/v2-beta"
        h = {"Authorization": "ApiKey k-1"}
        with httpx.Client(timeout=10) as http:
            assert http.get(f"{base}/me", headers=h).status_code == 200
            ds = http.post(f"{base}/projects/prj-1/datasets", headers=h, json={"name": "d"})
            up = http.post(f"{base}/datasets/{ds.json()['id']}/uploads", headers=h).json()
            assert httpx.URL(up["uploadUrl"]).port == port  # presigned URLs: the real port
            assert http.put(up["uploadUrl"], content=b"[]").status_code == 200
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(10) == 0  # a clean shutdown on SIGTERM


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "toloka_ext.testing", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


def test_without_uvicorn_the_command_says_what_to_install() -> None:
    # A child where `import uvicorn` fails, as in an install without the testing extra.
    code = (
        "import runpy, sys\n"
        "sys.modules['uvicorn'] = None\n"
        "sys.argv = ['toloka_ext.testing', 'serve', '--port', '0']\n"
        "runpy.run_module('toloka_ext.testing', run_name='__main__', alter_sys=True)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr == (
        "the sandbox server needs uvicorn: pip install 'toloka-ext[testing]'\n"
    )
    assert result.stdout == ""


def test_main_without_uvicorn_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve", "--port", "0"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == server_module.UVICORN_MISSING + "\n"


def test_bad_json_options_are_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "0", "--faults", "{not json"])
    assert exit_info.value.code == 2 and "--faults" in capsys.readouterr().err


def test_the_command_line_lives_outside_the_server_module() -> None:
    assert not hasattr(server_module, "main") and not hasattr(server_module, "argparse")


def test_sandbox_server_learns_its_port_from_the_banner() -> None:
    server = SandboxServer()
    with pytest.raises(RuntimeError, match="start"):
        _ = server.url
    with server:
        assert server.port and server.banner is not None
        assert BANNER.fullmatch(server.banner) is not None
        assert f":{server.port} " in server.banner
        assert httpx.get(f"{server.v2_base_url}/me", headers=server.auth_headers()).is_success
        port = server.port
        server.kill()
        server.start()  # a restart keeps the port, so URLs held by the test stay valid
        assert server.port == port
        assert httpx.get(f"{server.v2_base_url}/me", headers=server.auth_headers()).is_success


def test_sandbox_server_refuses_options_json_cannot_carry() -> None:
    with pytest.raises(TypeError, match="in-process only"):
        SandboxServer(rewrite=lambda op, body: body)


def test_sandbox_server_reports_a_process_that_never_listened() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="exited with 1 before listening"):
            SandboxServer(port=taken.getsockname()[1]).start()


def test_the_listening_socket_turns_nagle_off() -> None:
    # Pre-bound sockets must say IPPROTO_TCP, or asyncio leaves Nagle on and each keep-alive
    # request waits for a delayed ACK (a served sandbox ~100x slower).
    sock = server_module._bind("127.0.0.1", 0)
    with sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockname()[1] != 0


def test_a_stop_signal_as_soon_as_the_banner_is_out_stops_the_server() -> None:
    # A reader may signal the moment it has the banner, before uvicorn has put its own
    # handlers in place. The child sends itself SIGTERM from inside the banner's flush, the
    # earliest such moment: the server must still start, stop cleanly and exit 0 (it used
    # to swallow that signal and serve for good).
    code = textwrap.dedent(
        """
        import io, os, signal, sys
        from toloka_ext.testing._server import serve

        class SignalOnFlush(io.StringIO):
            def flush(self):
                sys.stdout.write(self.getvalue())
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGTERM)

        serve(port=0, out=SignalOnFlush())
        print("returned")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert BANNER.fullmatch(lines[0]) and lines[-1] == "returned"
