"""`bundle serve` without importing typer: typer (and the pydantic it imports) took about a
third of the time from start to a ready server. The command line is the one ServeCommand
declares; anything the plain parser does not read (help, a usage error) goes to typer."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

from bundle_cli.cli.options import parse
from bundle_cli.cli.plain import bounded
from bundle_cli.cli.serve_run import ServeCommand, run


def main(argv: list[str]) -> int | None:
    """Run `bundle serve argv...`; None when the typer command should handle the line."""
    command = parse(ServeCommand, argv)
    if command is None:
        return None
    return _exit(bounded(lambda: _run(command)))


def _run(command: ServeCommand) -> int:
    run(command)
    return 0


def _exit(code: int) -> NoReturn:
    """Exit at once: the server is down and its own cleanups ran (the model closed, the log
    flushed). What is left is the interpreter's teardown of every module the model and the
    server imported, which took more than a second on a loaded machine, past the second the
    command has to exit after the last request; the exit handlers still run."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to say
            stream.flush()
    os._exit(code)
