"""`bundle package`, `bundle verify`, `bundle unpack`, `bundle inspect`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bundle_cli.cli import verify_fast
from bundle_cli.cli.app import app, boundary, command, emit_json, render_diagnostics, say, warn
from bundle_cli.cli.plain import bundle_argument
from bundle_cli.textsafe import printable


@app.command()
def package(
    path: Path = typer.Argument(Path("."), help="Bundle directory."),
    output: str | None = typer.Option(  # str: a Path would drop the trailing slash
        None,
        "-o",
        "--output",
        help="Archive file (*.tar.gz, *.tgz), or a folder (existing, or ending in /) to write "
        "it into. Default: ./dist/",
    ),
    list_only: bool = typer.Option(
        False, "--list", help="Print what would be packed, largest first; write nothing."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print a summary (path, size, sha256, file count) on stdout."
    ),
    rehash: bool = typer.Option(
        False, "--rehash", help="Hash every file, even those whose digest is cached."
    ),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No validation warnings."),
) -> None:
    """Validate a bundle and write its reproducible archive."""
    from bundle_cli.cli.progress import ProgressBar, human
    from bundle_cli.packaging import package as run_package
    from bundle_cli.packaging import plan

    with boundary(as_json=as_json):
        path = Path(bundle_argument(str(path)))
        if list_only:
            _, selection, _ = plan(path, output, warn(quiet))
            render_diagnostics(selection.diagnostics)
            return _print_list(selection.files, as_json)
        bar = ProgressBar("packaging")
        try:
            result = run_package(
                path, output, progress=bar, with_digest=as_json, rehash=rehash, warn=warn(quiet)
            )
        finally:
            bar.close()
        render_diagnostics(result.warnings)
        if as_json:
            emit_json({"ok": True, **result.to_dict()})
        say(
            f"wrote {result.path} ({human(result.size)}, {result.file_count} files, {human(result.total_size)} unpacked)"
        )


def _print_list(files: list[Any], as_json: bool) -> None:
    from bundle_cli.cli.progress import human

    ordered = sorted(files, key=lambda e: (-e.size, e.name))
    if as_json:
        emit_json([{"path": e.name, "size": e.size, "executable": e.executable} for e in ordered])
    else:
        for e in ordered:
            typer.echo(f"{human(e.size):>10}  {printable(e.name)}")
    say(f"{len(files)} files, {human(sum(e.size for e in files))}")


command(verify_fast.VerifyOptions, verify_fast.run, "verify")


@app.command()
def unpack(
    archive: Path = typer.Argument(..., help="Archive written by `bundle package`."),
    target: Path = typer.Argument(..., help="New folder to create; must not exist."),
    max_files: int = typer.Option(
        100_000, "--max-files", min=1, help="Refuse archives with more members."
    ),
    max_size: str = typer.Option(
        "128Gi", "--max-size", help="Refuse archives that unpack to more (e.g. 10Gi)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was unpacked on stdout."),
) -> None:
    """Verify and extract an archive into a new folder; nothing is left behind on failure."""
    from bundle_cli.archive.findings import Limits
    from bundle_cli.cli.progress import human

    with boundary(as_json=as_json):
        from bundle_cli.archive.extract import unpack as run_unpack
        from bundle_cli.sizes import parse_size

        limits = Limits(max_members=max_files, max_total_size=parse_size(max_size, "--max-size"))
        result = run_unpack(archive, target, limits=limits)
        if as_json:
            emit_json(
                {
                    "ok": True,
                    "path": str(result.path),
                    "file_count": result.file_count,
                    "total_size": result.total_size,
                }
            )
        say(f"unpacked {result.file_count} files ({human(result.total_size)}) into {result.path}")


@app.command()
def inspect(
    archive: Path = typer.Argument(..., help="Archive written by `bundle package`."),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest summary on stdout."),
) -> None:
    """Show what an archive holds, read from its manifest without extracting."""
    from bundle_cli.archive.inspect import inspect as run_inspect
    from bundle_cli.cli.progress import human

    with boundary(as_json=as_json):
        result = run_inspect(archive)
    if as_json:
        return emit_json(result.to_dict())
    m, b = result.manifest, result.manifest.bundle
    lines = [
        f"name:          {b.get('name')}",
        f"version:       {b.get('version')}",
        f"python:        {b.get('python_version')}",
        f"requirements:  {', '.join(map(str, b.get('requirements') or [])) or '(none)'}",
        f"methods:       {_methods(b)}",
        f"packaged by:   bundle {m.tool_version}",
        f"files:         {len(m.files)}, {human(m.total_size)} ({human(result.archive_size)} archived)",
    ]
    lines += [
        f"  {human(f.size):>10}  {f.path}{'  (executable)' if f.executable else ''}"
        for f in m.files
    ]
    typer.echo("\n".join(printable(line) for line in lines))  # the manifest is not verified
    say("not verified: `bundle verify` checks every byte")


def _methods(bundle: dict[str, Any]) -> str:
    """The model's methods as the manifest lists them (archives before they were recorded: say so)."""
    methods = bundle.get("methods")
    if isinstance(methods, list):
        return ", ".join(map(str, methods)) or "(none)"
    if "methods" not in bundle:
        return "(not recorded by the bundle that packed it)"
    return "(no model class in the packed files: a flow, or a bundle Truss serves without code)"
