"""PEP 508 checks that skip importing `packaging` for the everyday forms.

Importing packaging.requirements costs about 60 ms here, a third of validate's whole budget. A
regular expression recognises a strict subset of PEP 508 (a name, extras, common version specifiers);
anything else, markers and URLs included, goes to packaging, which stays the authority and gives
the error message. The subset is only ever smaller than PEP 508, never larger (a test checks this).
"""

from __future__ import annotations

import re

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"\d+(?:\.\d+)*"
_SUFFIX = r"(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
_SPEC = (
    rf"(?:(?:==|!=)\s*{_RELEASE}(?:\.\*|{_SUFFIX})"
    rf"|(?:<=|>=|<|>)\s*{_RELEASE}{_SUFFIX}"
    rf"|~=\s*\d+(?:\.\d+)+{_SUFFIX})"
)
_SIMPLE = re.compile(
    rf"\s*{_NAME}\s*(?:\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\])?\s*(?:{_SPEC}(?:\s*,\s*{_SPEC})*)?\s*"
)


def is_simple_requirement(text: str) -> bool:
    """True when `text` is certainly a valid PEP 508 requirement; False means "ask packaging"."""
    return _SIMPLE.fullmatch(text) is not None


def requirement_error(text: str) -> str | None:
    """None when `text` is a PEP 508 requirement, else packaging's message (first line, then caret)."""
    if is_simple_requirement(text):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return str(exc)
    return None
