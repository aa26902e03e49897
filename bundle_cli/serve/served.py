"""The model being served: its readiness, the back-pressure in front of it, and each call.

`predict_concurrency` requests run at once; up to `--max-queue` more wait for a slot, and a
request beyond those is refused at once (503, Retry-After). A slot is held until the model's
code is really done, even when the request timed out or its client left, so the limit is what
the model sees. Sync model code runs in worker threads; the loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bundle_cli.serve import binary
from bundle_cli.serve.replies import RequestTimeout
from bundle_cli.serve.workers import Workers

_END = object()


class QueueFull(Exception):
    """Every predict slot is busy and --max-queue requests already wait (503)."""


class NotReady(Exception):
    """The model has not finished loading (503)."""


class Limiter:
    """`slots` at once, `queue` more waiting, FIFO; the rest refused by `admit`."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots, self.queue = slots, queue
        self.running = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> None:
        if self.running < self.slots and not self._waiters:
            self.running += 1
            return
        if len(self._waiters) >= self.queue:
            raise QueueFull()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # release() hands its slot over: running stays counted
        except BaseException:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot while being cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.running -= 1


@dataclass
class Call:
    """One request for the runner: its input, its files and the method to call."""

    input: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    method: str = "predict"
    binary: bool = False  # answer in msgpack (Truss's binary form) instead of JSON
    # A protocol's own answer: (raw output, the runner's JSON encoder) -> JSON text, in the
    # worker thread; None: the output as `bundle predict` prints it.
    shape: Callable[[Any, Callable[[Any], str]], str] | None = None


@dataclass
class Answer:
    """A single output (its encoded body) or a stream of encoded chunks."""

    body: bytes | None = None
    chunks: AsyncIterator[str] | None = None


