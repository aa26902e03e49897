"""A requirements file, line by line: every requirement must be PEP 508.

The bundle records a flat list of requirements, so the file must be self-contained: lines that pull in
other files or source trees (`-r`, `-c`, `-e`) are errors. Options that only tell pip where to look for
packages (`--extra-index-url`, `--find-links`, ...) are common in ML projects (the PyTorch CPU index);
they are warned about, because they are not part of what the bundle records. A trailing `--hash` on a
requirement (pip-compile output) is accepted.
"""

from __future__ import annotations

import re

from bundle_cli.diagnostics import Diagnostic, Severity
from bundle_cli.validation.pep508 import requirement_error

_INCLUDES = {"-r", "--requirement", "-c", "--constraint"}
_EDITABLE = {"-e", "--editable"}
_PIP_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links",
    "--trusted-host", "--pre", "--prefer-binary", "--only-binary", "--no-binary",
    "--require-hashes", "--use-feature",
}  # fmt: skip
_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION = re.compile(r"--?[A-Za-z][\w-]*")
_TRAILING_OPTIONS = re.compile(r"\s+(?=--?[A-Za-z])")


def check_requirements_text(text: str, file: str) -> list[Diagnostic]:
    """One diagnostic per bad line of a requirements file, at file:line:col."""
    found: list[Diagnostic] = []
    for number, raw in _logical_lines(text):
        line = _COMMENT.sub("", raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        where = (file, number, indent + 1)
        problem = (
            _check_option(body, where) if body.startswith("-") else _check_requirement(body, where)
        )
        if problem:
            found.append(problem)
    return found


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined, as pip reads them."""
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        start, before = pending or (number, "")
        joined = before + raw
        if joined.endswith("\\"):
            pending = (start, joined[:-1])
            continue
        pending = None
        lines.append((start, joined))
    if pending:
        lines.append(pending)
    return lines


def _check_option(body: str, where: tuple[str, int, int]) -> Diagnostic | None:
    match = _OPTION.match(body)
    option = match.group(0) if match else body.split()[0]
    if option in _INCLUDES:
        return _diag(
            "requirements-include",
            f"`{body}` refers to another file, which is not read: the bundle keeps one flat list "
            "of requirements; copy that file's requirements into this one",
            where,
        )
    if option in _EDITABLE:
        return _diag(
            "requirements-editable",
            f"`{body}` installs a source tree, not a requirement; put the code under the "
            "bundled packages folder (bundled_packages_dir) or write `name @ URL`",
            where,
        )
    if option in _PIP_OPTIONS:
        return _diag(
            "requirements-pip-option",
            f"`{option}` tells pip where to find packages; it is not a requirement and the bundle "
            "does not record it: configure it where the environment is installed (pip.conf or "
            "PIP_* environment variables)",
            where,
            "warning",
        )
    return _diag(
        "requirements-option",
        f"`{option}` is not a requirement; a bundle's requirements file holds PEP 508 "
        "requirements (such as numpy>=1.26), comments and blank lines",
        where,
    )


def _check_requirement(body: str, where: tuple[str, int, int]) -> Diagnostic | None:
    requirement, *options = _TRAILING_OPTIONS.split(body, maxsplit=1)
    error = requirement_error(requirement)
    if error is not None:
        detail, offset = _parse_error(error)
        file, line, column = where
        return _diag(
            "requirements-invalid",
            f'"{requirement}" is not a PEP 508 requirement ({detail}); {_requirement_hint(requirement)}',
            (file, line, column + offset),
        )
    option = _OPTION.match(options[0]) if options else None
    if option and option.group(0) != "--hash":
        return _diag(
            "requirements-pip-option",
            f"`{option.group(0)}` after {requirement} is a pip install option, not part of the "
            "requirement; the bundle records only the requirement itself, so remove the option",
            where,
            "warning",
        )
    return None


def _parse_error(message: str) -> tuple[str, int]:
    """packaging's first message line, and the 0-based offset its caret line points at."""
    lines = message.splitlines()
    caret = next((ln for ln in lines[1:] if ln.rstrip().endswith("^")), None)
    offset = max(len(caret.rstrip()) - 1 - 4, 0) if caret else 0  # the echo is indented by 4
    return lines[0].rstrip(".") if lines else message, offset


def _requirement_hint(text: str) -> str:
    if text.startswith((".", "/", "~")) or "://" in text:
        return (
            "a path or URL alone is not a requirement: write `name @ URL`, or put local code "
            "under the bundled packages folder (bundled_packages_dir)"
        )
    return "write a name with optional extras, version and marker, such as numpy>=1.26"


def _diag(
    code: str, message: str, where: tuple[str, int, int], severity: Severity = "error"
) -> Diagnostic:
    file, line, column = where
    return Diagnostic(code, severity, message, file, line, column)
