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

from bundle_cli.cli.app import app, boundary, emit_json, predict_option, say
from bundle_cli.cli.plain import bundle_argument, failed, warning
from bundle_cli.errors import BundleError, ExitCode

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
    quiet: bool = predict_option("quiet"),
    log_level: str | None = predict_option("log_level"),
    isolated: bool = predict_option("isolated"),
    offline: bool = predict_option("offline"),
) -> None:
    """Run examples.yaml and compare outputs with the expected ones."""
    from bundle_cli import model_logs
    from bundle_cli.cli import masking

    # Secret values are masked on both streams for the whole command: the table, --json, the
    # JUnit report and whatever the model prints or logs (which goes to stderr).
    scrub = masking.scrubber({}, None)
    with masking.masked_streams(scrub), boundary(as_json=as_json):
        level = model_logs.level_of(log_level, quiet=quiet)
        path = Path(bundle_argument(str(path)))
        if junit_xml is not None:
            from bundle_cli.atomic import destination

            destination(junit_xml)  # a folder or a device is refused before anything runs
        warn = None if quiet else warning
        if offline and not isolated:
            raise BundleError("--offline applies to --isolated runs")
        runner = _isolated(warn, offline, level) if isolated else None
        report = _run(path, names, junit_xml, level, warn, scrub or str, runner)
        render(report)
        if as_json:
            failure = {} if report.ok else failed(ExitCode.USER_CODE, report.summary())
            emit_json(report.to_dict() | failure)
    if not report.ok:
        raise typer.Exit(ExitCode.USER_CODE)


def _isolated(warn: Any, offline: bool, level: int) -> Any:
    """How --isolated opens the bundle: in its own environment, in a child Python."""
    from bundle_cli.runtime.isolated import open_isolated

    def open_runner(folder: Path) -> Any:
        from bundle_cli.cli.plain import building

        progress = None if warn is None else building  # none with --quiet
        return open_isolated(folder, warn=warn, offline=offline, log_level=level, progress=progress)

    return open_runner


def _run(
    path: Path,
    names: list[str],
    junit_xml: Path | None,
    level: int,
    warn: Any,
    scrub: Any,
    open_runner: Any = None,
) -> Any:
    """Run the examples; with --junit-xml, the report, or one error case when they cannot run."""
    from bundle_cli import model_logs
    from bundle_cli.cli import masking
    from bundle_cli.testing import run_examples, write_junit

    try:
        with masking.user_output_to_stderr(None), model_logs.model_logging(level):
            report = run_examples(path, names=names or None, warn=warn, open_runner=open_runner)
    except BundleError as exc:
        if junit_xml is not None:
            from bundle_cli.testing.junit import write_junit_error

            write_junit_error(exc, junit_xml, _suite_name(path), scrub)
        raise
    if junit_xml is not None:
        write_junit(report, junit_xml, _suite_name(path), scrub)
    return report


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
