"""Mutation testing of the pure core: mutmut over each module with its own tests, one table.

Each target (below) is run in its own scratch copy of the repository (``--work``, default
``/tmp/toloka-ext-mutation``), so mutated code never lands in the working tree. mutmut
(pinned in requirements-dev.txt) changes one thing at a time in the target's files and runs
the target's tests that cover the changed function; a mutant the tests do not notice
*survives*.

Every mutant is then classified mechanically, by comparing the syntax trees of the original
and the mutated function (:func:`is_message_only`):

* **message-only**: every difference is a string literal (or f-string) of a message that
  became another string or ``None``: the message argument of an error (a name ending in
  ``Error``, ``Exception`` or ``Warning``, or a helper in :data:`MESSAGE_ARGS`), any
  argument of a ``logger.*`` call, or the value assigned to a local named ``message``.
  Such mutants change wording only: they are left out of the kill rate, killed or not, and
  counted in the ``excluded`` column.
* **behavioural**: everything else, including a changed ``field=``/``code=`` argument, a
  dropped argument, or arithmetic inside a message. The kill rate is ``killed /
  behavioural mutants`` (a mutant no selected test reaches counts as a survivor); each
  behavioural survivor is printed with its diff (``--survivors``).

Usage::

    python scripts/mutation.py                 # every target (an hour or more on 2 cores)
    python scripts/mutation.py retry journal   # some of them
    python scripts/mutation.py --json out.json --survivors  # figures as JSON, survivor diffs

See docs/mutation.md for the current figures and why each remaining survivor is harmless.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """One pure module (or a few that are tested together) and the tests that own it."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    deselect: tuple[str, ...] = ()


TARGETS: dict[str, Target] = {
    "retry": Target(
        files=("toloka_ext/_retry.py", "toloka_ext/_ratelimit.py"),
        # The core's tests: the policy, the one retry loop, the client's request path.
        tests=("tests/core",),
    ),
    "v1-logic": Target(
        files=(
            "toloka_ext/_v1/_logic.py",
            "toloka_ext/_v1/_validation.py",
            "toloka_ext/_v1/_resolve.py",
        ),
        # Every v1 test but the Prism contract ones (deselected by marker), and the tests of
        # the DataFrame input that _validation.FrameTasks reads.
        tests=("tests/v1", "tests/test_pandas.py"),
    ),
    "chunking": Target(
        files=("toloka_ext/_v1/_chunking.py",),
        tests=("tests/v1/test_models_and_logic.py",),
    ),
    "journal": Target(
        files=("toloka_ext/_journal.py",),
        tests=(
            "tests/pipelines/test_journal.py",
            "tests/pipelines/test_journal_integrity.py",
        ),
        # 80 s of SIGKILLed child processes per run: the crash-at-every-request tests of
        # test_journal.py cover the same resume paths in-process.
        deselect=(
            "tests/pipelines/test_journal_integrity.py::test_sigkill_at_random_requests_then_resume",
        ),
    ),
    "specdiff": Target(
        files=("toloka_ext/_specdiff.py",),
        tests=("tests/test_specdiff.py",),
    ),
    "openapi": Target(
        # The walker every spec tool reads documents through: its own tests, the differ's
        # (references, allOf) and those of the operation table and the v1 pull (bundling).
        files=("toloka_ext/_openapi.py",),
        tests=(
            "tests/test_openapi.py",
            "tests/test_optable.py",
            "tests/test_specdiff.py",
            "tests/test_pull_spec_v1.py",
        ),
    ),
}

COPIED = ("toloka_ext", "generated", "scripts", "tests", "openapi", "pyproject.toml")
"""What a scratch copy holds: the package, what its tests import or read, the pytest config."""

MESSAGE_ARGS: dict[str, tuple[int, str]] = {
    "_drift": (2, "detail"),  # _drift(operation, field, detail): operation and field are data
    "corrupt": (0, "why"),  # the journal's "line N: <why>" error
    "_error": (2, "why"),  # Deadline._error(request, attempt, why)
    "local_status_error": (-1, "message"),  # (cls, status, request, *, code, message, ...)
}
"""Error helpers: which argument (position, keyword) is the message; -1 = keyword only."""
LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})

KILLED_STATUSES = frozenset({"killed", "timeout", "caught by type check", "segfault"})


# --------------------------------------------------------------------------- classification


