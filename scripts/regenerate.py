"""Pull the live v2-beta spec, regenerate the client, run the tests, summarize, install.

Usage::

    python scripts/regenerate.py                          # the official URL
    python scripts/regenerate.py --file new-spec.json --summary out.md
    python scripts/regenerate.py --url http://127.0.0.1:8000/doc --pytest-args "tests/core -q"

Everything runs in a staging copy; the new snapshot and package are installed once it all ran
(failing tests still install), else the repository is left as it was. The daily workflow and
what the summary says: ``CONTRIBUTING.md`` ("The regenerate workflow"). Exit codes: ``--help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/regenerate.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import pull_spec
from scripts.public_usage import methods_by_operation, reliance
from toloka_ext._openapi import Document
from toloka_ext._specdiff import EXIT_BREAKING, EXIT_COMPATIBLE, EXIT_NO_CHANGE, Report

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path("openapi") / "v2-beta.yaml"
PACKAGE = Path("generated") / "toloka_pipeline_api"
DEFAULT_SUMMARY = "regenerate-summary.md"
# The whole suite except this job's own end-to-end test (it regenerates in its own copy).
DEFAULT_PYTEST_ARGS = "tests --ignore=tests/test_regenerate.py"

EXIT_ERROR = 1  # 0, 3 and 4 are the change report's (toloka_ext._specdiff)
EXIT_TESTS_FAILED = 5

EPILOG = """exit codes (what the scheduler acts on):
  0  no change: nothing written but the summary
  1  error (fetch, invalid document, generation, tests could not run); the snapshot and
     generated/ are left untouched
  2  usage error
  3  compatible change, tests pass: snapshot + generated/ updated
  4  breaking change for clients, tests pass: snapshot + generated/ updated
  5  the tests fail, whatever the change (the summary says which): snapshot + generated/
     updated

`make regenerate` turns any non-zero code into make's own 2: a scheduler that acts on the
code runs `make install` and then this script directly.
"""

# Copied into the staging area as links, never as files: big and read-only for this job.
_LINKED = (".venv", "node_modules")
_IGNORED = (
    *".git __pycache__ .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info".split(),
    *_LINKED,
)


class RegenerateError(Exception):
    """A failure before the tests ran: exit 1, the repository untouched."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


@dataclass
class TestRun:
    command: list[str]
    returncode: int
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0
    tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failed


@dataclass
class Result:
    exit_code: int
    source: str
    status: str = ""  # pull_spec's outcome status
    report: Report | None = None
    old_sha256: str | None = None
    new_sha256: str | None = None
    tests: TestRun | None = None
    installed: bool = False
    error: RegenerateError | None = None
    notes: list[str] = field(default_factory=list)
    operation_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    """(METHOD, path) -> operationId, from the old and the new snapshot."""


def exit_code_for(report: Report, tests: TestRun) -> int:
    """Failing tests decide first (5), whatever the change; then breaking (4), else 3."""
    if not tests.ok:
        return EXIT_TESTS_FAILED
    return EXIT_BREAKING if report.breaking else EXIT_COMPATIBLE


