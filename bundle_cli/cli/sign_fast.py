"""`bundle sign` without importing typer, and the command's one implementation.

Signing an archive reads its manifest and makes one ECDSA signature, less time than typer's
import. `parse` accepts the plain command lines of the typer command (`--opt value`,
`--opt=value`); anything else (help, an unknown option) returns None and typer handles the line.
`OPTIONS` mirrors cmd_sign's options; a test keeps the two identical.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bundle_cli.cli.plain import bounded, say

# option -> (keyword of `run`, "value" or "flag")
OPTIONS: dict[str, tuple[str, str]] = {
    "--key": ("key", "value"),
    "-o": ("output", "value"),
    "--output": ("output", "value"),
    "--password-file": ("password_file", "value"),
    "--keyless": ("keyless", "flag"),
    "--json": ("as_json", "flag"),
}


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The keywords of `run` for a plain `bundle sign` command line, or None to leave it to typer."""
    found: dict[str, Any] = {"key": None, "output": None, "password_file": None}
    found |= {"keyless": False, "as_json": False}
    targets: list[str] = []
    args = iter(argv)
    for arg in args:
        if not arg.startswith("-"):
            targets.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        spec = OPTIONS.get(name)
        if spec is None or (spec[1] == "flag" and eq):
            return None
        if spec[1] == "flag":
            found[spec[0]] = True
            continue
        value = inline if eq else next(args, None)
        if value is None or (not eq and value.startswith("-")):
            return None
        found[spec[0]] = Path(value)
    if len(targets) != 1:
        return None
    return {"target": Path(targets[0]), **found}


def main(argv: list[str]) -> int | None:
    """Run `bundle sign argv...`; None when the typer command should handle the line."""
    parsed = parse(argv)
    if parsed is None:
        return None
    return bounded(lambda: run(**parsed), as_json=bool(parsed.get("as_json")))


def run(
    target: Path,
    key: Path | None,
    output: Path | None,
    password_file: Path | None,
    keyless: bool,
    as_json: bool,
) -> int:
    """Sign, print what was written (JSON on stdout with `as_json`) and return 0."""
    from bundle_cli.signing.sign import sign

    password = _password(password_file)
    result = sign(target, key, output=output, password=password, keyless=keyless)
    if as_json:
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
