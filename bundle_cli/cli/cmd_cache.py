"""`bundle cache` and `bundle cache clean`."""

from __future__ import annotations

import time

import typer

from bundle_cli.cli.app import app, boundary, emit_json, say
from bundle_cli.textsafe import printable

cache_app = typer.Typer(
    help="What the user cache holds (unpacked archives); `clean` empties it.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(cache_app, name="cache")


@cache_app.callback()
def cache(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the list on stdout as JSON."),
) -> None:
    """List the unpacked archives in the cache, least recently used first, with their sizes."""
    if ctx.invoked_subcommand is not None:
        return
    from bundle_cli.archive.cache import cache_root, entries, max_size
    from bundle_cli.cli.progress import human

    with boundary(as_json=as_json):
        held, cap = entries(), max_size()
    if as_json:
        return emit_json([e.to_dict() for e in held])
    now = time.time()
    for e in held:
        days = (now - e.last_used) / 86400
        typer.echo(
            f"{human(e.size):>10}  {days:6.1f} days ago  {e.digest[:12]}  {printable(e.archive)}"
        )
    total = sum(e.size for e in held)
    say(f"{cache_root()}: {len(held)} archives, {human(total)} of {human(cap)} (BUNDLE_CACHE_MAX)")


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

    with boundary():
        count, size = run_clean(older_than)
    say(f"removed {count} archives ({human(size)})")
