"""`bundle verify` without importing typer, and the command's one implementation.

Checking an archive runs at disk speed, so typer's import (~40 ms) is a visible share of
verifying even a large one. The command line is the one `VerifyOptions` declares; cli/options.py
parses its plain forms here and makes the typer command (cmd_archive) from the same fields.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.cli.options import argument, option, parse, table
from bundle_cli.cli.plain import bounded, failed, say
from bundle_cli.errors import ExitCode


@dataclass
class VerifyOptions:
    """Check every byte of an archive against its manifest (exit 4 on any problem)."""

    archive: Path = argument(help="Archive written by `bundle package`.")
    as_json: bool = option(False, "--json", help="Print the report on stdout.")
    signature: Path | None = option(
        None, "--signature", help="Also check this model-signing signature (needs --public-key)."
    )
    public_key: Path | None = option(
        None, "--public-key", help="EC public key (PEM) the signature must be made with."
    )


# option -> (field, "value" or "flag")
OPTIONS = table(VerifyOptions)


def main(argv: list[str]) -> int | None:
    """Run `bundle verify argv...`; None when the typer command should handle the line."""
    opts = parse(VerifyOptions, argv)
    if opts is None:
        return None
    return bounded(lambda: run(opts), as_json=opts.as_json)


def run(opts: VerifyOptions) -> int:
    """Verify, print the problems or the summary (the report on stdout with --json); 0 when
    everything checked, 4 otherwise."""
    from bundle_cli.archive.verify import verify
    from bundle_cli.cli.progress import human

    archive = opts.archive
    report = verify(archive, signature=opts.signature, public_key=opts.public_key)
    if opts.as_json:
        failure = {} if report.ok else failed(ExitCode.UNSAFE, f"{archive}: does not verify")
        sys.stdout.write(json.dumps(report.to_dict() | failure, indent=2) + "\n")
    for problem in report.problems:
        say(problem.format(), "red")
    if not report.ok:
        counts = ", ".join(f"{n} {kind}" for kind, n in report.counts().items() if n)
        say(f"{archive}: FAILED: {counts}", "red")
        return int(ExitCode.UNSAFE)
    rate = report.bytes_checked / max(report.seconds, 1e-9)
    say(
        f"{archive}: ok: {report.files_checked} files, {human(report.bytes_checked)} "
        f"checked ({human(rate)}/s)",
        "green",
    )
    return 0
