"""Paths named in config.yaml: inside the bundle, present when named, requirements that parse.

Folders at their default names (data/, packages/) may be absent, even when config.yaml names them
(Truss writes them out, and git drops empty folders); a folder under any other name must exist. `positions` (from the config loader) tells which keys the file names and where.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bundle_cli.config.locate import Locator, Positions, config_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.validation.paths import display, escapes

if TYPE_CHECKING:
    from bundle_cli.config.schema import BundleConfig


# Keys whose path must stay inside the bundle: the archive holds the bundle folder only.
_INSIDE_KEYS = (
    "model_module_dir",
    "data_dir",
    "bundled_packages_dir",
    "requirements_file",
    "examples_filename",
)
_NAMED_DIRS = {"data_dir": "data-dir-missing", "bundled_packages_dir": "packages-dir-missing"}
# Named explicitly with their default names (as Truss writes config.yaml), these folders may be
# absent: git keeps no empty folder.
_DEFAULT_NAMES = {"data_dir": "data", "bundled_packages_dir": "packages"}


def check_files(bundle_dir: Path, config: BundleConfig, positions: Positions) -> list[Diagnostic]:
    """Every problem with the files and folders config.yaml points at."""
    at = Locator(config_file(bundle_dir), positions)
    found = _check_inside(config, at)
    outside = {d.key_path for d in found}
    if config.requirements_file and "requirements_file" not in outside:
        found += _check_requirements_file(bundle_dir, config.requirements_file, at)
    for key, code in _NAMED_DIRS.items():
        default = display(getattr(config, key)).strip("/") == _DEFAULT_NAMES[key]
        if key not in outside and (key,) in positions and not default:
            found += _check_dir(bundle_dir, key, code, getattr(config, key), at)
    for index, folder in enumerate(config.external_package_dirs):
        found += _check_external(bundle_dir, index, folder, at)
    return found


def _check_inside(config: BundleConfig, at: Locator) -> list[Diagnostic]:
    found = []
    for key in _INSIDE_KEYS:
        value = getattr(config, key)
        if value is not None and escapes(value):
            found.append(_outside(key, value, at))
    model_file = f"{config.model_module_dir}/{config.model_class_filename}"
    if not escapes(config.model_module_dir) and escapes(model_file):
        found.append(_outside("model_class_filename", config.model_class_filename, at))
    return found


def _outside(key: str, value: str, at: Locator) -> Diagnostic:
    how = "is an absolute path" if Path(value).is_absolute() else "climbs out with .."
    return at(
        "path-outside-bundle",
        f'"{display(value)}" {how}, so it points outside the bundle and would not be in its '
        "archive; use a path relative to the bundle folder that stays inside it",
        (key,),
    )


def _check_requirements_file(bundle_dir: Path, name: str, at: Locator) -> list[Diagnostic]:
    from bundle_cli.config.requirements import from_file
    from bundle_cli.validation.requirements_txt import entry_problems

    path = bundle_dir / name
    if not path.is_file():
        what = "is a folder, not a file" if path.exists() else "does not exist in the bundle"
        message = f'requirements file "{display(name)}" {what}; create it or fix the path'
        return [at("requirements-file-missing", message, ("requirements_file",))]
    try:
        return entry_problems(from_file(path))
    except UnicodeDecodeError as exc:
        message = f'requirements file "{display(name)}" is not UTF-8 text (byte {exc.start}); save it as UTF-8'
        return [at("requirements-file-unreadable", message, ("requirements_file",))]
    except OSError as exc:
        message = f'cannot read requirements file "{display(name)}": {exc.strerror or exc}'
        return [at("requirements-file-unreadable", message, ("requirements_file",))]


def _check_dir(bundle_dir: Path, key: str, code: str, value: str, at: Locator) -> list[Diagnostic]:
    path = bundle_dir / value
    if path.is_dir():
        return []
    what = "is a file, not a folder" if path.exists() else "does not exist in the bundle"
    message = f'"{display(value)}" {what}; create the folder, or remove {key} to use the default'
    return [at(code, message, (key,))]


def _check_external(bundle_dir: Path, index: int, folder: str, at: Locator) -> list[Diagnostic]:
    key = ("external_package_dirs", index)
    path = bundle_dir / folder
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        message = f'external package folder "{display(folder)}" {what} (relative to the bundle); fix the path or remove it'
        return [at("external-dir-missing", message, key)]
    if escapes(folder):
        message = (
            f'external package folder "{display(folder)}" is outside the bundle: local runs import '
            "from it, but an archive of the bundle will not contain it; move it into the bundle "
            "(for example under the bundled packages folder) for a self-contained archive"
        )
        return [at("external-dir-outside", message, key, "warning")]
    return []
