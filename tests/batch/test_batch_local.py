"""`bundle batch --engine local`: the same answers as `bundle predict --jsonl`, byte for byte;
refusals on the driver before anything runs; Parquet in and out; error rows and --fail-fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.batch.conftest import AVAILABLE, Example, Run
from tests.conftest import build_tree

pytestmark = pytest.mark.batch


@pytest.mark.parametrize("name", AVAILABLE)
def test_same_answers_as_predict_jsonl(
    name: str, examples: dict[str, Example], bundle: Run
) -> None:
    example = examples[name]
    out = example.input.with_suffix(".local.jsonl")
    result = bundle(
        "batch", str(example.archive), example.input.name, str(out), cwd=example.input.parent
    )
    assert out.read_bytes() == example.expected, result.stderr
    assert result.returncode == example.exit_code == 3, result.stderr  # line 4 is not JSON
    failed = example.expected.count(b'{"error": {"line": ')
    assert f"149 rows, {failed} failed" in result.stderr  # 150 lines, one of them blank


def test_two_worker_processes_give_the_same_bytes(
    examples: dict[str, Example], bundle: Run
) -> None:
    example = examples["tabular-sklearn"]
    out = example.input.with_suffix(".two.jsonl")
    result = bundle(
        "batch",
        str(example.archive),
        example.input.name,
        str(out),
        "-w",
        "2",
        "--json",
        cwd=example.input.parent,
    )
    assert out.read_bytes() == example.expected, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["ok"], summary["rows"], summary["failures"]) == (False, 149, 2)
    assert [f["line"] for f in summary["first_failures"]] == [4, 141]
    assert summary["error"]["exit_code"] == result.returncode == 3


@pytest.mark.parametrize("engine", ["local", "ray", "spark"])
def test_an_archive_that_does_not_verify_fails_on_the_driver(
    engine: str, examples: dict[str, Example], bundle: Run, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]
    data = bytearray(example.archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered = tmp_path / "tampered.tar.gz"
    tampered.write_bytes(bytes(data))
    out = tmp_path / "out.jsonl"
    result = bundle("batch", str(tampered), str(example.input), str(out), "-e", engine)
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and "tampered.tar.gz" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    # nothing started: neither Ray's nor Spark's messages, nothing unpacked
    assert "ray" not in result.stderr.lower() and "spark" not in result.stderr.lower()


def test_parquet_in_and_out_keeps_a_column(
    examples: dict[str, Example], bundle: Run, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    example = examples["tabular-sklearn"]
    lines = [ln for ln in example.input.read_text().splitlines() if ln.startswith('{"flowers"')]
    requests = [json.loads(ln) for ln in lines]
    table = pa.table(
        {"id": [f"r{n}" for n in range(len(requests))], "flowers": [r["flowers"] for r in requests]}
    )
    pq.write_table(table, tmp_path / "in.parquet")
    as_jsonl = tmp_path / "in.jsonl"
    as_jsonl.write_text("".join(json.dumps(r) + "\n" for r in requests))

    result = bundle(
        "batch", str(example.archive), "in.parquet", "out.parquet", "--keep", "id", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    predicted = bundle("predict", str(example.archive), "--jsonl", "-i", "in.jsonl", cwd=tmp_path)
    answers = pq.read_table(tmp_path / "out.parquet")
    assert answers.column_names == ["id", "output", "failed"]
    assert answers.column("id").to_pylist() == table.column("id").to_pylist()
    assert answers.column("output").to_pylist() == predicted.stdout.splitlines()
    assert not any(answers.column("failed").to_pylist())


BATCHING = {
    "config.yaml": "model_name: batching\n",
    "model/__init__.py": "",
    "model/model.py": (
        "class Model:\n"
        "    predict_batch_size = 4\n"
        "    def predict(self, xs):\n"
        "        if 13 in xs:\n"
        "            raise ValueError('unlucky batch')\n"
        "        return [{'double': 2 * x, 'batch': len(xs)} for x in xs]\n"
    ),
}


def batching_predicted(bundle: Run, folder: Path, rows: int) -> str:
    """The BATCHING bundle packaged as b.tar.gz in `folder`, its input in.jsonl of `rows` numbers,
    and what `bundle predict --jsonl --keep-going` answers."""
    build_tree(folder / "batching", BATCHING)
    packed = bundle("package", str(folder / "batching"), "-o", str(folder / "b.tar.gz"), "-q")
    assert packed.returncode == 0, packed.stderr
    (folder / "in.jsonl").write_text("".join(f"{n}\n" for n in range(rows)))
    args = ("predict", "b.tar.gz", "--jsonl", "--keep-going", "-i", "in.jsonl")
    predicted = bundle(*args, cwd=folder)
    assert predicted.returncode == 1  # the batch with 13 in it
    return predicted.stdout


def test_batches_and_failed_batches_are_those_of_predict(bundle: Run, tmp_path: Path) -> None:
    predicted = batching_predicted(bundle, tmp_path, 300)
    result = bundle("batch", "b.tar.gz", "in.jsonl", "out.jsonl", "-w", "2", cwd=tmp_path)
    assert (tmp_path / "out.jsonl").read_text() == predicted
    record = json.loads(predicted.splitlines()[13])["error"]
    assert record["line"] == 13 and record["message"].startswith("in.jsonl:13-16: ")
    assert result.returncode == 1


def test_isolated_runs_the_bundle_in_its_own_environment(bundle: Run, tmp_path: Path) -> None:
    predicted = batching_predicted(bundle, tmp_path, 100)
    result = bundle("batch", "b.tar.gz", "in.jsonl", "out.jsonl", "--isolated", cwd=tmp_path)
    assert (tmp_path / "out.jsonl").read_text() == predicted, result.stderr
    assert result.returncode == 1 and "4 rows failed (13)" in result.stderr
    listed = bundle("env", "list", "--json")
    assert listed.returncode == 0 and listed.stdout.strip() not in ("", "[]"), listed.stdout


def test_fail_fast_stops_at_the_first_failed_row_and_writes_nothing(
    examples: dict[str, Example], bundle: Run, tmp_path: Path
) -> None:
    example = examples["tabular-sklearn"]
    valid = [ln for ln in example.input.read_text().splitlines() if ln.startswith('{"flowers"')]
    lines = valid * 2
    lines[100] = json.dumps({"flowers": [{"sepal_length": 1}]})
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    result = bundle(
        "batch", str(example.archive), "in.jsonl", str(out), "--fail-fast", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    assert "in.jsonl:101: " in result.stderr and "missing sepal_width" in result.stderr
    assert 'File "' in result.stderr  # the model's own traceback
    assert out.read_text() == "old\n"
