"""`bundle sign` without importing typer, and the command's one implementation.

Signing an archive reads its manifest and makes one ECDSA signature, less time than typer's
import. The command line is the one `SignOptions` declares; cli/options.py parses its plain
forms here and makes the typer command (cmd_sign) from the same fields.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bundle_cli.cli.options import argument, option, parse, table
from bundle_cli.cli.plain import bounded, say


@dataclass
class SignOptions:
    """Sign an archive or bundle folder in the OpenSSF model-signing format."""

    target: Path = argument(help="Archive written by `bundle package`, or a bundle folder.")
    key: Path | None = option(None, "--key", help="EC private key (PEM) to sign with.")
    output: Path | None = option(
        None, "-o", "--output", help="Signature file. Default: TARGET.sig beside the target."
    )
    password_file: Path | None = option(
        None,
        "--password-file",
        help="File holding the key's password (else $BUNDLE_KEY_PASSWORD, when set).",
    )
    keyless: bool = option(
        False, "--keyless", help="Sigstore keyless signing (needs the network; not offline)."
    )
    as_json: bool = option(False, "--json", help="Print what was written on stdout.")


# option -> (field, "value" or "flag")
OPTIONS = table(SignOptions)


def main(argv: list[str]) -> int | None:
    """Run `bundle sign argv...`; None when the typer command should handle the line."""
    opts = parse(SignOptions, argv)
    if opts is None:
        return None
    return bounded(lambda: run(opts), as_json=opts.as_json)


def run(opts: SignOptions) -> int:
    """Sign, print what was written (JSON on stdout with --json) and return 0."""
    from bundle_cli.archive.signing.sign import sign

    password = _password(opts.password_file)
    result = sign(
        opts.target, opts.key, output=opts.output, password=password, keyless=opts.keyless
    )
    if opts.as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    say(f"signed {result.target}: {result.signature} ({result.resources} {result.method})")
    return 0


def _password(path: Path | None) -> str | None:
    from bundle_cli.errors import UsageError

    if path is None:
        return os.environ.get("BUNDLE_KEY_PASSWORD")
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the password: {exc}") from None
