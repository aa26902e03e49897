"""Problems found in a bundle, with where they are; shared by config loading and validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# "info" findings are listed for review and never fail a run, even with --strict.
Severity = Literal["error", "warning", "info"]
# Warnings shown only under --strict, where they fail the run: reproducibility notes.
STRICT_ONLY = frozenset({"requirement-unpinned"})


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a stable code, a severity, a message and its location."""

    code: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    key_path: str | None = None

    def location(self) -> str:
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def format(self) -> str:
        """`config.yaml:7:3: error: resources.memory: ... [E-CODE]`."""
        where = self.location()
        head = f"{where}: " if where else ""
        key = f"{self.key_path}: " if self.key_path else ""
        return f"{head}{self.severity}: {key}{self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """Every diagnostic of one validation run, errors and warnings together."""

    bundle: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def visible(self, *, strict: bool) -> Report:
        """The report as a run with or without --strict shows it (see STRICT_ONLY)."""
        if strict:
            return self
        shown = [d for d in self.diagnostics if d.code not in STRICT_ONLY]
        return Report(self.bundle, shown)

    def ok(self, *, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def summary(self) -> str:
        e, w = len(self.errors), len(self.warnings)
        verdict = "valid" if not e else "invalid"
        return f"{self.bundle}: {verdict}: {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "ok": self.ok(strict=strict),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
