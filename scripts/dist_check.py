"""``make dist-check``: build the sdist and the wheel, check them, install the wheel into
clean virtualenvs and run the README's quick starts there, as a pip user would.

    python scripts/dist_check.py [--out dist]      # exit 0: every step passed

CI runs it on every push (``.ci/run``) and the release workflow runs it before publishing,
so what is published is what was checked. The steps:

1. **build**: ``python -m build --no-isolation``: the sdist, then the wheel built *from the
   sdist* (so a file missing from the sdist fails here), with the pinned hatchling;
2. **check**: ``twine check --strict`` (the metadata, and the README as PyPI renders it),
   the LICENSE in both, the project URLs, ``py.typed`` and the generated package in the
   wheel;
3. **no extras**: a fresh virtualenv with the wheel alone: it imports with its version, runs
   the README's Python quick start with the output the README shows, and the commands that
   need an extra name it instead of failing with a traceback;
4. **cli,testing**: another fresh virtualenv with the wheel and those extras:
   ``toloka-ext --version``, then the README's command-line quick start (the commands and
   their output as the README shows them) against ``toloka-ext sandbox serve`` run from that
   virtualenv.

Offline on purpose (CI machines reach PyPI and npm only, and a check should not depend on
them): the build uses this environment's pinned hatchling, and the dependencies come from a
wheelhouse packed from this environment's installed copies, which pip installs with
``--no-index``. pip still resolves the wheel's declared dependencies itself, so one missing
from ``pyproject.toml`` fails the install here as it would for a user.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib.metadata as md
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import venv
import zipfile
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TIMEOUT = 180
_SKIP_IN_DIST_INFO = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}


class CheckFailed(Exception):
    """A step found something wrong: the message says what, and how to see more."""


def log(message: str) -> None:
    print(f"dist-check: {message}", flush=True)


def run(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        raise CheckFailed(
            f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
        )
    return result


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# -- 1. build, 2. check -------------------------------------------------------------------


def build(out: Path) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it, in ``out``."""
    shutil.rmtree(out, ignore_errors=True)
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)])
    (sdist,) = out.glob("toloka_ext-*.tar.gz")
    (wheel,) = out.glob("toloka_ext-*.whl")
    return sdist, wheel


def check_files(sdist: Path, wheel: Path, version: str) -> None:
    run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)])
    expect(f"-{version}-" in wheel.name, f"{wheel.name} is not version {version}")
    license_text = (ROOT / "LICENSE").read_bytes()
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
        licenses = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/licenses/LICENSE", n)]
        expect(bool(licenses), f"no LICENSE in {wheel.name}")
        expect(whl.read(licenses[0]) == license_text, "the wheel's LICENSE differs")
        meta = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    expect("License-Expression: Apache-2.0" in meta, "no License-Expression in the metadata")
    for label in ("Homepage", "Documentation", "Source", "Issues"):
        expect(f"Project-URL: {label}, https://" in meta, f"no {label} URL in the metadata")
    expect("Classifier: Typing :: Typed" in meta, "no Typing :: Typed classifier")
    for needed in ("toloka_ext/py.typed", "toloka_pipeline_api/__init__.py"):
        expect(needed in names, f"{needed} is not in {wheel.name}")
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    for needed in ("LICENSE", "README.md", "pyproject.toml", "toloka_ext/py.typed"):
        expect(needed in members, f"{needed} is not in {sdist.name}")


# -- the offline wheelhouse ----------------------------------------------------------------


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def repack(dist: md.Distribution, out: Path) -> Path:
    """A wheel of an installed distribution, from its recorded files (tagged as pip
    recorded it, so a compiled one fits only this interpreter, which is all it is for)."""
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag: (\S+)$", wheel_meta, re.M)
    tag = "py3-none-any" if "Root-Is-Purelib: true" in wheel_meta else tags[0]
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    version = dist.version
    info_dir = f"{name}-{version}.dist-info"
    target = out / f"{name}-{version}-{tag}.whl"
    records: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as whl:
        for file in dist.files or ():
            parts = file.parts
            if parts[0] == ".." or "__pycache__" in parts:
                continue  # console scripts (pip makes them anew) and bytecode
            in_info = parts[0].endswith(".dist-info")
            if in_info and parts[-1] in _SKIP_IN_DIST_INFO:
                continue
            data = Path(str(file.locate())).read_bytes()
            arcname = "/".join((info_dir, *parts[1:]) if in_info else parts)
            whl.writestr(arcname, data)
            records.append((arcname, _record_hash(data), str(len(data))))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows([*records, (f"{info_dir}/RECORD", "", "")])
        whl.writestr(f"{info_dir}/RECORD", buf.getvalue())
    return target


