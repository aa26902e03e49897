"""The child side of the pipe runner: a bundle driven from another process over a pipe.

Runs in the bundle's own environment, which holds the bundle's requirements and nothing of the
tool's: the parent puts only the `bundle_cli` package on the import path (a meta-path finder,
see piperunner.py), and this side imports the standard library and the runtime only.

Protocol: JSON Lines both ways, one object per line.
- parent -> child: `{"start": settings}` once (the validated config, secret values, the
  archive the folder was unpacked from, the log level); then one request at a time:
  `{"op": "serve"|"predict"|"stream"|"many", ...fields of a Request}`; requests that read lines
  (JSON Lines, `many`) are followed by `{"lines": [text, ...]}` frames and `{"end_lines": true}`;
  `{"cancel": true}` stops the current request; `{"close": true}` (or end of input) ends.
- child -> parent: `{"ready": info}` or `{"error": error}` once; for each request,
  `{"started": {"streamed": bool}}` (the request's options were accepted) or `{"error": ...}`,
  then `{"out": [text, ...]}` frames (JSON texts: outputs, chunks or JSON Lines output lines) and
  `{"end": {"failures": [error, ...]}}` or `{"error": ...}`.
Errors travel as `runner.error_to_json` data; nothing is pickled. The model's prints and logs go
to this process's stderr, which the parent shows as its own.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Imported before the settings arrive: the parent may start this process early (envs/launch.py).
from bundle_cli import errors
from bundle_cli.cachedir import remember_origin
from bundle_cli.errors import BundleError, ExitCode
from bundle_cli.model_logs import model_logging
from bundle_cli.runtime import loader
from bundle_cli.runtime.bundle import LoadedBundle
from bundle_cli.runtime.runner import BundleInfo, Request, error_to_json
from bundle_cli.runtime.secrets import Secrets
from bundle_cli.runtime.settings import Settings
from bundle_cli.runtime.timings import Timings

FLUSH_EVERY = 256  # output lines held back while more input is at hand
INBOX_FRAMES = 64  # input frames read ahead (of 64 lines each): memory stays bounded


class Channel:
    """The pipe to the parent: messages in (read by a thread), messages out (buffered)."""

    def __init__(self, inp: IO[bytes], out: IO[bytes]) -> None:
        self._out = out
        self._pending: list[str] = []
        self._inbox: queue.Queue[dict[str, Any] | None] = queue.Queue(INBOX_FRAMES)
        self.cancelled = threading.Event()
        self.busy = False  # a request is being answered
        self._lines_open = False
        threading.Thread(target=self._read, args=(inp,), name="bundle-pipe", daemon=True).start()

    def _read(self, inp: IO[bytes]) -> None:
        for raw in _raw_lines(inp.fileno()):
            message = json.loads(raw)
            if message.get("cancel"):
                self.cancelled.set()
            else:
                self._inbox.put(message)
        if self.busy:
            os._exit(1)  # the parent is gone in the middle of a request: nobody reads its answer
        self._inbox.put(None)  # the parent closed the pipe

    def receive(self) -> dict[str, Any] | None:
        return self._inbox.get()

    def send(self, message: dict[str, Any]) -> None:
        self.flush()
        self._write(message)

    def answer(self, message: dict[str, Any]) -> None:
        """The last message of a request: from now on, the parent may close the pipe (and
        this process ends as usual, its model closed), so the request is no longer busy."""
        self.flush()
        self.busy = False
        self._write(message)

    def output(self, text: str, urgent: bool) -> None:
        self._pending.append(text)
        if urgent or len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            self._write({"out": batch})

    def _write(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message).encode("utf-8") + b"\n")
        self._out.flush()

    def lines(self) -> Iterator[str]:
        """The lines the parent sends for the current request; what was answered so far goes
        out before waiting for more."""
        self._lines_open = True  # now, not when first read: drain() must know
        return self._each_line()

    def _each_line(self) -> Iterator[str]:
        while self._lines_open:
            if self._inbox.empty():
                self.flush()
            message = self.receive()
            if message is None or message.get("end_lines"):
                self._lines_open = False
                return
            yield from message["lines"]

    def drain(self) -> None:
        """Read what is left of the current request's lines (after it failed or was cut)."""
        while self._lines_open:
            message = self.receive()
            if message is None or message.get("end_lines"):
                self._lines_open = False


def _raw_lines(fd: int) -> Iterator[bytes]:
    """The lines of `fd`, read with os.read: no buffered reader (and its lock) is held by this
    thread when the interpreter exits, which would abort the exit."""
    pending = b""
    while chunk := os.read(fd, 1 << 16):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


