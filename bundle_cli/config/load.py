"""Reading config.yaml into a BundleConfig, collecting every problem with its position."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bundle_cli.config import truss
from bundle_cli.config.locate import CONFIG_FILENAME, KeyPath, Locator
from bundle_cli.config.yamlpos import REFUSED, load_yaml_file
from bundle_cli.diagnostics import Diagnostic
from bundle_cli.errors import InvalidBundleError, UsageError

SECRET_VALUE = "secret-value-ignored"  # a warning everywhere, an error for `bundle package`


@dataclass
class ConfigResult:
    """The outcome of reading config.yaml: the typed config when there was no error."""

    path: Path
    config: Any  # BundleConfig | None; typed loosely so pydantic stays out of start-up
    data: dict[str, Any] = field(default_factory=dict)
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def config_path(bundle_dir: Path) -> Path:
    path = bundle_dir / CONFIG_FILENAME
    if not bundle_dir.is_dir():
        raise UsageError(f"{bundle_dir}: no such bundle directory")
    if not path.is_file():
        raise UsageError(
            f"{bundle_dir}: no {CONFIG_FILENAME} here, so this is not a bundle",
            hint="create one with `bundle init NAME`",
        )
    return path


def load_config(bundle_dir: str | Path) -> ConfigResult:
    """Read and check config.yaml; every error of the file is collected, not only the first."""
    bundle_dir = Path(bundle_dir)
    path = config_path(bundle_dir)
    result = ConfigResult(path=path, config=None)
    report = _Reporter(result)
    try:
        doc = load_yaml_file(path)
    except UnicodeDecodeError as exc:
        report.error("encoding", f"not UTF-8 text (byte {exc.start}); save it as UTF-8", ())
        return result
    result.positions = doc.positions
    for p in doc.problems:
        report.add("error", p.code, p.message, p.key_path, (p.line, p.column))
    data = {} if doc.data is None or doc.data is REFUSED else doc.data
    if not isinstance(data, dict):
        report.error("not-a-mapping", "config.yaml must be a mapping of keys to values", ())
        return result
    result.data = data
    from bundle_cli.config.schema import section_fields

    split = truss.split_ignored(data, section_fields)
    clean = split.clean
    if split.dropped:
        names = ", ".join(".".join(map(str, k)) for k in split.dropped)
        report.add(
            "warning",
            "truss-only-key",
            f"ignored here (Truss-only, no local meaning): {names}",
            split.dropped[0],
        )
    for key_path, message in split.unknown:
        report.error("unknown-key", message, key_path)
    if isinstance(clean.get("secrets"), dict):
        _secret_values(clean["secrets"], report)
    if isinstance(clean.get("requirements"), list):
        clean["requirements"] = _requirement_lines(clean["requirements"], report)
    unreadable = any(p.code == "yaml-syntax" for p in doc.problems)  # model_name may be there
    if clean.get("model_name") is None and not unreadable:
        clean["model_name"] = bundle_dir.resolve().name
        report.add(
            "warning",
            "missing-model-name",
            f'model_name is not set; using the folder name "{clean["model_name"]}"',
            ("model_name",),
        )
    result.config = _validate(clean, report)
    result.diagnostics.sort(key=lambda d: (d.line or 0, d.column or 0))
    return result


def _secret_values(secrets: dict[str, Any], report: _Reporter) -> None:
    """Truss configs often carry placeholders ("ENTER HF ACCESS TOKEN HERE"): never used here."""
    for name, value in secrets.items():
        if value is not None:
            message = (
                f"the value given for secret {name} is ignored: the model never receives it. "
                "Set it to null and pass the value at run time (--secret NAME=VALUE, "
                "BUNDLE_SECRET_<NAME> or --secrets-file); `bundle package` refuses it, as it "
                "would be archived"
            )
            report.add("warning", SECRET_VALUE, message, ("secrets", str(name)))


def _requirement_lines(values: list[Any], report: _Reporter) -> list[str]:
    """The `requirements` items as pip reads them; blank ones are dropped with a warning."""
    from bundle_cli.config.requirements import parse_line

    kept = []
    for index, value in enumerate(values):
        text = "" if value is None else str(value).strip()
        if not text:
            message = "a blank requirement is ignored; remove the empty item"
            report.add("warning", "requirement-blank", message, ("requirements", index))
            continue
        problem = parse_line(text, "", 0).problem
        if problem:
            report.error("requirement-invalid", problem, ("requirements", index))
        kept.append(text)
    return kept


def read_config(bundle_dir: Path) -> Any:
    """The BundleConfig of a bundle; raises InvalidBundleError listing every config error."""
    result = load_config(bundle_dir)
    if not result.ok or result.config is None:
        raise InvalidBundleError(f"{result.path}: invalid config", result.diagnostics)
    return result.config


def _validate(clean: dict[str, Any], report: _Reporter) -> Any:
    from pydantic import ValidationError

    from bundle_cli.config.schema import BundleConfig

    try:
        config = BundleConfig.model_validate(clean)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            _report_pydantic_error(err, report)
        return None
    return None if not report.result.ok else config


def _report_pydantic_error(err: Any, report: _Reporter) -> None:
    loc: KeyPath = tuple(err["loc"])
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        report.error("unknown-key", _unknown_key_message(loc), loc)
        return
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        if not loc:  # a model-level rule: both requirements sources
            loc = ("requirements_file",)
    else:
        msg = f"{msg[0].lower()}{msg[1:]}; got {err['input']!r}"
    report.error("invalid-value", msg, loc)


def _unknown_key_message(loc: KeyPath) -> str:
    from bundle_cli.config.schema import section_fields

    *parent, key = loc
    section = str(parent[0]) if parent else None
    return truss.unknown_key_message(str(key), section_fields(section) | truss.known_names(section))


class _Reporter:
    """Adds diagnostics for config.yaml with the position of the nearest known key (1:1 when the
    file names none of it; no position when the file could not be read into keys at all)."""

    def __init__(self, result: ConfigResult) -> None:
        self.result = result

    def error(self, code: str, message: str, loc: KeyPath) -> None:
        self.add("error", code, message, loc)

    def add(
        self,
        severity: Any,
        code: str,
        message: str,
        loc: KeyPath,
        pos: tuple[int, int] | None = None,
    ) -> None:
        fallback = (1, 1) if self.result.positions or not loc else None
        at = Locator(self.result.path, self.result.positions, fallback=fallback)
        diagnostic = at(code, message, loc, severity)
        if pos:
            diagnostic = replace(diagnostic, line=pos[0], column=pos[1])
        self.result.diagnostics.append(diagnostic)
