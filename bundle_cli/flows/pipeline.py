"""Running a loaded flow: pre(data[, files]) -> model -> post(result[, input[, files]]) per stage."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from bundle_cli.errors import UserCodeError
from bundle_cli.flows.calling import call_user, run_sync
from bundle_cli.runtime.store import Store, active

END_TYPES = "a dict, list, numpy array or torch tensor"


@dataclass
class Stage:
    """One loaded stage; `model(x, files)` is the framework call, pre/post the bundle's functions."""

    name: str
    model: Callable[[Any, Any], Any]
    pre: Callable[..., Any] | None = None
    post: Callable[..., Any] | None = None
    pre_arity: int = 1
    post_arity: int = 1
    pre_ref: str = ""
    post_ref: str = ""


class Flow:
    """A loaded flow: its stages, the store they share, and the bundle's import context."""

    def __init__(
        self,
        stages: list[Stage],
        store: Store,
        imports: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        self.stages = stages
        self.store = store
        self._imports = imports

    async def arun(self, data: Any, files: list[Any] | None = None) -> Any:
        """Run every stage on `data`; the result must be a dict, list, numpy array or tensor."""
        with active(self.store), self._imports():
            x = data
            for stage in self.stages:
                x = await self._run_stage(stage, x, data, files)
        check_end_type(x, self.stages[-1].name)
        return x

    def predict(self, data: Any, files: list[Any] | None = None) -> Any:
        """`arun` from synchronous code."""
        return run_sync(self.arun(data, files))

    async def _run_stage(self, stage: Stage, x: Any, original: Any, files: Any) -> Any:
        where = f"flow stage '{stage.name}'"
        if stage.pre is not None:
            args = (x, _rewound(files))[: stage.pre_arity]
            x = await call_user(stage.pre, args, f"{where}: pre function {stage.pre_ref}")
        result = await call_user(stage.model, (x, _rewound(files)), f"{where}: model")
        if stage.post is not None:
            args = (result, original, _rewound(files))[: stage.post_arity]
            result = await call_user(stage.post, args, f"{where}: post function {stage.post_ref}")
        return result


def _rewound(files: list[Any] | None) -> list[Any] | None:
    """Each function reads the files from their start, whatever an earlier stage read."""
    for f in files or ():
        if getattr(f, "seekable", lambda: False)():
            f.seek(0)
    return files


def check_end_type(value: Any, stage_name: str) -> None:
    """A flow ends in a dict, list, numpy array or torch tensor; anything else names the stage."""
    import numpy as np

    if isinstance(value, dict | list | np.ndarray) or _is_tensor(value):
        return
    raise UserCodeError(
        f"error: flow stage '{stage_name}' (the last) returned {type(value).__name__}; "
        f"a flow's result must be {END_TYPES}",
        user_traceback="",
    )


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")  # a tensor can only exist when torch was imported
    return torch is not None and isinstance(value, torch.Tensor)
