"""Pull the v2-beta OpenAPI document, validate and normalize it, snapshot it, report changes.

Usage::

    python scripts/pull_spec.py                       # live: https://platform.toloka.ai/api/v2-beta/doc
    python scripts/pull_spec.py --file spec.json --reconstructed
    python scripts/pull_spec.py --dry-run --report-json report.json

Steps: fetch (``--url``, default the official URL) or read (``--file``); parse JSON or YAML;
validate with openapi-spec-validator (3.0 / 3.1); normalize (sorted keys, block style, no
wrapping, trailing newline, lists kept in order); stamp ``info.x-snapshot`` with source, mode,
date and the sha256 of the normalized document without ``x-snapshot``; compare with the
previous snapshot at ``--output`` (``scripts/specdiff.py``) and print the change report.
The snapshot is replaced atomically (temp file + ``os.replace``) only when everything
succeeded and the content hash changed; on any error the existing file is left untouched.

Exit codes (the same with ``--dry-run``, which writes no snapshot):
    0  no change (or first snapshot: "new snapshot")
    1  error: network, HTTP status, unparsable body, invalid document, unreadable file
    2  usage error
    3  compatible change (info/warning only, or a change outside the API surface)
    4  breaking change for clients
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

if __package__ in (None, ""):  # run as `python scripts/pull_spec.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.specdiff import EXIT_BREAKING, EXIT_COMPATIBLE, EXIT_NO_CHANGE, Report, diff_specs

DEFAULT_URL = "https://platform.toloka.ai/api/v2-beta/doc"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = "openapi/v2-beta.yaml"  # relative to the repository root, not the cwd
EXIT_ERROR = 1
EXIT_USAGE = 2
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SUPPORTED_VERSIONS = ("3.0.", "3.1.")

EPILOG = """exit codes:
  0  no change (or first snapshot written: "new snapshot")
  1  error (network, HTTP status, unparsable body, invalid document); nothing written
  2  usage error
  3  compatible change (written unless --dry-run)
  4  breaking change for clients (written unless --dry-run)
"""


class PullError(Exception):
    """A failure that ends the run with exit code 1 and one line on stderr."""


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings (``2026-11-23`` stays ``"2026-11-23"``)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def load_text(text: str) -> Any:
    """Parse JSON, or YAML when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


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
        and all(isinstance(v, dict) and ("value" in v or "$ref" in v) for v in value.values())
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


def fetch(url: str) -> str:
    headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
    try:
        response = httpx.get(url, headers=headers, timeout=TIMEOUT, follow_redirects=True)
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

    version = doc.get("openapi")
    if not isinstance(version, str) or not version.startswith(SUPPORTED_VERSIONS):
        found = f"openapi: {version!r}" if "openapi" in doc else "no 'openapi' field"
        if "swagger" in doc:
            found = f"swagger: {doc['swagger']!r}"
        raise PullError(f"{source}: not an OpenAPI 3.0/3.1 document ({found})")
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
    *, text: str, source: str, mode: str, date: str, output: Path, dry_run: bool
) -> tuple[Outcome, str]:
    """Everything after the body is in hand; returns the outcome and the report text."""
    doc = parse(text, source)
    validate(doc, source)
    new_text, new_hash = normalize(doc, source=source, mode=mode, date=date)
    previous, previous_raw = load_previous(output)

    if previous is None:
        outcome = Outcome("new snapshot", EXIT_NO_CHANGE, False, None, new_hash, Report())
        lines = [f"New snapshot: {output} (sha256 {new_hash[:12]})"]
    else:
        old_hash = content_hash(previous)
        report = diff_specs(content_of(previous), content_of(plain(doc)))
        if old_hash == new_hash:
            # Same content: keep the file (and its date) unless it is not in normalized form.
            info = previous.get("info")
            recorded = info.get("x-snapshot") if isinstance(info, dict) else None
            recorded = recorded if isinstance(recorded, dict) else {}
            kept = normalize(
                previous,
                source=str(recorded.get("source", source)),
                mode=str(recorded.get("mode", mode)),
                date=str(recorded.get("date", date)),
            )[0]
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


# --------------------------------------------------------------------------- CLI


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pull_spec.py",
        description="Pull, validate and normalize the v2-beta OpenAPI document; report changes.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--url", help=f"fetch from URL (default {DEFAULT_URL})")
    src.add_argument("--file", help="read a local JSON/YAML file instead of fetching")
    parser.add_argument("--output", help=f"snapshot path (default: <repo>/{DEFAULT_OUTPUT})")
    parser.add_argument(
        "--mode",
        choices=("live", "reconstructed", "file"),
        help="recorded in info.x-snapshot.mode (default: live for a URL, file for --file)",
    )
    parser.add_argument("--reconstructed", action="store_true", help="same as --mode reconstructed")
    parser.add_argument("--date", type=_date, help="snapshot date YYYY-MM-DD (default: today UTC)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="report only; write no snapshot (report files still written)",
    )
    parser.add_argument("--report-json", help="also write the report as JSON here")
    parser.add_argument("--report-md", help="also write the report as Markdown here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.reconstructed and args.mode not in (None, "reconstructed"):
        parser.error("--reconstructed conflicts with --mode " + args.mode)
    mode = "reconstructed" if args.reconstructed else args.mode
    source = args.file if args.file is not None else (args.url or DEFAULT_URL)
    mode = mode or ("file" if args.file is not None else "live")
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    output = Path(args.output) if args.output else ROOT / DEFAULT_OUTPUT

    try:
        text = read_file(args.file) if args.file is not None else fetch(source)
        outcome, report_text = run(
            text=text, source=source, mode=mode, date=date, output=output, dry_run=args.dry_run
        )
    except PullError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR

    sys.stdout.write(report_text)
    data = outcome.as_dict(source=source, mode=mode, output=str(output))
    try:
        if args.report_json:
            payload = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            Path(args.report_json).write_text(payload, encoding="utf-8")
        if args.report_md:
            Path(args.report_md).write_text(
                f"Status: {outcome.status} (exit {outcome.exit_code})\n\n"
                + outcome.report.to_markdown(),
                encoding="utf-8",
            )
    except OSError as exc:
        print(f"error: cannot write report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
