"""Where `bundle predict` writes: results to stdout or -o (atomically), the model's prints and
messages to stderr with secret values masked, progress and the profile table on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from bundle_cli.errors import UsageError


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
def user_output_to_stderr(scrub: Any) -> Iterator[None]:
    """print() in model code goes to stderr (stdout carries results only), secrets scrubbed."""
    saved = sys.stdout, sys.stderr
    err = scrub.wrap(sys.stderr) if scrub else sys.stderr
    sys.stdout, sys.stderr = err, err
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            err.flush()
        sys.stdout, sys.stderr = saved


@contextlib.contextmanager
def sink(output: str | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """stdout, or a temp file beside -o PATH that replaces PATH only when the run succeeded."""
    if output is None:
        yield stdout
        stdout.flush()
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise UsageError(f"-o {output}: no such folder: {target.parent}")
    from bundle_cli.tempnames import prefix, remove_stale

    remove_stale(target, ".tmp")  # left by a run that was killed
    tmp = target.with_name(f"{prefix(target)}tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class Writer:
    """Writes result lines; flushes at once when urgent (streamed chunks), else every 50 ms."""

    def __init__(self, out: IO[str], scrub: Any, stderr: IO[str]) -> None:
        self.out, self.scrub, self.stderr = out, scrub, stderr
        self.last_flush = time.monotonic()
        self.scrubbed = False

    def lines(self, lines: list[str], *, urgent: bool) -> None:
        if not lines:
            return
        text = "\n".join(lines)
        if self.scrub:
            clean = self.scrub(text)
            self.scrubbed |= clean != text
            text = clean
        self.out.write(text + "\n")
        now = time.monotonic()
        if urgent or now - self.last_flush > 0.05:
            self.out.flush()
            self.last_flush = now

    def finish(self) -> None:
        self.out.flush()
        if self.scrubbed:
            self.stderr.write("warning: the output contained a secret's value; written as ***\n")


class Progress:
    """`N lines, R/s` on stderr for JSONL runs longer than a second, only on a terminal."""

    def __init__(self, stderr: IO[str]) -> None:
        self.stderr = stderr
        self.on = stderr.isatty()
        self.start = self.last = time.monotonic()
        self.count = 0
        self.shown = False

    def tick(self, lines: int) -> None:
        self.count += lines
        if not self.on:
            return
        now = time.monotonic()
        if now - self.start > 1 and now - self.last > 0.2:
            rate = self.count / (now - self.start)
            self.stderr.write(f"\r{self.count} lines, {rate:,.0f}/s ")
            self.stderr.flush()
            self.last, self.shown = now, True

    def done(self) -> None:
        if self.shown:
            self.stderr.write(f"\r{self.count} lines in {time.monotonic() - self.start:.1f} s\n")


def profile_table(timings: Any) -> str:
    rows = ["profile (seconds):", f"  {'stage':<12} {'total':>9} {'calls':>7} {'mean':>9}"]
    for stage, total in timings.total.items():
        calls = timings.calls[stage]
        mean = total / calls if calls else 0.0
        rows.append(f"  {stage:<12} {total:>9.4f} {calls:>7} {mean:>9.6f}")
    return "\n".join(rows) + "\n"


def silence(stdout: IO[str]) -> None:
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
