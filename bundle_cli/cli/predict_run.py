"""`bundle predict`: read the request, run the bundle, write JSON to stdout or -o.

Shared by the typer command and the typer-free fast path (`predict_fast`); imports only the
standard library and the runtime, which itself imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bundle_cli.archive.where import INPUT_SUFFIXES, not_a_bundle
from bundle_cli.cli import masking, model_logs
from bundle_cli.cli import predict_output as output
from bundle_cli.cli.plain import bundle_argument, warning
from bundle_cli.cli.predict_options import PredictOptions
from bundle_cli.errors import BundleError, InputDataError, UsageError


def run(opts: PredictOptions) -> None:
    """Run one `bundle predict`; raises BundleError subclasses for the boundary to render."""
    _check_sources(opts)
    opts.path = bundle_argument(opts.path)
    stdout = sys.stdout
    failures: list[BundleError] = []
    try:
        with contextlib.ExitStack() as stack:
            _run(opts, stack, stdout, sys.stderr, failures)
    except BrokenPipeError:  # `bundle predict ... | head`: the reader has all it wants
        output.silence(stdout)
    if failures:  # --keep-going: the output is complete, with an error record per failed line
        lines = ", ".join(str(getattr(f, "line", "?")) for f in failures[:5])
        more = ", ..." if len(failures) > 5 else ""
        error = BundleError(
            f"{len(failures)} line{'s' * (len(failures) != 1)} failed ({lines}{more}); "
            "each has an error record in the output"
        )
        error.exit_code = failures[0].exit_code
        raise error


def _run(
    opts: PredictOptions,
    stack: contextlib.ExitStack,
    stdout: IO[str],
    stderr: IO[str],
    failures: list[BundleError],
) -> None:
    from bundle_cli.runtime import load
    from bundle_cli.runtime.inputs import RequestFiles, parse_file_option
    from bundle_cli.runtime.secrets import parse_secret_pairs

    secrets = parse_secret_pairs(opts.secrets)
    target = output.output_target(opts.output, opts.jsonl)
    level = model_logs.level_of(opts.log_level, quiet=opts.quiet)
    request = _request(opts)  # bad input fails here, before the model loads
    stack.callback(request.close)
    named = request.files or [parse_file_option(f) for f in opts.files]
    files = stack.enter_context(RequestFiles(named))
    scrub = masking.scrubber(secrets, opts.secrets_file)
    stack.enter_context(masking.user_output_to_stderr(scrub))
    stack.enter_context(model_logs.model_logging(level))
    out = stack.enter_context(output.sink(target, stdout))  # replaced only if all went well
    warn = None if opts.quiet else warning
    with model_logs.spinner("loading the model", stderr):
        loaded = load(
            opts.path,
            secrets=secrets,
            secrets_file=opts.secrets_file,
            warn=warn,
            trust_pickles=opts.trust_pickles,
        )
    bundle = stack.enter_context(loaded)
    writer = output.Writer(out, scrub, stderr)
    _serve(bundle, request, files, opts, writer, failures)
    writer.finish()
    if opts.profile:
        stderr.write(output.profile_table(bundle.timings))


def _serve(
    bundle: Any,
    request: _Request,
    files: Any,
    opts: PredictOptions,
    out: output.Writer,
    failures: list[BundleError],
) -> None:
    if opts.jsonl:
        assert request.lines is not None
        chunks = bundle.predict_jsonl(
            request.lines,
            request.label,
            files,
            batch_size=opts.batch_size,
            timeout=opts.timeout,
            failures=failures if opts.keep_going else None,
        )
        progress = output.Progress(out.stderr)
        for chunk in _decoded(chunks, request.label):
            out.lines(chunk, urgent=False)
            progress.tick(len(chunk))
        progress.done()
    else:
        from bundle_cli.runtime.pipeline import Stream

        value = bundle.respond(request.value, files, timeout=opts.timeout, method=opts.method)
        if isinstance(value, Stream):  # each chunk printed as soon as the model yields it
            for chunk in value:
                out.lines([bundle.encode(chunk)], urgent=True)
        else:
            out.lines([bundle.encode(value, indent=2)], urgent=True)


MAX_TIMEOUT = 1e9  # seconds (about 31 years): what every clock and wait of the runtime can hold


def _check_sources(opts: PredictOptions) -> None:
    """Every option checked before anything is read or loaded."""
    given = [
        n for n, v in (("-i", opts.input), ("-d", opts.data), ("--example", opts.example)) if v
    ]
    if not given and opts.path.endswith(INPUT_SUFFIXES) and os.path.isfile(opts.path):
        raise not_a_bundle(Path(opts.path))  # `bundle predict input.json`: -i was forgotten
    if len(given) != 1:
        what = "no input given" if not given else f"{' and '.join(given)} given together"
        raise UsageError(f"{what}; give one of -i FILE, -i - (stdin), -d JSON or --example NAME")
    if opts.jsonl and opts.method != "predict":
        raise UsageError("--method applies to single requests, not --jsonl")
    if opts.jsonl and opts.example:
        raise UsageError("--jsonl reads JSON Lines from -i or -d, not from --example")
    if opts.keep_going and not opts.jsonl:
        raise UsageError("--keep-going applies to --jsonl runs only")
    if opts.batch_size is not None and (not opts.jsonl or opts.batch_size < 1):
        raise UsageError(
            "--batch-size applies to --jsonl runs only"
            if not opts.jsonl
            else f"--batch-size {opts.batch_size}: give a whole number of lines, 1 or more"
        )
    if opts.timeout is not None and not 0 < opts.timeout <= MAX_TIMEOUT:  # NaN fails too
        raise UsageError(
            f"--timeout {opts.timeout:g}: give a number of seconds above 0, at most {MAX_TIMEOUT:g}"
        )


@dataclass
class _Request:
    label: str
    value: Any = None
    lines: Any = None  # an iterable of text lines for --jsonl
    files: list[tuple[str, Path]] = field(default_factory=list)
    handle: IO[str] | None = None

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def _request(opts: PredictOptions) -> _Request:
    from bundle_cli.runtime import codec

    if opts.example:
        return _example_request(opts)
    if opts.data is not None:
        label, text = "--data", opts.data
        if opts.jsonl:
            return _Request(label, lines=text.splitlines())
        return _Request(label, value=codec.decode(text, label))
    label = "<stdin>" if opts.input == "-" else str(opts.input)
    handle = sys.stdin if opts.input == "-" else _open_input(str(opts.input))
    if opts.jsonl:
        return _Request(label, lines=handle, handle=None if opts.input == "-" else handle)
    try:
        text = _read(handle, label)
    finally:
        if handle is not sys.stdin:
            handle.close()
    return _Request(label, value=codec.decode(text, label))


def _example_request(opts: PredictOptions) -> _Request:
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.examples import find_example
    from bundle_cli.runtime.timings import Timings

    settings = loader.read_settings(loader.bundle_dir(opts.path), Timings())
    example = find_example(settings, str(opts.example))
    if opts.files:
        raise UsageError("--file cannot be combined with --example; the example names its files")
    return _Request(
        f"example {example.name}", value=example.input, files=list(example.files.items())
    )


def _open_input(path: str) -> IO[str]:
    if not os.path.isfile(path):
        what = "is a folder, not a file" if os.path.isdir(path) else "no such input file"
        raise UsageError(f"-i {path}: {what}")
    return open(path, encoding="utf-8-sig")


def _read(handle: IO[str], label: str) -> str:
    try:
        return handle.read()
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{label}: not UTF-8 text (byte {exc.start})") from None


def _decoded(chunks: Iterator[list[str]], label: str) -> Iterator[list[str]]:
    try:
        yield from chunks
    except UnicodeDecodeError as exc:
        raise InputDataError(f"{label}: not UTF-8 text ({exc.reason})") from None
