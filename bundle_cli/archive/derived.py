"""The manifest fields that follow from the packed files: written by `package`, recomputed by
`verify` and every unpack, so that a manifest cannot claim another config, name, version, Python,
requirements or model methods than the files it lists.

`model_file` and `methods` (the contract methods the model class defines, as its file shows
them: read with `ast`, never imported) came later than the other fields: a manifest written
before them has neither key, and is checked without them.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from bundle_cli.config.locate import config_file
from bundle_cli.contract import HOOKS, TRUSS_METHODS
from bundle_cli.errors import InvalidBundleError

# what a config.yaml, requirements file or model file in an archive may be at most to have its
# derived fields recorded (all are small text)
MAX_TEXT = 1024 * 1024
METHOD_NAMES = (*HOOKS, *TRUSS_METHODS)
# fields a manifest written by an older bundle does not have
LATER_FIELDS = ("model_file", "methods")


def bundle_section(
    config: Any, requirements_text: str | None, model_source: bytes | None = None
) -> dict[str, Any]:
    """The manifest's "bundle" section for a validated config (and its requirements file and
    model file, `model_source` being None when the bundle has no model file or it is too large)."""
    requirements = list(config.requirements) or requirement_lines(requirements_text or "")
    return {
        "name": config.model_name,
        "slug": config.slug,
        "version": config.version,
        "description": config.description,
        "python_version": config.python_version,
        "requirements": requirements,
        "requirements_file": config.requirements_file,
        "model_file": model_file(config) if model_source is not None else None,
        "methods": model_methods(model_source, config.model_class_name),
    }


def model_file(config: Any) -> str | None:
    """Where the config puts the model class's file (None for a flow, which has none)."""
    if config.flow:
        return None
    return f"{config.model_module_dir.strip('/')}/{config.model_class_filename}"


def model_methods(source: bytes | None, class_name: str) -> list[str] | None:
    """The contract's hooks and Truss methods that the model class defines, in the contract's
    order, as far as the file shows (methods of a base class defined elsewhere are not seen);
    None when there is no file or it does not define the class."""
    from bundle_cli.pysource import class_view, module_classes, parse_python

    if source is None:
        return None
    try:
        tree = parse_python(source, "model.py")
    except (SyntaxError, ValueError):
        return None
    classes = module_classes(tree)
    if class_name not in classes:
        return None
    view = class_view(classes[class_name], classes)
    return [name for name in METHOD_NAMES if name in view.methods]


def requirement_lines(text: str) -> list[str]:
    """Requirement lines of a requirements file; option lines (index URLs may hold tokens) left out."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def mismatches(
    claimed: dict[str, Any],
    config_sha256: str,
    config: bytes,
    requirements: bytes | None,
    model: tuple[set[str], bytes | None] = (set(), None),
) -> list[str]:
    """How the manifest's claims differ from what its config.yaml, requirements file and model
    file say. `model` is the set of packed paths and the bytes of the file the manifest names
    as `model_file` (None when it names none, or its bytes were not kept)."""
    found = []
    if hashlib.sha256(config).hexdigest() != config_sha256:
        found.append("config_sha256 is not the digest of config.yaml")
    try:
        parsed = _parse_config(config, claimed.get("name"))
        text = None if requirements is None else requirements.decode("utf-8")
    except (InvalidBundleError, UnicodeDecodeError) as exc:
        return [*found, f"config.yaml does not validate ({exc})"]
    packed, source = model
    path = model_file(parsed)
    if path is None or path not in packed:
        source = None
    elif claimed.get("model_file") != path:  # reported below; its bytes were never kept
        source = b""
    derived = bundle_section(parsed, text, source)
    for key, value in derived.items():
        if key in LATER_FIELDS and key not in claimed:
            continue  # written by a bundle that did not record it yet
        if key == "methods" and source == b"":
            continue
        if claimed.get(key) != value:
            found.append(f"bundle.{key} is {claimed.get(key)!r}, the packed files say {value!r}")
    return found


def warm_up() -> threading.Thread:
    """Import, on a thread of its own, what checking the derived fields will need (the config
    loader and its pydantic models, about 0.09 s), while a large archive is still being read;
    join the thread before checking."""

    def imports() -> None:
        import tempfile  # noqa: F401

        import bundle_cli.config.load
        import bundle_cli.config.requirements
        import bundle_cli.config.schema
        import bundle_cli.pysource  # noqa: F401

    thread = threading.Thread(target=imports, name="bundle-warm-up", daemon=True)
    thread.start()
    return thread


def _parse_config(data: bytes, folder_name: Any) -> Any:
    """The config as `package` read it: the config loader itself, on a copy of the bytes."""
    import tempfile

    from bundle_cli.config import load_config

    with tempfile.TemporaryDirectory(prefix="bundle-config-") as folder:
        config_file(folder).write_bytes(data)
        result = load_config(folder)
    if not result.ok or result.config is None:
        errors = [d for d in result.diagnostics if d.severity == "error"]
        why = f"line {errors[0].line}: {errors[0].message}" if errors else "no config"
        raise InvalidBundleError(why, [])
    if result.data.get("model_name") is None:  # `package` used its folder's name, which only it saw
        return result.config.model_copy(update={"model_name": folder_name})
    return result.config
