"""`bundle validate`: every static check of a bundle, without importing its model code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bundle_cli.cachedir import origin, shown
from bundle_cli.diagnostics import Report
from bundle_cli.errors import InvalidBundleError, UnsafePickleError

__all__ = ["checked", "ensure_valid", "refusal", "validate"]


def validate(path: str | Path, *, strict: bool = False, trust_pickles: bool = False) -> Report:
    """Check a bundle folder and return every error and warning found (an archive is opened by
    `bundle_cli.opening.validate`, the public `bundle_cli.validate`).

    Problems with the bundle are diagnostics in the report; only a path that is not a bundle
    at all raises (UsageError). Without `strict`, the notes only --strict shows are left out
    (diagnostics.STRICT_ONLY); see `Report.ok`. `trust_pickles` turns untrusted pickles from
    errors into warnings.
    """
    return _run(Path(path), trust_pickles)[0].visible(strict=strict)


def checked(path: str | Path, trust_pickles: bool = False) -> tuple[Report, Any]:
    """The report (as shown without --strict) and the typed config, None when it has errors."""
    report, config = _run(Path(path), trust_pickles)
    return report.visible(strict=False), config


def ensure_valid(
    path: str | Path,
    *,
    strict: bool = False,
    refuse: frozenset[str] = frozenset(),
    trust_pickles: bool = False,
    warn: Callable[[str], Any] | None = None,
) -> Any:
    """The bundle's BundleConfig; raises InvalidBundleError when validation finds errors, or a
    warning whose code is in `refuse` (what one command cannot accept, such as a secret value
    that `bundle package` would archive), and UnsafePickleError (exit 4) when the only errors
    are pickles nobody vouched for. `warn` receives each remaining warning, formatted."""
    report, config = _run(Path(path), trust_pickles)
    report = report.visible(strict=strict)
    refused = [d for d in report.diagnostics if d.code in refuse]
    if refused:
        errors = [replace(d, severity="error") for d in refused]
        raise InvalidBundleError(f"{path}: {len(errors)} refused", errors)
    if not report.ok(strict=strict):
        raise refusal(report)
    if warn is not None:
        for warning in report.warnings:
            warn(warning.format())
    return config


def refusal(report: Report) -> InvalidBundleError:
    """The error of a bundle that cannot run: UnsafePickleError (exit 4) when its only errors
    are pickles nobody vouched for, else InvalidBundleError."""
    from bundle_cli.validation.pickles import UNTRUSTED

    if report.errors and all(d.code == UNTRUSTED for d in report.errors):
        return UnsafePickleError(report.summary(), report.diagnostics)
    return InvalidBundleError(report.summary(), report.diagnostics)


def _run(bundle_dir: Path, trust_pickles: bool = False) -> tuple[Report, Any]:
    """The report and the typed config (None when config.yaml has errors), from one read."""
    report, config = _check(bundle_dir, trust_pickles)
    archive = origin(bundle_dir)
    return (report if archive is None else _name_archive(report, archive)), config


def _name_archive(report: Report, archive: str) -> Report:
    """Diagnostics of an unpacked archive name `ARCHIVE:member`, not the cache folder."""
    from dataclasses import replace

    diagnostics = [replace(d, file=d.file and shown(d.file)) for d in report.diagnostics]
    return Report(bundle=archive, diagnostics=diagnostics)


def _check(bundle_dir: Path, trust_pickles: bool) -> tuple[Report, Any]:
    # Imported here: the config model costs ~0.2 s, which a cached verdict does not pay.
    from bundle_cli.config import load_config

    result = load_config(bundle_dir)
    report = Report(bundle=str(bundle_dir), diagnostics=list(result.diagnostics))
    if result.config is None:
        return report, None  # the code checks need a valid config to know where the code is
    from bundle_cli.config.truss import no_model_code_kind
    from bundle_cli.validation.examples import check_examples
    from bundle_cli.validation.files import check_files
    from bundle_cli.validation.flow import check_flow
    from bundle_cli.validation.model_code import check_model_code
    from bundle_cli.validation.pickles import check_pickles

    kind = no_model_code_kind(result.data)
    report.diagnostics += check_model_code(bundle_dir, result.config, kind)
    report.diagnostics += check_files(bundle_dir, result.config, result.positions)
    report.diagnostics += check_examples(bundle_dir, result.config)
    report.diagnostics += check_flow(bundle_dir, result.config, result.positions)
    report.diagnostics += _code_and_environment(bundle_dir, result.config, result.positions)
    report.diagnostics += check_pickles(bundle_dir, result.config, trust_pickles)
    return report, result.config


def _code_and_environment(bundle_dir: Path, config: Any, positions: Any) -> list[Any]:
    """Names and imports of every file of the bundle's code; requirements against this Python."""
    from bundle_cli.config.requirements import bundle_entries
    from bundle_cli.validation.environment import check_environment
    from bundle_cli.validation.imports import check_imports
    from bundle_cli.validation.names import check_names
    from bundle_cli.validation.sources import bundle_sources

    entries = bundle_entries(bundle_dir, config, positions)
    sources, roots = bundle_sources(bundle_dir, config)
    declared = {e.name for e in entries if e.name}
    own = {Path(config.model_module_dir).name}
    found = check_names(sources) + check_imports(sources, roots, own, declared)
    return found + check_environment(bundle_dir, config, entries)
