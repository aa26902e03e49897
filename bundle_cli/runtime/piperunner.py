"""The pipe runner: a Runner (bundle_cli.runtime.runner) whose bundle runs in another Python.

The child is the interpreter of the bundle's environment running `runtime/child.py` (see its
docstring for the protocol), started by bundle_cli/envs/launch.py so that it sees no package of
the tool but `bundle_cli`: the bundle's own pins (an old pydantic, numpy or typer) are what its
code imports.

Requests run one at a time per child (its `info.predict_concurrency` is 1). Outputs arrive as the child's JSON text, so they are
printed byte for byte as in process; errors arrive as data and are raised as the same
`bundle_cli.errors` types. A child that dies is reported with its exit status or signal, never
waited on forever; closing the runner (also on Ctrl-C or SIGTERM) ends the child.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from bundle_cli.errors import BundleError, ExitCode, InputDataError
from bundle_cli.runtime.runner import BundleInfo, Replies, Request, error_from_json

LINES_PER_FRAME = 64


class ProcessDiedError(BundleError):
    """The bundle's process ended without answering (a crash, an OOM kill, os._exit)."""

    exit_code = ExitCode.USER_CODE


class PipeRunner:
    """A bundle running in a child Python, driven over its stdin and stdout."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        settings: Mapping[str, Any],
        *,
        cleanups: list[Callable[[], Any]] | None = None,
    ) -> None:
        """Drive `proc` (runtime/child.py started in the bundle's environment, with pipes for
        stdin, stdout and stderr; see envs/launch.py): send it `settings`, wait until the model
        is loaded."""
        self._cleanups = list(cleanups or [])
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._current: _Call | None = None
        self._closed = False
        self._proc = proc
        self._pump = threading.Thread(target=_pump, args=(self._proc.stderr,), daemon=True)
        self._pump.start()
        try:
            self._send({"start": dict(settings)})
            first = self._receive("load the model")
            if "error" in first:
                raise error_from_json(first["error"])
            info = BundleInfo.from_json(json.dumps(first["ready"]))
            # One pipe, one request at a time: what a caller may run at once is one.
            self._info = dataclasses.replace(info, predict_concurrency=1)
        except BaseException:
            self.close()
            raise

    # -- the Runner protocol -------------------------------------------------------------

    @property
    def info(self) -> BundleInfo:
        return self._info

    def predict(self, input: Any, files: Any = None, *, timeout: float | None = None) -> Any:
        header = {"op": "predict", "input": input, "files": _paths(files), "timeout": timeout}
        with self._call(header) as call:
            [text] = list(call.texts())
        return json.loads(text)

    def stream(
        self, input: Any, files: Any = None, *, timeout: float | None = None
    ) -> Iterator[Any]:
        header = {"op": "stream", "input": input, "files": _paths(files), "timeout": timeout}
        with self._call(header) as call:
            for text in call.texts():
                yield json.loads(text)

    def predict_many(
        self,
        inputs: Iterable[Any],
        files: Any = None,
        *,
        batch_size: int | None = None,
        timeout: float | None = None,
    ) -> Iterator[Any]:
        header = {
            "op": "many",
            "files": _paths(files),
            "batch_size": batch_size,
            "timeout": timeout,
        }
        with self._call(header, (json.dumps(v) for v in inputs)) as call:
            for text in call.texts():
                yield json.loads(text)

    def serve(self, request: Request) -> Replies:
        header = {
            "op": "serve",
            "input": None if request.is_jsonl else request.input,
            "jsonl": request.is_jsonl,
            "label": request.label,
            "files": _paths(request.files),
            "timeout": request.timeout,
            "method": request.method,
            "batch_size": request.batch_size,
            "keep_going": request.keep_going,
            "indent": request.indent,
        }
        call = self._call(header, request.lines)
        call.__enter__()
        failures: list[BundleError] = []

        def texts() -> Iterator[str]:
            try:
                yield from call.texts(failures)
            except BaseException as exc:
                call.__exit__(type(exc), exc, None)
                raise
            call.__exit__(None, None, None)

        return Replies(texts(), streamed=call.streamed, failures=failures)

    async def apredict(self, input: Any, files: Any = None, *, timeout: float | None = None) -> Any:
        import asyncio

        return await asyncio.to_thread(self.predict, input, files, timeout=timeout)

    async def astream(
        self, input: Any, files: Any = None, *, timeout: float | None = None
    ) -> AsyncIterator[Any]:
        import asyncio

        chunks = self.stream(input, files, timeout=timeout)
        done = object()
        try:
            while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
                yield chunk
        finally:
            await asyncio.to_thread(chunks.close)  # type: ignore[attr-defined]

    def encode(self, value: Any, *, indent: int | None = None) -> str:
        from bundle_cli.runtime import codec

        return codec.dumps(value, "predict", indent=indent)

    def close(self) -> None:
        """End the child (asked to, then SIGTERM, then SIGKILL) and run the cleanups."""
        if self._closed:
            return
        self._closed = True
        proc = self._proc
        try:
            if proc.poll() is None:
                try:
                    self._send({"close": True})
                    proc.stdin.close()  # type: ignore[union-attr]
                except OSError:
                    pass
                _end(proc, grace=2.0)
        finally:
            self._pump.join(5)
            while self._cleanups:
                self._cleanups.pop()()

    def __enter__(self) -> PipeRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM: no goodbye, end it now
            _end(self._proc, grace=0.0)
        self.close()

    # -- the pipe --------------------------------------------------------------------------

    def _call(self, header: dict[str, Any], lines: Iterable[str] | None = None) -> _Call:
        if self._closed:
            raise BundleError("this runner is closed")
        current = self._current
        if current is not None and current.thread is threading.current_thread():
            current.__exit__(None, None, None)  # replies this thread left unread: cut short
        return _Call(self, header, lines)

    def _send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode("utf-8") + b"\n"
        with self._write_lock:
            stdin = self._proc.stdin
            assert stdin is not None
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # the child is gone; reading its answer says how

    def _receive(self, doing: str) -> dict[str, Any]:
        stdout = self._proc.stdout
        assert stdout is not None
        raw = stdout.readline()
        if not raw:
            raise self._died(doing)
        return json.loads(raw)

    def _died(self, doing: str) -> ProcessDiedError:
        try:
            code = self._proc.wait(5)
        except subprocess.TimeoutExpired:
            _end(self._proc, grace=0.0)
            code = self._proc.returncode
        self._pump.join(2)  # what it said before dying is shown first
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            how = f"was killed by signal {-code} ({name})"
        else:
            how = f"exited with status {code}"
        self._closed = True
        return ProcessDiedError(
            f"the bundle's Python process {how} while it was asked to {doing}; "
            "what it printed is above",
            hint="a crash in native code (segfault) or the out-of-memory killer (SIGKILL) ends "
            "the process without a Python traceback",
        )


class _Call:
    """One request in flight: its header sent, its lines fed by a thread, its answer read."""

    def __init__(self, runner: PipeRunner, header: dict[str, Any], lines: Iterable[str] | None):
        self.runner, self.header, self.lines = runner, header, lines
        self.thread = threading.current_thread()
        self.streamed = True
        self.finished = False
        self._stop = threading.Event()
        self._feeder: threading.Thread | None = None
        self._feed_error: BaseException | None = None

    def __enter__(self) -> _Call:
        runner = self.runner
        runner._lock.acquire()
        try:
            runner._current = self
            runner._send(self.header)
            if self.lines is not None:
                self._feeder = threading.Thread(target=self._feed, daemon=True)
                self._feeder.start()
            first = runner._receive(f"answer a {self.header['op']} request")
            if "error" in first:
                self.finished = True
                raise error_from_json(first["error"])
            self.streamed = bool(first["started"]["streamed"])
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return self

    def texts(self, failures: list[BundleError] | None = None) -> Iterator[str]:
        """The request's output texts as they come; raises what the child raised."""
        runner = self.runner
        while not self.finished:
            message = runner._receive(f"answer a {self.header['op']} request")
            if "out" in message:
                yield from message["out"]
                continue
            self.finished = True
            self._stop_feeding()
            if "error" in message:
                raise error_from_json(message["error"])
            if failures is not None:
                failures.extend(error_from_json(f) for f in message["end"]["failures"])
        if self._feed_error is not None:
            raise _line_error(self._feed_error, str(self.header.get("label", "input")))

    def cancel(self) -> None:
        """Stop the child's work on this request and read its answer to the end."""
        if self.finished:
            return
        self.runner._send({"cancel": True})
        with contextlib.suppress(BundleError):  # what it raised meanwhile is nobody's now
            for _ in self.texts():
                pass

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        runner = self.runner
        if runner._current is not self:
            return  # exited already
        try:
            if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, SIGTERM: end the child, now
                runner._closed = True
                _end(runner._proc, grace=0.0)
            elif not self.finished and not runner._closed:
                self.cancel()
        finally:
            self._stop_feeding()
            runner._current = None
            runner._lock.release()

    def _feed(self) -> None:
        batch: list[str] = []
        send = self.runner._send
        try:
            for line in self.lines or ():
                if self._stop.is_set():
                    break
                batch.append(line)
                if len(batch) >= LINES_PER_FRAME:
                    send({"lines": batch})
                    batch = []
            if batch and not self._stop.is_set():
                send({"lines": batch})
        except BaseException as exc:  # reading the input failed (not UTF-8, an I/O error)
            self._feed_error = exc
        finally:
            send({"end_lines": True})

    def _stop_feeding(self) -> None:
        self._stop.set()
        if self._feeder is not None and self._feeder is not threading.current_thread():
            self._feeder.join()
            self._feeder = None


