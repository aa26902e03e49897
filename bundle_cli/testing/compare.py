"""Comparing a bundle's JSON output with an example's expected output.

The rule, also in the README:
- structure is compared exactly: a mapping must have exactly the expected keys, a list exactly the
  expected number of items (compared in order);
- text, integers, booleans and null are compared exactly (`true` is not `1`);
- when either side is a float, the two numbers match when |got - expected| <= t * (1 + |expected|),
  with t the example's `tolerance` (DEFAULT_TOLERANCE when it has none): an absolute tolerance for
  values up to about 1 and a relative one for larger values. NaN matches NaN; infinities match
  only the same infinity.

The first difference found, walking the expected value in document order, is reported with its
path, such as `$.predictions[0].species`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_TOLERANCE = 1e-6
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Difference:
    """Where the output first differs from the expected output, and how."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def first_difference(
    actual: Any, expected: Any, tolerance: float | None = None, path: str = "$"
) -> Difference | None:
    """The first place where `actual` does not match `expected`, or None when they match."""
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if isinstance(expected, dict):
        return _compare_dicts(actual, expected, tol, path)
    if isinstance(expected, list):
        return _compare_lists(actual, expected, tol, path)
    return _compare_scalars(actual, expected, tol, path)


def numbers_match(actual: float, expected: float, tolerance: float) -> bool:
    """|actual - expected| <= tolerance * (1 + |expected|); NaN matches NaN."""
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return actual == expected
    return abs(actual - expected) <= tolerance * (1 + abs(expected))


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f'{path}["{key}"]'


def _compare_dicts(
    actual: Any, expected: dict[str, Any], tol: float, path: str
) -> Difference | None:
    if not isinstance(actual, dict):
        return Difference(path, f"expected a mapping, got {describe(actual)}")
    for key, value in expected.items():
        if key not in actual:
            return Difference(child_path(path, key), "missing from the output")
        found = first_difference(actual[key], value, tol, child_path(path, key))
        if found:
            return found
    extra = [key for key in actual if key not in expected]
    if extra:
        return Difference(child_path(path, extra[0]), "in the output but not expected")
    return None


def _compare_lists(actual: Any, expected: list[Any], tol: float, path: str) -> Difference | None:
    if not isinstance(actual, list):
        return Difference(path, f"expected a list, got {describe(actual)}")
    if len(actual) != len(expected):
        count = f"{len(expected)} item{'s' * (len(expected) != 1)}"
        return Difference(path, f"expected {count}, got {len(actual)}")
    for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
        found = first_difference(got, want, tol, child_path(path, index))
        if found:
            return found
    return None


def _compare_scalars(actual: Any, expected: Any, tol: float, path: str) -> Difference | None:
    if _is_number(actual) and _is_number(expected) and float in (type(actual), type(expected)):
        return _compare_floats(float(actual), float(expected), tol, path)
    if type(actual) is type(expected) and actual == expected:
        return None
    if type(actual) is type(expected) or actual is None or expected is None:
        return Difference(path, f"expected {_show(expected)}, got {_show(actual)}")
    return Difference(path, f"expected {describe(expected)}, got {describe(actual)}")


def _compare_floats(actual: float, expected: float, tol: float, path: str) -> Difference | None:
    if numbers_match(actual, expected, tol):
        return None
    off = abs(actual - expected)
    return Difference(
        path, f"expected {expected!r}, got {actual!r} (off by {off:.3g}; tolerance {tol:g})"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def describe(value: Any) -> str:
    """What kind of JSON value this is, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({_show(value)})"
    if _is_number(value):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"text ({_show(value)})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
