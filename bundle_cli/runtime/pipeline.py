"""preprocess -> predict -> postprocess for one loaded model, inside the bundle's import scope.

Every call into the model goes through `_call`, which awaits coroutines on the bundle's own event
loop, measures the hook and turns an exception of the model's code into a UserCodeError that
carries the model's frames only.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import BundleError, InvalidBundleError, UsageError, UserCodeError
from bundle_cli.runtime.deadline import Deadline, DeadlineExceeded
from bundle_cli.runtime.hooks import BATCH_ATTRIBUTE, ModelSpec
from bundle_cli.runtime.inputs import RequestFiles
from bundle_cli.runtime.isolation import ImportScope
from bundle_cli.runtime.request import LocalRequest
from bundle_cli.runtime.store import Store
from bundle_cli.runtime.store import active as active_store
from bundle_cli.runtime.timings import Timings
from bundle_cli.runtime.typed import parse_typed
from bundle_cli.runtime.usertrace import Guard


class Pipeline:
    """Calls one model instance's hooks for requests."""

    def __init__(
        self,
        spec: ModelSpec,
        scope: ImportScope,
        guard: Guard,
        timings: Timings,
        store: Store | None = None,
    ) -> None:
        self.spec, self.scope, self.guard, self.timings = spec, scope, guard, timings
        # What bundle_cli.store() returns while this bundle's code runs.
        self.store = store if store is not None else Store()
        self.model: Any = None
        self._loop: Any = None

    def start(self, cls: type, kwargs: dict[str, Any]) -> None:
        """Instantiate the model and run its load hook once."""
        with self.scope, active_store(self.store):
            start = time.perf_counter()
            try:
                self.model = cls(**kwargs)
            except (BundleError, KeyboardInterrupt):
                raise
            except BaseException as exc:
                raise self.guard.error(exc, "__init__") from None
            finally:
                self.timings.add("init", time.perf_counter() - start)
            if self.spec.load:
                self._call("load", stage="load")

    def run(
        self,
        value: Any,
        files: RequestFiles,
        label: str,
        seconds: float | None,
        method: str = "predict",
    ) -> Any:
        """One request: the output of the last hook, or a Stream when predict (or `method`)
        returned a generator, as Truss streams it."""
        deadline = Deadline(seconds)
        request = LocalRequest(value)
        hooks = method == "predict"  # preprocess and postprocess wrap predict only, as in Truss
        with self.scope, self._deadline(deadline), deadline.running():
            original = self._typed(value, label) if hooks else value
            data = original
            if hooks and self.spec.preprocess:
                data = self._call("preprocess", original, files, request=request)
            output = self._call(method, data, request=request, stage="predict")  # its timing row
            if inspect.isgenerator(output) or inspect.isasyncgen(output):
                if hooks and self.spec.postprocess:
                    raise self._stream_with_postprocess()
                return Stream(self, output, deadline)
            if hooks and self.spec.postprocess:
                output = self._call("postprocess", output, original, files, request=request)
            return output

    def _stream_with_postprocess(self) -> InvalidBundleError:
        diag = Diagnostic(
            "hook-generator-postprocess",
            "error",
            "predict returned a generator (a stream), so postprocess would never see one "
            "output; remove postprocess or process each chunk before yielding it",
        )
        return InvalidBundleError("the model cannot be run", [diag])

    def run_batch(
        self, values: list[Any], files: RequestFiles, labels: list[str], seconds: float | None
    ) -> list[Any]:
        """A batch of requests through one predict call; outputs in input order."""
        deadline = Deadline(seconds)
        with self.scope, self._deadline(deadline), deadline.running():
            originals = values
            if self.spec.input_type is not None:
                originals = [self._typed(v, lbl) for v, lbl in zip(values, labels, strict=True)]
            pre = self.spec.preprocess
            data = [self._call("preprocess", v, files) for v in originals] if pre else originals
            outputs = self._batch_outputs(self._call("predict", data), len(values))
            if self.spec.postprocess:
                outputs = [
                    self._call("postprocess", out, orig, files)
                    for out, orig in zip(outputs, originals, strict=True)
                ]
            return outputs

    def stream(
        self, value: Any, files: RequestFiles, label: str, seconds: float | None
    ) -> Iterator[Any]:
        """The chunks of a streaming predict, each as soon as the model yields it (one item
        when predict returns a single output)."""
        output = self.run(value, files, label, seconds)
        if isinstance(output, Stream):
            yield from output
        else:
            yield output

    def chunks(self, stream: Stream) -> Iterator[Any]:
        """A Stream's chunks, each produced inside the bundle's scope, within its deadline."""
        chunks, deadline = stream.generator, stream.deadline
        is_async = inspect.isasyncgen(chunks)
        try:
            while True:
                with self.scope, self._deadline(deadline), deadline.running():
                    done, chunk = self._next_chunk(chunks, is_async)
                if done:
                    return
                yield chunk
        finally:
            with self.scope:
                self._close_stream(chunks, is_async)

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
            self._loop = None

    def _call(self, name: str, *args: Any, stage: str | None = None, request: Any = None) -> Any:
        hook = self.spec.hook(name)
        if hook is None:
            raise UsageError(f"the model has no method {name}")
        # Pass as many arguments as the hook takes; files are read from their start by each hook.
        args = tuple(a.rewound() if isinstance(a, RequestFiles) else a for a in args[: hook.nargs])
        if hook.request_at is not None:
            given = request if request is not None else LocalRequest(args[0] if args else None)
            args = (*args[: hook.request_at], given, *args[hook.request_at :])
        start = time.perf_counter()
        try:
            with active_store(self.store):
                result = getattr(self.model, name)(*args)
                if hook.kind == "coroutine":
                    result = self._await(result)
            return result
        except (BundleError, DeadlineExceeded, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise self.guard.error(exc, name) from None
        finally:
            self.timings.add(stage or name, time.perf_counter() - start)

    def _next_chunk(self, chunks: Any, is_async: bool) -> tuple[bool, Any]:
        start = time.perf_counter()
        try:
            with active_store(self.store):
                if is_async:
                    return False, self._await(chunks.__anext__())
                return False, next(chunks)
        except (StopIteration, StopAsyncIteration):
            return True, None
        except (BundleError, DeadlineExceeded, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise self.guard.error(exc, "predict") from None
        finally:
            self.timings.add("predict", time.perf_counter() - start)

    def _close_stream(self, chunks: Any, is_async: bool) -> None:
        try:
            if is_async:
                self._await(chunks.aclose())
            else:
                chunks.close()
        except Exception as exc:
            raise self.guard.error(exc, "predict") from None

    def _typed(self, value: Any, label: str) -> Any:
        if self.spec.input_type is None:
            return value
        try:
            return parse_typed(value, self.spec.input_type, label)
        except (BundleError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # a validator of the model's own raised
            raise self.guard.error(exc, "input validation") from None

    def _batch_outputs(self, outputs: Any, expected: int) -> list[Any]:
        try:
            items = list(outputs)
        except TypeError:
            items = None
        if items is None or len(items) != expected:
            got = f"{len(items)} outputs" if items is not None else type(outputs).__name__
            raise UserCodeError(
                f"error: predict returned {got} for a batch of {expected} inputs; with "
                f"{BATCH_ATTRIBUTE} set, predict takes a list and returns a list of the same length",
                "",
            )
        return items

    @contextmanager
    def _deadline(self, deadline: Deadline) -> Iterator[None]:
        try:
            yield
        except DeadlineExceeded as exc:
            raise self.guard.timeout(exc, deadline.seconds or 0) from None

    def _await(self, awaitable: Any) -> Any:
        import asyncio

        if asyncio._get_running_loop() is not None:
            if hasattr(awaitable, "close"):
                awaitable.close()  # never awaited: close it rather than leave a warning
            raise UsageError(
                "this bundle has async hooks and an event loop is already running in this thread; "
                "call it from another thread, e.g. `await asyncio.to_thread(bundle.predict, x)`"
            )
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(awaitable)


class Stream:
    """What a hook returned when it returned a generator: its chunks, produced on iteration."""

    def __init__(self, pipeline: Pipeline, generator: Any, deadline: Deadline) -> None:
        self.pipeline, self.generator, self.deadline = pipeline, generator, deadline

    def __iter__(self) -> Iterator[Any]:
        return self.pipeline.chunks(self)