def _call_name(call: ast.Call) -> tuple[str, str | None]:
    """(called name, name of the object it is called on if any)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id, None
    if isinstance(func, ast.Attribute):
        owner = func.value
        return func.attr, owner.id if isinstance(owner, ast.Name) else None
    return "", None


def _message_arguments(call: ast.Call) -> list[ast.AST]:
    """The arguments (or ``keyword`` nodes) of ``call`` that are a message: none if it is no
    error or log call."""
    name, owner = _call_name(call)
    if owner == "logger" and name in LOG_METHODS:
        return [*call.args, *call.keywords]
    if name in MESSAGE_ARGS:
        index, keyword = MESSAGE_ARGS[name]
    elif name.endswith(("Error", "Exception", "Warning")):
        index, keyword = 0, "message"
    else:
        return []
    found: list[ast.AST] = [k for k in call.keywords if k.arg == keyword]
    if 0 <= index < len(call.args):
        found.append(call.args[index])
    return found


def _differences(
    a: Any, b: Any, ancestors: tuple[ast.AST, ...], out: list[tuple[Any, Any, tuple[ast.AST, ...]]]
) -> None:
    """Collect the smallest differing pairs of two syntax trees, with ``a``'s ancestors."""
    if isinstance(a, ast.AST) and isinstance(b, ast.AST) and type(a) is type(b):
        if isinstance(a, ast.Constant):
            if type(a.value) is not type(b.value) or a.value != b.value:
                out.append((a, b, ancestors))
            return
        for name in a._fields:
            _differences(getattr(a, name, None), getattr(b, name, None), (*ancestors, a), out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for x, y in zip(a, b, strict=True):
            _differences(x, y, ancestors, out)
        return
    if isinstance(a, ast.AST) or isinstance(b, ast.AST) or a != b:
        out.append((a, b, ancestors))


def _in_message(node: ast.AST, ancestors: tuple[ast.AST, ...]) -> bool:
    """True if ``node`` is (part of) a message: an error's or a log line's, or ``message = ...``."""
    chain = (*ancestors, node)
    for i, parent in enumerate(chain[:-1]):
        child = chain[i + 1]
        if isinstance(parent, ast.Call) and any(child is a for a in _message_arguments(parent)):
            return True
        if (
            isinstance(parent, ast.Assign)
            and child is parent.value
            and all(isinstance(t, ast.Name) and t.id == "message" for t in parent.targets)
        ):
            return True
    return False


def _is_text(node: object) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def is_message_only(original: str, mutated: str) -> bool:
    """True if the two function sources differ only in the text of messages.

    Every difference must be a string literal (or f-string) of a message that became another
    string or ``None``: wording, not behaviour. A changed argument that is not text (the
    attempt count in a message, a ``field=``, a dropped argument) is behaviour.
    """
    try:
        a, b = ast.parse(original), ast.parse(mutated)
    except SyntaxError:
        return False
    diffs: list[tuple[Any, Any, tuple[ast.AST, ...]]] = []
    _differences(a, b, (), diffs)
    if not diffs:
        return False
    for old, new, ancestors in diffs:
        replaced_by_text = _is_text(new) or (isinstance(new, ast.Constant) and new.value is None)
        if not (_is_text(old) and replaced_by_text and _in_message(old, ancestors)):
            return False
    return True


# --------------------------------------------------------------------------- one target


@dataclass
class Outcome:
    name: str
    total: int = 0
    killed: int = 0
    excluded: int = 0
    survived: list[dict[str, str]] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def counted(self) -> int:
        return self.killed + len(self.survived)

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


def _toml_list(values: list[str] | tuple[str, ...]) -> str:
    return json.dumps(list(values))


def prepare(name: str, target: Target, work: Path) -> Path:
    """A fresh scratch copy for ``target`` with its ``[tool.mutmut]`` section."""
    scratch = work / name
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "mutants")
    for item in COPIED:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, scratch / item, ignore=ignore)
        else:
            shutil.copy2(src, scratch / item)
    tests = [t for t in target.tests if (ROOT / t).exists()]
    selection = [*tests, *(f"--deselect={d}" for d in target.deselect)]
    sources = sorted({f.split("/", 1)[0] for f in target.files})
    pyproject = scratch / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    if "[tool.mutmut]" in text:
        raise SystemExit("pyproject.toml already has [tool.mutmut]: this script writes its own")
    text += (
        "\n[tool.mutmut]\n"
        f"source_paths = {_toml_list(sources)}\n"
        f"only_mutate = {_toml_list(target.files)}\n"
        f"also_copy = {_toml_list([c for c in COPIED if c not in sources])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(selection)}\n"
        # -p no:cacheprovider: no .pytest_cache in the copy; the markers keep Prism
        # (a Node server) and the long trials out, as in `make unit`.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "not slow and not prism"]\n'
        "use_git_change_detection = false\n"
    )
    pyproject.write_text(text, encoding="utf-8")
    return scratch


