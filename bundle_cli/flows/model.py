"""A flow seen by the runtime as one model: it loads the stages and runs them per request.

The runtime (import scope, secrets, event loop, timeouts, output encoding) treats a flow bundle
exactly like a single-Model bundle, with this class in place of the bundle's Model class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bundle_cli.flows.pipeline import Flow

if TYPE_CHECKING:
    from bundle_cli.runtime.flow import FlowHost


class FlowModel:
    """The Model class of a flow bundle; `flow_model_class(host)` binds it to one bundle."""

    host: FlowHost

    def __init__(self, **kwargs: Any) -> None:
        # Every keyword the runtime passes (config, data_dir, secrets, store, ...): a `python`
        # stage's Model takes those its own __init__ names.
        self.host.init_kwargs = dict(kwargs)
        self.flow: Flow | None = None

    def load(self) -> None:
        from bundle_cli.flows.load import load_flow

        config = self.host.settings.config
        self.flow = load_flow(self.host, config["flow"], config["python_version"])

    def preprocess(self, model_input: Any, files: list[Any]) -> tuple[Any, list[Any]]:
        return model_input, files  # the flow hands files to each stage's functions itself

    def predict(self, request: tuple[Any, list[Any]]) -> Any:
        assert self.flow is not None, "load() runs before the first request"
        data, files = request
        return self.flow.run(data, files)


def flow_model_class(host: FlowHost) -> type[FlowModel]:
    """FlowModel bound to the bundle `host` runs (the runtime instantiates it)."""
    return type("FlowModel", (FlowModel,), {"host": host})
