"""A bundle's requirements as pip reads them: the `requirements` list, or a requirements_file that
is a requirements.txt (with `-r` includes), a pyproject.toml (`[project].dependencies`) or a
uv.lock (read through the pyproject.toml beside it, as Truss does).

Each line becomes an `Entry` that keeps where it came from. pip's forms are all accepted: PEP 508
requirements (`name @ URL` included), bare URLs and VCS URLs (`git+https://...@rev`), local paths,
and option lines (`--extra-index-url`, `--find-links`, `--pre`, `-e ...`); a line pip would refuse
carries a `problem`. Nothing here installs or imports anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bundle_cli.config.locate import config_file

Kind = Literal["requirement", "url", "path", "option", "editable"]

_COMMENT = re.compile(r"(^|\s)#.*$")
_OPTION = re.compile(r"--?[A-Za-z][\w-]*")
_TRAILING_OPTIONS = re.compile(r"\s+(?=--?[A-Za-z])")
_INCLUDES = {"-r", "--requirement", "-c", "--constraint"}
_EDITABLE = {"-e", "--editable"}
# Options pip accepts in a requirements file (pip's req_file.SUPPORTED_OPTIONS).
PIP_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "--no-index", "-f", "--find-links",
    "--trusted-host", "--pre", "--prefer-binary", "--only-binary", "--no-binary",
    "--require-hashes", "--use-feature",
}  # fmt: skip
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*\+)?[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_VCS_REV = re.compile(r"^(?:git|hg|svn|bzr)\+[^#]*?://[^#]*?/[^/#]*@[^/#@]+")
_SIMPLE_PARTS = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?(.*)")
_MAX_INCLUDE_DEPTH = 8


@dataclass(frozen=True)
class Entry:
    """One requirement or option line, with the file and line it is on."""

    text: str
    kind: Kind
    file: str
    line: int
    column: int = 1
    name: str | None = None  # the distribution name, when the line names one
    specifier: str = ""
    marker: Any = None  # a packaging Marker, or None
    pinned: bool = False
    problem: str | None = None


def bundle_entries(bundle_dir: Path, config: Any, positions: Any = None) -> list[Entry]:
    """Every entry a bundle declares, from `requirements` or its requirements_file."""
    if config.requirements_file:
        path = bundle_dir / config.requirements_file
        return from_file(path) if path.is_file() else []
    positions = positions or {}
    lines = [positions.get(("requirements", i), (0, 0))[0] for i in range(len(config.requirements))]
    return from_list(list(config.requirements), str(config_file(bundle_dir)), lines)


def from_file(path: Path) -> list[Entry]:
    """A requirements_file: requirements.txt, pyproject.toml, or uv.lock (its pyproject.toml)."""
    if path.name == "uv.lock":
        path = path.with_name("pyproject.toml")
        if not path.is_file():
            problem = "uv.lock is read through the pyproject.toml beside it, which is missing"
            return [Entry("uv.lock", "option", str(path), 1, problem=problem)]
    text = path.read_text(encoding="utf-8")
    if path.name == "pyproject.toml":
        return from_pyproject(text, str(path))
    return from_text(text, path)


def from_list(values: list[Any], file: str, lines: list[int]) -> list[Entry]:
    """The entries of config.yaml's `requirements`; `lines` are the items' line numbers."""
    found = []
    for value, line in zip(values, lines, strict=True):
        text = "" if value is None else str(value).strip()
        if text:
            found.append(parse_line(text, file, line))
    return found


def from_text(text: str, file: Path, _depth: int = 0) -> list[Entry]:
    """The entries of a requirements.txt, `-r`/`-c` files read in place."""
    found: list[Entry] = []
    for number, raw in logical_lines(text):
        line = _COMMENT.sub("", raw).rstrip()
        if not line.strip():
            continue
        column = len(line) - len(line.lstrip()) + 1
        body = line.strip()
        option = _OPTION.match(body)
        if option and option.group(0) in _INCLUDES:
            found += _include(body, option.group(0), file, number, column, _depth)
        else:
            found.append(parse_line(body, str(file), number, column))
    return found


def from_pyproject(text: str, file: str) -> list[Entry]:
    """`[project].dependencies` of a pyproject.toml, each at its line."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [Entry(text, "option", file, 1, problem=f"not valid TOML: {exc}")]
    deps = data.get("project", {}).get("dependencies", [])
    lines = text.splitlines()
    found = []
    for dep in deps if isinstance(deps, list) else []:
        line = next((i for i, ln in enumerate(lines, 1) if f'"{dep}"' in ln or f"'{dep}'" in ln), 1)
        found.append(parse_line(str(dep), file, line))
    return found


