"""`bundle test`: load a bundle once and run every examples.yaml entry against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bundle_cli.errors import BundleError, InputDataError, UserCodeError
from bundle_cli.runtime.examples import Example
from bundle_cli.runtime.runner import Runner
from bundle_cli.testing.compare import first_difference
from bundle_cli.testing.report import ExampleResult, TestReport


def run_examples(
    path: str | Path,
    *,
    names: Sequence[str] | None = None,
    warn: Callable[[str], Any] | None = None,
    open_runner: Callable[[Path], Runner] | None = None,
) -> TestReport:
    """Run the bundle's examples (all, or those named) and compare outputs with `expected`.

    `path` is a bundle folder or an archive. The bundle is validated and loaded once; an example
    whose model code raises is reported as an error and the others still run; `warn` receives
    the warnings shown before the model starts (see `bundle_cli.load`). `open_runner` opens the
    Runner the examples run in (default: `bundle_cli.load` in this process). Raises
    InvalidBundleError, UsageError (no examples, an unknown name), UnsafeArchiveError, or
    UserCodeError when the model cannot even be loaded.
    """
    from bundle_cli.runtime import load, loader
    from bundle_cli.runtime.examples import read_examples
    from bundle_cli.runtime.timings import Timings
    from bundle_cli.testing.select import select

    folder = loader.bundle_dir(path)
    # Which examples run is settled before the model loads: a typo in -k costs no load time.
    settings = loader.read_settings(folder, Timings())
    loader.check_runnable(settings)
    examples = select(read_examples(settings), names, settings.show(settings.examples_file))
    started = time.perf_counter()
    opened = open_runner(folder) if open_runner is not None else load(folder, warn=warn)
    with opened as bundle:
        report = TestReport(bundle=str(path), load_seconds=time.perf_counter() - started)
        started = time.perf_counter()
        report.results = [run_one(bundle, example) for example in examples]
        report.seconds = time.perf_counter() - started
    return report


def run_one(bundle: Runner, example: Example) -> ExampleResult:
    """One example: its output, compared with `expected` when the example has one."""
    started = time.perf_counter()
    try:
        output = bundle.predict(example.input, dict(example.files) or None)
    except (UserCodeError, InputDataError) as exc:
        if example.expect_error is not None:
            return _expected_error(example, exc, time.perf_counter() - started)
        return ExampleResult(
            example.name,
            "error",
            time.perf_counter() - started,
            error=_one_line(exc),
            traceback=getattr(exc, "user_traceback", None) or None,
        )
    seconds = time.perf_counter() - started
    if example.expect_error is not None:
        wanted = example.expect_error.type
        return ExampleResult(
            example.name, "failed", seconds, output, error=f"expected {wanted}, got an output"
        )
    if not example.has_expected:
        return ExampleResult(example.name, "ran", seconds, output=output)
    difference = first_difference(output, example.expected, example.tolerance)
    if difference is not None:
        return ExampleResult(example.name, "failed", seconds, output, difference=difference)
    return ExampleResult(example.name, "passed", seconds, output)


def _expected_error(example: Example, exc: BundleError, seconds: float) -> ExampleResult:
    """passed when the model raised the exception named (with a matching message), else failed."""
    import re

    wanted, said = example.expect_error, _one_line(exc)
    assert wanted is not None
    if exc.raised != wanted.type:
        return ExampleResult(
            example.name, "failed", seconds, error=f"expected {wanted.type}; {said}"
        )
    if wanted.match and not re.search(wanted.match, said):  # what the exception said
        detail = f"expected {wanted.type} matching {wanted.match!r}; {said}"
        return ExampleResult(example.name, "failed", seconds, error=detail)
    return ExampleResult(example.name, "passed", seconds, error=None)


def _one_line(exc: BundleError) -> str:
    """`the model's preprocess raised RuntimeError: boom`: the message and what the exception said."""
    message = exc.message.removeprefix("error: ").strip()
    lines = [
        line for line in (getattr(exc, "user_traceback", "") or "").splitlines() if line.strip()
    ]
    name, sep, said = (lines[-1] if lines else "").partition(": ")
    if sep and said and message.endswith(name.split(".")[-1]):
        return f"{message}: {said.strip()}"
    return message.splitlines()[0] if message else type(exc).__name__
