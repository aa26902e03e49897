"""The stage chain of a loaded flow: pre(data[, files]) -> model -> post(result[, input[, files]]).

A flow is a sync model to the runtime (flows/model.py): the runtime's one async strategy runs
its predict in the caller's thread (sync API) or a worker thread (async API, never on the
caller's loop), and every call into the bundle's code goes through the host, which runs an
async pre/post function on the bundle's own loop as it runs an async hook.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bundle_cli.errors import UserCodeError

if TYPE_CHECKING:
    from bundle_cli.runtime.flow import FlowHost

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
    """A loaded flow: its stages, run in the bundle's code by the runtime's `host`."""

    def __init__(self, stages: list[Stage], host: FlowHost) -> None:
        self.stages, self.host = stages, host

    def run(self, data: Any, files: list[Any] | None = None) -> Any:
        """Run every stage on `data`; the result must be a dict, list, numpy array or tensor."""
        x = data
        for stage in self.stages:
            x = self._run_stage(stage, x, data, files)
        check_end_type(x, self.stages[-1].name)
        return x

    def _run_stage(self, stage: Stage, x: Any, original: Any, files: Any) -> Any:
        where, call = f"flow stage '{stage.name}'", self.host.call
        if stage.pre is not None:
            args = (x, rewound(files))[: stage.pre_arity]
            x = call(stage.pre, args, f"{where}: pre function {stage.pre_ref}")
        result = call(stage.model, (x, rewound(files)), f"{where}: model")
        if stage.post is not None:
            args = (result, original, rewound(files))[: stage.post_arity]
            result = call(stage.post, args, f"{where}: post function {stage.post_ref}")
        return result


def rewound(files: list[Any] | None) -> list[Any] | None:
    """Each function reads the files from their start, whatever an earlier one read."""
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
