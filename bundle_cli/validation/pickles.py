"""`bundle validate`'s pickle inventory: every pickle listed, every untrusted import an error.

Pickles are code: loading one imports and calls whatever it names. Each is listed (info) with
what it imports and calls, read from its opcodes; one that imports anything neither allow-listed
nor trusted in config.yaml, or that cannot be followed to the end, is an error (`predict`
refuses to load the bundle), unless `--trust-pickles` is given (then a warning).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bundle_cli.archive.select import every_file, packed_files
from bundle_cli.config.locate import config_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.pickles.sniff import may_hold_pickle

UNTRUSTED = "untrusted-pickle"
_TRUST_HINT = (
    "review it, then trust the globals by name in trusted_pickle_globals, or the file by its "
    "sha256 in trusted_pickles (or pass --trust-pickles)"
)


def check_pickles(bundle_dir: Path, config: Any, trust_all: bool = False) -> list[Diagnostic]:
    """A diagnostic per pickle stream in the files the bundle would pack."""
    trusted_files = dict(config.trusted_pickles)
    if not trusted_files and not any(map(may_hold_pickle, every_file(bundle_dir))):
        return []  # nothing to scan: no selection (pathspec) and no scanner is loaded
    from bundle_cli.pickles.inventory import inventory

    reports = inventory(
        bundle_dir, packed_files(bundle_dir), list(config.trusted_pickle_globals), trusted_files
    )
    found: list[Diagnostic] = []
    for report in reports:
        file = str(bundle_dir / report.path)
        what = f"{report.label}: a pickle, code that runs when it is loaded; it imports "
        what += f"{', '.join(report.imports) or 'nothing'} and calls {', '.join(report.calls) or 'nothing'}"
        doubts = (
            [f"not on the allow-list: {', '.join(report.untrusted)}"] if report.untrusted else []
        )
        doubts += report.problems
        if report.digest_changed:
            doubts.append(
                f"trusted_pickles lists another sha256 than its own ({report.digest_changed}): "
                "it changed since it was trusted"
            )
        if not doubts:
            how = (
                "trusted by its sha256 (trusted_pickles)"
                if report.trusted_file
                else "every import on the allow-list"
            )
            found.append(Diagnostic("pickle-inventory", "info", f"{what}; {how}", file))
        elif trust_all:
            found.append(
                Diagnostic(
                    UNTRUSTED,
                    "warning",
                    f"{what}; trusted by --trust-pickles although {'; '.join(doubts)}",
                    file,
                )
            )
        else:
            found.append(
                Diagnostic(UNTRUSTED, "error", f"{what}; {'; '.join(doubts)}; {_TRUST_HINT}", file)
            )
    listed = {r.path for r in reports}
    for name in sorted(set(trusted_files) - listed):
        message = f"trusted_pickles names {name}, which is not a pickle of this bundle"
        found.append(
            Diagnostic("trusted-pickle-missing", "warning", message, str(config_file(bundle_dir)))
        )
    return found
