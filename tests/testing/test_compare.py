"""The comparison rule of `bundle test`: exact structure and scalars, floats within a tolerance."""

from __future__ import annotations

import math

import pytest

from bundle_cli.testing.compare import DEFAULT_TOLERANCE, first_difference, numbers_match


def diff(actual: object, expected: object, tolerance: float | None = None) -> str | None:
    found = first_difference(actual, expected, tolerance)
    return None if found is None else str(found)


def test_equal_nested_values_match() -> None:
    value = {"a": [1, "x", None, True, {"b": 2.5}], "c": {}}
    assert diff(value, value) is None


def test_key_order_does_not_matter_but_list_order_does() -> None:
    assert diff({"a": 1, "b": 2}, {"b": 2, "a": 1}) is None
    assert diff([1, 2], [2, 1]) == "$[0]: expected 2, got 1"


@pytest.mark.parametrize(
    ("actual", "expected", "message"),
    [
        ({"a": "y"}, {"a": "x"}, '$.a: expected "x", got "y"'),
        ({"a": 2}, {"a": 1}, "$.a: expected 1, got 2"),
        ({"a": True}, {"a": 1}, "$.a: expected a number (1), got a boolean (true)"),
        ({"a": 1}, {"a": True}, "$.a: expected a boolean (true), got a number (1)"),
        ({"a": None}, {"a": "x"}, '$.a: expected "x", got null'),
        ({"a": "1"}, {"a": 1}, '$.a: expected a number (1), got text ("1")'),
        ({}, {"a": 1}, "$.a: missing from the output"),
        ({"a": 1, "b": 2}, {"a": 1}, "$.b: in the output but not expected"),
        ({"a": [1]}, {"a": [1, 2]}, "$.a: expected 2 items, got 1"),
        ([1], {"a": 1}, "$: expected a mapping, got a list of 1"),
        ({"a": 1}, [1], "$: expected a list, got a mapping"),
        ({"a b": {"c": [0, 1]}}, {"a b": {"c": [0, 2]}}, '$["a b"].c[1]: expected 2, got 1'),
    ],
)
def test_differences_are_reported_with_their_path(
    actual: object, expected: object, message: str
) -> None:
    assert diff(actual, expected) == message


def test_the_first_difference_in_document_order_is_reported() -> None:
    expected = {"first": [1, 2, 3], "second": "x"}
    actual = {"first": [1, 9, 8], "second": "y"}
    assert diff(actual, expected) == "$.first[1]: expected 2, got 9"


def test_float_within_tolerance_passes_and_outside_fails() -> None:
    assert diff({"p": 0.5004}, {"p": 0.5}, tolerance=1e-3) is None
    found = diff({"p": 0.502}, {"p": 0.5}, tolerance=1e-3)
    assert found is not None and found.startswith("$.p: expected 0.5, got 0.502")
    assert "tolerance 0.001" in found


def test_tolerance_is_absolute_near_zero_and_relative_for_large_values() -> None:
    # |got - expected| <= t * (1 + |expected|)
    assert numbers_match(0.0009, 0.0, 1e-3)
    assert not numbers_match(0.0011, 0.0, 1e-3)
    assert numbers_match(1000.9, 1000.0, 1e-3)  # allowed: 1e-3 * 1001 = 1.001
    assert not numbers_match(1001.2, 1000.0, 1e-3)


def test_default_tolerance_applies_without_one() -> None:
    assert DEFAULT_TOLERANCE == 1e-6
    assert diff([1.0 + 5e-7], [1.0]) is None
    assert diff([1.0 + 5e-6], [1.0]) is not None


def test_an_integer_and_a_float_compare_as_numbers() -> None:
    assert diff(1.0, 1) is None
    assert diff(1, 1.0) is None
    assert diff(2, 1.0) is not None


def test_integers_are_exact_whatever_the_tolerance() -> None:
    assert diff(1001, 1000, tolerance=0.5) == "$: expected 1000, got 1001"


def test_nan_and_infinities() -> None:
    assert diff(math.nan, math.nan) is None
    assert diff(0.0, math.nan) is not None
    assert diff(math.inf, math.inf) is None
    assert diff(-math.inf, math.inf, tolerance=1.0) is not None
    assert diff(1e308, math.inf, tolerance=1.0) is not None
