"""One call into the runner: its output encoded, or its stream opened.

The in-process runner (`LoadedBundle`) is called on the server's loop through `arespond`,
which gives the model's own output (so that a msgpack answer keeps numpy arrays and a v2 answer
keeps dtypes) or its Stream (so that a predict that returns a generator streams). Any other
Runner is called in a worker thread through the seam's dispatch, `serve(Request)`, which gives
JSON text; a stream is then known by `info.streaming` only, so such a runner's predict that
returns a generator is answered as one list.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.serve import binary

END = object()
Scrub = Callable[[str], str] | None


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


async def astart(runner: Any, call: Call, scrub: Scrub) -> tuple[str, Any]:
    """On the server's loop: ("one", encoded body) or ("stream", open AsyncChunks)."""
    from bundle_cli.runtime.inputs import RequestFiles
    from bundle_cli.runtime.pipeline import Stream

    files = RequestFiles(call.files)
    try:
        out = await runner.arespond(call.input, files, method=call.method)
        if isinstance(out, Stream):
            if call.shape is None:
                return "stream", AsyncChunks(out, files.close, runner.encode, scrub)
            out = [chunk async for chunk in out]  # a protocol's one answer: the chunks as a list
    except BaseException:
        files.close()
        raise
    files.close()
    return "one", encode(out, call, runner.encode, scrub)


def start(runner: Any, call: Call, scrub: Scrub) -> tuple[str, Any]:
    """In a worker thread, for a runner in another process: ("one", encoded body) or
    ("stream", open Chunks)."""
    from bundle_cli.runtime.runner import Request

    spool = tempfile.TemporaryDirectory(prefix="bundle-serve-files-")
    try:
        files = _spooled(call.files, Path(spool.name))
        replies = runner.serve(Request(input=call.input, files=files, method=call.method))
        streams = runner.info.streaming
        if streams and call.shape is None and not call.binary:
            return "stream", Chunks(replies, lambda: _close(replies, spool), str, scrub)
        texts = list(replies)
    except BaseException:
        spool.cleanup()
        raise
    spool.cleanup()
    text = texts[0] if len(texts) == 1 and not streams else f"[{','.join(texts)}]"
    return "one", encode(json.loads(text), call, json.dumps, scrub)


def _spooled(files: list[tuple[str, bytes]], folder: Path) -> list[tuple[str, str]]:
    """The request's files written to `folder`, as the (name, path) pairs a Request holds."""
    pairs = []
    for n, (name, data) in enumerate(files):
        path = folder / f"{n}"
        path.write_bytes(data)
        pairs.append((name, str(path)))
    return pairs


def _close(replies: Any, spool: tempfile.TemporaryDirectory[str]) -> None:
    try:
        replies.close()
    finally:
        spool.cleanup()


def encode(out: Any, call: Call, to_json: Callable[[Any], str], scrub: Scrub) -> bytes:
    """The body of one output: msgpack for a binary request, the protocol's shape, or JSON."""
    if call.binary:
        return binary.dumps(out, lambda v: json.loads(to_json(v)))
    text = to_json(out) if call.shape is None else call.shape(out, to_json)
    return (scrub(text) if scrub else text).encode()


class AsyncChunks:
    """A Stream's chunks as encoded text, produced on the server's loop (a sync generator
    steps in a worker thread); `anext()` is a future of the next one or END."""

    def __init__(
        self, stream: Any, release: Callable[[], None], encode: Callable[[Any], str], scrub: Scrub
    ) -> None:
        self._stream, self._chunks = stream, stream.__aiter__()
        self._release, self._encode, self._scrub = release, encode, scrub

    def anext(self) -> Any:
        import asyncio

        return asyncio.ensure_future(self._next())

    async def _next(self) -> Any:
        chunk = await anext(self._chunks, END)
        if chunk is END:
            return END
        text = self._encode(chunk)
        return self._scrub(text) if self._scrub else text

    async def aclose(self) -> None:
        try:
            await self._chunks.aclose()
        finally:
            try:
                self._stream.close()  # never started: aclose ran no finally, give its slot back
            finally:
                self._release()


class ThreadChunks:
    """`Chunks` stepped and closed in worker threads, as AsyncChunks is used."""

    def __init__(self, chunks: Chunks, workers: Any) -> None:
        self._chunks, self._workers = chunks, workers

    def anext(self) -> Any:
        return self._workers.submit(self._chunks.next)

    async def aclose(self) -> None:
        await self._workers.submit(self._chunks.close)


class Chunks:
    """A stream's chunks as encoded text, produced one per worker-thread call."""

    def __init__(
        self,
        chunks: Iterator[Any],
        release: Callable[[], None],
        encode: Callable[[Any], str],
        scrub: Scrub,
    ) -> None:
        self._chunks, self._release, self._encode, self._scrub = chunks, release, encode, scrub

    def next(self) -> Any:
        chunk = next(self._chunks, END)
        if chunk is END:
            return END
        text = self._encode(chunk)
        return self._scrub(text) if self._scrub else text

    def close(self) -> None:
        try:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
