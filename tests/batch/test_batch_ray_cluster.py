"""A Ray cluster of two nodes on 127.0.0.1, started as a user starts one (`ray start --head`, then
`ray start --address`), and `bundle batch --engine ray --address` joining it from outside."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batch.conftest import Example, Run

pytestmark = [pytest.mark.batch, pytest.mark.slow]
RAY = str(Path(sys.executable).parent / "ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_nodes(cache_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`HOST:PORT` of a running cluster (a head node and a worker node of one CPU each, both on
    127.0.0.1) and the variables that reach it (its token). Each `ray start --block` runs in
    the foreground until terminated, and then stops its own node's processes."""
    port = free_port()
    # Ray replaces 127.0.0.1 in an address by the machine's outward address; 127.0.0.2 is the
    # same loopback interface under a name Ray leaves alone.
    address = f"127.0.0.2:{port}"
    token = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = os.environ | token
    temp = tempfile.mkdtemp(prefix="rc-", dir="/tmp")  # Ray's socket paths must stay short
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--block"]
    head = [RAY, "start", "--head", f"--port={port}", f"--temp-dir={temp}"]
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    nodes = [subprocess.Popen([*head, "--include-dashboard=false", *common], **quiet)]
    try:
        _wait_for_nodes(address, 1, env)
        nodes.append(subprocess.Popen([RAY, "start", f"--address={address}", *common], **quiet))
        _wait_for_nodes(address, 2, env)
        yield address, token
    finally:
        for node in reversed(nodes):
            node.terminate()
        for node in nodes:
            try:
                node.wait(60)
            except subprocess.TimeoutExpired:
                node.kill()


def _wait_for_nodes(address: str, count: int, env: dict[str, str]) -> None:
    script = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(len([n for n in ray.nodes() if n['Alive']]))"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        seen = subprocess.run(
            [sys.executable, "-c", script, address],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        if seen.returncode == 0 and seen.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(0.5)
    raise AssertionError(f"the Ray cluster at {address} did not reach {count} nodes")


def test_bundle_batch_joins_a_two_node_cluster(
    two_nodes: tuple[str, dict[str, str]], examples: dict[str, Example], bundle: Run
) -> None:
    address, token = two_nodes
    example = examples["tabular-sklearn"]
    out = example.input.with_suffix(".cluster.jsonl")
    result = bundle(
        "batch", str(example.archive), example.input.name, str(out),
        "-e", "ray", "--address", address, "-w", "2", "--json",
        cwd=example.input.parent, **token,
    )  # fmt: skip
    assert out.read_bytes() == example.expected, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 149 and summary["engine"] == "ray", result.stderr
    # two actors on two nodes of one CPU each: the pool took every CPU, and bundle said so
    assert "44687" in result.stderr
