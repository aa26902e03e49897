"""A loaded bundle: the Python API behind `bundle predict` (`bundle_cli.load(path).predict(x)`)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from bundle_cli.contract import CALLABLE_METHODS
from bundle_cli.errors import BundleError, InputDataError, UsageError, UserCodeError
from bundle_cli.runtime import codec
from bundle_cli.runtime.hooks import BATCH_ATTRIBUTE, ModelSpec
from bundle_cli.runtime.inputs import RequestFiles
from bundle_cli.runtime.pipeline import Pipeline, Stream
from bundle_cli.runtime.runner import BundleInfo, Replies, Request
from bundle_cli.runtime.settings import Settings
from bundle_cli.runtime.store import Store
from bundle_cli.runtime.timings import Timings

Files = RequestFiles | dict[str, Any] | list[Any] | None


class LoadedBundle:
    """A bundle whose model is instantiated and loaded, ready for requests.

    Outputs are returned as JSON-ready Python values (what `bundle predict` prints), unless
    `raw=True` asks for the last hook's own return value.
    """

    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        cleanups: list[Callable[[], Any]] | None = None,
    ) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._cleanups = list(cleanups or [])  # e.g. removing the folder an archive unpacked to
        self._info: BundleInfo | None = None

    @property
    def path(self) -> Path:
        return self.settings.shown

    @property
    def spec(self) -> ModelSpec:
        return self._pipeline.spec

    @property
    def model(self) -> Any:
        """The Model instance (for tests that look inside it)."""
        return self._pipeline.model

    @property
    def store(self) -> Store:
        """The bundle's shared store (what `bundle_cli.store()` returns inside its code)."""
        return self._pipeline.store

    @property
    def timings(self) -> Timings:
        return self._pipeline.timings

    @property
    def streaming(self) -> bool:
        return self.spec.streaming

    def predict(
        self, input: Any, files: Files = None, *, timeout: float | None = None, raw: bool = False
    ) -> Any:
        """Run one request; a streaming model's chunks come back as a list."""
        if self.streaming:
            return list(self.stream(input, files, timeout=timeout, raw=raw))
        with _files(files) as request_files:
            out = self.respond(input, request_files, timeout=timeout)
            if isinstance(out, Stream):  # predict returned a generator: its chunks, collected
                return [chunk if raw else self._plain(chunk) for chunk in out]
        return out if raw else self._plain(out)

    def respond(
        self,
        input: Any,
        files: Files = None,
        *,
        timeout: float | None = None,
        method: str = "predict",
    ) -> Any:
        """One request to predict (through pre/postprocess) or to another of the model's
        request/response methods (`completions`, ...); the raw output, or a Stream of raw
        chunks when the method returned a generator. Give open RequestFiles to read a Stream
        after this returns."""
        self._check_method(method)
        with _files(files) as request_files:
            if self.spec.batch_size and method == "predict":
                return self._pipeline.run_batch([input], request_files, ["input"], timeout)[0]
            return self._pipeline.run(input, request_files, "input", timeout, method)

    async def arespond(
        self,
        input: Any,
        files: Files = None,
        *,
        timeout: float | None = None,
        method: str = "predict",
    ) -> Any:
        """`respond` on the caller's event loop (a server's): async hooks run on it, sync hooks
        in worker threads, preprocess and postprocess outside the predict limit. Iterate a
        returned Stream with `async for`."""
        self._check_method(method)
        with _files(files) as request_files:
            if self.spec.batch_size and method == "predict":
                outs = await self._pipeline.arun_batch([input], request_files, ["input"], timeout)
                return outs[0]
            return await self._pipeline.arun(input, request_files, "input", timeout, method)

    async def awebsocket(self, websocket: Any) -> None:
        """Run the model's `async def websocket(self, websocket)` on the caller's loop with the
        accepted connection (what Truss's server does for WS /v1/websocket)."""
        await self._pipeline.awebsocket(websocket)

    def stream(
        self, input: Any, files: Files = None, *, timeout: float | None = None, raw: bool = False
    ) -> Generator[Any, None, None]:
        """The chunks of a streaming model as they are produced (one item for other models)."""
        if not self.streaming:
            yield self.predict(input, files, timeout=timeout, raw=raw)
            return
        with _files(files) as request_files:
            for chunk in self._pipeline.stream(input, request_files, "input", timeout):
                yield chunk if raw else self._plain(chunk)

    async def apredict(
        self, input: Any, files: Files = None, *, timeout: float | None = None, raw: bool = False
    ) -> Any:
        """`predict` for a caller on an event loop: async hooks run on the caller's loop, sync
        hooks in worker threads, so the loop is never blocked."""
        if self.streaming:
            return [c async for c in self.astream(input, files, timeout=timeout, raw=raw)]
        pipeline = self._pipeline
        with _files(files) as request_files:
            if self.spec.batch_size:
                out = (await pipeline.arun_batch([input], request_files, ["input"], timeout))[0]
            else:
                out = await pipeline.arun(input, request_files, "input", timeout)
            if isinstance(out, Stream):  # predict returned a generator: its chunks, collected
                return [chunk if raw else self._plain(chunk) async for chunk in out]
        return out if raw else self._plain(out)

    async def astream(
        self, input: Any, files: Files = None, *, timeout: float | None = None, raw: bool = False
    ) -> AsyncIterator[Any]:
        """`stream` for a caller on an event loop: `async for chunk in bundle.astream(x)`."""
        if not self.streaming:
            yield await self.apredict(input, files, timeout=timeout, raw=raw)
            return
        with _files(files) as request_files:
            out = await self._pipeline.arun(input, request_files, "input", timeout)
            if not isinstance(out, Stream):
                yield out if raw else self._plain(out)
                return
            chunks = out.__aiter__()
            try:
                async for chunk in chunks:
                    yield chunk if raw else self._plain(chunk)
            finally:
                await chunks.aclose()  # type: ignore[attr-defined]

    def predict_many(
        self,
        inputs: Iterable[Any],
        files: Files = None,
        *,
        batch_size: int | None = None,
        timeout: float | None = None,
        raw: bool = False,
    ) -> Iterator[Any]:
        """One output per input, in order; inputs are consumed lazily, batch by batch."""
        size = self._batch_size(batch_size)
        with _files(files) as request_files:
            for chunk in self._chunks(enumerate(inputs, 1), "input ", request_files, size, timeout):
                for out in chunk:
                    yield out if raw else self._plain(out)

    @property
    def info(self) -> BundleInfo:
        """The facts a caller may know before sending a request (plain data)."""
        if self._info is None:
            spec = self.spec
            self._info = BundleInfo(
                name=str(self.settings.config.get("model_name") or self.settings.root.name),
                streaming=spec.streaming,
                methods=tuple(m for m in CALLABLE_METHODS if spec.hook(m) is not None),
                batch_size=spec.batch_size,
                predict_concurrency=self.settings.predict_concurrency,
                input_schema=_schema(spec.input_type),
                output_schema=_schema(spec.output_type),
                websocket=spec.websocket is not None,
            )
        return self._info

    def serve(self, request: Request) -> Replies:
        """The dispatch of one Request (see bundle_cli.runtime.runner): a single answer, a
        stream of chunks, or JSON Lines one by one or in batches, as JSON text.

        Raises at once (before any output) for a method the model does not define, a batch
        size it does not take or a file that cannot be opened; errors of the input and of the
        model's code are raised while the replies are read, or with `keep_going` recorded in
        `Replies.failures` and written as error records in their place."""
        if request.lines is not None:
            if request.method != "predict":
                raise UsageError(
                    f"method {request.method}: only single requests call other methods than "
                    "predict, not JSON Lines"
                )
            size = self._batch_size(request.batch_size)
        else:
            self._check_method(request.method)
        files = RequestFiles(request.files)  # opened now: a bad file fails before any output
        if request.lines is None:
            return Replies(self._serve_one(request, files), streamed=True)
        failures: list[BundleError] = []
        batches = self._serve_lines(request, files, size, failures if request.keep_going else None)
        return Replies(batches=batches, streamed=False, failures=failures)

    def _serve_one(self, request: Request, files: RequestFiles) -> Iterator[str]:
        try:
            out = self.respond(request.input, files, timeout=request.timeout, method=request.method)
            if isinstance(out, Stream):  # each chunk as soon as the model yields it
                for chunk in out:
                    yield self.encode(chunk)
            else:
                yield self.encode(out, indent=request.indent)
        finally:
            files.close()

    def _serve_lines(
        self,
        request: Request,
        files: RequestFiles,
        size: int | None,
        failures: list[BundleError] | None,
    ) -> Iterator[list[str]]:
        """The output lines a batch at a time (a line at a time without batches)."""
        assert request.lines is not None
        label = request.label
        try:
            numbered = codec.iter_jsonl(request.lines, label, keep_going=failures is not None)
            chunks = self._chunks(
                numbered, f"{label}:", files, size, request.timeout, failures, True
            )
            for chunk in chunks:
                if chunk and isinstance(chunk[0], BundleError):  # a batch fails as a whole
                    yield [_error_record(out) for out in chunk]
                else:
                    yield chunk
        except UnicodeDecodeError as exc:
            raise InputDataError(f"{label}: not UTF-8 text ({exc.reason})") from None
        finally:
            files.close()

    def encode(self, value: Any, *, indent: int | None = None) -> str:
        """JSON text of an output returned with raw=True."""
        start = time.perf_counter()
        try:
            return codec.dumps(value, self.spec.output_hook, indent=indent)
        finally:
            self.timings.add("serialise", time.perf_counter() - start)

    def _encode_all(self, outputs: list[Any]) -> list[str]:
        start = time.perf_counter()
        try:
            return codec.dumps_many(outputs, self.spec.output_hook)
        finally:
            self.timings.add("serialise", time.perf_counter() - start)

    def close(self) -> None:
        """Close the model's event loop (if any) and run the cleanups; idempotent."""
        self._pipeline.close()
        while self._cleanups:
            self._cleanups.pop()()

    def __enter__(self) -> LoadedBundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _chunks(
        self,
        numbered: Iterator[tuple[int, Any]],
        prefix: str,
        files: RequestFiles,
        size: int | None,
        timeout: float | None,
        failures: list[BundleError] | None = None,
        encode: bool = False,
    ) -> Iterator[list[Any]]:
        """Outputs in input order (JSON text with `encode`), a batch at a time (one at a time
        without batches); with `failures`, the error of a line that failed in its place.
        `numbered` gives (number, value) pairs; messages name an input `prefix` + number
        (`requests.jsonl:7`, `input 3`)."""
        pipeline = self._pipeline
        if self.streaming:  # each input's chunks, collected: one output per input

            def one(label: str, value: Any) -> list[Any]:
                return [list(pipeline.stream(value, files, label, timeout))]
        else:

            def one(label: str, value: Any) -> list[Any]:
                out = pipeline.run(value, files, label, timeout)
                return [list(out) if isinstance(out, Stream) else out]  # a returned generator

        single = size is None or self.streaming
        batches = (
            ([item] for item in numbered)
            if single
            else iter(lambda: list(itertools.islice(numbered, size)), [])
        )
        for batch in batches:
            labels = _Labels(prefix, batch)
            try:
                if failures is not None:  # a line that is not JSON is its error (keep_going)
                    bad = next((v for _, v in batch if isinstance(v, InputDataError)), None)
                    if bad is not None:
                        raise bad
                if single:
                    outputs = one(labels[0], batch[0][1])
                else:
                    outputs = pipeline.run_batch([v for _, v in batch], files, labels, timeout)
                yield self._encode_all(outputs) if encode else outputs
            except (InputDataError, UserCodeError) as exc:
                error = _at_lines(exc, labels)
                if failures is None:
                    raise error from None
                failures.append(error)
                yield [error] * len(batch)

    def _check_method(self, method: str) -> None:
        if method == "predict" and self.spec.predict is None:
            raise UsageError(
                f"{self.settings.show(self.settings.model_file)}: the model serves a websocket "
                "and has no predict; a websocket needs a server: `bundle serve` answers it on "
                "WS /v1/websocket"
            )
        if method not in CALLABLE_METHODS:
            raise UsageError(
                f"--method {method}: not a method bundle can call; use one of {', '.join(CALLABLE_METHODS)}"
            )
        if self.spec.hook(method) is None:
            defined = [m for m in CALLABLE_METHODS if self.spec.hook(m) is not None]
            raise UsageError(
                f"--method {method}: {self.settings.show(self.settings.model_file)} defines no "
                f"{method}; it defines {', '.join(defined)}"
            )

    def _batch_size(self, requested: int | None) -> int | None:
        if requested is not None and requested < 1:
            raise UsageError(f"--batch-size must be 1 or more, not {requested}")
        if requested is not None and not self.spec.batch_size:
            raise UsageError(
                f"--batch-size: {self.settings.show(self.settings.model_file)} does not take "
                "batches",
                hint=f"set `{BATCH_ATTRIBUTE} = N` on the Model class; predict then receives a "
                "list of inputs and returns a list of outputs",
            )
        return requested or self.spec.batch_size

    def _plain(self, value: Any) -> Any:
        return json.loads(self.encode(value))


