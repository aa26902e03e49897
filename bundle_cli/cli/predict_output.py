"""Where `bundle predict` writes: results to stdout or -o (atomically), progress and the profile
table on stderr (the model's own prints: bundle_cli.cli.masking)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def output_target(output: str | None, jsonl: bool) -> Path | None:
    """The file `-o` names (checked before the model loads), by the rule `package -o` follows."""
    if output is None:
        return None
    from bundle_cli.atomic import destination, output_path

    target = output_path(output, "predictions.jsonl" if jsonl else "prediction.json")
    destination(target)  # a folder, device or unreachable path is refused now, not after the run
    return target


@contextlib.contextmanager
def sink(target: Path | None, stdout: IO[str]) -> Iterator[IO[str]]:
    """stdout, or -o's file written atomically: replaced only when the run succeeded."""
    if target is None:
        yield stdout
        stdout.flush()
        return
    from bundle_cli.atomic import atomic_write, make_parents

    make_parents(target)
    with atomic_write(target) as handle:
        yield handle


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

    def __init__(self, stderr: IO[str] | None) -> None:
        self.stderr = stderr
        self.on = stderr is not None and stderr.isatty()
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
            assert self.stderr is not None
            self.stderr.write(f"\r{self.count} lines, {rate:,.0f}/s ")
            self.stderr.flush()
            self.last, self.shown = now, True

    def done(self) -> None:
        if self.shown and self.stderr is not None:
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
