"""The model contract, written once: hook names and arities, a flow's pre/post functions, the
one arity rule, `__init__` keywords, and the other methods Truss's server calls
(truss/templates/server/model_wrapper.py, Truss 0.18). Read by the static checks
(validation/hooks.py, validation/misspelt.py, validation/flow.py) and by the runtime's checks of
imported code (runtime/hooks.py, flows/functions.py); each reads definitions its own way (ast or
inspect) into a `Shape` and asks `arity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Slot:
    """A method or function the runtime calls with positional arguments: their names in call
    order, of which the first `fewest` are always passed and the rest when the definition takes
    them."""

    name: str
    params: tuple[str, ...]
    fewest: int

    @property
    def most(self) -> int:
        return len(self.params)

    @property
    def arguments(self) -> str:
        """The arguments as the call passes them: `model_output[, model_input[, files]]`."""
        text = ", ".join(self.params[: self.fewest])
        for param in self.params[self.fewest :]:
            text += f"[, {param}" if text else f"[{param}"
        return text + "]" * (self.most - self.fewest)

    @property
    def signature(self) -> str:
        """How the runtime calls it on the model: `postprocess(self, model_output[, ...])`."""
        return f"{self.name}(self{', ' if self.params else ''}{self.arguments})"


# The hooks of a Model class, in the order a request runs them (load runs once, before).
HOOKS: dict[str, Slot] = {
    slot.name: slot
    for slot in (
        Slot("load", (), 0),
        Slot("preprocess", ("model_input", "files"), 1),
        Slot("predict", ("model_input",), 1),
        Slot("postprocess", ("model_output", "model_input", "files"), 1),
    )
}
# A flow stage's pre and post functions are called as preprocess and postprocess are.
FUNCTIONS: dict[str, Slot] = {"pre": HOOKS["preprocess"], "post": HOOKS["postprocess"]}


@dataclass(frozen=True)
class Shape:
    """What a definition accepts, however it was read (by ast or by inspect), without self and
    without the parameter that receives the request object."""

    positional: int  # positional parameters
    required: int  # of those, the ones without a default
    varargs: bool = False  # *args
    required_keyword: bool = False  # a keyword-only parameter without a default
    request: bool = False  # a parameter annotated with the request type


# named as the diagnostics name them: `hook-too-many-params`
Problem = Literal["too-many-params", "required-keyword", "missing-param"]


def arity(slot: Slot, shape: Shape) -> tuple[int, Problem | None]:
    """The one arity rule: how many positional arguments a call passes, and what is wrong.

    A definition receives as many of the slot's arguments as it has positional parameters (all
    of them with *args), so extra parameters with defaults are never passed. It is wrong when it
    requires more than the slot passes ("too-many-params"), requires a keyword that is never
    passed ("required-keyword"), or takes fewer than the slot always passes, unless it takes the
    request object instead ("missing-param").
    """
    takes = slot.most if shape.varargs else min(shape.positional, slot.most)
    if shape.required > slot.most:
        return takes, "too-many-params"
    if shape.required_keyword:
        return takes, "required-keyword"
    if takes < slot.fewest and not shape.request:
        return takes, "missing-param"
    return takes, None


# Keywords `__init__` may name (or take all with **kwargs). Truss passes config, data_dir,
# secrets, environment and lazy_data_resolver; store is bundle's own.
INIT_KWARGS = ("config", "data_dir", "secrets", "environment", "lazy_data_resolver", "store")
# Truss passes an engine extension's handle under its name when config.yaml configures it; no
# such engine runs here.
ENGINE_KWARGS = ("trt_llm",)
# What `__init__` may require without being wrong (an engine's handle only fails when run).
NAMEABLE_INIT_KWARGS = (*INIT_KWARGS, *ENGINE_KWARGS)

# Methods Truss's server recognises besides the hooks. Those that take a request and return a
# response can be called with `bundle predict --method NAME`.
ENDPOINTS = ("completions", "chat_completions", "embeddings", "messages", "responses")
ENDPOINT_SLOTS = {name: Slot(name, ("model_input",), 1) for name in ENDPOINTS}
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