def runtime_closure(
    requirements: Iterable[str], extras: Iterable[str] = ()
) -> list[md.Distribution]:
    """The installed distributions that ``requirements`` (with ``extras`` of the first
    level) pull in, transitively."""
    seen: dict[str, md.Distribution] = {}
    wanted = [""] + list(extras)
    todo = [(Requirement(r), wanted) for r in requirements]
    while todo:
        req, active = todo.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in active):
            continue
        key = canonicalize_name(req.name)
        dist = seen.get(key) or md.distribution(req.name)
        if not req.specifier.contains(dist.version, prereleases=True):
            raise CheckFailed(f"{req} is not satisfied here ({dist.version} is installed)")
        own = sorted(req.extras)
        if key in seen and not own:
            continue
        seen[key] = dist
        todo.extend((Requirement(r), ["", *own]) for r in dist.requires or ())
    return list(seen.values())


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as whl:
        meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        return [
            line.split(":", 1)[1].strip()
            for line in whl.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]


def fresh_env(where: Path, wheel: Path, house: Path, extras: tuple[str, ...] = ()) -> Path:
    """A new virtualenv with the wheel (and ``extras``) installed offline; its bin dir."""
    for dist in runtime_closure(wheel_requirements(wheel), extras):
        if not list(house.glob(f"{canonicalize_name(dist.metadata['Name']).replace('-', '_')}-*")):
            repack(dist, house)
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    bin_dir = where / "bin"
    spec = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-index"]
        + ["--disable-pip-version-check", "--find-links", str(house), spec]
    )
    return bin_dir


def clean_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """No Toloka settings, no PYTHONPATH, the virtualenv first on PATH: a user's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOLOKA_", "PYTHON"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1", **extra)
    env.pop("VIRTUAL_ENV", None)
    return env


# -- the README's quick starts -------------------------------------------------------------


def fenced_blocks(markdown: str) -> list[tuple[str, str, bool]]:
    """``(language, code, follows_directly)`` for each fenced block: ``follows_directly`` is
    true when only blank lines separate it from the block before."""
    blocks: list[tuple[str, str, bool]] = []
    lines = markdown.splitlines()
    i, last_end = 0, -2
    while i < len(lines):
        opening = re.match(r"^```(\w*)\s*$", lines[i])
        if opening is None:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        adjacent = all(not ln.strip() for ln in lines[last_end + 1 : i]) and last_end >= 0
        blocks.append((opening[1], "\n".join(lines[i + 1 : end]) + "\n", adjacent))
        i, last_end = end + 1, end
    return blocks


def quick_start_blocks(readme: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(python code, its output) and (toloka-ext commands, their output): the first of
    each in the README's "Quick start" section, with the text block right after it."""
    section = readme.split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = fenced_blocks(section)
    pairs = [
        (lang, code, blocks[n + 1][1])
        for n, (lang, code, _) in enumerate(blocks[:-1])
        if blocks[n + 1][0] == "text" and blocks[n + 1][2]
    ]
    python = next(((c, o) for lang, c, o in pairs if lang == "python"), None)
    shell = next(((c, o) for lang, c, o in pairs if lang == "sh" and "toloka-ext" in c), None)
    if python is None or shell is None:
        raise CheckFailed("the README's quick start (python and toloka-ext, with output) is gone")
    return python, shell


