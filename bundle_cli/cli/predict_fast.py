"""`bundle predict` without importing typer (0.15 s here, more than the run of a small model).

`parse` accepts exactly the command lines the typer command accepts in their plain forms
(`--opt value`, `--opt=value`, `-i value`); for anything else (help, an unknown or malformed
option, a bad number) it returns None and the typer command handles the line, with its usual
messages. `OPTIONS` mirrors cmd_predict's options; a test keeps the two identical. Errors are
rendered as `app.boundary` renders them.
"""

from __future__ import annotations

from typing import Any

from bundle_cli.cli.plain import bounded
from bundle_cli.cli.predict_run import PredictOptions, run

# option -> (field, kind): "value", "many" (repeatable value), "flag", "int", "float"
OPTIONS: dict[str, tuple[str, str]] = {
    "-i": ("input", "value"),
    "--input": ("input", "value"),
    "-d": ("data", "value"),
    "--data": ("data", "value"),
    "--file": ("files", "many"),
    "-o": ("output", "value"),
    "--output": ("output", "value"),
    "--jsonl": ("jsonl", "flag"),
    "--batch-size": ("batch_size", "int"),
    "--example": ("example", "value"),
    "--timeout": ("timeout", "float"),
    "--profile": ("profile", "flag"),
    "--secret": ("secrets", "many"),
    "--secrets-file": ("secrets_file", "value"),
    "--method": ("method", "value"),
    "-q": ("quiet", "flag"),
    "--quiet": ("quiet", "flag"),
    "--log-level": ("log_level", "value"),
    "--keep-going": ("keep_going", "flag"),
    "--trust-pickles": ("trust_pickles", "flag"),
    "--isolated": ("isolated", "flag"),
    "--offline": ("offline", "flag"),
}
_CONVERT: dict[str, Any] = {"value": str, "many": str, "int": int, "float": float}


def _plain_number(text: str, kind: str) -> bool:
    """Digits (with one "." for a float): forms every number parser reads the same way."""
    whole, dot, fraction = text.partition(".")
    if kind == "int":
        return not dot and whole.isascii() and whole.isdigit()
    return (
        whole.isascii()
        and whole.isdigit()
        and (not dot or (fraction.isascii() and fraction.isdigit()))
    )


def parse(argv: list[str]) -> PredictOptions | None:
    """The options of a plain `bundle predict` command line, or None to let typer handle it."""
    opts = PredictOptions()
    values: dict[str, Any] = {}
    paths: list[str] = []
    args = iter(argv)
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        name, eq, inline = arg.partition("=")
        spec = OPTIONS.get(name if name.startswith("--") or not eq else "")
        if spec is None:
            return None  # --help, --, -ifile, an unknown option: typer decides
        field, kind = spec
        if kind == "flag":
            if eq:
                return None
            values[field] = True
            continue
        raw = inline if eq else next(args, None)
        if raw is None or (kind in ("int", "float") and not _plain_number(raw, kind)):
            return None
        value = _CONVERT[kind](raw)
        if kind == "many":
            values.setdefault(field, []).append(value)
        else:
            values[field] = value
    if len(paths) > 1:
        return None
    for field, value in values.items():
        setattr(opts, field, value)
    opts.path = paths[0] if paths else "."
    return opts


def main(argv: list[str]) -> int | None:
    """Run `bundle predict argv...`; None when the typer command should handle the line."""
    opts = parse(argv)
    if opts is None:
        return None
    return bounded(lambda: _run(opts))


def _run(opts: PredictOptions) -> int:
    run(opts)
    return 0
