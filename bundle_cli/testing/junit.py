"""JUnit XML for CI systems: one <testcase> per example, written atomically.

failed -> <failure> (message: the first difference); error -> <error> (the model's traceback as
text); ran -> a passing test case whose <system-out> says it had no expected output.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bundle_cli.errors import UsageError
from bundle_cli.tempnames import prefix, remove_stale
from bundle_cli.testing.report import TestReport


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
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(report: TestReport, path: Path, suite_name: str) -> None:
    """Write the XML next to its destination first, then move it into place."""
    data = junit_xml(report, suite_name)
    try:
        remove_stale(path, ".tmp")  # left by a run that was killed
        fd, temp = tempfile.mkstemp(prefix=prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UsageError(
            f"--junit-xml {path}: cannot write there ({exc.strerror})",
            hint="point it at a file in an existing, writable folder",
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temp, 0o644)  # a report for CI to read, not a private file
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
