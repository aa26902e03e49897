"""Truss compatibility: keys Truss defines that have no meaning when running locally.

They are accepted (so an existing Truss directory validates) and named in one warning.
"""

from __future__ import annotations

from typing import Any

from bundle_cli.config.yamlpos import KeyPath

IGNORED_TOP_LEVEL = frozenset(
    {
        "apply_library_patches",
        "base_image",
        "build",
        "build_commands",
        "cache_internal",
        "chains_metadata",
        "docker_auth",
        "docker_server",
        "external_data",
        "hf_cache",
        "live_reload",
        "model_cache",
        "train",
        "training_checkpoints",
        "trt_llm",
        "use_local_chains_src",
        "weights",
    }
)
IGNORED_NESTED = {
    "resources": frozenset({"instance_type"}),
    "runtime": frozenset({"is_websocket_endpoint", "transport", "health_checks", "num_workers"}),
}


def split_ignored(data: dict[str, Any]) -> tuple[dict[str, Any], list[KeyPath]]:
    """Returns the data without Truss-only keys, and the key paths that were dropped."""
    dropped: list[KeyPath] = [(k,) for k in data if k in IGNORED_TOP_LEVEL]
    clean = {k: v for k, v in data.items() if k not in IGNORED_TOP_LEVEL}
    for section, names in IGNORED_NESTED.items():
        value = clean.get(section)
        if isinstance(value, dict):
            dropped += [(section, k) for k in value if k in names]
            clean[section] = {k: v for k, v in value.items() if k not in names}
    return clean, dropped


def known_names(section: str | None) -> frozenset[str]:
    """Truss-only names that are valid at a level (for "did you mean" suggestions)."""
    return IGNORED_TOP_LEVEL if section is None else IGNORED_NESTED.get(section, frozenset())
