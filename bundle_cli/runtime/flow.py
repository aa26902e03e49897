"""A flow as one kind of model: what the runtime gives a flow's loaders and stage chain.

A flow bundle runs like any other (`loader.start`): its Model class is `flows.model.FlowModel`,
instantiated and loaded by the pipeline inside the bundle's import scope. Everything a flow does
with the bundle's own code goes through `FlowHost`: importing a module or a stage's file (in
that scope, where the bundle's modules are its own), calling a pre/post function or a stage's
model (as a sync hook is called; a coroutine on the bundle's own loop), running a `python`
stage's Model class through a Pipeline of its own (the one place hooks are called), and turning
what the code raised into the error the user sees (the runtime's one traceback formatter).
A flow is a sync model, so the runtime never runs a flow's stages on the caller's event loop.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import BundleError, InvalidBundleError, InvalidInput
from bundle_cli.frameworks import StageCall
from bundle_cli.runtime.concurrency import LazyBundleLoop
from bundle_cli.runtime.hooks import inspect_model
from bundle_cli.runtime.inputs import RequestFiles
from bundle_cli.runtime.isolation import ImportScope
from bundle_cli.runtime.pipeline import Pipeline, Stream
from bundle_cli.runtime.settings import Settings
from bundle_cli.runtime.timings import Timings
from bundle_cli.runtime.usertrace import Guard


class FlowHost:
    """The runtime's services for one flow bundle (see `bundle_cli.frameworks.Host`)."""

    def __init__(self, settings: Settings, scope: ImportScope, guard: Guard) -> None:
        self.settings, self.scope, self.guard = settings, scope, guard
        self.init_kwargs: dict[str, Any] = {}  # what a `python` stage's __init__ may name
        self.loop = LazyBundleLoop()  # where async pre/post functions run
        self._stages: list[Pipeline] = []  # the `python` stages' pipelines, closed by close()

    def close(self) -> None:
        """Release the loop of the pre/post functions and the stages' pipelines (idempotent)."""
        self.loop.close()
        while self._stages:
            self._stages.pop().close()

    @property
    def root(self) -> Path:
        return self.settings.root

    @contextmanager
    def running(self, where: str) -> Iterator[None]:
        """Around a call into the bundle's code: what it raised becomes the error the user sees,
        `error: {where} raised ValueError` with the bundle's frames. InvalidInput passes as it
        is (the pipeline makes it exit 3 with the model's message), and so do our own errors."""
        try:
            yield
        except (InvalidInput, BundleError):
            raise
        except Exception as exc:
            raise self.guard.raised(exc, where) from None

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], where: str) -> Any:
        """Call one of the bundle's functions (a pre/post function, a stage's model) as the
        runtime calls a sync hook: in this thread, its errors named by `where`; a coroutine it
        returns is awaited on the bundle's own loop, as an async hook is under the sync API."""
        with self.running(where):
            result = fn(*args)
            if inspect.isawaitable(result):
                result = self.loop.get().run(result)
        return result

    def import_module(self, name: str, where: str) -> ModuleType:
        """Import one of the bundle's modules by name, in its import scope."""
        with self.scope, self.running(f"{where}: importing {name}"):
            return importlib.import_module(name)

    def import_file(self, path: Path, where: str) -> ModuleType:
        """Import a Python file of the bundle under its path inside the bundle (`models/a/model.py`
        -> `models.a.model`), in its import scope, where that name is the bundle's own."""
        name = ".".join(path.resolve().relative_to(self.root).with_suffix("").parts)
        with self.scope:
            if name in sys.modules:
                return sys.modules[name]
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None  # a .py file (validated)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # dataclasses and pickling look their module up here
            try:
                with self.running(f"{where}: importing {path.name}"):
                    spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            return module

    def model(self, cls: type, where: str) -> StageCall:
        """A `python` stage's Model class, run as the runtime runs a bundle's Model: by a
        Pipeline of its own (the hook contract, its arity rule, typed input, the request
        object, `__init__` keywords) in this bundle's import scope and store, its errors naming
        the stage. Instantiates it, runs its load() and returns `run(x, files)`."""
        shown = self.settings.show(Path(inspect.getfile(cls)))
        spec = inspect_model(cls, shown, self.settings.show)
        if spec.streaming:
            message = f"{where}: predict is a generator; a streaming predict cannot feed a flow"
            raise InvalidBundleError(message, [Diagnostic("stream-in-flow", "error", message)])
        kwargs = {name: self.init_kwargs[name] for name in spec.init_kwargs}
        guard = self.guard.named(f"{where}: {cls.__name__}.")
        concurrency = self.settings.predict_concurrency
        store = kwargs.get("store")
        pipeline = Pipeline(spec, self.scope, guard, Timings(), store, concurrency)
        pipeline.start(cls, kwargs)
        self._stages.append(pipeline)

        def run(x: Any, files: list[Any] | None) -> Any:
            output = pipeline.run(x, RequestFiles(files), where, None)
            if isinstance(output, Stream):  # predict returned a generator: its chunks
                return list(output)
            return output

        return run
