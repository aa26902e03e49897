"""Survey: every config.yaml under a folder of real Truss bundles validates.

Kept out of `make test` (marker `survey`): run it by hand on a checkout of Truss bundles, e.g.
the public truss-examples repository:

    BUNDLE_SURVEY_DIR=/path/to/truss-examples .venv/bin/pytest -m survey -q -s tests/survey

It prints how many validate and, for each one that does not, its first error.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from bundle_cli import validate

pytestmark = pytest.mark.survey


def _bundles(root: Path) -> list[Path]:
    skipped = {".git", "node_modules", ".venv"}
    return sorted(
        p.parent for p in root.rglob("config.yaml") if not skipped & set(p.relative_to(root).parts)
    )


def test_every_truss_config_in_the_survey_folder_validates() -> None:
    given = os.environ.get("BUNDLE_SURVEY_DIR")
    if not given:
        pytest.skip("set BUNDLE_SURVEY_DIR to a folder of Truss bundles")
    root = Path(given)
    bundles = _bundles(root)
    assert bundles, f"no config.yaml under {root}"
    failures: dict[Path, str] = {}
    for bundle in bundles:
        report = validate(bundle)
        if not report.ok():
            failures[bundle] = report.errors[0].format()
    codes = Counter(text.rsplit("[", 1)[-1].rstrip("]") for text in failures.values())
    print(f"\n{len(bundles) - len(failures)} of {len(bundles)} configs validate")
    for code, count in codes.most_common():
        print(f"  {count:4d} {code}")
    for bundle, first in sorted(failures.items()):
        print(f"  {bundle.relative_to(root)}: {first}")
    assert not failures, f"{len(failures)} of {len(bundles)} do not validate; see the output"
