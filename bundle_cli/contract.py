"""The model contract, written once: hook names and arities, `__init__` keywords, and the other
methods Truss's server calls (truss/templates/server/model_wrapper.py, Truss 0.18). Read by the
static checks (validation/hooks.py) and by the runtime (runtime/hooks.py).
"""

from __future__ import annotations

# hook -> (fewest, most positional arguments after self, how the runtime calls it)
HOOKS: dict[str, tuple[int, int, str]] = {
    "load": (0, 0, "load(self)"),
    "preprocess": (1, 2, "preprocess(self, model_input[, files])"),
    "predict": (1, 1, "predict(self, model_input)"),
    "postprocess": (1, 3, "postprocess(self, model_output[, model_input[, files]])"),
}
# Keywords `__init__` may name (or take all with **kwargs). Truss passes config, data_dir,
# secrets, environment and lazy_data_resolver; store is bundle's own.
INIT_KWARGS = ("config", "data_dir", "secrets", "environment", "lazy_data_resolver", "store")
# Truss passes an engine extension's handle under its name when config.yaml configures it; no
# such engine runs here.
ENGINE_KWARGS = ("trt_llm",)

# Methods Truss's server recognises besides the hooks. Those that take a request and return a
# response can be called with `bundle predict --method NAME`.
ENDPOINTS = ("completions", "chat_completions", "embeddings", "messages", "responses")
TRUSS_METHODS = ("is_healthy", "setup_environment", "websocket", *ENDPOINTS)
CALLABLE_METHODS = ("predict", *ENDPOINTS)

# A parameter annotated with one of these receives the request object (as in Truss), wherever
# it stands after the input.
# (As written in the source, or a class's module.qualname: fastapi.Request is starlette's.) A
# bare `Request` counts where the file imports it from one of REQUEST_MODULES.
REQUEST_ANNOTATIONS = frozenset(
    {"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"}
)
REQUEST_MODULES = frozenset({"fastapi", "fastapi.requests", "starlette.requests"})


def is_request_annotation(text: str | None, aliases: frozenset[str] = frozenset()) -> bool:
    """Whether an annotation names the request type Truss passes; `aliases` are the names the
    file bound to it (`from fastapi import Request`)."""
    name = str(text or "").strip("'\"")
    return name in REQUEST_ANNOTATIONS or name in aliases