def parse_line(body: str, file: str, line: int, column: int = 1) -> Entry:
    """One line as pip reads it: an option, or a requirement with trailing per-line options."""
    if body.startswith("-"):
        option = _OPTION.match(body)
        name = option.group(0) if option else body.split()[0]
        if name in _EDITABLE:
            target = body[len(name) :].strip(" =")
            return Entry(body, "editable", file, line, column, name=_egg(target))
        problem = None if name in PIP_OPTIONS else f"`{name}` is not an option pip accepts here"
        return Entry(body, "option", file, line, column, problem=problem)
    requirement = _TRAILING_OPTIONS.split(body, maxsplit=1)[0]
    return _requirement(requirement, body, file, line, column)


def _requirement(text: str, body: str, file: str, line: int, column: int) -> Entry:
    from bundle_cli.config.pep508 import is_simple_requirement

    if is_simple_requirement(text):
        simple = _SIMPLE_PARTS.match(text)
        assert simple is not None  # is_simple_requirement matched a name first
        name, spec = simple.group(1), simple.group(2).strip()
        return Entry(body, "requirement", file, line, column, name, spec, None, _pins(spec))
    if _URL.match(text):
        pinned = not text.lower().startswith(("git+", "hg+", "svn+", "bzr+")) or bool(
            _VCS_REV.match(text)
        )
        return Entry(body, "url", file, line, column, name=_egg(text), pinned=pinned)
    if text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")):
        return Entry(body, "path", file, line, column, name=None, pinned=True)
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        problem, offset = _problem(text, str(exc))
        return Entry(body, "requirement", file, line, column + offset, problem=problem)
    spec = str(req.specifier)
    url = req.url or ""
    pinned = bool(url) and (not url.startswith("git+") or bool(_VCS_REV.match(url)))
    return Entry(
        body, "requirement", file, line, column, req.name, spec, req.marker, pinned or _pins(spec)
    )


def _pins(spec: str) -> bool:
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return len(parts) == 1 and parts[0].startswith(("==", "===")) and "*" not in parts[0]


def _egg(text: str) -> str | None:
    match = _EGG.search(text)
    return match.group(1) if match else None


def _problem(text: str, message: str) -> tuple[str, int]:
    """A message with the fix, and the 0-based offset packaging's caret points at."""
    lines = message.splitlines()
    detail = lines[0].rstrip(".") if lines else "not a requirement"
    caret = next((ln for ln in lines[1:] if ln.rstrip().endswith("^")), None)
    offset = max(len(caret.rstrip()) - 1 - 4, 0) if caret else 0  # the echo is indented by 4
    single = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*([0-9][^=]*)$", text)
    if single:
        fix = f"did you mean `{single.group(1)}=={single.group(2)}`?"
    else:
        fix = "write a name with optional extras, version and marker, such as numpy>=1.26"
    return f'"{text}" is not a requirement pip accepts ({detail}); {fix}', offset


def _include(body: str, option: str, file: Path, line: int, column: int, depth: int) -> list[Entry]:
    target = body[len(option) :].strip(" =")
    path = file.parent / target
    if depth >= _MAX_INCLUDE_DEPTH or not path.is_file():
        why = "includes nest too deeply" if path.is_file() else f"{target} does not exist"
        return [Entry(body, "option", str(file), line, column, problem=f"`{body}`: {why}")]
    if option in ("-c", "--constraint"):
        return []  # constraints narrow versions; they add no requirement
    return from_text(path.read_text(encoding="utf-8"), path, depth + 1)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined, as pip reads them."""
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        start, before = pending or (number, "")
        joined = before + raw
        if joined.endswith("\\"):
            pending = (start, joined[:-1])
            continue
        pending = None
        lines.append((start, joined))
    if pending:
        lines.append(pending)
    return lines
