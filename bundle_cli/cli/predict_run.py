"""`bundle predict`: read the request, run the bundle, write JSON to stdout or -o.

Shared by the typer command and the typer-free fast path (`predict_fast`); imports only the
standard library and the runtime, which itself imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bundle_cli import model_logs
from bundle_cli.archive.where import INPUT_SUFFIXES, not_a_bundle
from bundle_cli.cli import masking
from bundle_cli.cli import predict_output as output
from bundle_cli.cli.plain import building, bundle_argument, warning
from bundle_cli.cli.predict_options import PredictOptions
from bundle_cli.errors import BundleError, InputDataError, UsageError

if TYPE_CHECKING:
    from bundle_cli.runtime.runner import Request


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
    prestarted = None
    if opts.isolated:  # the child of the bundle's last environment starts while we import
        from bundle_cli.envs.launch import prestart

        prestarted = prestart(opts.path)
        if prestarted is not None:
            stack.callback(prestarted.discard)
    from bundle_cli.runtime import load
    from bundle_cli.runtime.secrets import parse_secret_pairs

    secrets = parse_secret_pairs(opts.secrets)
    target = output.output_target(opts.output, opts.jsonl)
    level = model_logs.level_of(opts.log_level, quiet=opts.quiet)
    request = _request(opts, stack)  # bad input fails here, before the model loads
    scrub = masking.scrubber(secrets, opts.secrets_file)
    stack.enter_context(masking.user_output_to_stderr(scrub))
    stack.enter_context(model_logs.model_logging(level))
    out = stack.enter_context(output.sink(target, stdout))  # replaced only if all went well
    warn = None if opts.quiet else warning
    with model_logs.spinner("loading the model", stderr):
        if opts.isolated:
            from bundle_cli.runtime.isolated import open_isolated

            loaded: Any = open_isolated(
                opts.path,
                secrets=secrets,
                secrets_file=opts.secrets_file,
                warn=warn,
                trust_pickles=opts.trust_pickles,
                offline=opts.offline,
                log_level=level,
                prestarted=prestarted,
                progress=None if opts.quiet else building,
            )
        else:
            loaded = load(
                opts.path,
                secrets=secrets,
                secrets_file=opts.secrets_file,
                warn=warn,
                trust_pickles=opts.trust_pickles,
            )
    bundle = stack.enter_context(loaded)
    writer = output.Writer(out, scrub, stderr)
    replies = bundle.serve(request)
    stack.callback(replies.close)
    progress = output.Progress(stderr if request.is_jsonl else None)
    urgent = replies.streamed
    for batch in replies.batches():
        writer.lines(batch, urgent=urgent)
        progress.tick(len(batch))
    progress.done()
    failures.extend(replies.failures)
    writer.finish()
    if opts.profile:
        stderr.write(output.profile_table(bundle.timings))


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
    if opts.offline and not opts.isolated:
        raise UsageError("--offline applies to --isolated runs (it builds from uv's cache only)")
    if opts.profile and opts.isolated:
        raise UsageError("--profile times the stages in this process; it cannot with --isolated")
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


def _request(opts: PredictOptions, stack: contextlib.ExitStack) -> Request:
    """The runtime's Request for the options; a file -i names is closed by `stack`."""
    from bundle_cli.runtime import codec
    from bundle_cli.runtime.inputs import parse_file_option
    from bundle_cli.runtime.runner import Request, example_request

    options: dict[str, Any] = {"timeout": opts.timeout, "method": opts.method}
    if opts.example:
        request = example_request(opts.path, str(opts.example), indent=2, **options)
        if opts.files:
            raise UsageError(
                "--file cannot be combined with --example; the example names its files"
            )
        return request
    options["files"] = [parse_file_option(f) for f in opts.files]
    if opts.jsonl:
        options.update(batch_size=opts.batch_size, keep_going=opts.keep_going)
    if opts.data is not None:
        label, text = "--data", opts.data
        if opts.jsonl:
            return Request(lines=text.splitlines(), label=label, **options)
        return Request(codec.decode(text, label), label=label, indent=2, **options)
    label = "<stdin>" if opts.input == "-" else str(opts.input)
    handle = sys.stdin if opts.input == "-" else _open_input(str(opts.input))
    if opts.jsonl:
        if handle is not sys.stdin:
            stack.callback(handle.close)
        return Request(lines=handle, label=label, **options)
    try:
        text = _read(handle, label)
    finally:
        if handle is not sys.stdin:
            handle.close()
    return Request(codec.decode(text, label), label=label, indent=2, **options)


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
