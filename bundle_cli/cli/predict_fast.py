"""`bundle predict` without importing typer (0.15 s here, more than the run of a small model).

The command line is the one `PredictOptions` declares (cli/options.py parses its plain forms and
leaves anything else to the typer command). Errors are rendered as `app.boundary` renders them.
"""

from __future__ import annotations

from bundle_cli.cli.options import parse, table
from bundle_cli.cli.plain import bounded
from bundle_cli.cli.predict_options import PredictOptions
from bundle_cli.cli.predict_run import run

OPTIONS = table(PredictOptions)


def main(argv: list[str]) -> int | None:
    """Run `bundle predict argv...`; None when the typer command should handle the line."""
    opts = parse(PredictOptions, argv)
    if opts is None:
        return None
    return bounded(lambda: _run(opts))


def _run(opts: PredictOptions) -> int:
    run(opts)
    return 0
