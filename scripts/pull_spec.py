"""Pull an OpenAPI document and report what changed: v2-beta against its snapshot
``openapi/v2-beta.yaml``, v1 (Toloka's published document) against ``openapi/v1.yaml``.

Usage::

    python scripts/pull_spec.py                       # live: https://platform.toloka.ai/api/v2-beta/doc
    python scripts/pull_spec.py --file spec.json --reconstructed
    python scripts/pull_spec.py --dry-run --report-json report.json
    python scripts/pull_spec.py --api v1              # Toloka's published API v1 document

v2: fetch or read, validate, normalize and stamp ``info.x-snapshot`` (source, mode, date,
sha256 of the rest), compare with the previous snapshot by what the client relies on; the
snapshot is replaced atomically, only when all succeeded and the content changed. v1: the
document is trimmed and bundled in memory (``scripts/published_v1.py``) and compared with ours
and the reviewed differences (``scripts/v1_compare.py``); nothing is written. Exit codes:
:data:`EPILOG` (``--help``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

if __package__ in (None, ""):  # run as `python scripts/pull_spec.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import public_usage, published_v1, v1_compare
from toloka_ext._openapi import RefError, inline, load_text, ref_of
from toloka_ext._specdiff import (
    EXIT_BREAKING,
    EXIT_COMPATIBLE,
    EXIT_NO_CHANGE,
    Reliance,
    Report,
    diff_specs,
)

DEFAULT_URL = "https://platform.toloka.ai/api/v2-beta/doc"
DEFAULT_V1_URL = published_v1.DEFAULT_URL
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = "openapi/v2-beta.yaml"  # relative to the repository root, not the cwd
EXIT_ERROR = 1
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SUPPORTED_VERSIONS = ("3.0.", "3.1.")

EPILOG = """exit codes:
  0  no change (or first snapshot written: "new snapshot")
  1  error (network, HTTP status, unparsable body, invalid document); nothing written
  2  usage error
  3  compatible change (written unless --dry-run)
  4  breaking change for clients (written unless --dry-run)

