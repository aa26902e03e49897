"""Secret values never reach the terminal: every stream the model or a report can write to is
masked as a whole (see bundle_cli.runtime.scrub), and the model's prints go to stderr, so stdout
carries results only. Used by `bundle predict` and `bundle test`."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def scrubber(given: dict[str, str], secrets_file: str | None) -> Any:
    """Every value that may be a secret: given, in the secrets file, or BUNDLE_SECRET_*."""
    from bundle_cli.runtime.scrub import Scrubber
    from bundle_cli.runtime.secrets import secret_file_values

    values = [*given.values()]
    values += [v for k, v in os.environ.items() if k.startswith("BUNDLE_SECRET_")]
    if secrets_file:
        values += secret_file_values(Path(secrets_file))
    return Scrubber(values)


@contextlib.contextmanager
def masked_streams(scrub: Any) -> Iterator[None]:
    """sys.stdout and sys.stderr each masked for the duration (a no-op without secrets)."""
    if not scrub:
        yield
        return
    saved = sys.stdout, sys.stderr
    streams = sys.stdout, sys.stderr = scrub.wrap(sys.stdout), scrub.wrap(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for stream in streams:
            with contextlib.suppress(Exception):
                stream.close_mask()


@contextlib.contextmanager
def user_output_to_stderr(scrub: Any) -> Iterator[None]:
    """print() in model code goes to stderr (stdout carries results only), secrets masked."""
    saved = sys.stdout, sys.stderr
    err: Any = scrub.wrap(sys.stderr) if scrub else sys.stderr
    sys.stdout, sys.stderr = err, err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        with contextlib.suppress(Exception):
            err.close_mask() if scrub else err.flush()
