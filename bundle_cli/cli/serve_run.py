"""The command line of `bundle serve`, declared once (cli/options.py makes both parsers: the
typer command of cmd_serve.py, and serve_fast's, which starts the server without importing
typer: its import is most of what stands between `bundle serve` and a ready server), and what
it runs."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from bundle_cli.cli.options import argument, option, shared
from bundle_cli.cli.predict_options import PredictOptions


@dataclass
class ServeCommand:
    """Serve the bundle over HTTP with Truss's routes."""

    path: str = argument(
        ".", metavar="DIR", help="The bundle folder, or an archive written by bundle package."
    )
    host: str = option("127.0.0.1", "--host", metavar="ADDRESS", help="Address to listen on.")
    port: int = option(
        8080, "--port", metavar="PORT", help="Port to listen on; 0 picks a free one."
    )
    protocol: str = option(
        "truss", "--protocol", metavar="NAME", help="Routes: truss, v2 (Open Inference) or kserve."
    )
    max_body_size: str = option(
        "100Mi", "--max-body-size", metavar="SIZE", help="Larger request bodies get 413."
    )
    max_queue: int = option(
        128, "--max-queue", metavar="N", help="Requests that may wait for a slot; more get 503."
    )
    timeout: float | None = option(
        None, "--timeout", metavar="SECONDS", help="Answer 504 to a request that runs longer."
    )
    drain_timeout: float = option(
        30.0, "--drain-timeout", metavar="SECONDS", help="On SIGTERM/Ctrl-C, time to finish."
    )
    reload: bool = option(
        False, "--reload", help="Reload the model when a file of the bundle folder changes."
    )
    log_format: str = option(
        "text", "--log-format", metavar="FORMAT", help="Server log lines: text or json."
    )
    no_access_log: bool = option(
        False, "--no-access-log", help="No stderr line per request (on by default)."
    )
    secrets: list[str] = shared(PredictOptions, "secrets")
    secrets_file: str | None = shared(PredictOptions, "secrets_file")
    quiet: bool = shared(PredictOptions, "quiet")
    log_level: str | None = shared(PredictOptions, "log_level")
    trust_pickles: bool = shared(PredictOptions, "trust_pickles")
    isolated: bool = shared(PredictOptions, "isolated")
    offline: bool = shared(PredictOptions, "offline")


def run(command: ServeCommand) -> None:
    """Serve until a signal stops the server."""
    from bundle_cli import model_logs
    from bundle_cli.cli import masking
    from bundle_cli.cli.plain import bundle_argument, warning
    from bundle_cli.runtime.secrets import parse_secret_pairs
    from bundle_cli.serve import ServeOptions
    from bundle_cli.serve import serve as serve_bundle
    from bundle_cli.sizes import parse_size

    given = parse_secret_pairs(command.secrets)
    scrub = masking.scrubber(given, command.secrets_file)
    stdout = sys.stdout  # the URL goes here; the model's prints go to stderr
    options = ServeOptions(
        path=bundle_argument(command.path),
        host=command.host,
        port=command.port,
        protocol=command.protocol,
        max_body_size=parse_size(command.max_body_size, "--max-body-size"),
        max_queue=command.max_queue,
        timeout=command.timeout,
        drain_timeout=command.drain_timeout,
        reload=command.reload,
        log_format=command.log_format,
        access_log=not command.no_access_log,
        secrets=given,
        secrets_file=command.secrets_file,
        trust_pickles=command.trust_pickles,
        isolated=command.isolated,
        offline=command.offline,
        warn=None if command.quiet else warning,
        announce=lambda url: _announce(stdout, url),
        scrub=scrub if scrub else None,
    )
    options.check()
    level = model_logs.level_of(command.log_level, quiet=command.quiet)
    with masking.user_output_to_stderr(scrub), model_logs.model_logging(level):
        serve_bundle(options)


def _announce(stdout: Any, url: str) -> None:
    """The server's address, the command's one result line (port 0 shows the port picked)."""
    sys.stdout.flush()
    print(url, file=stdout, flush=True)
