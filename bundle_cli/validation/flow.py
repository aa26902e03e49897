"""`bundle validate` for flows: stage files, types and options, pre/post functions, pickles.

Pickled functions are listed as `info` findings (digest, imports) for review; they are never
unpickled here, since loading a pickle runs its code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bundle_cli.config.locate import KeyPath, Locator, Positions, config_file
from bundle_cli.contract import FUNCTIONS
from bundle_cli.diagnostics import Diagnostic, Severity
from bundle_cli.frameworks import get as framework
from bundle_cli.frameworks import option_problems
from bundle_cli.layout import NotFound, import_dirs
from bundle_cli.validation.flow_functions import arity_problem, find_function, source_imports
from bundle_cli.validation.paths import escapes


class _Findings:
    def __init__(self, bundle_dir: Path, positions: Positions) -> None:
        self.bundle_dir = bundle_dir
        self.at = Locator(config_file(bundle_dir), positions)
        self.items: list[Diagnostic] = []

    def at_key(self, severity: Severity, code: str, message: str, key: KeyPath) -> None:
        self.items.append(self.at(code, message, key, severity))

    def at_file(
        self,
        severity: Severity,
        code: str,
        message: str,
        file: Path,
        line: int | None,
        key: KeyPath,
    ) -> None:
        path = ".".join(str(k) for k in key)
        self.items.append(Diagnostic(code, severity, message, str(file), line, None, path))


def check_flow(
    bundle_dir: Path, config: Any, positions: dict[KeyPath, tuple[int, int]]
) -> list[Diagnostic]:
    """Every static finding about `config.flow`; an empty list when there is no flow."""
    findings = _Findings(bundle_dir, positions)
    roots = [d for d in import_dirs(bundle_dir, config.model_dump(mode="json")) if d.is_dir()]
    for index, stage in enumerate(config.flow or []):
        key: KeyPath = ("flow", index)
        model = _check_model(findings, stage, key)
        for option, message in option_problems(stage.type, stage.options):
            findings.at_key("error", "invalid-stage-option", message, (*key, "options", option))
        if model is not None and stage.type == "python":
            _check_python_stage(findings, stage, model, key)
        for slot in ("pre", "post"):
            ref = getattr(stage, slot)
            if ref and ref.endswith(".pkl"):
                _list_pickle(findings, stage, slot, ref, (*key, slot))
            elif ref:
                _check_reference(findings, roots, stage, slot, ref, (*key, slot))
    return findings.items


def inside(bundle_dir: Path, rel: str) -> Path | None:
    """The path of `rel` in the bundle, or None when it is absolute or climbs out of it."""
    return None if escapes(rel) else bundle_dir / rel


def _check_model(findings: _Findings, stage: Any, key: KeyPath) -> Path | None:
    path = inside(findings.bundle_dir, stage.model)
    where = f"stage '{stage.name}'"
    if path is None:
        findings.at_key(
            "error",
            "path-outside-bundle",
            f"{where}: {stage.model} is outside the bundle",
            (*key, "model"),
        )
        return None
    if not path.exists():
        findings.at_key(
            "error",
            "missing-stage-model",
            f"{where}: model file {stage.model} does not exist",
            (*key, "model"),
        )
        return None
    if not path.is_file():  # every loader reads one file (a folder: IsADirectoryError at load)
        findings.at_key(
            "error",
            "stage-model-not-a-file",
            f"{where}: model {stage.model} is a folder, not a model file",
            (*key, "model"),
        )
        return None
    suffixes = framework(stage.type).suffixes
    if path.suffix not in suffixes:
        message = (
            f"{where}: a {stage.type} model is usually {' or '.join(suffixes)}; got {path.name}"
        )
        findings.at_key("warning", "stage-model-suffix", message, (*key, "model"))
    return path


def _check_python_stage(findings: _Findings, stage: Any, path: Path, key: KeyPath) -> None:
    """The stage's Model class, checked like a single-model bundle's (hooks, signatures)."""
    from bundle_cli.pysource import class_view, module_classes, parse_python
    from bundle_cli.validation.hooks import check_class

    class_name = stage.options.get("class_name", "Model")
    try:
        tree = parse_python(path.read_bytes(), str(path))
    except (SyntaxError, ValueError) as exc:
        message = f"stage '{stage.name}': {path.name} does not parse: {exc}"
        line = getattr(exc, "lineno", None)
        findings.at_file("error", "syntax-error", message, path, line, (*key, "model"))
        return
    classes = module_classes(tree)
    if class_name not in classes:
        message = f"stage '{stage.name}': {path.name} defines no class {class_name}"
        findings.at_file("error", "missing-model-class", message, path, None, (*key, "model"))
        return
    findings.items += check_class(class_view(classes[class_name], classes), str(path))


def _check_reference(
    findings: _Findings, roots: list[Path], stage: Any, slot: str, ref: str, key: KeyPath
) -> None:
    where = f"stage '{stage.name}': {slot} {ref}"
    try:
        fn = find_function(roots, ref)
    except NotFound as exc:
        findings.at_key("error", "missing-function", f"{where}: {exc}", key)
        return
    problem = arity_problem(fn, FUNCTIONS[slot])
    if problem:
        findings.at_file("error", "bad-function-arity", f"{where} {problem}", fn.file, fn.line, key)


def _list_pickle(findings: _Findings, stage: Any, slot: str, ref: str, key: KeyPath) -> None:
    from bundle_cli.pickles.inventory import summarize

    where = f"stage '{stage.name}': {slot} {ref}"
    path = inside(findings.bundle_dir, ref)
    if path is None or not path.is_file():
        why = "is outside the bundle" if path is None else "does not exist"
        findings.at_key("error", "missing-function", f"{where} {why}", key)
        return
    try:
        summary = summarize(path)
    except Exception as exc:  # truncated or not a pickle: pickletools says where
        message = f"stage '{stage.name}': {slot} {ref} is not a readable pickle: {exc}"
        findings.at_file("error", "bad-pickle", message, path, None, key)
        return
    source = path.with_suffix(".py")
    reviewed = (
        f"its source {source.name} imports {', '.join(source_imports(source)) or 'nothing'}"
        if source.is_file()
        else "no source file beside it"
    )
    message = (
        f"stage '{stage.name}': {slot} is a pickled function, code that runs when the bundle "
        f"loads; sha256 {summary.sha256}; "
        f"unpickling imports {', '.join(summary.modules) or 'nothing'}; {reviewed}"
    )
    findings.at_file("info", "pickled-function", message, path, None, key)
