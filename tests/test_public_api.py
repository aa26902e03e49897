"""`bundle_cli.<name>` is the public function or class whatever was imported before."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import bundle_cli
from bundle_cli import errors


def test_no_public_name_is_shadowed_by_a_subpackage() -> None:
    # Importing bundle_cli.X binds the submodule as the attribute X of bundle_cli, which would
    # replace a public function X (bundle_cli.validate once was a subpackage).
    submodules = {m.name for m in pkgutil.iter_modules(bundle_cli.__path__)}
    assert not submodules & set(bundle_cli.__all__)


def test_every_public_name_resolves_to_a_callable_after_all_submodules_loaded() -> None:
    for info in pkgutil.iter_modules(bundle_cli.__path__, "bundle_cli."):
        if info.name != "bundle_cli.__main__":
            importlib.import_module(info.name)
    for name in bundle_cli.__all__:
        value = getattr(bundle_cli, name)
        if name != "__version__":
            assert callable(value) and not inspect.ismodule(value), name


def test_validate_is_the_function_in_a_fresh_process_after_the_checks_import() -> None:
    code = (
        "import bundle_cli, bundle_cli.validation\n"
        "import inspect\n"
        "assert inspect.isfunction(bundle_cli.validate), bundle_cli.validate\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_validation_cache_key_covers_the_validation_code() -> None:
    # The cache fingerprint names the tool's folders as strings (importing them would cost the
    # start-up time the cache saves); a renamed folder must not silently drop out of the key.
    from bundle_cli.validation import cache as validated

    checked = {p.parent.name for p in validated._TOOL_DIR.glob("validation/**/*.py")}
    assert "validation" in checked
    assert (validated._TOOL_DIR / "config" / "schema.py").is_file()


# The public surface, as users import it; adding or removing a name is a deliberate change here.
PUBLIC = {
    "__version__",
    # what the commands do
    *("init", "validate", "load_config", "load", "run_examples", "build_flow", "store"),
    *("package", "verify", "unpack", "inspect", "sign", "diff", "ModelType", "Store"),
    # what they return
    *("ConfigResult", "Diagnostic", "Report", "LoadedBundle", "TestReport", "ExampleResult"),
    *("InitResult", "PackageResult", "VerifyReport", "UnpackResult", "InspectResult"),
    *("DiffResult", "SignResult"),
    # what they raise
    *("ExitCode", "BundleError", "UsageError", "InvalidBundleError", "UnsafePickleError"),
    *("InputDataError", "InvalidInput", "FileSystemError", "UnsafeArchiveError"),
    *("BadSignatureError", "UserCodeError", "OutputEncodingError", "PredictTimeoutError"),
    *("SecretError", "UnsafePathError", "EnvironmentMismatchError", "MissingDependencyError"),
    *("Terminated", "BundleWarning"),
}


def test_the_public_names_are_exactly_the_pinned_list() -> None:
    assert set(bundle_cli.__all__) == PUBLIC
    assert len(bundle_cli.__all__) == len(PUBLIC)


def test_type_checkers_see_every_public_name() -> None:
    # The lazy __getattr__ returns `object` to a type checker; the TYPE_CHECKING block is what
    # it reads, so it must import every name of _API from the module _API says.
    tree = ast.parse(Path(bundle_cli.__file__).read_text(encoding="utf-8"))
    (block,) = [n for n in tree.body if isinstance(n, ast.If)]
    seen = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name  # `import X as X`: an explicit re-export
    }
    assert seen == bundle_cli._API


def test_every_exception_is_public_and_drawn_in_the_errors_docstring() -> None:
    classes = {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException | Warning)
        and value.__module__ == errors.__name__
    }
    assert set(classes) <= set(bundle_cli.__all__)
    drawn: dict[str, tuple[str, str]] = {}  # name -> (drawn parent, drawn exit code)
    parents: list[str] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^    ([│ ]*)(?:[├└]── )?(\w+)\s*(\d*)", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4 + bool(re.search("[├└]", line))
        parents[depth:] = [match.group(2)]
        drawn[match.group(2)] = (parents[depth - 1] if depth else "", match.group(3))
    for name, cls in classes.items():
        parent, code = drawn[name]
        assert cls.__bases__[0].__name__ == parent, name
        if code:
            assert int(getattr(cls, "exit_code", code)) == int(code), name
    codes = {"InvalidInput": 3, "Terminated": 143}
    assert {n: int(drawn[n][1]) for n in codes} == codes


def test_a_type_checker_sees_the_api_as_typed(tmp_path: Path) -> None:
    # Run from outside the checkout, so mypy finds the installed package, which it reads only
    # because py.typed ships; `bundle_cli.package` and `verify` were `object` without the block.
    script = tmp_path / "use_api.py"
    script.write_text(
        "import bundle_cli\n"
        "from bundle_cli.errors import BundleError\n"
        "reveal_type(bundle_cli.package('m', 'dist/'))\n"
        "reveal_type(bundle_cli.verify('m.tar.gz').ok)\n"
        "reveal_type(bundle_cli.load)\n"
        "reveal_type(bundle_cli.validate('m').diagnostics)\n"
        "reveal_type(bundle_cli.UserCodeError('boom', '').user_traceback)\n"
        "assert issubclass(bundle_cli.InvalidBundleError, BundleError)\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", script.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    revealed = re.findall(r'Revealed type is "(.*)"', proc.stdout)
    assert revealed[0] == "bundle_cli.packaging.PackageResult"
    assert revealed[1] == "bool"
    assert revealed[2].startswith("def (path: str | pathlib.Path, *") and revealed[2].endswith(
        "-> bundle_cli.runtime.bundle.LoadedBundle"
    )
    assert revealed[3] == "list[bundle_cli.diagnostics.Diagnostic]"
    assert revealed[4] == "str"
