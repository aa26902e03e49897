"""Choosing which examples of a bundle to run."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from bundle_cli.errors import UsageError


def select(examples: list[Any], names: Sequence[str] | None, where: str) -> list[Any]:
    """The examples named (in file order), or all; none at all, or an unknown name, is a usage error."""
    if not examples:
        raise UsageError(
            f"{where}: no examples to run",
            hint="add entries with `name`, `input` and `expected` to the bundle's examples file",
        )
    if not names:
        return examples
    known = [e.name for e in examples]
    unknown = [n for n in names if n not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"the examples are: {', '.join(known)}"
        listed = ", ".join(f'"{n}"' for n in unknown)
        raise UsageError(f"{where}: no example named {listed}", hint=hint)
    wanted = set(names)
    return [e for e in examples if e.name in wanted]
