"""A failed init leaves nothing behind, and no template can write outside its target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from scaffold_helpers import snapshot
from typer.testing import Result

from bundle_cli.errors import ExitCode, UnsafePathError
from bundle_cli.scaffold import init, place, templates
from bundle_cli.scaffold.templates import inside


def use_templates(monkeypatch: pytest.MonkeyPatch, root: Path, files: dict[str, str]) -> None:
    """Make init render a template root built from {path: text} instead of the shipped one."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.setattr(templates, "templates_root", lambda: root)


def test_a_template_that_fails_to_render_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # common/ renders first, so the staging folder already holds a file when numpy/ fails
    use_templates(
        monkeypatch,
        tmp_path / "tpl",
        {"common/a.txt.j2": "{{ name }}\n", "numpy/z.txt.j2": "{{ no_such_variable }}\n"},
    )
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(jinja2.UndefinedError):
        init("demo", out / "x/y/demo")
    assert list(out.iterdir()) == []  # no target, no staging folder, no created parents


def test_an_interrupt_after_rendering_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged: list[Path] = []
    real_render = templates.render

    def render_then_interrupt(root: Path, flavour: str, context: Any, out: Path) -> list[str]:
        real_render(root, flavour, context, out)
        staged.append(out)
        assert (out / "model/model.py").is_file()  # the staging folder was full
        raise KeyboardInterrupt

    monkeypatch.setattr(templates, "render", render_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        init("demo", tmp_path / "demo")
    assert staged and not staged[0].exists()
    assert list(tmp_path.iterdir()) == []


def test_a_failure_under_force_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = init("demo", tmp_path / "demo")
    (bundle / "model/model.py").write_text("# mine\n")
    before = snapshot(bundle)
    use_templates(monkeypatch, tmp_path / "tpl", {"numpy/model/model.py.j2": "{{ oops }}"})
    with pytest.raises(jinja2.UndefinedError):
        init("demo", bundle, force=True)
    assert snapshot(bundle) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "tpl"]


@pytest.mark.parametrize(
    "template_path", ["numpy/{{ '..' }}/escape.txt", "numpy/{{ '' }}/x.txt", "numpy/{{ '.' }}/x"]
)
def test_a_rendered_path_that_leaves_the_target_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_path: str
) -> None:
    use_templates(monkeypatch, tmp_path / "tpl", {template_path: "payload"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafePathError, match="not a plain relative path"):
        init("demo", out / "demo")
    assert list(out.iterdir()) == []


def test_a_template_that_is_a_symbolic_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_templates(monkeypatch, tmp_path / "tpl", {"numpy/ok.txt": "ok"})
    (tmp_path / "tpl/numpy/passwd").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePathError, match="may not be symbolic links"):
        init("demo", tmp_path / "demo")
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("rel", ["/etc/passwd", "a/../../b", "..", "a//b", "./a", "a\\..\\b", ""])
def test_inside_refuses_anything_but_plain_relative_paths(tmp_path: Path, rel: str) -> None:
    with pytest.raises(UnsafePathError):
        inside(tmp_path, rel)


def test_inside_refuses_a_path_through_a_link_out_of_the_root(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root/link").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError, match="through a symbolic link"):
        inside(tmp_path / "root", "link/x")
    assert inside(tmp_path / "root", "dir/x") == tmp_path / "root/dir/x"


def test_a_folder_that_cannot_be_written_is_a_usage_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Result]
) -> None:
    # Tests run as root here, where permissions do not bite: the refusal is simulated.
    def refuse(target: Path, **kwargs: object) -> Path:
        raise PermissionError(13, "Permission denied", str(target.parent))

    monkeypatch.setattr(place, "staging_dir", refuse)
    result = cli("init", "demo", str(tmp_path / "new/parent/demo"))
    assert result.exit_code == ExitCode.USAGE
    assert f"error: cannot write {tmp_path}/new/parent/demo: Permission denied" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]  # the parents made were removed


def test_a_long_folder_name_still_gets_a_staging_folder(tmp_path: Path) -> None:
    long = "d" * 250
    init("demo", tmp_path / long)
    assert sorted(p.name for p in tmp_path.iterdir()) == [long]