def check_no_extras(bin_dir: Path, work: Path, version: str, python: tuple[str, str]) -> None:
    py = str(bin_dir / "python")
    out = run([py, "-c", _IMPORT_CHECK], env=clean_env(bin_dir)).stdout
    expect(out.split() == [version, "no-extras"], f"import check printed {out!r}")
    code, shown = python
    (work / "quick.py").write_text(code)
    out = run([py, "quick.py"], cwd=work, env=clean_env(bin_dir)).stdout
    expect(
        out.rstrip() == shown.rstrip(),
        f"the README's quick start printed\n{out}instead of\n{shown}",
    )
    for cmd, extra in (
        ([str(bin_dir / "toloka-ext"), "--help"], "cli"),
        ([py, "-m", "toloka_ext.testing", "serve", "--port", "0"], "testing"),
    ):
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT, env=clean_env(bin_dir)
        )
        text = result.stdout + result.stderr
        expect(
            result.returncode != 0 and "Traceback" not in text,
            f"{cmd} without extras: exit {result.returncode}\n{text}",
        )
        expect(f"pip install 'toloka-ext[{extra}]'" in text, f"{cmd} does not name [{extra}]")


_IMPORT_CHECK = """
import importlib.util, toloka_ext, toloka_ext.types, toloka_ext.testing
print(toloka_ext.__version__)
missing = [m for m in ("typer", "rich", "uvicorn", "pandas") if importlib.util.find_spec(m)]
print("no-extras" if not missing else f"extras present: {missing}")
"""


def check_cli(bin_dir: Path, work: Path, version: str, shell: tuple[str, str]) -> None:
    cli = str(bin_dir / "toloka-ext")
    out = run([cli, "--version"], env=clean_env(bin_dir)).stdout
    expect(out.strip() == f"toloka-ext {version}", f"--version printed {out!r}")
    server = subprocess.Popen(
        [cli, "sandbox", "serve", "--port", "0"],
        env=clean_env(bin_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    drain: threading.Thread | None = None
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # blocks until the server listens, or exits
        # Keep reading what it prints after the banner: a full pipe would block the server.
        drain = threading.Thread(target=server.stdout.read, daemon=True)
        drain.start()
        found = re.search(r"http://127\.0\.0\.1:(\d+) ", banner)
        expect(found is not None, f"sandbox serve printed {banner!r}")
        assert found is not None
        url = f"http://127.0.0.1:{found[1]}"
        env = clean_env(
            bin_dir,
            TOLOKA_API_KEY="sandbox-key",
            TOLOKA_BASE_URL=f"{url}/api/v2-beta",
            TOLOKA_V1_BASE_URL=f"{url}/api/v1",
        )
        commands, shown = shell
        out = run(["bash", "-euo", "pipefail", "-c", commands], cwd=work, env=env).stdout
        expect(
            out.rstrip() == shown.rstrip(),
            f"the README's command-line quick start printed\n{out}instead of\n{shown}",
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(20)
        if drain is not None:
            drain.join(20)  # the pipe's end: the server is gone
        if server.stdout is not None:
            server.stdout.close()


def package_version() -> str:
    text = (ROOT / "toloka_ext" / "_version.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if found is None:
        raise CheckFailed("no __version__ in toloka_ext/_version.py")
    return found[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where to build")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    version = package_version()
    python, shell = quick_start_blocks(README.read_text(encoding="utf-8"))
    started = time.monotonic()
    try:
        log(f"building toloka-ext {version} into {out}")
        sdist, wheel = build(out)
        log(f"checking {sdist.name} and {wheel.name} (twine check --strict, contents)")
        check_files(sdist, wheel, version)
        with tempfile.TemporaryDirectory(prefix="dist-check-") as tmp:
            scratch = Path(tmp)
            house = scratch / "wheelhouse"
            house.mkdir()
            log("a clean virtualenv, no extras: import, the README quick start, extra hints")
            plain = fresh_env(scratch / "venv-plain", wheel, house)
            (scratch / "plain").mkdir()
            check_no_extras(plain, scratch / "plain", version, python)
            log("a clean virtualenv with [cli,testing]: the README command-line quick start")
            full = fresh_env(scratch / "venv-cli", wheel, house, ("cli", "testing"))
            (scratch / "cli").mkdir()
            check_cli(full, scratch / "cli", version, shell)
    except CheckFailed as exc:
        print(f"dist-check: FAILED: {exc}", file=sys.stderr)
        return 1
    log(f"ok in {time.monotonic() - started:.0f} s: {sdist.name}, {wheel.name} in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
