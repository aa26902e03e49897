"""`bundle validate` (the plain command lines run through `validate_fast`, without typer)."""

from __future__ import annotations

from bundle_cli.cli.app import command
from bundle_cli.cli.validate_fast import ValidateOptions


def _validate(options: ValidateOptions) -> int:
    from bundle_cli.cli import validate_fast

    return validate_fast.run(options)


command(ValidateOptions, _validate, "validate")
