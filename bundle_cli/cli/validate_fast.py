"""`bundle validate` without importing typer, and the command's one implementation.

typer's import (with click and pydantic through `typer._adapters`) costs more than the 0.20 s a
validation may take. `parse` accepts the plain command lines of the typer command (a path and its
flags); for anything else (help, an unknown option) it returns None and typer handles the line,
with its usual messages. `FLAGS` mirrors cmd_validate's options; a test keeps the two identical.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bundle_cli.cli.plain import bounded, bundle_argument, failed, render_diagnostics, say
from bundle_cli.errors import ExitCode

# option -> keyword of `run`
FLAGS = {
    "--json": "as_json",
    "--strict": "strict",
    "--no-cache": "no_cache",
    "--trust-pickles": "trust_pickles",
}


def parse(argv: list[str]) -> tuple[str, dict[str, bool]] | None:
    """(path, flags) of a plain `bundle validate` command line, or None to let typer handle it."""
    flags = dict.fromkeys(FLAGS.values(), False)
    paths = []
    for arg in argv:
        if arg in FLAGS:
            flags[FLAGS[arg]] = True
        elif arg.startswith("-"):
            return None  # --help, --, an unknown option: typer decides
        else:
            paths.append(arg)
    if len(paths) > 1:
        return None
    return (paths[0] if paths else "."), flags


def main(argv: list[str]) -> int | None:
    """Run `bundle validate argv...`; None when the typer command should handle the line."""
    parsed = parse(argv)
    if parsed is None:
        return None
    path, flags = parsed
    return bounded(lambda: run(Path(path), **flags), as_json=flags["as_json"])


def run(
    path: Path, *, as_json: bool, strict: bool, no_cache: bool, trust_pickles: bool = False
) -> int:
    """Validate, render the report (JSON on stdout, or diagnostics on stderr) and return the exit
    code: 0, or 2 when the bundle has errors (or warnings, with `strict`)."""
    path = Path(bundle_argument(str(path)))
    if no_cache:
        from bundle_cli.validation import validate

        report = validate(path, strict=strict, trust_pickles=trust_pickles)
    else:
        from bundle_cli.validation.cache import validate_cached

        report = validate_cached(path, trust_pickles).visible(strict=strict)
    ok = report.ok(strict=strict)
    if as_json:
        document = report.to_dict(strict=strict)
        if not ok:
            document |= failed(ExitCode.USAGE, report.summary())
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        render_diagnostics(report.diagnostics)
        say(report.summary(), "green" if ok else "red")
    return 0 if ok else int(ExitCode.USAGE)
