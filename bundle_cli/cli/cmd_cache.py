"""`bundle cache` and `bundle cache clean`."""

from __future__ import annotations

import time

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say
from bundle_cli.textsafe import printable

cache_app = typer.Typer(
    help="What the user cache holds (unpacked archives, environments); `clean` empties it.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(cache_app, name="cache")


@cache_app.callback()
def cache(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the list on stdout as JSON."),
) -> None:
    """List the unpacked archives and the environments in the cache, least recently used
    first, with their sizes."""
    if ctx.invoked_subcommand is not None:
        return
    from bundle_cli.archive.cache import cache_root, entries, max_size
    from bundle_cli.cli.progress import human
    from bundle_cli.envs.store import environments

    with boundary(as_json=as_json):
        held, cap = entries(), max_size()
        envs = [env.to_dict() for env in environments()]
    if as_json:
        archives = [{"kind": "archive", **e.to_dict()} for e in held]
        return emit_json(archives + [{"kind": "environment", **env} for env in envs])
    now = time.time()
    for e in held:
        days = (now - e.last_used) / 86400
        typer.echo(
            f"{human(e.size):>10}  {days:6.1f} days ago  {e.digest[:12]}  {printable(e.archive)}"
        )
    for env in envs:
        days = (now - env["last_used"]) / 86400
        typer.echo(
            f"{human(env['size']):>10}  {days:6.1f} days ago  {env['name'][:12]}  "
            f"environment of {printable(str(env['bundle']))} (Python {env['python']})"
        )
    total = sum(e.size for e in held)
    say(f"{cache_root()}: {len(held)} archives, {human(total)} of {human(cap)} (BUNDLE_CACHE_MAX)")
    if envs:
        say(f"{len(envs)} environments, {human(sum(env['size'] for env in envs))}")


@cache_app.command()
def clean(
    older_than: float | None = typer.Option(
        None,
        "--older-than",
        min=0,
        metavar="DAYS",
        help="Only what was last used more than DAYS days ago.",
    ),
) -> None:
    """Empty the user cache (or only its entries unused for --older-than DAYS)."""
    from bundle_cli.archive.cache import clean as run_clean
    from bundle_cli.cli.progress import human
    from bundle_cli.envs.store import clean as clean_envs

    with boundary():
        count, size = run_clean(older_than)
        env_count, env_size = clean_envs(older_than)
    say(f"removed {count} archives ({human(size)})")
    if env_count:
        say(f"removed {env_count} environments ({human(env_size)})")
