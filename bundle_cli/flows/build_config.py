"""config.yaml for a bundle written by build_flow: its stages, Python version and framework pins."""

from __future__ import annotations

import sys
from typing import Any

# (name, type, model path in the bundle, loader options, function slots such as ["pre"])
StageEntry = tuple[str, str, str, dict[str, Any], list[str]]


def config_text(stages: list[StageEntry], name: str, trusted: dict[str, str] | None = None) -> str:
    """config.yaml of a flow: (name, type, model path, options, function slots) per stage, and
    the pickles build_flow wrote, trusted by their sha256 (`trusted_pickles`)."""
    import yaml

    flow = []
    for stage_name, stage_type, model, options, slots in stages:
        stage: dict[str, Any] = {"name": stage_name, "model": model, "type": stage_type}
        if options:
            stage["options"] = options
        for slot in slots:
            stage[slot] = f"functions/{stage_name}_{slot}.pkl"
        flow.append(stage)
    config: dict[str, Any] = {
        "model_name": name,
        "python_version": f"py3{sys.version_info.minor}",
        "requirements": requirements([entry[1] for entry in stages]),
        "flow": flow,
    }
    if trusted:
        config["trusted_pickles"] = dict(sorted(trusted.items()))
    head = (
        "# Written by bundle_cli.build_flow. The .pkl files under functions/ are code that runs\n"
        "# when the bundle loads; the .py file beside each is its source, for review. They are\n"
        "# trusted by their sha256 (trusted_pickles): a changed pickle is refused until reviewed.\n"
    )
    return head + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def requirements(stage_types: list[str]) -> list[str]:
    """Pins of the frameworks the stages use, as installed where the flow was built."""
    import importlib.metadata

    from bundle_cli.frameworks import get

    pins = set()
    for stage_type in stage_types:
        for dist in get(stage_type).distributions:
            try:
                pins.add(f"{dist}=={importlib.metadata.version(dist)}")
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return sorted(pins)
