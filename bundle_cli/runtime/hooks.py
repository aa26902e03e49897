"""What a Model class offers: which hooks, how many arguments each takes, sync or async.

Checked once, when the bundle loads and before any hook runs; a definition the runtime cannot
call is reported with the file and line of the hook.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bundle_cli.contract import (
    ENDPOINT_SLOTS,
    ENDPOINTS,
    ENGINE_KWARGS,
    HOOKS,
    INIT_KWARGS,
    Shape,
    arity,
    is_request_annotation,
)
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError, UsageError
from bundle_cli.runtime import typed

BATCH_ATTRIBUTE = "predict_batch_size"
SLOTS = HOOKS | ENDPOINT_SLOTS
Kind = Literal["function", "coroutine", "generator", "async_generator"]


@dataclass(frozen=True)
class Hook:
    name: str
    nargs: int  # how many positional arguments the runtime passes, besides the request
    kind: Kind
    request_at: int | None = None  # where the request object goes (a parameter annotated Request)

    @property
    def is_async(self) -> bool:
        return self.kind in ("coroutine", "async_generator")


@dataclass(frozen=True)
class ModelSpec:
    """The callable shape of one Model class."""

    init_kwargs: tuple[str, ...]
    load: Hook | None
    preprocess: Hook | None
    predict: Hook | None  # None for a model that serves a websocket instead (as in Truss)
    postprocess: Hook | None
    batch_size: int | None
    input_type: Any  # a pydantic model class, or None
    output_type: Any
    endpoints: dict[str, Hook] = field(default_factory=dict)  # completions, ... when defined
    # `async def websocket(self, websocket)`: a server's WS /v1/websocket session (Truss's)
    websocket: Hook | None = None

    def hook(self, name: str) -> Hook | None:
        return self.endpoints[name] if name in self.endpoints else getattr(self, name, None)

    @property
    def streaming(self) -> bool:
        return self.predict is not None and self.predict.kind in ("generator", "async_generator")

    @property
    def output_hook(self) -> str:
        return "postprocess" if self.postprocess else "predict"


def inspect_model(cls: type, shown_file: str, show: Callable[[Path], str] = str) -> ModelSpec:
    """Check the class's hooks; raises InvalidBundleError naming the hook, file and line.

    `bundle validate` checks the same contract statically; this catches what only the imported
    class shows (hooks inherited from a base class elsewhere, assigned or decorated methods).
    """
    where = _Where(cls, shown_file, show)
    hooks = {name: _hook(cls, name, where) for name in SLOTS}
    endpoints = {name: h for name in ENDPOINTS if (h := hooks[name]) is not None}
    websocket = _websocket(cls, where, hooks)
    if hooks["predict"] is None and websocket is None:
        raise where.error(
            "model-predict-missing", f"class {cls.__name__} has no predict method", None
        )
    spec = ModelSpec(
        init_kwargs=_init_kwargs(cls, where),
        load=hooks["load"],
        preprocess=hooks["preprocess"],
        predict=hooks["predict"],
        postprocess=hooks["postprocess"],
        batch_size=_batch_size(cls, where),
        input_type=typed.input_model(cls, "preprocess" if hooks["preprocess"] else "predict"),
        output_type=typed.output_model(cls, "postprocess" if hooks["postprocess"] else "predict"),
        endpoints=endpoints,
        websocket=websocket,
    )
    _check_combinations(spec, where)
    return spec


def _websocket(cls: type, where: _Where, hooks: dict[str, Hook | None]) -> Hook | None:
    """The model's `websocket` method as Truss calls it (`async def websocket(self, ws)`), or
    None. A model without predict serves only its websocket, so it must be callable as one;
    beside predict, a method of that name that is not one is left alone (a helper)."""
    raw = inspect.getattr_static(cls, "websocket", None)
    func = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
    if func is None or not callable(func):
        return None
    params = [
        p
        for p in list(_signature(func).parameters.values())[
            0 if isinstance(raw, staticmethod) else 1 :
        ]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    fits = _kind(func) == "coroutine" and len(params) == 1
    if fits:
        return Hook("websocket", 1, "coroutine")
    if hooks["predict"] is None:
        raise where.error(
            "hook-websocket-shape",
            "without predict it serves a websocket, so websocket must be `async def "
            "websocket(self, websocket)`, as Truss calls it with the accepted connection",
            "websocket",
        )
    return None


def _check_combinations(spec: ModelSpec, where: _Where) -> None:
    if spec.streaming and spec.postprocess:
        raise where.error(
            "hook-generator-postprocess",
            "predict is a generator (it streams chunks), so postprocess would never see one "
            "output; remove postprocess or process each chunk before yielding it",
            "postprocess",
        )
    if spec.streaming and spec.batch_size:
        raise where.error(
            "stream-with-batch",
            f"predict is a generator, so it cannot take batches; remove {BATCH_ATTRIBUTE}",
            "predict",
        )


def _hook(cls: type, name: str, where: _Where) -> Hook | None:
    raw = inspect.getattr_static(cls, name, None)
    if raw is None:
        return None
    func = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
    if not callable(func):
        raise where.error("hook-not-callable", f"{name} is not a method", name)
    params = list(_signature(func).parameters.values())
    if not isinstance(raw, staticmethod) and params:
        params = params[1:]  # self or cls
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    request_at = next((i for i, p in enumerate(positional) if _is_request(p)), None)
    if request_at is not None:
        positional = positional[:request_at] + positional[request_at + 1 :]
    required_kw = [p for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    shape = Shape(
        positional=len(positional),
        required=sum(p.default is p.empty for p in positional),
        varargs=any(p.kind is p.VAR_POSITIONAL for p in params),
        required_keyword=bool(required_kw),
        request=request_at is not None,
    )
    takes, problem = arity(SLOTS[name], shape)
    if problem:
        raise where.error(
            f"hook-{problem}",
            f"{name} takes {_describe(positional, required_kw)}; the runtime calls "
            f"{SLOTS[name].signature}",
            name,
        )
    return Hook(name, takes, _kind(func), request_at)


def _signature(func: Any) -> inspect.Signature:
    """With string annotations (`from __future__ import annotations`) resolved when they can be."""
    try:
        return inspect.signature(func, eval_str=True)
    except Exception:  # a name the module does not bind: annotations stay text
        return inspect.signature(func)


def _is_request(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    if isinstance(annotation, type):
        annotation = f"{annotation.__module__}.{annotation.__qualname__}"
    return is_request_annotation(annotation if isinstance(annotation, str) else None)


def _describe(positional: list[inspect.Parameter], required_kw: list[inspect.Parameter]) -> str:
    names = ", ".join(p.name for p in positional) or "no arguments"
    extra = f" and keyword-only {', '.join(p.name for p in required_kw)}" if required_kw else ""
    return f"({names}){extra}"


def _kind(func: Any) -> Kind:
    if inspect.isasyncgenfunction(func):
        return "async_generator"
    if inspect.iscoroutinefunction(func):
        return "coroutine"
    return "generator" if inspect.isgeneratorfunction(func) else "function"


def _init_kwargs(cls: type, where: _Where) -> tuple[str, ...]:
    init = getattr(cls, "__init__", object.__init__)
    if init is object.__init__:
        return ()
    params = list(inspect.signature(init).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return INIT_KWARGS
    for p in params:
        if p.name in ENGINE_KWARGS and p.default is p.empty:
            raise UsageError(
                f"{where.file}: __init__ requires {p.name}, the handle of a {p.name} engine that "
                "Truss's server passes; no such engine runs here, so this model cannot run locally",
                hint="`bundle validate`, `package`, `verify` and `inspect` work on it",
            )
        unknown = p.name not in INIT_KWARGS or p.kind is p.POSITIONAL_ONLY
        if unknown and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL,):
            raise where.error(
                "init-unknown-param",
                f"__init__ requires {p.name!r}, which the runtime does not pass; it may name "
                f"{', '.join(INIT_KWARGS)} (as keywords) or take **kwargs",
                "__init__",
            )
    return tuple(
        p.name for p in params if p.name in INIT_KWARGS and p.kind is not p.POSITIONAL_ONLY
    )


def _batch_size(cls: type, where: _Where) -> int | None:
    value = getattr(cls, BATCH_ATTRIBUTE, None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise where.error(
            "batch-size",
            f"{BATCH_ATTRIBUTE} must be a whole number of 1 or more, not {value!r}",
            None,
        )
    return value


class _Where:
    """Places a definition error at the hook's own file and line (a base class may be elsewhere)."""

    def __init__(self, cls: type, shown_file: str, show: Callable[[Path], str]) -> None:
        self.cls, self.file, self.show = cls, shown_file, show

    def error(self, code: str, message: str, hook: str | None) -> InvalidBundleError:
        func = getattr(self.cls, hook, None) if hook else None
        source = getattr(getattr(func, "__func__", func), "__code__", None)
        file = self.show(Path(source.co_filename)) if source is not None else self.file
        line = _line(func) if func is not None else _line(self.cls)
        diag = Diagnostic(code, "error", f"{self.cls.__name__}: {message}", file, line)
        return InvalidBundleError(f"{file}: the model cannot be run", [diag])


def _line(obj: Any) -> int | None:
    code = getattr(getattr(obj, "__func__", obj), "__code__", None)
    if code is not None:
        return int(code.co_firstlineno)
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None
