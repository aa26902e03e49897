"""`bundle test`: run examples.yaml and compare outputs with the expected ones.

Exit 0 when every example passed or ran; 1 when any example failed or raised (as with pytest, and
as elsewhere in bundle, 1 means the model's own code is at fault); 2 when the tests could not be
run as asked (invalid bundle, no examples, an unknown --name, a --junit-xml path that cannot be
written); 4 for an unsafe or corrupt archive.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say
from bundle_cli.cli.plain import warning
from bundle_cli.errors import ExitCode

_MARKS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "ran": "RAN"}
_COLORS = {"passed": "green", "failed": "red", "error": "red", "ran": "yellow"}


@app.command("test")
def test_command(
    path: Path = typer.Argument(Path("."), help="Bundle directory or archive."),
    names: list[str] = typer.Option(
        [], "--name", "-k", help="Run only this example (repeat for more).", metavar="NAME"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    junit_xml: Path | None = typer.Option(
        None, "--junit-xml", help="Also write a JUnit XML report to this file.", metavar="PATH"
    ),
) -> None:
    """Run examples.yaml and compare outputs with the expected ones."""
    from bundle_cli.testing import run_examples, write_junit

    with boundary():
        report = run_examples(path, names=names or None, warn=warning)
        if junit_xml is not None:
            write_junit(report, junit_xml, suite_name=_suite_name(path))
    render(report)
    if as_json:
        emit_json(report.to_dict())
    if not report.ok:
        raise typer.Exit(ExitCode.USER_CODE)


def _suite_name(path: Path) -> str:
    return f"bundle.{path.resolve().name or 'bundle'}"


def render(report: Any) -> None:
    """The pass/fail table on stderr: rich on a terminal, plain lines otherwise."""
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        _rich_table(report)
    else:
        _plain_table(report)
    for result in report.results:
        if result.status == "error" and result.traceback:
            say(f"--- {result.name}: the model's traceback ---")
            sys.stderr.write(result.traceback.rstrip("\n") + "\n")
    verdict = "ok" if report.ok else "FAILED"
    say(f"{report.bundle}: {verdict}: {report.summary()}", color="green" if report.ok else "red")


def _plain_table(report: Any) -> None:
    width = max((len(r.name) for r in report.results), default=4)
    for r in report.results:
        line = f"{_MARKS[r.status]:<5}  {r.name:<{width}}  {r.seconds * 1000:8.1f} ms  {r.detail}"
        say(line.rstrip(), color=_COLORS[r.status])


def _rich_table(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_edge=False, pad_edge=False)
    table.add_column("")
    table.add_column("example")
    table.add_column("time", justify="right")
    table.add_column("")
    for r in report.results:
        mark = Text(_MARKS[r.status], style=_COLORS[r.status])
        # Text, not markup: a path such as $.scores[1] must print as it is.
        table.add_row(mark, Text(r.name), f"{r.seconds * 1000:.1f} ms", Text(r.detail))
    Console(stderr=True).print(table)
