"""`bundle predict`: options in predict_options, the work in predict_run (also reached by
predict_fast, without typer)."""

from __future__ import annotations

from bundle_cli.cli.app import command
from bundle_cli.cli.predict_options import PredictOptions


def _predict(options: PredictOptions) -> None:
    from bundle_cli.cli.predict_run import run

    run(options)


command(PredictOptions, _predict, "predict")
