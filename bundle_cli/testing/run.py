"""`bundle test`: load a bundle once and run every examples.yaml entry against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bundle_cli.errors import InputDataError, UserCodeError
from bundle_cli.testing.compare import first_difference
from bundle_cli.testing.report import ExampleResult, TestReport


def run_examples(
    path: str | Path,
    *,
    names: Sequence[str] | None = None,
    warn: Callable[[str], Any] | None = None,
) -> TestReport:
    """Run the bundle's examples (all, or those named) and compare outputs with `expected`.

    `path` is a bundle folder or an archive. The bundle is validated and loaded once; an example
    whose model code raises is reported as an error and the others still run; `warn` receives
    the warnings shown before the model starts (see `bundle_cli.load`). Raises
    InvalidBundleError, UsageError (no examples, an unknown name), UnsafeArchiveError, or
    UserCodeError when the model cannot even be loaded.
    """
    from bundle_cli.runtime import load
    from bundle_cli.runtime.examples import read_examples
    from bundle_cli.testing.select import select

    folder = bundle_folder(Path(path))
    started = time.perf_counter()
    with load(folder, warn=warn) as bundle:
        report = TestReport(bundle=str(path), load_seconds=time.perf_counter() - started)
        where = bundle.settings.show(bundle.settings.examples_file)
        examples = select(read_examples(bundle.settings), names, where)
        started = time.perf_counter()
        report.results = [run_one(bundle, example) for example in examples]
        report.seconds = time.perf_counter() - started
    return report


def bundle_folder(path: Path) -> Path:
    """The folder to run: the path itself, or a verified extraction when it is an archive."""
    if path.is_file():
        from bundle_cli.archive import materialize

        return materialize(path)
    return path


def run_one(bundle: Any, example: Any) -> ExampleResult:
    """One example: its output, compared with `expected` when the example has one."""
    started = time.perf_counter()
    try:
        output = bundle.predict(example.input, dict(example.files) or None)
    except (UserCodeError, InputDataError) as exc:
        return ExampleResult(
            example.name,
            "error",
            time.perf_counter() - started,
            error=_one_line(exc),
            traceback=getattr(exc, "user_traceback", None) or None,
        )
    seconds = time.perf_counter() - started
    if not example.has_expected:
        return ExampleResult(example.name, "ran", seconds, output=output)
    difference = first_difference(output, example.expected, example.tolerance)
    if difference is not None:
        return ExampleResult(example.name, "failed", seconds, output, difference=difference)
    return ExampleResult(example.name, "passed", seconds, output)


def _one_line(exc: UserCodeError | InputDataError) -> str:
    """`the model's preprocess raised RuntimeError: boom`: the message and what the exception said."""
    message = exc.message.removeprefix("error: ").strip()
    lines = [
        line for line in (getattr(exc, "user_traceback", "") or "").splitlines() if line.strip()
    ]
    name, sep, said = (lines[-1] if lines else "").partition(": ")
    if sep and said and message.endswith(name.split(".")[-1]):
        return f"{message}: {said.strip()}"
    return message.splitlines()[0] if message else type(exc).__name__
