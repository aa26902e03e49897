"""`bundle env build|path|list|remove` and `bundle lock`: a bundle's own environments."""

from __future__ import annotations

import sys
import time

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say
from bundle_cli.textsafe import printable

env_app = typer.Typer(
    help="The bundle's own environments (built with uv from its requirements).",
    no_args_is_help=True,
)
app.add_typer(env_app, name="env")


def _progress(message: str) -> None:
    if sys.stderr.isatty():
        say(f"... {message}")


@env_app.command("build")
def build(
    path: str = typer.Argument(".", metavar="DIR|ARCHIVE", help="Bundle directory or archive."),
    offline: bool = typer.Option(False, "--offline", help="Install from uv's cache only."),
    upgrade: bool = typer.Option(
        False,
        "--upgrade",
        help="Resolve the requirements again from the index, instead of the versions this "
        "key was built with before (after `bundle env remove`).",
    ),
    wait: bool = typer.Option(
        False,
        "--wait",
        help="Also wait for the bytecode compilation, which otherwise runs on in the "
        "background (for image builds and CI, where it would be cut off).",
    ),
) -> None:
    """Build the bundle's environment (or find it built) and print its folder.

    The environment is usable once installed; its bytecode is compiled right after, in the
    background (a run never waits for it), unless --wait."""
    from bundle_cli.cli.plain import bundle_argument
    from bundle_cli.envs.store import wait_for_bytecode
    from bundle_cli.runtime.isolated import build as run_build

    with boundary():
        result = run_build(
            bundle_argument(path), offline=offline, progress=_progress, upgrade=upgrade
        )
    env = result.environment
    what = f"built in {result.seconds:.1f} s" if result.built else "already built"
    say(f"environment {env.name} ({what}): Python {env.record['interpreter']['version']}")
    if wait:
        _progress("compiling bytecode")
        started = time.perf_counter()
        compiled = wait_for_bytecode(env)
        if compiled:
            say(f"bytecode compiled ({time.perf_counter() - started:.1f} s waited)")
        else:  # it ended without finishing (killed, or removed meanwhile)
            say("the bytecode compilation did not finish; runs compile what they import")
    typer.echo(str(env.folder))


@env_app.command("path")
def path_command(
    path: str = typer.Argument(".", metavar="DIR|ARCHIVE", help="Bundle directory or archive."),
) -> None:
    """Print the folder of the bundle's environment: `source $(bundle env path)/bin/activate`."""
    from bundle_cli.cli.plain import bundle_argument
    from bundle_cli.runtime.isolated import environment_path

    with boundary():
        folder = environment_path(bundle_argument(path))
    typer.echo(str(folder))


@env_app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print the list on stdout as JSON."),
) -> None:
    """The environments built, least recently used first, with their sizes."""
    from bundle_cli.cli.progress import human
    from bundle_cli.envs.store import environments, envs_root

    with boundary(as_json=as_json):
        found = [env.to_dict() for env in environments()]
    if as_json:
        return emit_json(found)
    now = time.time()
    for env in found:
        days = (now - env["last_used"]) / 86400
        reqs = len(env["requirements"])
        typer.echo(
            f"{env['name']}  {human(env['size']):>10}  {days:6.1f} days ago  Python "
            f"{env['python']}  {reqs} requirement{'s' * (reqs != 1)}  {printable(str(env['bundle']))}"
        )
    say(f"{envs_root()}: {len(found)} environments, {human(sum(e['size'] for e in found))}")


@env_app.command("remove")
def remove(
    path: str = typer.Argument(
        ".", metavar="DIR|ARCHIVE|NAME", help="A bundle, or an environment's name (env list)."
    ),
    all_envs: bool = typer.Option(False, "--all", help="Remove every environment."),
) -> None:
    """Remove the bundle's environment (or the one named, or --all)."""
    from bundle_cli.cli.progress import human
    from bundle_cli.envs.store import clean, environments
    from bundle_cli.envs.store import remove as remove_env

    with boundary():
        if all_envs:
            count, size = clean()
            say(f"removed {count} environments ({human(size)})")
            return
        named = [e for e in environments() if len(path) >= 6 and e.name.startswith(path)]
        if not named:
            from bundle_cli.cli.plain import bundle_argument
            from bundle_cli.envs.store import Environment
            from bundle_cli.runtime.isolated import environment_path

            folder = environment_path(bundle_argument(path))
            named = [Environment(folder, {})]
        for env in named:
            remove_env(env)
            say(f"removed environment {env.name}")


@app.command("lock")
def lock_command(
    path: str = typer.Argument(".", metavar="DIR", help="Bundle directory."),
) -> None:
    """Resolve the requirements into a hash-pinned requirements.lock (with uv)."""
    from bundle_cli.cli.plain import bundle_argument
    from bundle_cli.runtime.isolated import lock

    with boundary():
        result = lock(bundle_argument(path))
    say(f"wrote {result.path}: {result.packages} packages pinned with their hashes")
