"""A flow seen by the runtime as one model: it loads the stages and runs them per request.

The runtime (import scope, secrets, event loop, timeouts, output encoding) treats a flow bundle
exactly like a single-Model bundle, with this class in place of the bundle's Model class.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bundle_cli.flows.calling import tracebacks_by
from bundle_cli.flows.pipeline import Flow
from bundle_cli.runtime.store import Store


class FlowModel:
    """The Model class of a flow bundle; `flow_model_class(root)` binds it to one bundle."""

    bundle_dir: Path
    formatter: Callable[[BaseException], str] | None = None

    def __init__(
        self, config: dict[str, Any], data_dir: Path, secrets: Any, environment: Any, store: Store
    ) -> None:
        from bundle_cli.config.schema import BundleConfig

        self.config = BundleConfig.model_validate(config)
        self.store = store
        self.kwargs = {
            "config": config,
            "data_dir": data_dir,
            "secrets": secrets,
            "environment": environment,
        }
        self.flow: Flow | None = None

    async def load(self) -> None:
        from bundle_cli.flows.load import aload_flow

        with tracebacks_by(type(self).formatter):
            self.flow = await aload_flow(
                self.bundle_dir, self.config, model_kwargs=self.kwargs, store=self.store
            )

    def preprocess(self, model_input: Any, files: list[Any]) -> tuple[Any, list[Any]]:
        return model_input, files  # the flow hands files to each stage's functions itself

    async def predict(self, request: tuple[Any, list[Any]]) -> Any:
        assert self.flow is not None, "load() runs before the first request"
        data, files = request
        with tracebacks_by(type(self).formatter):
            return await self.flow.arun(data, files)


def flow_model_class(
    bundle_dir: Path, formatter: Callable[[BaseException], str] | None = None
) -> type[FlowModel]:
    """FlowModel bound to the bundle at `bundle_dir` (the runtime instantiates it); `formatter`
    turns an exception of the bundle's code into the traceback shown (secrets removed)."""
    attrs = {"bundle_dir": bundle_dir, "formatter": staticmethod(formatter) if formatter else None}
    return type("FlowModel", (FlowModel,), attrs)
