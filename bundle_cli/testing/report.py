"""What `bundle test` found: one result per example and the verdict of the run.

Statuses:
- passed: the output matched `expected`;
- failed: the output differs from `expected` (the first difference is kept);
- error: the model's code raised, or the output could not be encoded as JSON;
- ran: the example has no `expected`; it ran without error, which is all it asks.

A run is ok when nothing failed and nothing raised: "ran" examples do not make it fail, because an
example without an expected output is a smoke test that is satisfied by running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from bundle_cli.testing.compare import Difference

Status = Literal["passed", "failed", "error", "ran"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "ran")


@dataclass
class ExampleResult:
    """The outcome of one examples.yaml entry."""

    name: str
    status: Status
    seconds: float
    output: Any = None  # the JSON-ready output, when there was one
    difference: Difference | None = None
    error: str | None = None  # one line: what raised
    traceback: str | None = None  # the model's own frames, when its code raised

    @property
    def detail(self) -> str:
        """One line for the table: the first difference, the error, or nothing."""
        if self.difference is not None:
            return str(self.difference)
        if self.error is not None:
            return self.error
        return "no expected output; ran without error" if self.status == "ran" else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "seconds": round(self.seconds, 6),
            "difference": None
            if self.difference is None
            else {"path": self.difference.path, "message": self.difference.message},
            "error": self.error,
            "output": self.output,
        }


@dataclass
class TestReport:
    """Every example's result, in the order of examples.yaml."""

    __test__ = False  # not a pytest test class, whatever its name

    bundle: str
    results: list[ExampleResult] = field(default_factory=list)
    seconds: float = 0.0  # examples only, after the bundle was loaded
    load_seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not self.count("failed") and not self.count("error")

    def summary(self) -> str:
        """`3 passed, 1 failed, 0 errors, 1 ran in 0.42s (loading 1.20s)`: every count, in one order."""
        counts = ", ".join(
            f"{self.count(s)} {'errors' if s == 'error' and self.count(s) != 1 else s}"
            for s in STATUSES
        )
        return f"{counts} in {self.seconds:.2f}s (loading {self.load_seconds:.2f}s)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "ok": self.ok,
            "counts": {status: self.count(status) for status in STATUSES},
            "total": len(self.results),
            "seconds": round(self.seconds, 6),
            "load_seconds": round(self.load_seconds, 6),
            "examples": [r.to_dict() for r in self.results],
        }
