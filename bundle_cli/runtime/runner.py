"""The runner seam: one `Request` type and one small protocol that every way of running a bundle
implements, so the CLI, `bundle test`, a server and a batch job drive a bundle the same way
whether it runs in this process or in another one.

The contract (what an implementation provides and what a caller may rely on)
----------------------------------------------------------------------------
A `Runner` is a loaded bundle ready for requests. `LoadedBundle` (`bundle_cli.load(path)`) is
the in-process one; a runner that drives a bundle in another Python over a pipe implements the
same protocol and passes the same contract tests (`tests/runtime/test_runner_contract.py`).

- `info` -> `BundleInfo`: plain facts, fixed once loaded (name, streaming, callable methods,
  batch size, predict concurrency, input and output JSON Schemas, whether it serves a
  websocket). Plain data, so it crosses a
  process boundary as JSON (`BundleInfo.to_json` / `from_json`).
- `predict(input, files=None, *, timeout=None)` -> the output as JSON-ready Python values (a
  streaming model's chunks collected in a list).
- `stream(input, files=None, *, timeout=None)` -> an iterator of chunks (one item for a model
  that does not stream).
- `predict_many(inputs, files=None, *, batch_size=None, timeout=None)` -> one output per input,
  in order; inputs consumed lazily, a batch at a time.
- `serve(request)` -> `Replies`: the whole dispatch of one `Request` (a single input, a
  streamed one, JSON Lines one by one or in batches, `keep_going`), as JSON text, one string
  per output, chunk or JSON Lines output line (`Replies.batches()`: a list of them at a
  time). Option errors (an unknown method, a batch size the model does not take, a file that
  cannot be opened) are raised by `serve` itself, before any output; errors of the input or
  the model's code are raised while iterating.
- `apredict(...)`, `astream(...)`: the async forms of `predict` and `stream`, for callers on an
  event loop. They never block the loop: async hooks run on the caller's loop, sync hooks in
  the runner's worker threads.
- `encode(value, *, indent=None)` -> JSON text of an output; `close()` (idempotent) and the
  context manager release what the runner holds (the model's loop, a child process, an
  unpacked archive).

Every method may be called from any thread and from inside a running event loop; requests run
at once up to `info.predict_concurrency`.

`files` are `(name, path)` pairs or a `{name: path}` mapping; the runner opens them (the
in-process runner also takes bytes and open binary files). What a runner raises is one of the
`bundle_cli.errors` types, built from plain data only: the message, the exit code, the hint,
and for the model's own errors `UserCodeError(message, user_traceback)` with `raised` (the name
of what the model raised). `error_to_json` / `error_from_json` carry them as JSON, and a
`keep_going` failure is an error record line (`{"error": {"line", "code", "message",
"exit_code"}}`) in the output as well as an entry of `Replies.failures`.

This module imports only the standard library and `bundle_cli.errors`, so a child process in
an environment that has only the bundle's own requirements can import it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from bundle_cli import errors
from bundle_cli.errors import BundleError, ExitCode, UserCodeError

FilePairs = Sequence[tuple[str, Any]] | Mapping[str, Any]


@dataclass
class Request:
    """One call of a runner: a single input, or JSON Lines each of which is one request.

    `input` is the value of a single request (ignored when `lines` is given); `lines` an
    iterable of text lines (a file, stdin, a list) read lazily, one request per non-blank line;
    `label` names the source in error messages (`--data`, `requests.jsonl`, `example cat`), and
    a JSON Lines error names `label:line`. `files` are `(name, path)` pairs opened by the runner
    for the request's hooks. `method` is `predict` (through pre/postprocess) or another method
    the model defines (`completions`, ...), single requests only; `batch_size` and `keep_going`
    apply to JSON Lines only. `indent` is the JSON indent of a single output that is not
    streamed (`bundle predict` prints it with 2).
    """

    input: Any = None
    lines: Iterable[str] | None = None
    label: str = "input"
    files: FilePairs = ()
    timeout: float | None = None
    method: str = "predict"
    batch_size: int | None = None
    keep_going: bool = False
    indent: int | None = None

    @property
    def is_jsonl(self) -> bool:
        return self.lines is not None


@dataclass(frozen=True)
class BundleInfo:
    """What a caller may know of a loaded bundle before sending it anything (plain data)."""

    name: str
    streaming: bool
    methods: tuple[str, ...]  # the request/response methods it defines: predict, completions, ...
    batch_size: int | None
    predict_concurrency: int
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    websocket: bool = False  # it serves a websocket (`async def websocket(self, websocket)`)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BundleInfo:
        data = json.loads(text)
        data["methods"] = tuple(data["methods"])
        return cls(**data)


class Replies(Iterator[str]):
    """What `serve` returns: the output as JSON text, one string per output, chunk or output
    line, produced as it is iterated; `batches()` gives the same strings a list at a time, as
    the runner produced them (a JSON Lines batch's outputs at once), for a caller that writes
    them together.

    `streamed` is true when each string should reach the reader at once (a streamed answer, a
    single answer) rather than buffered (JSON Lines); `count` is how many strings came so far.
    With `keep_going`, `failures` collects the error of each failed line (its error record is
    in the output in its place) and the run goes on.
    """

    def __init__(
        self,
        lines: Iterator[str] | None = None,
        *,
        streamed: bool,
        failures: list[BundleError] | None = None,
        batches: Iterator[list[str]] | None = None,
    ) -> None:
        if batches is None:
            if lines is None:
                raise TypeError("Replies needs lines or batches")
            batches = ([line] for line in lines)
        self._lines = lines
        self._batches = batches
        self._held: Iterator[str] = iter(())  # the rest of the batch `__next__` is in
        self.streamed = streamed
        self.failures: list[BundleError] = failures if failures is not None else []
        self.count = 0

    def __iter__(self) -> Replies:
        return self

    def __next__(self) -> str:
        while True:
            for line in self._held:
                self.count += 1
                return line
            self._held = iter(next(self._batches))

    def batches(self) -> Iterator[list[str]]:
        """The strings not read yet, a list at a time."""
        for batch in itertools.chain([list(self._held)], self._batches):
            if batch:
                self.count += len(batch)
                yield batch

    def close(self) -> None:
        for source in (self._batches, self._lines):
            close = getattr(source, "close", None)
            if close is not None:
                close()


@runtime_checkable
class Runner(Protocol):
    """A loaded bundle ready for requests; see the module docstring for the contract."""

    @property
    def info(self) -> BundleInfo: ...

    def predict(self, input: Any, files: Any = None, *, timeout: float | None = None) -> Any: ...

    def stream(
        self, input: Any, files: Any = None, *, timeout: float | None = None
    ) -> Iterator[Any]: ...

    def predict_many(
        self,
        inputs: Iterable[Any],
        files: Any = None,
        *,
        batch_size: int | None = None,
        timeout: float | None = None,
    ) -> Iterator[Any]: ...

    def serve(self, request: Request) -> Replies: ...

    async def apredict(
        self, input: Any, files: Any = None, *, timeout: float | None = None
    ) -> Any: ...

    def astream(
        self, input: Any, files: Any = None, *, timeout: float | None = None
    ) -> AsyncIterator[Any]: ...

    def encode(self, value: Any, *, indent: int | None = None) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> Runner: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def example_request(bundle: str | Path, name: str, **options: Any) -> Request:
    """The Request of the examples.yaml entry called `name` (its input and files), read without
    loading the model, so that a wrong name fails at once; `options` are further Request fields
    (timeout, method, indent)."""
    from bundle_cli.runtime import loader
    from bundle_cli.runtime.examples import find_example
    from bundle_cli.runtime.timings import Timings

    settings = loader.read_settings(loader.bundle_dir(bundle), Timings())
    example = find_example(settings, name)
    return Request(
        input=example.input,
        label=f"example {example.name}",
        files=list(example.files.items()),
        **options,
    )


# Errors as plain data, for runners whose bundle runs in another process.

_ERROR_TYPES = {
    name: kind
    for name in dir(errors)
    if isinstance(kind := getattr(errors, name), type) and issubclass(kind, BundleError)
}


def error_to_json(exc: BundleError) -> dict[str, Any]:
    """The fields of a runtime error, as JSON-ready data (`error_from_json` rebuilds it)."""
    data: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": exc.message,
        "exit_code": int(exc.exit_code),
        "hint": exc.hint,
        "raised": exc.raised,
        "user_traceback": getattr(exc, "user_traceback", None),
        "line": getattr(exc, "line", None),
    }
    diagnostics = getattr(exc, "diagnostics", None)
    if diagnostics:
        data["diagnostics"] = [asdict(d) for d in diagnostics]
    return data


def error_from_json(data: Mapping[str, Any]) -> BundleError:
    """The error `error_to_json` described: the same message, exit code, hint and traceback.
    A type this side does not know becomes a BundleError with the same exit code."""
    kind = _ERROR_TYPES.get(str(data.get("type")), BundleError)
    message = str(data.get("message", ""))
    exc: BundleError
    if issubclass(kind, UserCodeError):
        exc = kind(message, str(data.get("user_traceback") or ""))
    elif issubclass(kind, errors.InvalidBundleError):
        from bundle_cli.diagnostics import Diagnostic

        found = [Diagnostic(**d) for d in data.get("diagnostics") or ()]
        exc = kind(message, found)
    elif kind is errors.FileSystemError or not _plain_init(kind):
        exc = BundleError(message)
        exc.exit_code = ExitCode(int(data.get("exit_code", ExitCode.USAGE)))
    else:
        exc = kind(message)
    exc.hint = data.get("hint")
    exc.raised = data.get("raised")
    if data.get("line") is not None:
        exc.line = data["line"]  # type: ignore[attr-defined]
    if int(exc.exit_code) != int(data.get("exit_code", exc.exit_code)):
        exc.exit_code = ExitCode(int(data["exit_code"]))
    return exc


def _plain_init(kind: type[BundleError]) -> bool:
    return kind.__init__ is BundleError.__init__
