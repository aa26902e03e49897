"""Typed requests: a hook annotated with a pydantic model gets its input parsed and checked.

pydantic is never imported here: a model that uses it has imported it already. pydantic 1
(what a bundle pinning `pydantic<2` runs with, --isolated) is read through its own API:
`parse_obj`, `errors()` and `schema()` in place of `model_validate` and `model_json_schema()`.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Any

from bundle_cli.errors import InputDataError


def parse_typed(value: Any, model: Any, label: str) -> Any:
    """`value` parsed into the pydantic `model`; InputDataError lists every bad field."""
    if isinstance(value, model):
        return value
    from pydantic import ValidationError

    modern = hasattr(model, "model_validate")
    try:
        return model.model_validate(value) if modern else model.parse_obj(value)
    except ValidationError as exc:
        found = exc.errors(include_url=False) if modern else exc.errors()
        problems = [f"  {_loc(e['loc'])}: {e['msg']}" for e in found]
        raise InputDataError(
            f"{label}: the input does not match {model.__name__} "
            f"({len(problems)} problem{'s' * (len(problems) != 1)}):\n" + "\n".join(problems)
        ) from None


def _loc(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return "input" + text


def json_schema(model: Any) -> dict[str, Any] | None:
    """The JSON Schema of a pydantic model (2 or 1), or None for no model."""
    if model is None:
        return None
    schema = getattr(model, "model_json_schema", None) or model.schema
    return dict(schema())


def input_model(cls: type, hook: str) -> Any:
    """The pydantic model annotating the first parameter of `hook`, or None."""
    hints = _hints(cls, hook)
    func = inspect.getattr_static(cls, hook, None)
    if not hints or func is None:
        return None
    func = getattr(func, "__func__", func)
    params = [n for n in inspect.signature(func).parameters if n not in ("self", "cls")]
    return pydantic_model(hints.get(params[0])) if params else None


def output_model(cls: type, hook: str) -> Any:
    """The pydantic model `hook` is annotated to return, or None."""
    return pydantic_model(_hints(cls, hook).get("return"))


def _hints(cls: type, hook: str) -> dict[str, Any]:
    func = getattr(cls, hook, None)
    if func is None or not getattr(func, "__annotations__", None):
        return {}
    try:
        import typing

        return typing.get_type_hints(func)
    except Exception:  # an annotation that does not resolve is documentation only
        return {}


def pydantic_model(annotation: Any) -> Any:
    pydantic = sys.modules.get("pydantic")  # imported by the model if it uses pydantic
    if pydantic is None or not isinstance(annotation, type):
        return None
    return annotation if issubclass(annotation, pydantic.BaseModel) else None