--api v1 writes no snapshot: it compares the published document with openapi/v1.yaml and
openapi/v1-differences.yaml; 3 and 4 then mean differences not listed there (or listed
ones gone), 4 when one can break the client.
"""


class PullError(Exception):
    """A failure that ends the run with exit code 1 and one line on stderr."""


# --------------------------------------------------------------------------- YAML
# Reading is toloka_ext._openapi.load_text (JSON, else YAML, dates kept as strings).


class _Dumper(yaml.SafeDumper):
    """Block style, never anchors/aliases, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002
        super().increase_indent(flow, False)  # indent list items under their key


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def plain(doc: Any) -> Any:
    """A JSON-compatible deep copy: string keys (``200:`` -> ``"200"``), no shared nodes."""
    try:
        return json.loads(json.dumps(doc, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise PullError(f"document holds values JSON cannot represent: {exc}") from exc


def _is_named_examples(parent: dict[str, Any], key: str) -> bool:
    """``examples`` of a media type or parameter: their order is meaningful (Prism serves the
    first one by default), so it is the one mapping whose key order is kept."""
    value = parent.get(key)
    return (
        key == "examples"
        and "schema" in parent
        and isinstance(value, dict)
        and all(isinstance(v, dict) and ("value" in v or ref_of(v)) for v in value.values())
    )


def _ordered(node: Any) -> Any:
    """Keys sorted at every level, except the order of named examples."""
    if isinstance(node, list):
        return [_ordered(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key in sorted(node):
        if _is_named_examples(node, key):
            out[key] = {name: _ordered(ex) for name, ex in node[key].items()}
        else:
            out[key] = _ordered(node[key])
    return out


def dump_yaml(doc: Any) -> str:
    """The normalized text: sorted keys (named examples keep their order), block style,
    unicode kept, no wrapping, final newline.

    PyYAML emits a few exotic characters (NEL, LS, PS) raw, which then read back as line
    breaks; when the text does not read back equal, the output escapes non-ASCII instead.
    """
    for allow_unicode in (True, False):
        text: str = yaml.dump(
            _ordered(doc),
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=allow_unicode,
            indent=2,
            width=1 << 30,
        )
        if not text.endswith("\n"):
            text += "\n"
        if load_text(text) == doc:
            break
    return text


def content_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without ``info.x-snapshot`` (what the hash and the diff look at)."""
    out = dict(doc)
    info = out.get("info")
    if isinstance(info, dict) and "x-snapshot" in info:
        out["info"] = {k: v for k, v in info.items() if k != "x-snapshot"}
    return out


def content_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(dump_yaml(content_of(doc)).encode("utf-8")).hexdigest()


def normalize(doc: dict[str, Any], *, source: str, mode: str, date: str) -> tuple[str, str]:
    """Return (normalized text with fresh ``info.x-snapshot``, content hash)."""
    content = plain(content_of(doc))
    digest = content_hash(content)
    info = content.get("info")
    info = dict(info) if isinstance(info, dict) else {}
    info["x-snapshot"] = {"source": source, "mode": mode, "date": date, "sha256": digest}
    content["info"] = info
    return dump_yaml(content), digest


# --------------------------------------------------------------------------- fetch / parse


def fetch(url: str, client: httpx.Client | None = None) -> str:
    """The body at ``url``; ``client`` reuses one connection pool for many files (a new
    client per request costs ~0.2 s: it loads the CA bundle each time)."""
    headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
    try:
        if client is None:
            response = httpx.get(url, headers=headers, timeout=TIMEOUT, follow_redirects=True)
        else:
            response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise PullError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise PullError(f"GET {url} returned HTTP {response.status_code} {response.reason_phrase}")
    content_type = response.headers.get("content-type", "")
    if "html" in content_type.lower():
        raise PullError(f"{url} returned HTML ({content_type}), not an OpenAPI JSON/YAML document")
    return response.text


def read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PullError(f"cannot read {path}: {exc}") from exc


def parse(text: str, source: str) -> dict[str, Any]:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] == "<":
        raise PullError(f"{source}: body is HTML/XML, not an OpenAPI JSON/YAML document")
    try:
        doc = load_text(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PullError(f"{source}: body is neither JSON nor YAML ({first})") from exc
    if not isinstance(doc, dict):
        raise PullError(
            f"{source}: body is not a JSON/YAML mapping (got {type(doc).__name__}),"
            " not an OpenAPI document"
        )
    result: dict[str, Any] = plain(doc)
    return result


def validate(doc: dict[str, Any], source: str) -> None:
    from openapi_spec_validator import validate as osv_validate
    from openapi_spec_validator.validation.exceptions import (
        OpenAPIValidationError,
        ValidatorDetectError,
    )

    validate_version(doc, source)
    try:
        osv_validate(doc)
    except OpenAPIValidationError as exc:
        raise PullError(
            f"{source}: invalid OpenAPI document at {exc.json_path}: {_first_line(exc.message)}"
        ) from exc
    except ValidatorDetectError as exc:
        raise PullError(f"{source}: not an OpenAPI document: {_first_line(str(exc))}") from exc
    except Exception as exc:  # e.g. an unresolvable $ref inside the validator
        detail = _first_line(str(exc))
        raise PullError(
            f"{source}: invalid OpenAPI document: {type(exc).__name__}: {detail}"
        ) from exc


def validate_version(doc: dict[str, Any], source: str) -> None:
    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith(SUPPORTED_VERSIONS):
        found = f"openapi: {version!r}" if "openapi" in doc else "no 'openapi' field"
        if "swagger" in doc:
            found = f"swagger: {doc['swagger']!r}"
        raise PullError(f"{source}: not an OpenAPI 3.0/3.1 document ({found})")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "(no message)"


# --------------------------------------------------------------------------- snapshot


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same directory and ``os.replace`` it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Outcome:
    status: str  # "new snapshot" | "no change" | "reformatted" | "changed"
    exit_code: int
    written: bool
    old_sha256: str | None
    new_sha256: str
    report: Report

    def as_dict(self, *, source: str, mode: str, output: str) -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "written": self.written,
            "source": source,
            "mode": mode,
            "output": output,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            **{k: v for k, v in self.report.as_dict().items() if k != "exit_code"},
        }


def load_previous(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The previous snapshot and its raw text, or (None, None) when there is none."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        raise PullError(f"cannot read previous snapshot {path}: {exc}") from exc
    try:
        doc = load_text(raw)
    except yaml.YAMLError:
        doc = None
    if not isinstance(doc, dict):
        print(
            f"warning: previous snapshot {path} is not a YAML mapping; replacing", file=sys.stderr
        )
        return None, raw
    return plain(doc), raw


def run(
    *,
    text: str,
    source: str,
    mode: str,
    date: str,
    output: Path,
    dry_run: bool,
    reliance: Reliance | None = None,
) -> tuple[Outcome, str]:
    """Everything after the body is in hand; returns the outcome and the report text. Changes
    are judged by ``reliance`` (by default this checkout's: ``scripts/public_usage.py``)."""
    doc = parse(text, source)
    validate(doc, source)
    new_text, new_hash = normalize(doc, source=source, mode=mode, date=date)
    previous, previous_raw = load_previous(output)

    if previous is None:
        outcome = Outcome("new snapshot", EXIT_NO_CHANGE, False, None, new_hash, Report())
        lines = [f"New snapshot: {output} (sha256 {new_hash[:12]})"]
    else:
        old_hash = content_hash(previous)
        relied = reliance if reliance is not None else public_usage.reliance()
        report = diff_specs(content_of(previous), content_of(plain(doc)), reliance=relied)
        if old_hash == new_hash:
            # Same content: keep the file (and its date) unless it is not in normalized form.
            info = previous.get("info")
            recorded = info.get("x-snapshot") if isinstance(info, dict) else None
            recorded = recorded if isinstance(recorded, dict) else {}
            stamp = {"source": source, "mode": mode, "date": date}
            kept = normalize(previous, **{k: str(recorded.get(k, v)) for k, v in stamp.items()})[0]
            status = "no change" if kept == previous_raw else "reformatted"
            outcome = Outcome(status, EXIT_NO_CHANGE, False, old_hash, new_hash, report)
            new_text = kept
            lines = [f"No change: content sha256 {new_hash[:12]} matches {output}"]
            if status == "reformatted":
                done = "would be rewritten" if dry_run else "rewritten"
                lines.append(f"(snapshot file was not in normalized form: {done}, same content)")
        else:
            code = EXIT_BREAKING if report.breaking else EXIT_COMPATIBLE
            outcome = Outcome("changed", code, False, old_hash, new_hash, report)
            lines = [f"Changed: sha256 {old_hash[:12]} -> {new_hash[:12]} ({output})"]
            if not report.changes:
                lines.append("(no API-surface change: descriptions, examples or metadata only)")
            lines.append(report.to_text().rstrip("\n"))

    if outcome.status != "no change" and not dry_run:
        try:
            write_atomic(output, new_text)
        except OSError as exc:
            raise PullError(f"cannot write snapshot {output}: {exc}") from exc
        outcome.written = True
    if dry_run:
        lines.append("(dry run: snapshot not written)")
    return outcome, "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- API v1


def load_url(url: str, client: httpx.Client | None = None) -> str:
    """The text at an absolute ``http(s)://`` or ``file://`` URL (``$ref`` targets)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return read_file(urllib.request.url2pathname(parts.path))
    if parts.scheme in ("http", "https"):
        return fetch(url, client)
    raise PullError(f"cannot fetch {url}: only http(s) and file URLs are followed")


def pull_v1(*, source: str, is_file: bool) -> dict[str, Any]:
    """Toloka's published API v1 document at ``source`` (URL or path), trimmed to the
    operations the client uses and made self-contained (``scripts/published_v1.py``)."""
    if is_file:
        return _pull_v1(Path(source).resolve().as_uri(), read_file(source), source, None)
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client:
        return _pull_v1(source, fetch(source, client), source, client)


def _pull_v1(root_url: str, text: str, source: str, client: httpx.Client | None) -> dict[str, Any]:
    doc = parse(text, source)
    validate_version(doc, source)
    try:
        result, notes = published_v1.pull_published(
            root_url, doc, load=lambda url: load_url(url, client)
        )
    except RefError as exc:
        raise PullError(f"{source}: {exc}") from exc
    for note in notes:
        print(f"note: {source}: {note}", file=sys.stderr)
    trimmed: dict[str, Any] = plain(result)
    return trimmed


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass
class V1Outcome:
    """What ``--api v1`` found: the classified findings of :mod:`scripts.v1_compare`."""

    findings: list[v1_compare.Finding]
    report: Report
    published_sha256: str
    listed: int  # differences listed in the differences file
    ours: str
    differences: str

    @property
    def exit_code(self) -> int:
        return self.report.exit_code

    @property
    def status(self) -> str:
        return "changed" if self.findings else "no change"

    def as_dict(self, *, source: str, mode: str, date: str) -> dict[str, Any]:
        return {
            "api": "v1",
            "status": self.status,
            "exit_code": self.exit_code,
            "written": False,
            "source": source,
            "mode": mode,
            "date": date,
            "ours": self.ours,
            "differences": self.differences,
            "published_sha256": self.published_sha256,
            "listed": self.listed,
            "new": sum(not f.gone for f in self.findings),
            "gone": sum(f.gone for f in self.findings),
            **{k: v for k, v in self.report.as_dict().items() if k != "exit_code"},
        }

    def to_markdown(self, *, source: str) -> str:
        intro = (
            f"Toloka's published API v1 document (`{source}`, trimmed to the operations the"
            f" client uses; sha256 `{self.published_sha256[:12]}`) compared with `{self.ours}`."
            f" Every difference not listed in `{self.differences}` is a change on Toloka's"
            " side; a listed difference that is gone is one too. Review `openapi/v1.yaml`,"
            " `toloka_ext` and the differences file; nothing was changed automatically."
        )
        status = f"Status: {self.status} (exit {self.exit_code})"
        return f"{status}\n\n{intro}\n\n{self.report.to_markdown()}"


def run_v1(
    *,
    published: dict[str, Any],
    source: str,
    ours: Path = v1_compare.OURS,
    differences: Path = v1_compare.DIFFERENCES,
) -> tuple[V1Outcome, str]:
    """Compare the pulled document (:func:`pull_v1`) with ours and the differences file;
    returns the outcome and the report text. Writes nothing."""
    digest = hashlib.sha256(
        json.dumps(published, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    try:
        theirs = inline(published, keep_cycles=True)
    except (LookupError, TypeError, ValueError) as exc:  # a $ref the bundler let through
        raise PullError(f"{source}: cannot inline the $refs: {type(exc).__name__}: {exc}") from exc
    try:
        mine = v1_compare.resolve_file(ours)
        listed = v1_compare.listed_differences(differences)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, LookupError, TypeError, ValueError) as exc:
        detail = _first_line(str(exc))
        raise PullError(f"cannot read {_shown(ours)} or {_shown(differences)}: {detail}") from exc
    findings = v1_compare.compare(mine, theirs, listed)
    outcome = V1Outcome(
        findings=findings,
        report=v1_compare.report(findings),
        published_sha256=digest,
        listed=sum(len(whats) for whats in listed.values()),
        ours=_shown(ours),
        differences=_shown(differences),
    )
    head = f"Compared {source} (sha256 {digest[:12]}) with {outcome.ours}"
    if not findings:
        lines = [
            f"{head}: no change",
            f"(all {outcome.listed} differences listed in {outcome.differences} are still there,"
            " and there is no other)",
        ]
    else:
        new = sum(not f.gone for f in findings)
        lines = [
            f"{head}: {new} difference(s) not listed in {outcome.differences},"
            f" {len(findings) - new} listed difference(s) gone",
            outcome.report.to_text().rstrip("\n"),
            f"Review {outcome.ours}, toloka_ext and {outcome.differences} (nothing was written).",
        ]
    return outcome, "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CLI


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pull_spec.py",
        description="Pull an OpenAPI document (v2-beta, or Toloka's published v1); report changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--api",
        choices=("v2", "v1"),
        default="v2",
        help="v2: the Pipeline API v2-beta document against its snapshot (default); v1: Toloka's"
        " published API v1 document against openapi/v1.yaml and openapi/v1-differences.yaml",
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--url", help=f"fetch from URL (default {DEFAULT_URL}; --api v1: {DEFAULT_V1_URL})"
    )
    src.add_argument("--file", help="read a local JSON/YAML file instead of fetching")
    parser.add_argument(
        "--output", help=f"snapshot path (default: <repo>/{DEFAULT_OUTPUT}; not for --api v1)"
    )
    parser.add_argument(
        "--mode",
        choices=("live", "reconstructed", "file"),
        help="recorded in info.x-snapshot.mode, or in the v1 report (default: live for a URL,"
        " file for --file; reconstructed is for v2 only)",
    )
    parser.add_argument("--reconstructed", action="store_true", help="same as --mode reconstructed")
    parser.add_argument("--date", type=_date, help="snapshot date YYYY-MM-DD (default: today UTC)")
    parser.add_argument("--dry-run", action="store_true", help="report only: write no snapshot")
    parser.add_argument("--report-json", help="also write the report as JSON here")
    parser.add_argument("--report-md", help="also write the report as Markdown here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reconstructed and args.mode not in (None, "reconstructed"):
        parser.error("--reconstructed conflicts with --mode " + args.mode)
    mode = "reconstructed" if args.reconstructed else args.mode
    v1 = args.api == "v1"
    if v1 and mode == "reconstructed":
        parser.error("--api v1 pulls Toloka's published document: it is never 'reconstructed'")
    if v1 and args.output is not None:
        parser.error("--output: --api v1 writes no snapshot (it compares with openapi/v1.yaml)")
    default_url = DEFAULT_V1_URL if v1 else DEFAULT_URL
    source = args.file if args.file is not None else (args.url or default_url)
    mode = mode or ("file" if args.file is not None else "live")
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    output = Path(args.output) if args.output else ROOT / DEFAULT_OUTPUT

    try:
        if v1:
            published = pull_v1(source=source, is_file=args.file is not None)
            v1_outcome, report_text = run_v1(published=published, source=source)
            if args.dry_run:
                report_text += "(dry run: --api v1 writes nothing anyway)\n"
        else:
            text = read_file(args.file) if args.file is not None else fetch(source)
            outcome, report_text = run(
                text=text, source=source, mode=mode, date=date, output=output, dry_run=args.dry_run
            )
    except PullError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR

    sys.stdout.write(report_text)
    if v1:
        data = v1_outcome.as_dict(source=source, mode=mode, date=date)
        markdown = v1_outcome.to_markdown(source=source)
        exit_code = v1_outcome.exit_code
    else:
        data = outcome.as_dict(source=source, mode=mode, output=str(output))
        markdown = f"Status: {outcome.status} (exit {outcome.exit_code})\n\n"
        markdown += outcome.report.to_markdown()
        exit_code = outcome.exit_code
    try:
        if args.report_json:
            payload = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            Path(args.report_json).write_text(payload, encoding="utf-8")
        if args.report_md:
            Path(args.report_md).write_text(markdown, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
