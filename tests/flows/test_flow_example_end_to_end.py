"""examples/two-stage-flow end to end with the real `bundle` command: build_flow -> validate ->
predict -> package -> verify -> inspect -> predict and test from the archive itself."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml
from test_flow_example import train_module

from bundle_cli.errors import ExitCode

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_built_validated_run_packaged_and_run_from_the_archive(
    tmp_path: Path, run_bundle: Run
) -> None:
    bundle = train_module().main(tmp_path / "bundle")
    expected = {
        k: v
        for e in yaml.safe_load((bundle / "examples.yaml").read_text())
        for k, v in e["expected"].items()
    }

    checked = run_bundle("validate", str(bundle), "--json", "--strict")
    assert checked.returncode == ExitCode.OK, checked.stderr
    diagnostics = json.loads(checked.stdout)["diagnostics"]
    assert [d["code"] for d in diagnostics if d["code"] == "pickled-function"] == [
        "pickled-function"
    ] * 3
    # and every pickle listed by the inventory, the functions trusted by their sha256
    inventory = [d for d in diagnostics if d["code"] == "pickle-inventory"]
    assert {d["severity"] for d in diagnostics} == {"info"} and len(inventory) >= 3
    assert sum("trusted by its sha256" in d["message"] for d in inventory) == 3

    request = bundle / "input.json"
    answer = run_bundle("predict", str(bundle), "-i", str(request))
    assert answer.returncode == ExitCode.OK, answer.stderr
    readings = json.loads(request.read_text())
    assert json.loads(answer.stdout) == {r: expected[r] for r in readings}

    packed = run_bundle("package", str(bundle), "-o", f"{tmp_path / 'dist'}/", "--json")
    assert packed.returncode == ExitCode.OK, packed.stderr
    archive = Path(json.loads(packed.stdout)["path"])
    assert archive.is_file()

    verified = run_bundle("verify", str(archive))
    assert verified.returncode == ExitCode.OK, verified.stderr
    listed = run_bundle("inspect", str(archive), "--json")
    assert listed.returncode == ExitCode.OK, listed.stderr
    held = {f["path"] for f in json.loads(listed.stdout)["files"]}
    assert {f"functions/{p.name}" for p in (bundle / "functions").iterdir()} <= held

    # The archive itself runs: predict and test open it without an unpack step.
    from_archive = run_bundle("predict", str(archive), "-i", str(request))
    assert from_archive.returncode == ExitCode.OK, from_archive.stderr
    assert from_archive.stdout == answer.stdout
    tested = run_bundle("test", str(archive), "--json")
    assert tested.returncode == ExitCode.OK, tested.stdout + tested.stderr
    counts = json.loads(tested.stdout)["counts"]
    assert counts["passed"] == len(yaml.safe_load((bundle / "examples.yaml").read_text()))
