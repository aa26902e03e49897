"""The command line of `bundle predict`, declared once (cli/options.py makes both parsers)."""

from __future__ import annotations

from dataclasses import dataclass

from bundle_cli.cli.options import argument, option


@dataclass
class PredictOptions:
    """Run the bundle's model locally; JSON results on stdout."""

    path: str = argument(
        ".", metavar="DIR", help="The bundle folder, or an archive written by bundle package."
    )
    input: str | None = option(
        None, "-i", "--input", metavar="FILE", help="JSON input file, or - for stdin."
    )
    data: str | None = option(None, "-d", "--data", metavar="JSON", help="JSON input inline.")
    files: list[str] = option(
        [], "--file", metavar="NAME=@PATH", help="A binary file for the request; repeatable."
    )
    output: str | None = option(
        None,
        "-o",
        "--output",
        metavar="PATH",
        help="Write the result here (atomically), not stdout.",
    )
    jsonl: bool = option(
        False, "--jsonl", help="Input is JSON Lines: one prediction per line, output in order."
    )
    batch_size: int | None = option(
        None,
        "--batch-size",
        metavar="N",
        help="With --jsonl: N lines per predict call (models that set predict_batch_size).",
    )
    example: str | None = option(
        None, "--example", metavar="NAME", help="Use the input of this examples.yaml entry."
    )
    timeout: float | None = option(
        None, "--timeout", metavar="SECONDS", help="Fail a request that runs longer (exit 1)."
    )
    profile: bool = option(False, "--profile", help="Time each stage; table on stderr.")
    secrets: list[str] = option(
        [], "--secret", metavar="NAME=VALUE", help="A declared secret's value; repeatable."
    )
    secrets_file: str | None = option(
        None, "--secrets-file", metavar="PATH", help="NAME=VALUE lines (outside the bundle)."
    )
    method: str = option(
        "predict",
        "--method",
        metavar="NAME",
        help="Call this method instead of predict: completions, chat_completions, embeddings, ...",
    )
    quiet: bool = option(
        False, "-q", "--quiet", help="No validation warnings; model logs from WARNING up."
    )
    log_level: str | None = option(
        None, "--log-level", metavar="LEVEL", help="Model logs shown: debug|info|warning|error."
    )
    keep_going: bool = option(
        False, "--keep-going", help="With --jsonl: a failed line becomes an error record."
    )
    trust_pickles: bool = option(
        False, "--trust-pickles", help="Load pickles that import what nobody vouched for."
    )
    isolated: bool = option(
        False, "--isolated", help="Run in the bundle's own environment (built with uv)."
    )
    offline: bool = option(False, "--offline", help="With --isolated: build from uv's cache only.")
