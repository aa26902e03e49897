"""Diagnostics for a requirements file, line by line, as pip reads it (config/requirements.py).

pip's own forms are all accepted (PEP 508, `name @ URL`, VCS and wheel URLs, local paths, `-r`,
`-e` and index options); a line pip would refuse is an error at its file:line:col.
"""

from __future__ import annotations

from pathlib import Path

from bundle_cli.config.requirements import Entry, from_text
from bundle_cli.diagnostics import Diagnostic


def check_requirements_text(text: str, file: str) -> list[Diagnostic]:
    """One diagnostic per line of a requirements file that pip would refuse."""
    return entry_problems(from_text(text, Path(file)))


def entry_problems(entries: list[Entry]) -> list[Diagnostic]:
    return [
        Diagnostic("requirements-invalid", "error", e.problem, e.file, e.line, e.column)
        for e in entries
        if e.problem
    ]