def main() -> None:
    # fd 1 carries the protocol; the model's prints (and anything writing to fd 1) go to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends this process on Ctrl-C
    channel = Channel(sys.stdin.buffer, out)
    first = channel.receive()
    if first is None:
        return
    try:
        bundle = _start(first["start"])
        channel.send({"ready": json.loads(_info(bundle).to_json())})
    except BaseException as exc:
        channel.send({"error": _error(exc)})
        return
    try:
        while (message := channel.receive()) is not None and not message.get("close"):
            _handle(bundle, message, channel)
    finally:
        bundle.close()
    _exit_now()


def _exit_now() -> None:
    """End the process as the interpreter would, less its teardown: the threads the model
    started are waited for and the atexit functions run (logging's flush among them), then the
    process exits without clearing every module. Tearing down numpy, pandas and scikit-learn
    took 0.4-0.7 s here under load, and the parent waits for this process to end."""
    import atexit

    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def _start(settings: dict[str, Any]) -> Any:
    """The loaded bundle, from the settings the parent validated (no validation here)."""
    root = Path(settings["root"])
    if settings.get("origin"):
        remember_origin(root, settings["origin"])
    config = settings["config"]
    found = Settings(root=root, shown=Path(settings["shown"]), config=config)
    model_logging(int(settings.get("log_level") or 20)).__enter__()  # for the process's life
    secret_map = Secrets(found.secret_names, settings.get("secrets") or {})
    # One request at a time: the pipe carries one.
    pipeline = loader.started(found, secret_map, Timings(), concurrency=1)
    return LoadedBundle(found, pipeline)


def _info(bundle: Any) -> BundleInfo:
    try:
        found: BundleInfo = bundle.info
        return found
    except AttributeError:  # pydantic 1: its models have schema(), not model_json_schema()
        from dataclasses import replace

        from bundle_cli.runtime.typed import json_schema

        spec = bundle.spec
        bundle._pipeline.spec = replace(spec, input_type=None, output_type=None)
        try:
            info = bundle.info
        finally:
            bundle._pipeline.spec = spec
        schemas = json_schema(spec.input_type), json_schema(spec.output_type)
        fixed: BundleInfo = replace(info, input_schema=schemas[0], output_schema=schemas[1])
        bundle._info = fixed
        return fixed


def _handle(bundle: Any, message: dict[str, Any], channel: Channel) -> None:
    op = message.get("op")
    channel.busy = True
    files = [(name, path) for name, path in message.get("files") or ()]
    timeout = message.get("timeout")
    failures: list[BundleError] = []
    try:
        if op == "serve":
            lines = channel.lines() if message.get("jsonl") else None
            request = Request(
                input=message.get("input"),
                lines=lines,
                label=message.get("label", "input"),
                files=files,
                timeout=timeout,
                method=message.get("method", "predict"),
                batch_size=message.get("batch_size"),
                keep_going=bool(message.get("keep_going")),
                indent=message.get("indent"),
            )
            replies = bundle.serve(request)
            outputs: Iterator[str] = replies
            streamed, failures = replies.streamed, replies.failures
        elif op == "predict":
            outputs = iter(
                [json.dumps(bundle.predict(message.get("input"), files, timeout=timeout))]
            )
            streamed = True
        elif op == "stream":
            chunks = bundle.stream(message.get("input"), files, timeout=timeout)
            outputs, streamed = (json.dumps(c) for c in chunks), True
        elif op == "many":
            values = (json.loads(line) for line in channel.lines())
            many = bundle.predict_many(
                values, files, batch_size=message.get("batch_size"), timeout=timeout
            )
            outputs, streamed = (json.dumps(o) for o in many), False
        else:
            raise BundleError(f"the pipe runner's child does not know the request {op!r}")
        channel.send({"started": {"streamed": streamed}})
        for text in outputs:
            channel.output(text, streamed)
            if channel.cancelled.is_set():
                close = getattr(outputs, "close", None)
                if close is not None:
                    close()
                break
        channel.answer({"end": {"failures": [error_to_json(f) for f in failures]}})
    except BaseException as exc:
        channel.answer({"error": _error(exc)})
    finally:
        channel.drain()
        channel.cancelled.clear()
        channel.busy = False


def _error(exc: BaseException) -> dict[str, Any]:
    """A BundleError as data; anything else is an internal error of the tool (exit 70)."""
    if isinstance(exc, BundleError):
        data = error_to_json(exc)
        # The parent rebuilds errors by the name of a bundle_cli.errors type: name the nearest
        # (PredictTimeoutError of runtime/usertrace.py travels as a UserCodeError).
        data["type"] = next(
            k.__name__ for k in type(exc).__mro__ if vars(errors).get(k.__name__) is k
        )
        return data
    said = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {
        "type": "BundleError",
        "message": f"internal error in the bundle's process: {said}",
        "exit_code": int(ExitCode.INTERNAL),
        "hint": "".join(traceback.format_exception(exc)),
    }
