"""`bundle sign`: an OpenSSF model-signing signature of an archive or folder."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say


@app.command()
def sign(
    target: Path = typer.Argument(
        ..., help="Archive written by `bundle package`, or a bundle folder."
    ),
    key: Path | None = typer.Option(None, "--key", help="EC private key (PEM) to sign with."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Signature file. Default: TARGET.sig beside the target."
    ),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help="File holding the key's password (else $BUNDLE_KEY_PASSWORD, when set).",
    ),
    keyless: bool = typer.Option(
        False, "--keyless", help="Sigstore keyless signing (needs the network; not offline)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was written on stdout."),
) -> None:
    """Sign an archive or bundle folder in the OpenSSF model-signing format."""
    from bundle_cli.signing.sign import sign as run_sign

    with boundary():
        password = _password(password_file)
        result = run_sign(target, key, output=output, password=password, keyless=keyless)
    if as_json:
        emit_json(result.to_dict())
    say(f"signed {result.target}: {result.signature} ({result.resources} {result.method})")


def _password(path: Path | None) -> str | None:
    from bundle_cli.errors import UsageError

    if path is None:
        return os.environ.get("BUNDLE_KEY_PASSWORD")
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the password: {exc}") from None