def _line_error(exc: BaseException, label: str) -> BaseException:
    if isinstance(exc, UnicodeDecodeError):
        return InputDataError(f"{label}: not UTF-8 text ({exc.reason})")
    return exc


def _paths(files: Any) -> list[list[str]]:
    """Request files as `[name, absolute path]` pairs: files travel as paths."""
    pairs = files.items() if isinstance(files, Mapping) else (files or ())
    found = []
    for item in pairs:
        name, source = item if isinstance(item, tuple | list) else (None, item)
        if not isinstance(source, str | os.PathLike):
            raise BundleError(
                f"file {name}: an isolated bundle takes request files as paths "
                "(bytes and open files cannot cross to its process)"
            )
        found.append([name or Path(source).name, os.path.abspath(source)])
    return found


def _pump(stream: IO[bytes] | None) -> None:
    """The child's stderr, shown as this process's own (masked when stderr is masked)."""
    if stream is None:
        return
    fd = stream.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    while chunk := os.read(fd, 65536):
        target = sys.stderr
        with contextlib.suppress(OSError, ValueError):
            target.write(decoder.decode(chunk))
            target.flush()


def _end(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """Wait up to `grace` seconds for the child to exit, then SIGTERM, then SIGKILL. Waits
    block in waitpid (no polling), a timer sends the signals."""
    steps = [(grace, signal.SIGTERM), (grace + 2.0, signal.SIGKILL)]
    timers = [threading.Timer(after, _signal, (proc, sig)) for after, sig in steps]
    for timer in timers:
        timer.daemon = True
        timer.start()
    try:
        proc.wait()
    finally:
        for timer in timers:
            timer.cancel()


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
