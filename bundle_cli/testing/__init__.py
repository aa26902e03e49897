"""`bundle test`: run a bundle's examples.yaml and compare each output with its expected output.

Public: `run_examples(path, *, names=None) -> TestReport`, `first_difference`, `junit_xml`,
`write_junit`. The comparison rule is documented in `bundle_cli.testing.compare`.
"""

from __future__ import annotations

from bundle_cli.testing.compare import DEFAULT_TOLERANCE, Difference, first_difference
from bundle_cli.testing.junit import junit_xml, write_junit
from bundle_cli.testing.report import ExampleResult, TestReport
from bundle_cli.testing.run import run_examples

__all__ = [
    "DEFAULT_TOLERANCE",
    "Difference",
    "ExampleResult",
    "TestReport",
    "first_difference",
    "junit_xml",
    "run_examples",
    "write_junit",
]
