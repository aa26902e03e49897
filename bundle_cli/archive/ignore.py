"""Exclusion rules: safe defaults that always apply, plus the bundle's `.bundleignore`.

The defaults and `.bundleignore` are two separate rule sets and a path is left out when either
excludes it, so a `!pattern` line in `.bundleignore` only re-includes what an earlier line of the
same file excluded: nothing can bring back a default, least of all a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bundle_cli.archive.names import MANIFEST_NAME
from bundle_cli.diagnostics import Diagnostic

IGNORE_FILENAME = ".bundleignore"

# Files that hold credentials. Never packed, whatever .bundleignore says.
SECRET_PATTERNS = (
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pypirc",
    ".npmrc",
    ".git-credentials",
    ".ssh/",
    ".aws/",
    ".gnupg/",
    "**/.docker/config.json",  # a pattern with an inner "/" is anchored to the root without **/
)

# Files that are not part of a model: version control, caches, build output, editor litter.
CLUTTER_PATTERNS = (
    ".git/",
    ".hg/",
    ".svn/",
    "__pycache__/",
    "*.py[cod]",
    ".venv/",
    "venv/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".tox/",
    ".nox/",
    ".hypothesis/",
    ".ipynb_checkpoints/",
    ".DS_Store",
    "Thumbs.db",
    "*.swp",
    "*~",
    "/dist/",
    "/.bundle/",  # the tool's own files in a bundle: the schema for editors, init's backups
    f"/{MANIFEST_NAME}",
    # temp files of an interrupted `bundle package` writing into the bundle
    ".*.tar.gz.*.tmp",
)

# A folder holding one of these is an environment (virtualenv, conda), never bundle content.
ENV_MARKERS = ("pyvenv.cfg", "conda-meta")


def _spec(lines: list[str]) -> Any:
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


@dataclass
class Rules:
    """The combined exclusion rules of one bundle."""

    secret: Any = field(default_factory=lambda: _spec(list(SECRET_PATTERNS)))
    clutter: Any = field(default_factory=lambda: _spec(list(CLUTTER_PATTERNS)))
    user: Any = None
    user_negations: Any = None  # the `!` lines of .bundleignore, to warn when they hit a secret
    ignore_file: str = IGNORE_FILENAME
    diagnostics: list[Diagnostic] = field(default_factory=list)
    secrets_left_out: list[str] = field(default_factory=list)  # what the credential rules excluded
    user_lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, pattern)

    def excluded(self, rel: str, is_dir: bool) -> bool:
        """Whether the bundle-relative POSIX path is left out of the archive."""
        key = rel + "/" if is_dir else rel
        if self.secret.match_file(key):
            self._warn_negated_secret(rel, key)
            self.secrets_left_out.append(key)
            return True
        if self.clutter.match_file(key):
            return True
        return bool(self.user is not None and self.user.match_file(key))

    def explain(self, rel: str) -> str:
        """Which rule leaves `rel` (or a folder above it) out of the archive, for messages."""
        parts = rel.split("/")
        keys = [("/".join(parts[:i]) + "/") for i in range(1, len(parts))] + [rel]
        for key in keys:
            for spec, patterns, what in (
                (self.secret, SECRET_PATTERNS, "the default rule for credential files"),
                (self.clutter, CLUTTER_PATTERNS, "the default rule"),
            ):
                hit = spec.check_file(key)
                if hit.include and hit.index is not None:
                    return f'{what} "{patterns[hit.index]}"'
            hit = self.user.check_file(key) if self.user is not None else None
            if hit is not None and hit.include and hit.index is not None:
                number, line = self.user_lines[hit.index]
                return f'{self.ignore_file}:{number}: "{line.strip()}"'
        return "its folder is left out (a virtualenv or the archive itself)"

    def _warn_negated_secret(self, rel: str, key: str) -> None:
        if self.user_negations is not None and self.user_negations.match_file(key):
            self.diagnostics.append(
                Diagnostic(
                    "secret-not-reincluded",
                    "warning",
                    f"{rel}: not packed although .bundleignore re-includes it; "
                    "files that hold credentials are never packed",
                    file=self.ignore_file,
                )
            )


def secrets_warning(rules: Rules) -> Diagnostic | None:
    """One warning that lists (by name only) the credential files the defaults left out."""
    names = sorted(set(rules.secrets_left_out))
    if not names:
        return None
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return Diagnostic(
        "secrets-left-out",
        "warning",
        f"not packed, as files that may hold credentials: {shown}",
        file=str(Path(rules.ignore_file).parent),
    )


def load_rules(bundle_dir: Path) -> Rules:
    """The default rules plus `.bundleignore` when the bundle has one."""
    path = bundle_dir / IGNORE_FILENAME
    rules = Rules(ignore_file=str(path))
    if not path.is_file():
        return rules
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    good: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            one = _spec([line])
        except ValueError as exc:
            rules.diagnostics.append(
                Diagnostic(
                    "bad-ignore-pattern",
                    "error",
                    f"{exc}; see gitignore pattern syntax",
                    file=str(path),
                    line=number,
                )
            )
            continue
        good.append(line)
        # pathspec drops blank lines: map each compiled pattern back to its line
        rules.user_lines += [(number, line)] * len(one.patterns)
    rules.user = _spec(good)
    negations = [ln.strip()[1:] for ln in good if ln.strip().startswith("!")]
    rules.user_negations = _spec(negations) if negations else None
    return rules