def _operation_ids(*specs: Path) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for spec in specs:
        try:
            doc = Document(pull_spec.load_text(spec.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
        for path, method, op, _ in doc.operations():
            if "operationId" in op:
                out.setdefault((method.upper(), path), str(op["operationId"]))
    return out


# --------------------------------------------------------------------------- staging


def make_staging(root: Path, dest: Path) -> Path:
    """Copy the repository's files into ``dest/repo`` (venv and node_modules linked)."""
    stage = dest / "repo"
    shutil.copytree(root, stage, symlinks=True, ignore=shutil.ignore_patterns(*_IGNORED))
    for name in _LINKED:
        target = root / name
        if target.exists():
            (stage / name).symlink_to(target.resolve(), target_is_directory=True)
    return stage


def generate(stage: Path) -> None:
    script = stage / "scripts" / "generate.sh"
    cmd = ["bash", str(script)]
    proc = subprocess.run(cmd, cwd=stage, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise RegenerateError("generate", f"scripts/generate.sh failed:\n{_tail(output, 40)}")
    if not (stage / PACKAGE / "__init__.py").is_file():
        raise RegenerateError("generate", f"scripts/generate.sh did not produce {PACKAGE}")


def run_tests(stage: Path, pytest_args: Sequence[str], *, timeout: float) -> TestRun:
    """pytest in the staging copy; exit 1 (failures) and 2 (collection errors) are results."""
    junit = stage / ".regenerate-junit.xml"
    command = [sys.executable, "-m", "pytest", *pytest_args]
    env = dict(os.environ)
    paths = [str(stage / "generated"), str(stage)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("PYTEST_ADDOPTS", None)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [*command, f"--junitxml={junit}", "-p", "no:cacheprovider"],
            cwd=stage,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RegenerateError("tests", f"the tests did not finish within {timeout:.0f}s") from exc
    output = (proc.stdout or "") + (proc.stderr or "")
    run = TestRun(
        command=["pytest", *pytest_args],
        returncode=proc.returncode,
        seconds=time.monotonic() - started,
        tail=_tail(output, 30),
    )
    if proc.returncode not in (0, 1, 2) or not junit.is_file():
        raise RegenerateError(
            "tests",
            f"pytest could not run the tests (exit {proc.returncode}):\n{_tail(output, 30)}",
        )
    _read_junit(junit, run)
    if proc.returncode != 0 and not run.failed:
        run.failed.append(f"(pytest exit {proc.returncode} without a failing test case)")
    return run


def _read_junit(path: Path, run: TestRun) -> None:
    tree = ET.parse(path)
    for case in tree.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            run.failed.append(_node_id(case.get("classname", ""), case.get("name", "")))
        elif case.find("skipped") is not None:
            run.skipped += 1
        else:
            run.passed += 1


def _node_id(classname: str, name: str) -> str:
    """``tests.test_x.TestY`` + ``test_z`` -> ``tests/test_x.py::TestY::test_z`` (best effort)."""
    if not classname:
        return name
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        if parts[i - 1].startswith("test") or i == 1:
            module = "/".join(parts[:i]) + ".py"
            return "::".join([module, *parts[i:], name])
    return f"{classname}::{name}"


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- install


def install(stage: Path, root: Path) -> None:
    """Put the staged snapshot and package into the repository (each swapped in whole)."""
    new_pkg = stage / PACKAGE
    dest = root / PACKAGE
    incoming = dest.with_name(f".{dest.name}.incoming")
    outgoing = dest.with_name(f".{dest.name}.outgoing")
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(new_pkg, incoming, ignore=shutil.ignore_patterns("__pycache__"))
    spec_text = (stage / SNAPSHOT).read_text(encoding="utf-8")
    had_package = dest.exists()
    if had_package:
        dest.rename(outgoing)
    incoming.rename(dest)
    try:
        pull_spec.write_atomic(root / SNAPSHOT, spec_text)
    except OSError:
        # Put the old package back: snapshot and code must stay a pair.
        shutil.rmtree(dest, ignore_errors=True)
        if had_package:
            outgoing.rename(dest)
        raise
    shutil.rmtree(outgoing, ignore_errors=True)


# --------------------------------------------------------------------------- the job


def regenerate(
    *,
    root: Path,
    text_source: tuple[str, str],  # ("url" | "file", where)
    date: str,
    pytest_args: Sequence[str],
    test_timeout: float,
    dry_run: bool,
) -> Result:
    kind, where = text_source
    result = Result(exit_code=EXIT_ERROR, source=where)
    try:
        try:
            text = pull_spec.read_file(where) if kind == "file" else pull_spec.fetch(where)
        except pull_spec.PullError as exc:
            raise RegenerateError("pull", str(exc)) from exc
        with tempfile.TemporaryDirectory(prefix="regenerate-") as tmp:
            stage = make_staging(root, Path(tmp))
            try:
                outcome, _ = pull_spec.run(
                    text=text,
                    source=where,
                    mode="file" if kind == "file" else "live",
                    date=date,
                    output=stage / SNAPSHOT,
                    dry_run=False,
                    reliance=reliance(
                        root / "toloka_ext" / "_async", root / "toloka_ext" / "_v2" / "_adapter.py"
                    ),
                )
            except pull_spec.PullError as exc:
                raise RegenerateError("validate", str(exc)) from exc
            result.status = outcome.status
            result.report = outcome.report
            result.operation_ids = _operation_ids(root / SNAPSHOT, stage / SNAPSHOT)
            result.old_sha256, result.new_sha256 = outcome.old_sha256, outcome.new_sha256
            if outcome.status in ("no change", "reformatted"):
                if outcome.status == "reformatted":
                    result.notes.append(
                        "The snapshot file is not in normalized form (same content): "
                        "`make pull-spec` rewrites it."
                    )
                result.exit_code = EXIT_NO_CHANGE
                return result
            generate(stage)
            result.tests = run_tests(stage, pytest_args, timeout=test_timeout)
            if not dry_run:
                try:
                    install(stage, root)
                except OSError as exc:
                    raise RegenerateError("install", f"cannot install the result: {exc}") from exc
                result.installed = True
    except RegenerateError as exc:
        result.error = exc
        result.exit_code = EXIT_ERROR
        return result
    assert result.report is not None and result.tests is not None
    result.exit_code = exit_code_for(result.report, result.tests)
    return result


# --------------------------------------------------------------------------- summary

_MAX_LISTED = 60  # failed tests named in the summary (a pull request body has a size limit)

_VERDICT = {
    EXIT_NO_CHANGE: "no change",
    EXIT_ERROR: "error, nothing changed",
    EXIT_COMPATIBLE: "compatible change",
    EXIT_BREAKING: "BREAKING change",
    EXIT_TESTS_FAILED: "tests fail",
}


def _verdict(result: Result) -> str:
    if result.exit_code != EXIT_TESTS_FAILED or result.report is None:
        return _VERDICT[result.exit_code]
    change = "BREAKING change" if result.report.breaking else "compatible change"
    return f"{change}, and the tests fail"


def render_summary(result: Result, *, dry_run: bool) -> str:
    code = result.exit_code
    out = [f"# Toloka Pipeline API v2-beta: {_verdict(result)} (exit {code})", ""]
    out.append(f"- Source: `{result.source}`")
    if result.old_sha256 and result.new_sha256:
        arrow = "=" if result.old_sha256 == result.new_sha256 else "->"
        out.append(
            f"- Snapshot `{SNAPSHOT}`: sha256 `{result.old_sha256[:12]}` {arrow} "
            f"`{result.new_sha256[:12]}`"
        )
    if result.report is not None and result.report.changes:
        n_breaking = len(result.report.breaking)
        out.append(
            f"- Breaking for clients: **{'yes' if n_breaking else 'no'}** "
            f"({result.report.summary().removeprefix('Summary: ')})"
        )
    if result.tests is not None:
        t = result.tests
        state = "pass" if t.ok else f"**{len(t.failed)} failed**"
        out.append(
            f"- Tests (`{shlex.join(t.command)}`): {state}; {t.passed} passed, "
            f"{len(t.failed)} failed, {t.skipped} skipped in {t.seconds:.0f}s"
        )
    if code in (EXIT_COMPATIBLE, EXIT_BREAKING, EXIT_TESTS_FAILED):
        if result.installed:
            out.append(f"- Updated: `{SNAPSHOT}` and `{PACKAGE}/`")
        elif dry_run:
            out.append("- Dry run: the repository was not updated")
    out.append("")

    if result.error is not None:
        out += [f"## Error ({result.error.stage})", "", "```", str(result.error), "```", ""]
        out += [
            "## What to do",
            "",
            f"Nothing was written: `{SNAPSHOT}` and `{PACKAGE}/` are as they were. "
            + _ERROR_ADVICE.get(result.error.stage, "Fix the cause and run `make regenerate`."),
            "",
        ]
        return "\n".join(out)

    if code == EXIT_NO_CHANGE:
        out += ["The live document matches the snapshot: nothing to do.", ""]
        out += [f"{n}" for n in result.notes]
        return "\n".join(out).rstrip("\n") + "\n"

    assert result.report is not None
    out += ["## What changed", ""]
    if result.report.changes:
        body = result.report.to_markdown().splitlines()[2:]  # drop the report's own title
        out += [("#" + line) if line.startswith("#") else line for line in body]
    else:
        out += ["No API-surface change (descriptions, examples or metadata only).", ""]
    out.append("")

    out += _affected(result)

    if result.tests is not None:
        out += ["## Tests", ""]
        if result.tests.failed:
            out += ["Failed:", ""]
            out += [f"- `{name}`" for name in result.tests.failed[:_MAX_LISTED]]
            if len(result.tests.failed) > _MAX_LISTED:
                out.append(f"- ... and {len(result.tests.failed) - _MAX_LISTED} more")
            out += ["", "<details><summary>pytest output (tail)</summary>", "", "```"]
            out += [result.tests.tail, "```", "", "</details>", ""]
        else:
            out += ["All selected tests pass against the regenerated client.", ""]

    out += ["## What to do", "", *_advice(result), ""]
    out += result.notes
    return "\n".join(out).rstrip("\n") + "\n"


def _affected(result: Result) -> list[str]:
    """Which public calls of ``toloka_ext`` each changed operation reaches."""
    assert result.report is not None
    try:
        usage = methods_by_operation()
    except (OSError, SyntaxError) as exc:  # a partial checkout: say so, do not fail the job
        return ["## Who is affected", "", f"Not computed: {exc}", ""]
    rows: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for change in result.report.changes:
        key = (change.method, change.path, change.location)
        if key in seen:
            continue
        seen.add(key)
        op = result.operation_ids.get((change.method, change.path))
        if op is None:
            continue
        users = usage.get(op)
        calls = ", ".join(f"`{u}`" for u in users) if users else "none (not used by toloka_ext)"
        where = f"{change.location}" if change.location else "the operation"
        rows.append(f"| `{op}` | {change.method} {change.path} | {where} | {calls} |")
    if not rows:
        return []
    return [
        "## Who is affected",
        "",
        "| operation | endpoint | what changed | public methods that reach it |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


_ERROR_ADVICE = {
    "pull": "The document could not be fetched: check the URL and the service; retry later.",
    "validate": "The document is not a valid OpenAPI 3.0/3.1 document: report it upstream "
    "or wait for a fixed version.",
    "generate": "openapi-python-client rejected the new document: see the log above; "
    "an unsupported construct may need a template or codegen.yaml change.",
    "tests": "The tests could not run: see the output above.",
    "install": "The result could not be written into the repository: check permissions "
    "and disk space, then run `make regenerate` again.",
}


def _advice(result: Result) -> list[str]:
    assert result.report is not None and result.tests is not None
    lines: list[str] = []
    if result.report.breaking:
        ops = sorted({f"`{c.method} {c.path}`" for c in result.report.breaking})
        lines.append(
            "- **Breaking**: until `toloka_ext` is adapted, calls to "
            + ", ".join(ops)
            + " raise `ApiDriftError` (naming the operation and field) for its users. "
            "Adapt the conversion in `toloka_ext/_v2/_adapter.py` (and the "
            "models, if a field moved or changed type), add a changelog entry, "
            "and release before users update."
        )
        lines.append("- Do not merge this pull request until the tests pass.")
    if result.report.warnings:
        lines.append(
            "- Warnings: new enum values arrive as unknown statuses (`status.is_known` is "
            "False) in `toloka_ext`; decide whether the workflow should treat them as "
            "terminal, and add them to the enums in `toloka_ext/_v2/_models.py`."
        )
    if result.tests.failed:
        lines.append(
            "- Fix the failing tests listed above (tests that pin the old shape of the API "
            "may simply need updating), then push to this branch."
        )
    if not result.report.breaking and not result.tests.failed:
        lines.append(
            "- Compatible: review the diff and merge. New response fields are already "
            "reachable through `.extra` on `toloka_ext` objects; expose them as typed "
            "attributes when useful."
        )
    return lines


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regenerate.py",
        description=(
            "Pull the v2-beta OpenAPI document, report changes, regenerate generated/, run "
            "the tests, write a Markdown summary and install the result."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--url", help=f"fetch from URL (default {pull_spec.DEFAULT_URL})")
    src.add_argument("--file", help="read a local JSON/YAML file instead of fetching")
    parser.add_argument(
        "--summary", default=DEFAULT_SUMMARY, help=f"Markdown summary path ({DEFAULT_SUMMARY})"
    )
    parser.add_argument(
        "--pytest-args",
        default=DEFAULT_PYTEST_ARGS,
        help=f"arguments for pytest in the staging copy (default {DEFAULT_PYTEST_ARGS!r})",
    )
    parser.add_argument(
        "--test-timeout", type=float, default=1800.0, help="seconds for the test run (1800)"
    )
    parser.add_argument("--date", type=pull_spec._date, help="snapshot date (default today UTC)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="do everything in the staging copy but install nothing (same exit codes)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.url or pull_spec.DEFAULT_URL
    source = ("file", args.file) if args.file is not None else ("url", url)
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    result = regenerate(
        root=ROOT,
        text_source=source,
        date=date,
        pytest_args=shlex.split(args.pytest_args),
        test_timeout=args.test_timeout,
        dry_run=args.dry_run,
    )
    summary = render_summary(result, dry_run=args.dry_run)
    try:
        Path(args.summary).write_text(summary, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write the summary to {args.summary}: {exc}", file=sys.stderr)
    sys.stdout.write(summary)
    if result.error is not None:
        print(f"error ({result.error.stage}): {result.error}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
