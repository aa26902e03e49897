"""`bundle serve`: the bundle as a local HTTP server with Truss's routes (bundle_cli.serve)."""

from __future__ import annotations

import sys

import typer

from bundle_cli.cli.app import app, boundary, predict_option


@app.command()
def serve(
    path: str = typer.Argument(
        ".", metavar="DIR", help="The bundle folder, or an archive written by bundle package."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on; 0 picks a free one."),
    protocol: str = typer.Option(
        "truss", "--protocol", metavar="NAME", help="Routes: truss, v2 (Open Inference) or kserve."
    ),
    max_body_size: str = typer.Option(
        "100Mi", "--max-body-size", metavar="SIZE", help="Larger request bodies get 413."
    ),
    max_queue: int = typer.Option(
        128, "--max-queue", metavar="N", help="Requests that may wait for a slot; more get 503."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", metavar="SECONDS", help="Answer 504 to a request that runs longer."
    ),
    drain_timeout: float = typer.Option(
        30.0, "--drain-timeout", metavar="SECONDS", help="On SIGTERM/Ctrl-C, time to finish."
    ),
    reload: bool = typer.Option(
        False, "--reload", help="Reload the model when a file of the bundle folder changes."
    ),
    log_format: str = typer.Option(
        "text", "--log-format", metavar="FORMAT", help="Server log lines: text or json."
    ),
    access_log: bool = typer.Option(
        True, "--access-log/--no-access-log", help="One stderr line per request."
    ),
    secrets: list[str] = predict_option("secrets"),
    secrets_file: str | None = predict_option("secrets_file"),
    quiet: bool = predict_option("quiet"),
    log_level: str | None = predict_option("log_level"),
    trust_pickles: bool = predict_option("trust_pickles"),
    isolated: bool = predict_option("isolated"),
    offline: bool = predict_option("offline"),
) -> None:
    """Serve the bundle over HTTP with Truss's routes."""
    with boundary():
        from bundle_cli import model_logs
        from bundle_cli.cli import masking
        from bundle_cli.cli.plain import bundle_argument, warning
        from bundle_cli.runtime.secrets import parse_secret_pairs
        from bundle_cli.serve import ServeOptions
        from bundle_cli.serve import serve as serve_bundle
        from bundle_cli.sizes import parse_size

        given = parse_secret_pairs(secrets)
        scrub = masking.scrubber(given, secrets_file)
        stdout = sys.stdout  # the URL goes here; the model's prints go to stderr
        options = ServeOptions(
            path=bundle_argument(path),
            host=host,
            port=port,
            protocol=protocol,
            max_body_size=parse_size(max_body_size, "--max-body-size"),
            max_queue=max_queue,
            timeout=timeout,
            drain_timeout=drain_timeout,
            reload=reload,
            log_format=log_format,
            access_log=access_log,
            secrets=given,
            secrets_file=secrets_file,
            trust_pickles=trust_pickles,
            isolated=isolated,
            offline=offline,
            warn=None if quiet else warning,
            announce=lambda url: _announce(stdout, url),
            scrub=scrub if scrub else None,
        )
        options.check()
        level = model_logs.level_of(log_level, quiet=quiet)
        with masking.user_output_to_stderr(scrub), model_logs.model_logging(level):
            serve_bundle(options)


def _announce(stdout: object, url: str) -> None:
    """The server's address, the command's one result line (port 0 shows the port picked)."""
    sys.stdout.flush()
    print(url, file=stdout, flush=True)  # type: ignore[call-overload]
