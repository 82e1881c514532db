"""The wheel a pip user gets: built from this tree, installed without extras into a fresh
virtualenv, it imports, knows its version, ships its LICENSE, runs the README's quick start,
and its commands name the extra they miss instead of failing with a traceback.

Offline on purpose (tests never leave 127.0.0.1): the wheel is built with the pinned
hatchling already in this environment (``--no-build-isolation``), and the runtime
dependencies are installed with ``pip --no-index`` from wheels packed from this
environment's own installed copies (pure-Python distributions only: those are files plus
their ``.dist-info``). pip still resolves the wheel's declared dependencies itself, so a
dependency missing from ``pyproject.toml`` fails the install here exactly as it would for a
user; a fresh virtualenv has no extras, so the ``cli`` and ``testing`` hints are really hit.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as md
import io
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

_SKIP_IN_DIST_INFO = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}


def _run(cmd: list[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=cwd
    )


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def repack(dist: md.Distribution, out: Path) -> Path:
    """A wheel of an installed pure-Python distribution, from its recorded files."""
    wheel_meta = dist.read_text("WHEEL") or ""
    assert "Root-Is-Purelib: true" in wheel_meta, f"{dist.metadata['Name']} is not pure Python"
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    version = dist.version
    info_dir = f"{name}-{version}.dist-info"
    target = out / f"{name}-{version}-py3-none-any.whl"
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


def runtime_closure(requirements: list[str]) -> list[md.Distribution]:
    """The installed distributions that ``requirements`` (no extras) pull in, transitively."""
    seen: dict[str, md.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(req.name)
        if key in seen:
            continue
        dist = md.distribution(req.name)
        assert req.specifier.contains(dist.version, prereleases=True), (req, dist.version)
        seen[key] = dist
        todo.extend(Requirement(r) for r in dist.requires or ())
    return list(seen.values())


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _ok(
        _run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
            + ["--no-index", "--quiet", "--wheel-dir", str(out), str(ROOT)]
        )
    )
    (wheel,) = out.glob("toloka_ext-*.whl")
    return wheel


@pytest.fixture(scope="module")
def fresh_env(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel installed without extras; returns its bin directory."""
    with zipfile.ZipFile(built_wheel) as whl:
        meta = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].strip()
            for line in whl.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    house = tmp_path_factory.mktemp("wheelhouse")
    for dist in runtime_closure(requires):
        repack(dist, house)
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bin_dir = env_dir / "bin"
    _ok(
        _run(
            [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-index"]
            + ["--disable-pip-version-check", "--find-links", str(house), str(built_wheel)]
        )
    )
    return bin_dir


def test_the_wheel_ships_the_license_and_the_metadata(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as whl:
        names = whl.namelist()
        licenses = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/licenses/LICENSE", n)]
        assert licenses, names
        assert whl.read(licenses[0]) == (ROOT / "LICENSE").read_bytes()
        meta = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "License-Expression: Apache-2.0" in meta
    for label in ("Homepage", "Documentation", "Source", "Issues"):
        assert f"Project-URL: {label}, https://" in meta, label
    assert "Classifier: Typing :: Typed" in meta
    assert "toloka_ext/py.typed" in names and "toloka_pipeline_api/__init__.py" in names


def test_it_imports_with_its_version_and_no_extras(fresh_env: Path) -> None:
    from toloka_ext import __version__

    out = _ok(_run([str(fresh_env / "python"), "-c", _IMPORT_CHECK]))
    assert out.split() == [__version__, "no-extras"], out


_IMPORT_CHECK = """
import importlib.util, toloka_ext, toloka_ext.types, toloka_ext.testing
print(toloka_ext.__version__)
missing = [m for m in ("typer", "rich", "uvicorn", "pandas") if importlib.util.find_spec(m)]
print("no-extras" if not missing else f"extras present: {missing}")
"""


def test_the_readme_quick_start_runs_from_the_wheel(fresh_env: Path, tmp_path: Path) -> None:
    """A new user's first minute: the README's first python block, as written, no extras."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    found = re.search(r"```python\n(.*?)```\s*```text\n(.*?)```", section, re.S)
    assert found, "the README's quick start (a python block and its printed output) is gone"
    code, shown = found.groups()
    (tmp_path / "quick.py").write_text(code)
    out = _ok(_run([str(fresh_env / "python"), "quick.py"], cwd=tmp_path))
    assert out.rstrip() == shown.rstrip()


def test_the_command_line_works_or_names_its_extra(fresh_env: Path) -> None:
    script = fresh_env / "toloka-ext"
    assert script.exists(), "the wheel declares no toloka-ext console script"
    result = _run([str(script), "--help"])
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    if result.returncode == 0:
        assert "Usage" in text, text
    else:
        assert "pip install 'toloka-ext[cli]'" in text, text


def test_serving_the_sandbox_names_the_testing_extra(fresh_env: Path) -> None:
    result = _run([str(fresh_env / "python"), "-m", "toloka_ext.testing", "serve", "--port", "0"])
    text = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in text, text
    assert "pip install 'toloka-ext[testing]'" in text, text
