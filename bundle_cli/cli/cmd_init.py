"""`bundle init`."""

from __future__ import annotations

import shlex
from importlib.util import find_spec
from pathlib import Path

import typer

from bundle_cli.cli.app import app, boundary, say

# flavour -> (module to look for, what to install) for the "next steps" hint
_FRAMEWORKS = {"sklearn": ("sklearn", "scikit-learn"), "torch": ("torch", "torch")}


@app.command()
def init(
    name: str = typer.Argument(
        ..., metavar="NAME", help="Bundle name: letters, digits, '-', '_' and '.'."
    ),
    path: Path | None = typer.Argument(
        None, metavar="DIR", help="Folder to create [default: ./NAME]."
    ),
    template: str = typer.Option(
        "numpy", "--template", "-t", help="Flavour: numpy (no framework), sklearn or torch."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write into an existing non-empty folder; replaced files go to .bundle/backup/.",
    ),
) -> None:
    """Create a bundle from a template.

    Never overwrites and never replaces a folder: an empty DIR (or .) is written into; a
    non-empty one is refused unless --force, which leaves files the template does not produce
    alone and keeps each file it replaces in .bundle/backup/.
    """
    from bundle_cli.scaffold import scaffold

    with boundary():
        result = scaffold(name, path, template=template, force=force)
    verb = "wrote" if result.merged else "created"  # into an existing folder, or a new one
    say(f"{verb} {result.path}/ from the {result.template} template", color="green")
    for original, backup in result.backups:
        say(f"  kept the previous {original} as {backup}", color="yellow")
    framework = _FRAMEWORKS.get(result.template)
    next_steps = [
        f"cd {shlex.quote(str(result.path))}",
        "bundle validate",
        "bundle predict -i input.json",
    ]
    if framework and find_spec(framework[0]) is None:
        next_steps.insert(1, f"pip install {framework[1]}")
    say("next steps:\n" + "\n".join(f"  {step}" for step in next_steps))
