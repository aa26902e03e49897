"""JUnit XML for CI systems: one <testcase> per example, written atomically.

failed -> <failure> (message: the first difference); error -> <error> (the model's traceback as
text); ran -> a passing test case whose <system-out> says it had no expected output.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bundle_cli.errors import BundleError
from bundle_cli.testing.report import ExampleResult, TestReport


def junit_xml(report: TestReport, suite_name: str) -> bytes:
    """The report as a JUnit XML document (UTF-8, with declaration)."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(report.results)),
        failures=str(report.count("failed")),
        errors=str(report.count("error")),
        skipped="0",
        time=f"{report.seconds:.6f}",
    )
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", classname=suite_name, name=result.name, time=f"{result.seconds:.6f}"
        )
        if result.status == "failed":
            ET.SubElement(
                case, "failure", message=result.detail, type="mismatch"
            ).text = result.detail
        elif result.status == "error":
            element = ET.SubElement(case, "error", message=result.detail, type="error")
            element.text = result.traceback or result.detail
        elif result.status == "ran":
            ET.SubElement(case, "system-out").text = result.detail
    suites.set("tests", suite.get("tests", "0"))
    suites.set("failures", suite.get("failures", "0"))
    suites.set("errors", suite.get("errors", "0"))
    suites.set("time", suite.get("time", "0"))
    ET.indent(suites)
    document: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


Scrub = Callable[[str], str]


def write_junit(report: TestReport, path: Path, suite_name: str, scrub: Scrub = str) -> None:
    """Write the XML to `path` atomically (by the rules of bundle_cli.atomic); `scrub` masks
    secret values in it."""
    _write(junit_xml(report, suite_name), path, scrub)


def write_junit_error(error: BundleError, path: Path, suite_name: str, scrub: Scrub = str) -> None:
    """A report of one error case, `load`, for a run that could not start (an invalid bundle, a
    model that fails to load): CI shows why instead of a missing report."""
    report = TestReport(bundle=suite_name)
    detail = error.message.removeprefix("error: ")
    diagnostics = "\n".join(d.format() for d in getattr(error, "diagnostics", []))
    trace = getattr(error, "user_traceback", "") or diagnostics or str(error)
    report.results = [ExampleResult("load", "error", 0.0, error=detail, traceback=trace)]
    _write(junit_xml(report, suite_name), path, scrub)


def _write(data: bytes, path: Path, scrub: Scrub) -> None:
    from bundle_cli.atomic import atomic_write, make_parents

    make_parents(path)
    with atomic_write(path, binary=True) as f:
        f.write(scrub(data.decode("utf-8")).encode("utf-8"))
