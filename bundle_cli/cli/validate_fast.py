"""`bundle validate` without importing typer, and the command's one implementation.

typer's import (with click and pydantic through `typer._adapters`) costs more than the 0.20 s a
validation may take. The command line is the one `ValidateOptions` declares; cli/options.py
parses its plain forms here and makes the typer command (cmd_validate) from the same fields.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.cli.options import argument, option, parse, table
from bundle_cli.cli.plain import bounded, bundle_argument, failed, render_diagnostics, say
from bundle_cli.errors import ExitCode


@dataclass
class ValidateOptions:
    """Check a bundle without importing its model code."""

    path: Path = argument(Path("."), help="Bundle directory or archive.")
    as_json: bool = option(False, "--json", help="Print a machine-readable report on stdout.")
    strict: bool = option(False, "--strict", help="Treat warnings as errors.")
    no_cache: bool = option(
        False, "--no-cache", help="Check every file again, even when nothing changed."
    )
    trust_pickles: bool = option(
        False, "--trust-pickles", help="Untrusted pickles are warnings, not errors."
    )


# option -> keyword of `run`
FLAGS = {flag: field for flag, (field, _) in table(ValidateOptions).items()}


def main(argv: list[str]) -> int | None:
    """Run `bundle validate argv...`; None when the typer command should handle the line."""
    opts = parse(ValidateOptions, argv)
    if opts is None:
        return None
    # Building the config schema and checking the code allocate many objects and free few;
    # collecting every 700 of them took ~10 ms of a 0.17 s validation. A larger first threshold
    # (as mypy sets) keeps collection for large bundles without paying it on small ones.
    import gc

    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        return bounded(lambda: run(opts), as_json=opts.as_json)
    finally:
        gc.set_threshold(*before)  # as it was for a caller in the same process


def run(opts: ValidateOptions) -> int:
    """Validate, render the report (JSON on stdout, or diagnostics on stderr) and return the exit
    code: 0, or 2 when the bundle has errors (or warnings, with --strict)."""
    path, as_json, strict, trust_pickles = opts.path, opts.as_json, opts.strict, opts.trust_pickles
    from bundle_cli.opening import open_bundle

    path = open_bundle(bundle_argument(str(path)))  # an archive: verified, unpacked, cached
    if opts.no_cache:
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
