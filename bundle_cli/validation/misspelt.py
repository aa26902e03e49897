"""Methods whose names look like a misspelt hook: `postporcess`, `pre_process`, `Predict`.

Case and underscores are ignored, then one swapped pair of letters or a close difflib match (ratio
0.85, at most two letters longer or shorter) counts. Names that extend a hook (`predict_fn`,
`load_model`, `batch_predict`) and private names (`_predict`) are helpers, not typos, and nothing is
said when the class also defines the hook the name resembles.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from bundle_cli.contract import HOOKS
from bundle_cli.diagnostics import Diagnostic

if TYPE_CHECKING:
    from bundle_cli.pysource import ClassView
    from bundle_cli.validation.hooks import Locator

HOOK_NAMES = tuple(HOOKS)


def likely_hook(name: str) -> str | None:
    """The hook a method name probably meant, if any (rules in the module docstring)."""
    if name.startswith("_") or name in HOOK_NAMES:
        return None
    norm = name.lower().replace("_", "")
    if norm in HOOK_NAMES:
        return norm
    if any(norm.startswith(h) or norm.endswith(h) for h in HOOK_NAMES):
        return None
    for hook in HOOK_NAMES:
        if _one_swap(norm, hook):
            return hook
    close = difflib.get_close_matches(norm, HOOK_NAMES, n=1, cutoff=0.85)
    return close[0] if close and abs(len(close[0]) - len(norm)) <= 2 else None


def _one_swap(a: str, b: str) -> bool:
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    return (
        len(a) == len(b)
        and len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def check_misspelt(view: ClassView, at: Locator) -> list[Diagnostic]:
    """A warning for each method that looks like a hook the class does not define."""
    found = []
    for name, fn in view.methods.items():
        hook = likely_hook(name)
        if hook and not view.defines(hook):
            found.append(
                at(
                    "hook-misspelt",
                    f"method {name} looks like a misspelling of the hook {hook}; only {hook} is "
                    f"called, so {name} never runs: rename it to {hook}, or start its name with _ "
                    "if it is a helper",
                    fn,
                    "warning",
                )
            )
    return found
