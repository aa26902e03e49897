"""`bundle predict`: the options; the work is in predict_run (also reached by predict_fast)."""

from __future__ import annotations

import typer

from bundle_cli.cli.app import app, boundary


@app.command()
def predict(
    path: str = typer.Argument(
        ".", metavar="DIR", help="The bundle folder, or an archive written by bundle package."
    ),
    input: str | None = typer.Option(
        None, "-i", "--input", metavar="FILE", help="JSON input file, or - for stdin."
    ),
    data: str | None = typer.Option(
        None, "-d", "--data", metavar="JSON", help="JSON input inline."
    ),
    files: list[str] = typer.Option(
        [], "--file", metavar="NAME=@PATH", help="A binary file for the request; repeatable."
    ),
    output: str | None = typer.Option(
        None,
        "-o",
        "--output",
        metavar="PATH",
        help="Write the result here (atomically), not stdout.",
    ),
    jsonl: bool = typer.Option(
        False, "--jsonl", help="Input is JSON Lines: one prediction per line, output in order."
    ),
    batch_size: int | None = typer.Option(
        None,
        "--batch-size",
        metavar="N",
        help="With --jsonl: N lines per predict call (models that set predict_batch_size).",
    ),
    example: str | None = typer.Option(
        None, "--example", metavar="NAME", help="Use the input of this examples.yaml entry."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", metavar="SECONDS", help="Fail a request that runs longer (exit 1)."
    ),
    profile: bool = typer.Option(False, "--profile", help="Time each stage; table on stderr."),
    secrets: list[str] = typer.Option(
        [], "--secret", metavar="NAME=VALUE", help="A declared secret's value; repeatable."
    ),
    secrets_file: str | None = typer.Option(
        None, "--secrets-file", metavar="PATH", help="NAME=VALUE lines (outside the bundle)."
    ),
    method: str = typer.Option(
        "predict",
        "--method",
        metavar="NAME",
        help="Call this method instead of predict: completions, chat_completions, embeddings, ...",
    ),
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="No validation warnings; model logs from WARNING up."
    ),
    log_level: str | None = typer.Option(
        None, "--log-level", metavar="LEVEL", help="Model logs shown: debug|info|warning|error."
    ),
    keep_going: bool = typer.Option(
        False, "--keep-going", help="With --jsonl: a failed line becomes an error record."
    ),
    trust_pickles: bool = typer.Option(
        False, "--trust-pickles", help="Load pickles that import what nobody vouched for."
    ),
    isolated: bool = typer.Option(
        False, "--isolated", help="Run in the bundle's own environment (built with uv)."
    ),
    offline: bool = typer.Option(
        False, "--offline", help="With --isolated: build from uv's cache only."
    ),
) -> None:
    """Run the bundle's model locally; JSON results on stdout."""
    from bundle_cli.cli.predict_run import PredictOptions, run

    with boundary():
        run(
            PredictOptions(
                path=path,
                input=input,
                data=data,
                files=files,
                output=output,
                jsonl=jsonl,
                batch_size=batch_size,
                example=example,
                timeout=timeout,
                profile=profile,
                secrets=secrets,
                secrets_file=secrets_file,
                method=method,
                quiet=quiet,
                log_level=log_level,
                keep_going=keep_going,
                trust_pickles=trust_pickles,
                isolated=isolated,
                offline=offline,
            )
        )
