"""The whole command line: imports every command module so that each registers itself on the app,
in help order, and runs it."""

from __future__ import annotations

from bundle_cli.cli import cmd_init, cmd_predict, cmd_schema, cmd_test, cmd_validate  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_serve  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_archive, cmd_batch, cmd_cache, cmd_sign  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_env  # noqa: F401
from bundle_cli.cli.app import app

__all__ = ["app", "run_app"]


def run_app(args: list[str]) -> int:
    """Run the typer app on `args` (it exits with typer's own codes for usage errors)."""
    app(args=args, prog_name="bundle")
    return 0
