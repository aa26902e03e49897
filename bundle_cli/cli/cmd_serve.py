"""`bundle serve`: the bundle as a local HTTP server with Truss's routes (bundle_cli.serve); its
options and what it runs are in serve_run (also reached by serve_fast, without typer)."""

from __future__ import annotations

from bundle_cli.cli.app import command
from bundle_cli.cli.serve_run import ServeCommand, run

command(ServeCommand, run, "serve")
