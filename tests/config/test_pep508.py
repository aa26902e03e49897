"""The fast PEP 508 path accepts only what packaging accepts, and spares its import."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from packaging.requirements import InvalidRequirement, Requirement

from bundle_cli.config.pep508 import is_simple_requirement, requirement_error

COMMON = [
    "numpy",
    "numpy>=1.26",
    "scikit-learn==1.3.*",
    "torch[cpu]>=2.0,<3",
    "pkg~=1.4.2",
    "Foo_Bar.baz != 2.0rc1",
    "a[x, y] >= 1.0.post1, < 2.0.dev3",
]
PIECES = [
    "numpy", "a", "Foo_Bar.baz", "-x", "x-", "_", "[cpu]", "[a,b]", "[]", "[", "]", ",",
    "==", "!=", ">=", "<=", "<", ">", "~=", "===", ">>=", "=",
    "1", "1.0", "1.*", "1.0.*", "1.0rc1", "1.0a1.*", "1.0+local", "1.0.post1", "1.0.dev0", "v1",
    " ", ";", "@", "(", ")", "python_version", '"3.9"', "*",
]  # fmt: skip


def packaging_accepts(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


@pytest.mark.parametrize("text", COMMON)
def test_common_requirements_take_the_fast_path(text: str) -> None:
    assert is_simple_requirement(text)
    assert packaging_accepts(text)


def test_fast_path_never_accepts_what_packaging_refuses() -> None:
    rng = random.Random(508)
    accepted = 0
    for _ in range(20000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6)))
        if is_simple_requirement(text):
            accepted += 1
            assert packaging_accepts(text), text
    assert accepted > 500  # the sample exercises the fast path, not only the fallback


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ('pandas>=2 ; python_version >= "3.9"', True),  # markers go to packaging
        ("foo @ https://example.com/foo.tar.gz", True),
        ("numpy>>=1", False),
        ("pkg~=1", False),  # ~= needs two release parts
        ("pkg>=1.0.*", False),
    ],
)
def test_other_forms_are_decided_by_packaging(text: str, valid: bool) -> None:
    assert not is_simple_requirement(text)
    assert (requirement_error(text) is None) is valid


def test_simple_requirements_file_does_not_import_packaging() -> None:
    code = (
        "import sys\n"
        "from bundle_cli.validation.requirements_txt import check_requirements_text\n"
        "found = check_requirements_text('numpy>=1.26\\ntorch[cpu]==2.1.*\\n', 'r.txt')\n"
        "print(len(found), 'packaging.requirements' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]