def _schema(model: Any) -> dict[str, Any] | None:
    return None if model is None else dict(model.model_json_schema())


class _Labels(Sequence[str]):
    """The labels of a batch's inputs (`requests.jsonl:7`), each made when read: a batch
    needs them only for a message, or for typed inputs."""

    def __init__(self, prefix: str, batch: list[tuple[int, Any]]) -> None:
        self.prefix, self.batch = prefix, batch

    def __len__(self) -> int:
        return len(self.batch)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [f"{self.prefix}{n}" for n, _ in self.batch[index]]
        return f"{self.prefix}{self.batch[index][0]}"


def _at_lines(exc: BundleError, labels: Sequence[str]) -> BundleError:
    """`exc` with its message naming the line(s) it failed on: `requests.jsonl:7: ...`."""
    where = labels[0] if len(labels) == 1 else f"{labels[0]}-{labels[-1].rpartition(':')[2]}"
    said = exc.message.removeprefix("error: ")
    if not said.startswith(labels[0]):
        exc.message = f"{'error: ' if exc.message.startswith('error: ') else ''}{where}: {said}"
        exc.args = (exc.message,)
    exc.line = where  # type: ignore[attr-defined]
    return exc


def _error_record(exc: BundleError) -> str:
    """The output line of a line that failed (--keep-going); the README documents the shape."""
    code, where = exc.exit_code, str(getattr(exc, "line", ""))
    message = exc.message.removeprefix("error: ")
    said = [ln for ln in (getattr(exc, "user_traceback", "") or "").splitlines() if ln.strip()]
    if said and ": " in said[-1]:  # `ValueError: boom`: what the model's exception said
        message += ": " + said[-1].partition(": ")[2]
    number = where.rpartition(":")[2].partition("-")[0]
    error = {
        "line": int(number) if number.isdigit() else None,
        "code": code.name.lower(),
        "message": message,
        "exit_code": int(code),
    }
    return json.dumps({"error": error})


class _files:
    """Opens the request files given to an API call, and closes what it opened."""

    def __init__(self, files: Files) -> None:
        self.given = files
        self.opened: RequestFiles | None = None

    def __enter__(self) -> RequestFiles:
        if isinstance(self.given, RequestFiles):
            return self.given
        self.opened = RequestFiles(self.given)
        return self.opened

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.close()
