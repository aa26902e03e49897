"""`bundle sign` (an OpenSSF model-signing signature) and `bundle diff` (what changed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bundle_cli.cli import sign_fast
from bundle_cli.cli.app import app, boundary, command, emit_json, say

command(sign_fast.SignOptions, sign_fast.run, "sign")


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
