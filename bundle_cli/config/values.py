"""Checks of single config values. Each raises ValueError with the bad value and the fix."""

from __future__ import annotations

import re
from typing import Any

_CPU = re.compile(r"^(\d+(\.\d+)?|\d+m)$")
_MEMORY = re.compile(r"^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P)?$")
_ACCELERATOR = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(:[1-9]\d*)?$")
_PYTHON = re.compile(r"^(?:py3(\d{1,2})|3\.(\d{1,2}))$")
_BUNDLE_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SUPPORTED_PYTHON = range(9, 15)  # 3.9 .. 3.14


def check_cpu(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _CPU.match(text) or float(text.rstrip("m")) <= 0:
        raise ValueError(
            f'"{value}" is not a CPU amount; use a number of cores ("1", "2.5") or millicores ("500m")'
        )
    return text


def check_memory(value: Any) -> Any:
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _MEMORY.match(text):
        hint = ""
        m = re.match(r"^(\d+(?:\.\d+)?)\s*([KMGTP])i?B$", text, re.IGNORECASE)
        if m:
            hint = f"; use {m.group(1)}{m.group(2).upper()}i"
        raise ValueError(
            f'"{value}" is not a memory size{hint or "; use a size such as 512Mi or 2Gi"}'
        )
    return text


def check_accelerator(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) <= {"accelerator", "count"}:
        # Truss's long form: {accelerator: H100, count: 2} is "H100:2".
        count = value.get("count", 1)
        value = value.get("accelerator") if count == 1 else f"{value.get('accelerator')}:{count}"
        if value is None:
            return None
    text = str(value)
    if not _ACCELERATOR.match(text):
        raise ValueError(
            f'"{value}" is not an accelerator; use a GPU type with an optional count, such as "T4" or "H100:2"'
        )
    return text


def check_python_version(value: Any) -> Any:
    if value == 3.1 and isinstance(value, float):
        raise ValueError('3.10 is the number 3.1 in YAML; quote it: python_version: "3.10"')
    text = str(value)
    m = _PYTHON.match(text)
    minor = int(m.group(1) or m.group(2)) if m else -1
    if minor not in SUPPORTED_PYTHON:
        low, high = SUPPORTED_PYTHON[0], SUPPORTED_PYTHON[-1]
        raise ValueError(
            f'"{value}" is not a supported Python version; use "3.{low}" to "3.{high}" (or py3{low} .. py3{high})'
        )
    return f"py3{minor}"


def check_bundle_version(value: Any) -> Any:
    text = str(value)
    if isinstance(value, bool) or not _BUNDLE_VERSION.match(text):
        raise ValueError(
            f'"{value}" is not a version; use letters, digits, ".", "-", "+" and "_", such as "1.0.2"'
        )
    return text


def check_requirements(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        raise ValueError(
            f'must be a list of requirements, not the string "{value}"; write it as a list: [{value}]'
        )
    return value  # each line is checked as pip reads it, by config/requirements.py


def check_env(value: Any) -> Any:
    """Names must be variable names; scalar values become text as Truss makes them."""
    if not isinstance(value, dict):
        return value
    for name, val in value.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError(
                f'"{name}" is not an environment variable name; use letters, digits and _'
            )
        if isinstance(val, dict | list):
            raise ValueError(
                f"{name}: a {type(val).__name__} is not an environment value; give text, a number or a boolean"
            )
    return {name: env_text(val) for name, val in value.items()}


def env_text(value: Any) -> str:
    """A YAML scalar as Truss passes it to the environment: true -> "true", 8 -> "8", null -> "None"."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def check_spec_version(value: Any) -> Any:
    """`spec_version: 2.0` is a number in YAML; Truss reads it as the text "2.0"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def check_secrets(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return dict.fromkeys(value)
    if not isinstance(value, dict):
        return value
    return dict.fromkeys(value)  # a value in the file is never used (config/load.py warns)
