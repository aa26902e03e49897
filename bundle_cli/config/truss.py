"""Truss compatibility: keys Truss defines that have no meaning when running locally.

The key trees are data in `truss_keys.py`. A key bundle's own schema reads is kept; any other key
Truss defines is taken out before the schema sees it (named in one warning), and what is under it
is still checked against Truss's tree, so a typo deep inside `trt_llm` or `docker_server` is an
unknown-key error with a suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bundle_cli.config.locate import KeyPath
from bundle_cli.config.truss_keys import EACH, KEYS, NO_MODEL_CODE, RETIRED


@dataclass
class Split:
    """config.yaml without the Truss-only keys, which keys were taken out, and typos under them."""

    clean: dict[str, Any]
    dropped: list[KeyPath] = field(default_factory=list)
    unknown: list[tuple[KeyPath, str]] = field(default_factory=list)  # (path, message)


def split_ignored(data: dict[str, Any], own: Callable[[str | None], frozenset[str]]) -> Split:
    """Takes out the keys Truss defines that `own` (the schema's names at a level) does not."""
    split = Split(dict(data))
    _split_level(split, split.clean, None, own)
    for section in (s for s in own(None) if isinstance(split.clean.get(s), dict)):
        split.clean[section] = dict(split.clean[section])
        _split_level(split, split.clean[section], section, own)
    return split


def _split_level(
    split: Split,
    level: dict[str, Any],
    section: str | None,
    own: Callable[[str | None], frozenset[str]],
) -> None:
    tree = _tree(section)
    for key in [k for k in level if k not in own(section) and k in tree]:
        path: KeyPath = (key,) if section is None else (section, key)
        split.dropped.append(path)
        split.unknown += _unknown(level.pop(key), tree[key], path)


def _tree(section: str | None) -> dict[str, Any]:
    """The Truss keys at the top level (None) or in one section, retired ones included."""
    if section is None:
        return KEYS | RETIRED
    found: dict[str, Any] = {}
    for source in (KEYS, RETIRED):
        value = source.get(section)
        if isinstance(value, dict):
            found |= value
    return found


def _unknown(value: Any, shape: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Keys under `value` that Truss's tree `shape` does not define (values are not checked)."""
    if isinstance(shape, list) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unknown(item, shape[0], (*path, index))
    elif isinstance(shape, dict) and isinstance(value, dict):
        for key, item in value.items():
            if EACH in shape:
                yield from _unknown(item, shape[EACH], (*path, key))
            elif key in shape:
                yield from _unknown(item, shape[key], (*path, key))
            else:
                yield (*path, key), unknown_key_message(str(key), shape)


def unknown_key_message(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else "; see `bundle schema` for the valid keys"
    return f'unknown key "{key}"{hint}'


def known_names(section: str | None) -> frozenset[str]:
    """Truss-only names that are valid at a level (for "did you mean" suggestions)."""
    return frozenset(_tree(section))


def no_model_code_kind(data: dict[str, Any]) -> str | None:
    """`what (key)` when config.yaml makes Truss serve without model code, else None."""
    for key, what in NO_MODEL_CODE.items():
        if data.get(key) is not None:
            return f"{what} ({key})"
    return None
