"""`bundle batch`: the options; the work is in bundle_cli.batch.run."""

from __future__ import annotations

import sys
from typing import Any

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say


@app.command()
def batch(
    archive: str = typer.Argument(..., help="Archive written by `bundle package`."),
    input: str = typer.Argument(
        ..., metavar="INPUT", help="JSON Lines (one request a line; - for stdin) or .parquet."
    ),
    output: str = typer.Argument(
        ..., metavar="OUTPUT", help="Answers: JSON Lines (- for stdout), or .parquet."
    ),
    engine: str = typer.Option(
        "local", "-e", "--engine", metavar="local|ray|spark", help="Where the rows run."
    ),
    workers: int | None = typer.Option(
        None, "-w", "--workers", metavar="N", help="Workers (processes, actors or Spark cores)."
    ),
    address: str | None = typer.Option(
        None, "--address", metavar="HOST:PORT", help="Join this Ray cluster (--engine ray)."
    ),
    master: str | None = typer.Option(
        None, "--master", metavar="URL", help="Spark master, e.g. spark://host:7077."
    ),
    keep: list[str] = typer.Option(
        [], "--keep", metavar="COLUMN", help="Copy this Parquet column to the output; repeatable."
    ),
    fail_fast: bool = typer.Option(
        False, "--fail-fast", help="Stop at the first failed row instead of an error record."
    ),
    isolated: bool = typer.Option(
        False, "--isolated", help="Each worker runs the bundle in its own environment (uv)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary on stdout as JSON."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress and no summary line."),
) -> None:
    """Answer each row of a file with an archive: locally, on Ray or Spark."""
    from bundle_cli.batch.run import run_batch

    if as_json and output == "-":
        with boundary():
            raise _usage("--json prints the summary on stdout; give an OUTPUT file")
    with boundary(as_json=as_json), _Progress(quiet) as progress:
        summary = run_batch(
            archive,
            input,
            output,
            engine=engine,
            workers=workers,
            address=address,
            master=master,
            fail_fast=fail_fast,
            keep=keep,
            isolated=isolated,
            progress=progress,
        )
    failure = _failure_message(summary)
    if as_json:
        from bundle_cli.cli.plain import failed
        from bundle_cli.errors import ExitCode

        code = ExitCode(summary.first_failures[0]["exit_code"]) if failure else None
        emit_json(summary.to_dict() | (failed(code, failure) if code is not None else {}))
    if not quiet:
        say(
            f"{summary.rows} rows, {summary.failures} failed, {summary.rows_per_second:,.0f} rows/s "
            f"({summary.seconds:.1f} s, engine {summary.engine}) -> {summary.output}",
            color="red" if summary.failures else "green",
        )
    if failure:
        say(failure, color="red")
        raise typer.Exit(summary.first_failures[0]["exit_code"])


def _failure_message(summary: Any) -> str:
    """As `bundle predict --keep-going` says it: which rows failed (the first five)."""
    if not summary.failures:
        return ""
    lines = ", ".join(dict.fromkeys(str(f.get("line")) for f in summary.first_failures))
    more = ", ..." if summary.failures > len(summary.first_failures) else ""
    rows = f"{summary.failures} row{'s' * (summary.failures != 1)}"
    return f"{rows} failed ({lines}{more}); each has an error record in the output"


def _usage(message: str) -> Exception:
    from bundle_cli.errors import UsageError

    return UsageError(message)


class _Progress:
    """A progress bar of rows on stderr, only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.bar: Any = None
        self.on = not quiet and sys.stderr.isatty()

    def __enter__(self) -> _Progress:
        if self.on:
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("rows", total=None)
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
