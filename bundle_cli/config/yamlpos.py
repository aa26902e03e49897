"""Safe YAML loading that keeps where every key is and reports duplicates and object tags.

A private SafeLoader subclass composes the node tree; values are built from it by hand so that
every key path gets a (line, column) and every problem is collected instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """Never the global loader: nothing registered elsewhere can change what this accepts."""


@dataclass
class YamlProblem:
    code: str
    message: str
    line: int
    column: int
    key_path: KeyPath = ()


@dataclass
class YamlDocument:
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; a syntax error becomes a single problem at its position."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return YamlDocument(
            None, problems=[YamlProblem("yaml-syntax", _yaml_message(exc), line, col)]
        )
    finally:
        loader.dispose()
    doc = YamlDocument(None)
    if node is not None:
        doc.data = _build(loader, node, (), doc)
    return doc


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML syntax error: " + ", ".join(parts)


# Stands for a refused value: the key is left out of the data, so it is reported only once.
REFUSED = object()
_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(loader: _Loader, node: yaml.Node, path: KeyPath, doc: YamlDocument) -> Any:
    is_collection = isinstance(node, yaml.MappingNode | yaml.SequenceNode)
    if is_collection and node.tag not in _PLAIN_COLLECTION_TAGS:
        return _refuse_tag(node, path, doc)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(loader, node, path, doc)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            doc.positions.setdefault((*path, i), _pos(item))
            value = _build(loader, item, (*path, i), doc)
            if value is not REFUSED:
                items.append(value)
        return items
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        return _refuse_tag(node, path, doc)


def _refuse_tag(node: yaml.Node, path: KeyPath, doc: YamlDocument) -> object:
    line, col = _pos(node)
    message = (
        f"the YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is refused: only plain data is allowed "
        "(no tags that construct objects); remove the tag"
    )
    doc.problems.append(YamlProblem("yaml-unsafe-tag", message, line, col, path))
    return REFUSED


def _build_mapping(
    loader: _Loader, node: yaml.MappingNode, path: KeyPath, doc: YamlDocument
) -> dict[Any, Any]:
    loader.flatten_mapping(node)  # resolves `<<` merge keys the safe way
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _build(loader, key_node, path, doc)
        if key is REFUSED:
            continue
        if not isinstance(key, str | int | float | bool) and key is not None:
            line, col = _pos(key_node)
            doc.problems.append(
                YamlProblem("yaml-bad-key", "a key must be plain text", line, col, path)
            )
            continue
        key_path = (*path, str(key))
        if key in result:
            line, col = _pos(key_node)
            first = doc.positions.get(key_path, (0, 0))[0]
            doc.problems.append(
                YamlProblem(
                    "duplicate-key",
                    f'"{key}" is given twice (first on line {first}); keep one',
                    line,
                    col,
                    key_path,
                )
            )
            continue
        doc.positions[key_path] = _pos(key_node)
        value = _build(loader, value_node, key_path, doc)
        if value is not REFUSED:
            result[key] = value
    return result
