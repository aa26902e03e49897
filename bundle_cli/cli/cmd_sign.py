"""`bundle sign` (an OpenSSF model-signing signature) and `bundle diff` (what changed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    from bundle_cli.cli.sign_fast import run

    with boundary(as_json=as_json):
        run(target, key, output, password_file, keyless, as_json)


@app.command()
def diff(
    a: Path = typer.Argument(..., help="An archive or bundle folder."),
    b: Path = typer.Argument(..., help="Another archive or bundle folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the changes as JSON on stdout."),
) -> None:
    """Show what changed between two bundles: files, config keys, requirements, pickles."""
    from bundle_cli.archive.diff import diff as run_diff

    with boundary(as_json=as_json):
        result = run_diff(a, b)
    if as_json:
        emit_json(result.to_dict())
    else:
        for change in result.changes:
            typer.echo(_line(change))
    say(f"{a} and {b}: " + ("identical" if result.identical else f"{len(result.changes)} changes"))
    if not result.identical:
        raise typer.Exit(1)  # as diff(1): 0 identical, 1 different, 2 or 4 could not compare


def _line(change: Any) -> str:
    from bundle_cli.cli.progress import human

    def file(side: dict[str, Any] | None) -> str:
        if side is None:
            return "-"
        digest = side.get("sha256") or f"{len(side['shards'])} shards {side['shards'][0][:12]}"
        return f"{human(side['size'])} sha256 {digest[:12]}"

    if change.section == "file":
        detail = f"{file(change.a)} -> {file(change.b)}"
    elif change.section == "pickle" and change.kind == "changed":
        added = sorted(set(change.b) - set(change.a))
        removed = sorted(set(change.a) - set(change.b))
        detail = " ".join([*(f"+{n}" for n in added), *(f"-{n}" for n in removed)])
    else:
        detail = f"{_value(change.a)} -> {_value(change.b)}"
    return f"{change.section:<11} {change.kind:<8} {change.name}: {detail}"


def _value(value: Any) -> str:
    import json

    return "-" if value is None else json.dumps(value, ensure_ascii=False)
