"""Typed requests: a hook annotated with a pydantic model gets its input parsed and checked.

pydantic is never imported here: a model that uses it has imported it already.
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

    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = [f"  {_loc(e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise InputDataError(
            f"{label}: the input does not match {model.__name__} "
            f"({len(problems)} problem{'s' * (len(problems) != 1)}):\n" + "\n".join(problems)
        ) from None


def _loc(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return "input" + text


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