class Served:
    """The runner behind the server, swapped in when (re)loaded; calls go through `call`."""

    def __init__(
        self, slots: int, queue: int, timeout: float | None, scrub: Callable[[str], str] | None
    ) -> None:
        self.runner: Any = None
        self.name = "model"
        self.limiter = Limiter(slots, queue)
        self.timeout = timeout
        self._scrub = scrub
        self.workers = Workers(slots + 1)
        self._using: dict[int, int] = {}  # id(runner) -> calls using it
        self._retired: dict[int, Any] = {}  # runners replaced by a reload, closed when unused

    @property
    def ready(self) -> bool:
        return self.runner is not None

    def names(self) -> tuple[str, ...]:
        """The model names the routes answer to: `model` (Truss's) and the model's own."""
        return ("model", self.name)

    def set_runner(self, runner: Any, name: str, slots: int) -> None:
        """Serve `runner` from now on; the one it replaces is closed once no call uses it."""
        old, self.runner, self.name = self.runner, runner, name
        if old is not None:
            self._retired[id(old)] = old
            self._close_if_unused(old)
        if slots != self.limiter.slots:
            self.limiter.slots = slots
            self.workers.resize(slots + 1)

    def defines(self, method: str) -> bool:
        """Whether the loaded model has this request/response method (completions, ...)."""
        info = getattr(self.runner, "info", None)
        if info is not None:
            return method in info.methods
        return self.runner is not None and self.runner.spec.hook(method) is not None

    def info(self) -> dict[str, Any]:
        """The typed input and output JSON Schemas, and whether predict streams (Truss's
        schema route)."""
        info = getattr(self.runner, "info", None)
        if info is not None:
            inputs, outputs, streams = info.input_schema, info.output_schema, info.streaming
        else:
            spec = self.runner.spec
            inputs, outputs = _schema(spec.input_type), _schema(spec.output_type)
            streams = spec.streaming
        return {"input_schema": inputs, "output_schema": outputs, "supports_streaming": streams}

    def close(self) -> None:
        self.workers.close()

    async def call(self, call: Call) -> Answer:
        """Run one call within the limits: its encoded output, or its stream of chunks."""
        runner = self.runner
        if runner is None:
            raise NotReady()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        await self.limiter.acquire()
        self._using[id(runner)] = self._using.get(id(runner), 0) + 1
        started = self.workers.submit(self._start, runner, call)
        try:
            kind, value = await self._within(started, deadline)
        except BaseException:
            started.add_done_callback(lambda f: self._finished(f, runner))
            raise
        if kind == "one":
            self._done(runner)
            return Answer(body=value)
        return Answer(chunks=self._chunks(runner, value, deadline))

    def _finished(self, future: asyncio.Future[Any], runner: Any) -> None:
        """A call given up on (timeout, client gone) frees its slot once its thread is done."""
        if not future.cancelled() and future.exception() is None:
            kind, value = future.result()
            if kind == "stream":
                self._close_then_release(value, runner)
                return
        self._done(runner)

    def _close_then_release(self, chunks: _Chunks, runner: Any) -> None:
        """Close a stream in a worker thread, then free its slot (from the loop's thread)."""
        closed = self.workers.submit(chunks.close)
        closed.add_done_callback(lambda _: self._done(runner))

    def _done(self, runner: Any) -> None:
        """A call's model code is over: free its slot, and close a retired runner it kept."""
        self.limiter.release()
        self._using[id(runner)] -= 1
        self._close_if_unused(runner)

    def _close_if_unused(self, runner: Any) -> None:
        if self._using.get(id(runner), 0) == 0:
            self._using.pop(id(runner), None)
            if self._retired.pop(id(runner), None) is not None:
                self.workers.submit(runner.close)

    async def _within(self, future: asyncio.Future[Any], deadline: float | None) -> Any:
        if deadline is None:
            return await asyncio.shield(future)
        remaining = deadline - time.monotonic()
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(remaining, 0))
        except TimeoutError:
            raise RequestTimeout(self.timeout or 0) from None

    def _start(self, runner: Any, call: Call) -> tuple[str, Any]:
        """In a worker thread: call the model; ("one", body) or ("stream", open chunks)."""
        from bundle_cli.runtime.inputs import RequestFiles
        from bundle_cli.runtime.pipeline import Stream

        files = RequestFiles(call.files)
        try:
            out = runner.respond(call.input, files, method=call.method)
        except BaseException:
            files.close()
            raise
        if isinstance(out, Stream):
            if call.shape is None:
                return "stream", _Chunks(iter(out), files, runner.encode, self._scrub)
            with files:  # a protocol with one answer a request gets the chunks as a list
                out = list(out)
        files.close()
        return "one", self._encode(runner, out, call)

    def _encode(self, runner: Any, out: Any, call: Call) -> bytes:
        if call.binary:
            return binary.dumps(out, lambda v: json.loads(runner.encode(v)))
        text = runner.encode(out) if call.shape is None else call.shape(out, runner.encode)
        return (self._scrub(text) if self._scrub else text).encode()

    async def _chunks(self, runner: Any, chunks: _Chunks, deadline: float | None) -> Any:
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                pending = self.workers.submit(chunks.next)
                chunk = await self._within(pending, deadline)
                pending = None
                if chunk is _END:
                    return
                yield chunk
        finally:
            if pending is not None and not pending.done():  # the model is still in next()
                pending.add_done_callback(lambda _: self._close_then_release(chunks, runner))
            else:
                self._close_then_release(chunks, runner)


class _Chunks:
    """A stream's chunks as encoded text, produced one per worker-thread call."""

    def __init__(
        self,
        chunks: Iterator[Any],
        files: Any,
        encode: Callable[[Any], str],
        scrub: Callable[[str], str] | None,
    ) -> None:
        self._chunks, self._files, self._encode, self._scrub = chunks, files, encode, scrub

    def next(self) -> Any:
        chunk = next(self._chunks, _END)
        if chunk is _END:
            return _END
        text = self._encode(chunk)
        return self._scrub(text) if self._scrub else text

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._files.close()


def _schema(model: Any) -> dict[str, Any] | None:
    return None if model is None else dict(model.model_json_schema())
