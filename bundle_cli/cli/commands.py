"""Imports every command module so that each registers itself on the app, in help order."""

from __future__ import annotations

from bundle_cli.cli import cmd_init, cmd_predict, cmd_schema, cmd_test, cmd_validate  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_serve  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_archive, cmd_batch, cmd_cache, cmd_sign  # noqa: F401

# isort: split
from bundle_cli.cli import cmd_env  # noqa: F401
