"""A griffe extension for the API reference: render the package's docstrings as Markdown.

The docstrings are written for ``help()`` and IDEs: Google sections (``Raises:``,
``Note:``), reST literal blocks (``Example::`` + an indented block) and reST roles
(``:class:`~toloka_ext.TolokaError```). mkdocstrings reads Markdown, where an indented block
after a paragraph is not code and a role is noise, and under ``mkdocs build --strict`` a
code line such as ``x[0]`` inside an example can even be taken for a cross-reference and
fail the build. This extension rewrites the docstrings in memory while griffe loads them
(the source files are never touched):

* a line ending in ``::`` (``Example::``, ``In-process (no sockets)::``) and the indented
  block after it become the line with one ``:`` and a fenced code block;
* a Google ``Example:`` / ``Examples:`` / ``Example (...):`` header followed by an indented
  block keeps its header and gets the block fenced, so the example renders as code;
* ``:role:`~a.b.C``` becomes ```C``` and ``:role:`a.b.C``` becomes ```a.b.C```.

A block that does not compile as Python is fenced as ``text`` instead.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

__all__ = ["RstDocstrings", "to_markdown"]

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")
_LITERAL_HEADER = re.compile(r"^(?P<indent>\s*)(?P<text>.*\S)::\s*$")
_EXAMPLE_HEADER = re.compile(r"^(?P<indent>\s*)(?P<text>Examples?(?: \([^)]*\))?):\s*$")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _language(block: str) -> str:
    try:
        compile(block, "<docstring>", "exec")
    except SyntaxError:
        return "text"
    return "python"


def _take_block(lines: list[str], start: int, header_indent: int) -> tuple[list[str], int]:
    """The lines indented deeper than the header from ``start`` on (blank lines inside kept)."""
    end = start
    while end < len(lines) and not lines[end].strip():
        end += 1
    body_start = end
    while end < len(lines) and (not lines[end].strip() or _indent_of(lines[end]) > header_indent):
        end += 1
    while end > body_start and not lines[end - 1].strip():
        end -= 1
    return lines[body_start:end], end


def to_markdown(docstring: str) -> str:
    """``docstring`` with reST literal blocks fenced and roles turned into code spans."""
    lines = _ROLE.sub(_role, docstring).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        literal = _LITERAL_HEADER.match(line)
        example = None if literal else _EXAMPLE_HEADER.match(line)
        header = literal or example
        if header is None:
            out.append(line)
            i += 1
            continue
        indent = len(header.group("indent"))
        block, end = _take_block(lines, i + 1, indent)
        if not block:
            out.append(line)
            i += 1
            continue
        code = textwrap.dedent("\n".join(block))
        if literal:
            # "Example::" -> "Example:" + a fence at the header's own indentation.
            pad = header.group("indent")
            out.append(f"{pad}{header.group('text')}:")
            out.append("")
        else:
            # A Google "Example:" section: its content stays indented under the header.
            pad = header.group("indent") + "    "
            out.append(line)
        out.append(f"{pad}```{_language(code)}")
        out.extend(f"{pad}{code_line}" if code_line else "" for code_line in code.splitlines())
        out.append(f"{pad}```")
        out.append("")
        i = end
    return "\n".join(out)


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring griffe loads with :func:`to_markdown`."""

    def on_object(self, *, obj: griffe.Object, **_kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
