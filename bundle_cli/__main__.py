"""Entry point of the `bundle` command and of `python -m bundle_cli`.

`bundle --version` and the top-level `bundle --help` are answered without importing typer, whose
import alone costs more than the start-up budget on a slow machine. The help text is the one typer
renders, stored beside this file and kept identical by a test (`tests/cli/test_fast_paths.py`);
regenerate it with `make help-text` after changing the command list.
"""

from __future__ import annotations

import os
import sys

_HELP_FLAGS = {"--help", "-h"}
# command -> module whose main(argv) runs it without typer, or returns None to leave it to typer
_FAST_COMMANDS = {
    "predict": "bundle_cli.cli.predict_fast",
    "validate": "bundle_cli.cli.validate_fast",
    "sign": "bundle_cli.cli.sign_fast",
    "verify": "bundle_cli.cli.verify_fast",
    "serve": "bundle_cli.cli.serve_fast",
}
# click wraps help text at min(terminal width, 80); below 80 columns the stored text would differ.
_STORED_HELP_WIDTH = 80


def _fast_path(argv: list[str]) -> str | None:
    if argv == ["--version"]:
        from bundle_cli._version import __version__

        return f"bundle {__version__}\n"
    if argv and argv[0] in _HELP_FLAGS and len(argv) == 1:
        try:
            columns = int(os.environ.get("COLUMNS") or os.get_terminal_size(sys.stdout.fileno())[0])
        except (OSError, ValueError):
            columns = _STORED_HELP_WIDTH
        if columns >= _STORED_HELP_WIDTH:
            # os.path, not importlib.resources/pathlib: their imports cost more than the read.
            here = os.path.dirname(os.path.abspath(__file__))
            with open(os.path.join(here, "cli", "help.txt"), encoding="utf-8") as f:
                return f.read()
    return None


def main(argv: list[str] | None = None) -> int | None:
    """Run the `bundle` command line."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--debug"]:  # before the command: the fast paths see the same line
        os.environ["BUNDLE_DEBUG"] = "1"
        args = args[1:]
    text = _fast_path(args)
    if text is not None:
        sys.stdout.write(text)
        return None
    from bundle_cli.cli import plain

    plain.handle_sigterm()
    plain.show_warnings()
    # Whatever escapes a command's own boundary (option parsing, a bug) still gets one message
    # and a documented code; a command's boundary adds --json output.
    return plain.bounded(lambda: _dispatch(args))


def _dispatch(args: list[str]) -> int:
    if args and args[0] in _FAST_COMMANDS:
        # Their budgets (~0.1 s over a model's imports; 0.2 s to validate) leave no room for
        # typer's import: plain command lines run without it, the rest fall through to typer.
        # __import__, not importlib.import_module: the importlib package costs ~9 ms to import.
        fast = __import__(_FAST_COMMANDS[args[0]], fromlist=["main"])
        code = fast.main(args[1:])
        if code is not None:
            return int(code)
    from bundle_cli.cli.commands import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
