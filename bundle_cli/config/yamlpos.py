"""Safe YAML loading that keeps where every key is and reports duplicates and object tags.

A private SafeLoader subclass composes the node tree; values are built from it by hand so that
every key path gets a (line, column) and every problem is collected instead of stopping at the first.

Every YAML file the tool reads (config.yaml, examples.yaml) comes through here, so the bounds are
here too: a document of at most `MAX_BYTES`, nested at most `MAX_DEPTH` levels, building at most
`MAX_VALUES` values (aliases are expanded where they are used, so a few hundred bytes of nested
aliases would otherwise build billions), no recursive alias, and a value that its tag cannot build
(`!!int abc`, the implicit date `2024-13-45`, an integer of thousands of digits) is a problem at
its position rather than an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bundle_cli.config.locate import KeyPath

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100
MAX_VALUES = 250_000


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """Never the global loader: nothing registered elsewhere can change what this accepts."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # composing is recursive: a bound here keeps deep nesting from reaching Python's limit
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]  # stubs lack it
                raise _TooDeep(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml_file(path: Path) -> YamlDocument:
    """`load_yaml` of a UTF-8 file, reading at most one byte more than a document may have.

    Raises OSError and UnicodeDecodeError as reading the file does.
    """
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return _too_large()
    return load_yaml(data.decode("utf-8"))


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
    values: int = 0  # built so far, against MAX_VALUES
    building: set[int] = field(default_factory=set)  # ids of the nodes being built (aliases)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; a syntax error becomes a single problem at its position."""
    if len(text) > MAX_BYTES:
        return _too_large()
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character the YAML spec does not allow
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = (
            f"the character U+{code:04X} is not allowed in YAML; "
            'remove it, or write it as an escape ("\\x07") in a double-quoted string'
        )
        return _failed("yaml-bad-character", message, line, column)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if isinstance(exc, _TooDeep):
            return _failed("yaml-too-deep", str(exc.problem), line, col)
        return _failed("yaml-syntax", _yaml_message(exc), line, col)
    finally:
        loader.dispose()
    doc = YamlDocument(None)
    if node is not None:
        try:
            doc.data = _build(loader, node, (), doc)
        except _TooMany:
            line, col = _pos(node)
            message = f"builds more than {MAX_VALUES} values (aliases are expanded where used)"
            return _failed("yaml-too-large", message, line, col)
    return doc


def _too_large() -> YamlDocument:
    message = f"larger than {MAX_BYTES // 1024 // 1024} MiB, more than a YAML file here may be"
    return _failed("yaml-too-large", message, 1, 1)


def _failed(code: str, message: str, line: int, column: int) -> YamlDocument:
    return YamlDocument(None, problems=[YamlProblem(code, message, line, column)])


class _TooMany(Exception):
    pass


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML syntax error: " + ", ".join(parts)


# Stands for a refused value: the key is left out of the data, so it is reported only once.
REFUSED = object()
_PLAIN_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(loader: _Loader, node: yaml.Node, path: KeyPath, doc: YamlDocument) -> Any:
    doc.values += 1
    if doc.values > MAX_VALUES:
        raise _TooMany
    is_collection = isinstance(node, yaml.MappingNode | yaml.SequenceNode)
    if is_collection and node.tag not in _PLAIN_COLLECTION_TAGS:
        return _refuse_tag(node, path, doc)
    if not is_collection:
        return _build_scalar(loader, node, path, doc)
    if id(node) in doc.building:  # `a: &x [*x]`: an alias inside what it names
        line, col = _pos(node)
        message = "a recursive alias (it refers to a value that contains it); remove it"
        doc.problems.append(YamlProblem("yaml-recursive-alias", message, line, col, path))
        return REFUSED
    doc.building.add(id(node))
    try:
        if isinstance(node, yaml.MappingNode):
            return _build_mapping(loader, node, path, doc)
        items = []
        for i, item in enumerate(node.value):
            doc.positions.setdefault((*path, i), _pos(item))
            value = _build(loader, item, (*path, i), doc)
            if value is not REFUSED:
                items.append(value)
        return items
    finally:
        doc.building.discard(id(node))


def _build_scalar(loader: _Loader, node: yaml.Node, path: KeyPath, doc: YamlDocument) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        return _refuse_tag(node, path, doc)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        # `!!int abc`, `!!bool abc`, `2024-13-45` (implicitly a date), an int of 5000 digits
        line, col = _pos(node)
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        if tag == "!!int" and len(node.value) > 4000:
            why = f" (an integer of {len(node.value)} digits; at most 4300)"
        elif tag == "!!timestamp" and isinstance(exc, ValueError):
            why = f" ({exc})"  # e.g. "month must be in 1..12"
        else:
            why = ""
        message = f"{shown!r} is not a valid {tag}{why}; quote it to mean text"
        doc.problems.append(YamlProblem("yaml-bad-value", message, line, col, path))
        return REFUSED


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
    try:
        loader.flatten_mapping(node)  # resolves `<<` merge keys the safe way
    except yaml.constructor.ConstructorError as exc:  # `<<: 1`: merging something not a mapping
        mark = exc.problem_mark or node.start_mark
        message = "a merge key (<<) takes a mapping or a list of mappings"
        doc.problems.append(
            YamlProblem("yaml-bad-merge", message, mark.line + 1, mark.column + 1, path)
        )
        return {}
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
