"""Which method names count as a misspelt hook, and which are ordinary helpers."""

from __future__ import annotations

import pytest

from bundle_cli.validation.misspelt import likely_hook

TYPOS = [
    ("postporcess", "postprocess"),  # swapped letters
    ("post_process", "postprocess"),  # underscores
    ("PostProcess", "postprocess"),  # case
    ("pre_process", "preprocess"),
    ("preproces", "preprocess"),  # a letter missing
    ("Predict", "predict"),
    ("predcit", "predict"),
    ("pridict", "predict"),
    ("laod", "load"),
    ("Load", "load"),
    ("lod", "load"),
]
HELPERS = [
    "predict_fn",  # extends a hook name: a helper by its own name
    "predict_proba",
    "batch_predict",
    "load_model",
    "download",
    "preprocess_image",
    "preprocessing",
    "_predict",  # private helpers
    "_post_process",
    "process",  # too far from preprocess
    "road",
    "lead",
    "dict",
    "verdict",
    "predict",  # the hooks themselves
    "load",
]


@pytest.mark.parametrize(("name", "hook"), TYPOS)
def test_typos_point_at_the_hook(name: str, hook: str) -> None:
    assert likely_hook(name) == hook


@pytest.mark.parametrize("name", HELPERS)
def test_helpers_are_left_alone(name: str) -> None:
    assert likely_hook(name) is None