def run_target(
    name: str, target: Target, work: Path, jobs: int, only: tuple[str, ...] = ()
) -> Outcome:
    start = time.monotonic()
    scratch = prepare(name, target, work)
    log = work / f"{name}.log"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *only],
            cwd=scratch,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    outcome = Outcome(name)
    if proc.returncode != 0:
        outcome.error = f"mutmut exited {proc.returncode}; see {log}"
    collected = subprocess.run(
        [
            sys.executable,
            str(scratch / "scripts" / "mutation.py"),
            "--collect",
            *(f"--only={pattern}" for pattern in only),
        ],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
    )
    if collected.returncode != 0:
        outcome.error = (outcome.error or "") + f" collecting failed: {collected.stderr[-2000:]}"
        outcome.seconds = time.monotonic() - start
        return outcome
    for mutant in json.loads(collected.stdout):
        outcome.total += 1
        status = mutant["status"]
        if mutant["message_only"]:
            outcome.excluded += 1  # killed or not: wording is not what the rate measures
        elif status in KILLED_STATUSES:
            outcome.killed += 1
        elif status == "survived":
            outcome.survived.append({"mutant": mutant["name"], "diff": mutant["diff"]})
        else:
            # "no tests" (no selected test reaches the function) counts as a survivor: a
            # change nobody tests is a change nobody would notice.
            outcome.other[status] = outcome.other.get(status, 0) + 1
            outcome.survived.append(
                {"mutant": mutant["name"], "diff": mutant["diff"], "status": status}
            )
    outcome.seconds = time.monotonic() - start
    return outcome


def collect(only: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """In a scratch copy after ``mutmut run``: every mutant (or those matching ``only``),
    its status, diff and class."""
    import libcst as cst
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import (
        get_diff_for_mutant,
        read_functions_from_index,
        read_mutant_function,
        read_mutants_module,
        read_original_function,
    )
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    rows: list[dict[str, Any]] = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        module = None
        for key, code in sorted(data.exit_code_by_key.items()):
            if only and not any(fnmatch.fnmatchcase(key, pattern) for pattern in only):
                continue
            # Every mutant is classified (killed or not): message-only ones are left out of
            # the rate either way, so "make mutation" measures behaviour alone.
            functions = read_functions_from_index(key, path)
            if functions is None:
                module = module or read_mutants_module(path)
                functions = (read_original_function(module, key), read_mutant_function(module, key))
            original, mutated = (textwrap.dedent(cst.Module([f]).code) for f in functions)
            row = {
                "name": key,
                "status": status_by_exit_code[code],
                "diff": get_diff_for_mutant(key, path=path),
                "message_only": is_message_only(original, mutated),
            }
            rows.append(row)
    return rows


# --------------------------------------------------------------------------- report


def table(outcomes: list[Outcome]) -> str:
    lines = [
        f"{'module':10} {'mutants':>7} {'killed':>7} {'survived':>9} {'excluded':>9} "
        f"{'kill rate':>10}",
    ]
    for o in outcomes:
        if o.error and not o.total:
            lines.append(f"{o.name:10} error: {o.error}")
            continue
        lines.append(
            f"{o.name:10} {o.total:7d} {o.killed:7d} {len(o.survived):9d} {o.excluded:9d} "
            f"{o.rate:9.1f}%  ({o.killed}/{o.counted}, {o.seconds / 60:.1f} min)"
        )
    lines.append(
        "kill rate = killed / behavioural mutants; excluded = message-only mutants (not counted)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=", ".join(TARGETS))
    parser.add_argument("--work", type=Path, default=Path("/tmp/toloka-ext-mutation"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--json", type=Path, help="also write the figures and survivors here")
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument(
        "--deselect",
        action="append",
        default=[],
        metavar="NODEID",
        help="leave out a test that fails on the real code (mutmut needs a green run first)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only the mutants whose name matches (fnmatch, e.g. "
        "'toloka_ext._v1._validation.x_normalize_task__mutmut_*'): to re-check survivors",
    )
    parser.add_argument("--collect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.collect:
        json.dump(collect(tuple(args.only)), sys.stdout)
        return 0
    if ROOT in args.work.resolve().parents or args.work.resolve() == ROOT:
        parser.error("--work must be outside the repository (mutmut rewrites files there)")
    names = args.targets or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for name in names:
        print(f"== {name}: mutmut over {', '.join(TARGETS[name].files)}", flush=True)
        target = TARGETS[name]
        target = Target(target.files, target.tests, (*target.deselect, *args.deselect))
        outcome = run_target(name, target, args.work, args.jobs, tuple(args.only))
        outcomes.append(outcome)
        print(table([outcome]).splitlines()[1], flush=True)
        if args.survivors:
            for s in outcome.survived:
                print(f"-- {s['mutant']} ({s.get('status', 'survived')})\n{s['diff']}\n")
    print()
    print(table(outcomes))
    if args.json:
        args.json.write_text(
            json.dumps([{**asdict(o), "rate": round(o.rate, 1)} for o in outcomes], indent=2)
            + "\n",
            encoding="utf-8",
        )
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
