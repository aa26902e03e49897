"""Finding the templates and rendering one flavour of them into a folder.

Layout of the templates folder: `common/` holds the files every bundle gets, `<flavour>/` the
files of one flavour; a flavour file replaces the common file with the same output path. Files
ending in `.j2` are rendered with jinja2 (the suffix is dropped), the others copied byte for byte.
File names are rendered too, and every rendered path must stay inside the output folder.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path
from typing import Any

from bundle_cli.errors import UnsafePathError, UsageError

COMMON = "common"
SUFFIX = ".j2"
_SKIPPED_DIRS = {"__pycache__"}


def templates_root() -> Path:
    """The templates shipped in the installed package, else those of a source checkout."""
    import bundle_cli

    package = Path(bundle_cli.__file__).parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def flavours(root: Path) -> list[str]:
    """The template flavours available under root, sorted."""
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and p.name != COMMON and not p.name.startswith((".", "_"))
    )


def check_flavour(root: Path, flavour: str) -> None:
    available = flavours(root)
    if flavour in available:
        return
    close = difflib.get_close_matches(flavour, available, n=1)
    raise UsageError(
        f'unknown template "{flavour}"; available: {", ".join(available)}',
        hint=f"did you mean --template {close[0]}?" if close else None,
    )


def plan(root: Path, flavour: str) -> dict[str, str]:
    """{output path (may hold jinja syntax): template path}, flavour files replacing common ones."""
    files: dict[str, str] = {}
    for folder in (COMMON, flavour):
        for rel in _walk(root / folder):
            output = rel[: -len(SUFFIX)] if rel.endswith(SUFFIX) else rel
            files[output] = f"{folder}/{rel}"
    return dict(sorted(files.items()))


def render(root: Path, flavour: str, context: dict[str, Any], out: Path) -> list[str]:
    """Render the flavour into the existing folder `out`; return the written paths, sorted."""
    env = _environment(root)
    written = []
    for name, source in plan(root, flavour).items():
        rel = env.from_string(name).render(context)
        dest = inside(out, rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith(SUFFIX):
            text = env.get_template(source).render(context)
            dest.write_text(text, encoding="utf-8", newline="")
        else:
            shutil.copyfile(root / source, dest)
        written.append(rel)
    return sorted(written)


def inside(root: Path, rel: str) -> Path:
    """root / rel, refused (UnsafePathError) unless it stays inside root, links included."""
    parts = rel.split("/")
    if "\\" in rel or any(part in ("", ".", "..") for part in parts):
        raise UnsafePathError(f'"{rel}" is not a plain relative path; it would leave {root}')
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise UnsafePathError(f'"{rel}" leads outside {root} through a symbolic link')
    return path


def _walk(folder: Path) -> list[str]:
    """Every file below folder as a relative POSIX path, in a stable order."""
    found = []
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        links = [d for d in dirs if Path(dirpath, d).is_symlink()]
        if links:
            raise UnsafePathError(f"{Path(dirpath, links[0])}: templates may not be symbolic links")
        for name in sorted(files):
            path = Path(dirpath, name)
            if path.is_symlink():
                raise UnsafePathError(f"{path}: templates may not be symbolic links")
            if not name.endswith(".pyc"):
                found.append(path.relative_to(folder).as_posix())
    return found


def _environment(root: Path) -> Any:
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    # trim_blocks: a `{% block %}` line leaves no blank line behind in the YAML it renders.
    return SandboxedEnvironment(
        loader=FileSystemLoader(root),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        autoescape=False,
    )
