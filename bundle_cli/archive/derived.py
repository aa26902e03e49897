"""The manifest fields that follow from the packed files: written by `package`, recomputed by
`verify` and every unpack, so that a manifest cannot claim another config, name, version, Python
or requirements than the files it lists.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bundle_cli.config.locate import config_file
from bundle_cli.errors import InvalidBundleError

# what a config.yaml or requirements file in an archive may be at most (both are small text)
MAX_TEXT = 1024 * 1024


def bundle_section(config: Any, requirements_text: str | None) -> dict[str, Any]:
    """The manifest's "bundle" section for a validated config (and its requirements file)."""
    requirements = list(config.requirements) or requirement_lines(requirements_text or "")
    return {
        "name": config.model_name,
        "slug": config.slug,
        "version": config.version,
        "description": config.description,
        "python_version": config.python_version,
        "requirements": requirements,
        "requirements_file": config.requirements_file,
    }


def requirement_lines(text: str) -> list[str]:
    """Requirement lines of a requirements file; option lines (index URLs may hold tokens) left out."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def mismatches(
    claimed: dict[str, Any], config_sha256: str, config: bytes, requirements: bytes | None
) -> list[str]:
    """How the manifest's claims differ from what its config.yaml and requirements file say."""
    found = []
    if hashlib.sha256(config).hexdigest() != config_sha256:
        found.append("config_sha256 is not the digest of config.yaml")
    try:
        parsed = _parse_config(config, claimed.get("name"))
        text = None if requirements is None else requirements.decode("utf-8")
    except (InvalidBundleError, UnicodeDecodeError) as exc:
        return [*found, f"config.yaml does not validate ({exc})"]
    derived = bundle_section(parsed, text)
    for key, value in derived.items():
        if claimed.get(key) != value:
            found.append(f"bundle.{key} is {claimed.get(key)!r}, the packed files say {value!r}")
    return found


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
