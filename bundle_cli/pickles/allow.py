"""Which globals a pickle may import untrusted: the allow-list in allowed.txt, plus trust.

Trust comes from config.yaml's `trusted_pickle_globals` (names, `module.name` or patterns as in
fnmatch) or `trusted_pickles` (a file trusted by its sha256, as `build_flow` records the
functions it pickles: a trusted file whose digest changed is untrusted again), or from
`--trust-pickles`. Nothing here says a pickle is harmless: only that each import is either
listed as data or vouched for by someone.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import cache

from bundle_cli.pickles.opcodes import Ref

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class _Rule:
    module: str
    name: str
    deny: bool

    def matches(self, ref: Ref) -> bool:
        if not fnmatch.fnmatchcase(ref.module, self.module):
            return False
        if not any(c in self.name for c in "*?["):
            return ref.name == self.name
        # a pattern names one attribute of the module, never a dotted path below it
        return bool(_IDENTIFIER.match(ref.name)) and fnmatch.fnmatchcase(ref.name, self.name)


@cache
def _rules() -> tuple[_Rule, ...]:
    path = os.path.join(os.path.dirname(__file__), "allowed.txt")
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                deny = line.startswith("!")
                module, _, name = line.removeprefix("!").partition(":")
                rules.append(_Rule(module, name, deny))
    return tuple(rules)


def allowed(ref: Ref) -> bool:
    """Whether the allow-list lists `ref` (and no deny line takes it back)."""
    ref = _python3(ref)
    rules = _rules()
    return any(r.matches(ref) for r in rules if not r.deny) and not any(
        r.matches(ref) for r in rules if r.deny
    )


def _python3(ref: Ref) -> Ref:
    """The name pickle itself imports for protocols 0-2 (`__builtin__.set` is `builtins.set`)."""
    import _compat_pickle

    key = (ref.module, ref.name)
    if key in _compat_pickle.NAME_MAPPING:
        return Ref(*_compat_pickle.NAME_MAPPING[key])
    return Ref(_compat_pickle.IMPORT_MAPPING.get(ref.module, ref.module), ref.name)


def trusted_by_name(ref: Ref, names: list[str]) -> bool:
    """Whether config.yaml's `trusted_pickle_globals` vouches for `ref`."""
    text = str(ref)
    return any(fnmatch.fnmatchcase(text, pattern) for pattern in names)
