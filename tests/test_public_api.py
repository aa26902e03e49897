"""`bundle_cli.<name>` is the public function or class whatever was imported before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import bundle_cli


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
