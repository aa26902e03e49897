"""`bundle serve` under load, against Truss's own server for the same echo bundle, same run.

1. Throughput and latency: an echo model; the server pinned to CPU 0 (`taskset`), the load
   generator (wrk, 1 thread, 16 connections) pinned to CPU 1; bundle's access log on. Truss's
   server runs from `truss image build-context` (its main.py, without Docker) in a virtualenv of
   its own (`pip install truss` plus the server requirements it lists), made once and kept
   under ~/.cache/bundle-bench. Rounds alternate between the two servers; medians are shown.
2. Ready time: from starting `bundle serve` on a scaffolded bundle (`bundle init`) to the first
   200 of its ready route.
3. A 30 MB JSON body of floats: the time of one request to a model that returns the length of
   its input, against `json.loads` of the same bytes in this process.

Only 127.0.0.1 is ever a target. Run: .venv/bin/python benchmarks/bench_serve.py
(needs the serve extra and `wrk`: `make bench` installs wrk with apt-get when it is missing).
"""

from __future__ import annotations

import json
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import BIN, ENV, machine

ROUNDS = int(os.environ.get("BENCH_SERVE_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SERVE_SECONDS", "5"))
CONNECTIONS = 16
SERVER_CPU, LOAD_CPU = "0", "1"
TRUSS_VERSION = os.environ.get("BENCH_TRUSS_VERSION", "")  # empty: the newest pip finds
CACHE = Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "bundle-bench"))
BODY = '{"x": [1.5, 2.5, 3.5], "id": "abc"}'

ECHO = {
    "config.yaml": "model_name: echo\n",
    "model/__init__.py": "",
    "model/model.py": "class Model:\n    def predict(self, model_input):\n        return model_input\n",
}
CEILING = "ceiling: bare Starlette + uvicorn, no model, no log"
# The ceiling: Starlette and uvicorn (httptools, uvloop) alone, decoding and encoding the JSON.
BARE_APP = """
import json

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


async def predict(request):
    return Response(json.dumps(json.loads(await request.body())), media_type="application/json")


async def ready(request):
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[
    Route("/v1/models/model:predict", predict, methods=["POST"]),
    Route("/v1/models/model", ready),
])
"""
LENGTH = {
    "config.yaml": "model_name: length\n",
    "model/__init__.py": "",
    "model/model.py": (
        "class Model:\n    def predict(self, model_input):\n        return len(model_input['x'])\n"
    ),
}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 2) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode}")
        if get(url, timeout=1) == 200:
            return time.perf_counter() - start
        time.sleep(0.005)
    raise RuntimeError(f"{url} not ready in {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the servers ------------------------------------------------------------------------------


def start_bundle(bundle: Path, home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = ENV | {"HOME": str(home), "BUNDLE_CACHE_DIR": str(home / "cache")}
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, str(BIN / "bundle"), "serve", str(bundle), "--port", "0"],
        stdout=subprocess.PIPE, stderr=log.open("ab"), env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    url = proc.stdout.readline().decode().strip() if ready else ""
    if not url.startswith("http://127.0.0.1:"):
        stop(proc)
        raise RuntimeError(f"bundle serve printed no URL; see {log}")
    wait_ready(url + "/v1/models/model", proc)
    return proc, url


def start_bare(app: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, str(BIN / "uvicorn"), "bare:app", "--port", str(port),
         "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"],
        cwd=app, stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=ENV,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/v1/models/model", proc)
    return proc, url


def truss_venv() -> Path:
    """A virtualenv with truss and its server's requirements (made once, then reused)."""
    venv = CACHE / f"truss-venv{TRUSS_VERSION and '-' + TRUSS_VERSION}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        spec = f"truss=={TRUSS_VERSION}" if TRUSS_VERSION else "truss"
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        print(f"installing {spec} into {venv} (once) ...", file=sys.stderr)
        subprocess.run([*pip, spec], check=True)
        (venv / ".complete").write_text("")
    return venv


def truss_app(venv: Path, bundle: Path, where: Path) -> Path:
    """Truss's server app for the bundle, laid out as its Dockerfile lays /app out (server/ as
    the app, model/ and config.yaml in it), with the server's requirements in the venv.

    Truss's server listens on 0.0.0.0, hard-coded; the copy here is made to listen on
    127.0.0.1 instead, so that nothing of this benchmark is reachable from outside."""
    context = where / "truss-context"
    subprocess.run(
        [str(venv / "bin" / "truss"), "image", "build-context", str(context), str(bundle)],
        check=True, stdout=subprocess.DEVNULL, env=ENV | {"TRUSS_NON_INTERACTIVE": "1"},
    )  # fmt: skip
    app = where / "truss-app"
    shutil.copytree(context / "server", app)
    shutil.copytree(context / "model", app / "model")
    shutil.copy(context / "config.yaml", app / "config.yaml")
    server = app / "truss_server.py"
    source = server.read_text(encoding="utf-8")
    if 'host="0.0.0.0"' not in source:
        raise RuntimeError("Truss's server no longer binds 0.0.0.0 where expected; check it")
    server.write_text(source.replace('host="0.0.0.0"', 'host="127.0.0.1"'), encoding="utf-8")
    marker = venv / ".server-requirements"
    if not marker.exists():
        # the index line (-i ...) is dropped: pip uses the index this machine is set up with
        lines = (context / "requirements.txt").read_text(encoding="utf-8").splitlines()
        requirements = where / "truss-requirements.txt"
        requirements.write_text("\n".join(ln for ln in lines if not ln.startswith("-i")))
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
             "--disable-pip-version-check", "-r", str(requirements),
             "-c", str(context / "constraints.txt")],
            check=True,
        )  # fmt: skip
        marker.write_text("")
    return app


def start_truss(venv: Path, app: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    home = app.parent / "home-truss"
    home.mkdir(exist_ok=True)
    env = ENV | {"INFERENCE_SERVER_PORT": str(port), "HOME": str(home)}
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, str(venv / "bin" / "python"), "main.py"],
        cwd=app, stdout=subprocess.DEVNULL, stderr=log.open("ab"), env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/v1/models/model", proc)
    return proc, url


# -- measurements -----------------------------------------------------------------------------


def wrk(url: str, script: Path) -> tuple[float, float, float]:
    """(requests a second, p50 ms, p99 ms) of one wrk run against url."""
    out = subprocess.run(
        ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s",
         "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        raise RuntimeError(f"{url}: answers other than 200:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _ms(out, "50%"), _ms(out, "99%")


def _ms(out: str, pct: str) -> float:
    value, unit = re.search(rf"{pct}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def throughput(work: Path, log: Path) -> list[str]:
    echo = write(work / "echo", ECHO)
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{BODY}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n',
        encoding="utf-8",
    )
    venv = truss_venv()
    app = truss_app(venv, echo, work)
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import truss, importlib.metadata as m; print(m.version('truss'))"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    bare = work / "bare"
    bare.mkdir()
    (bare / "bare.py").write_text(BARE_APP, encoding="utf-8")
    home = work / "home"
    home.mkdir(exist_ok=True)
    starts = {
        "bundle serve": lambda: start_bundle(echo, home, log),
        "Truss": lambda: start_truss(venv, app, log),
        CEILING: lambda: start_bare(bare, log),
    }
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in starts}
    for _ in range(ROUNDS):
        for name, start in starts.items():
            proc, url = start()
            try:
                wrk(url + "/v1/models/model:predict", script)  # warm-up, not counted
                samples[name].append(wrk(url + "/v1/models/model:predict", script))
            finally:
                stop(proc)
    rows = {}
    for name, runs in samples.items():
        rows[name] = tuple(statistics.median(r[i] for r in runs) for i in range(3))
    ratio = rows["bundle serve"][0] / rows["Truss"][0]
    lines = [
        "### Throughput and latency (echo model, 16 connections)",
        "",
        f"Server on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}, {ROUNDS} rounds of {SECONDS} s each "
        f"(after a warm-up run), alternating; medians. Truss {version}, its server run from "
        "`truss image build-context` without Docker. bundle's access log on.",
        "",
        "| server | requests/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, (rate, p50, p99) in rows.items():
        lines.append(f"| {name} | {rate:,.0f} | {p50:.2f} | {p99:.2f} |")
    ceiling = rows["bundle serve"][0] / rows[CEILING][0]
    lines += [
        "",
        f"bundle serve / Truss: **{ratio:.2f}x** the requests per second; bundle serve does "
        f"{ceiling:.0%} of what the bare framework does on this machine in the same run.",
        "",
    ]
    return lines


def ready_time(work: Path, log: Path) -> list[str]:
    home = work / "home-ready"
    home.mkdir(exist_ok=True)
    env = ENV | {"HOME": str(home), "BUNDLE_CACHE_DIR": str(home / "cache")}
    subprocess.run([str(BIN / "bundle"), "init", "scaffold", str(work / "scaffold")], check=True,
                   env=env, capture_output=True)  # fmt: skip
    times = []
    for _ in range(7):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(BIN / "bundle"), "serve", str(work / "scaffold"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=log.open("ab"), env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        wait_ready(url + "/v1/models/model", proc)
        times.append(time.perf_counter() - start)
        stop(proc)
    return [
        "### Ready time (scaffolded numpy bundle)",
        "",
        "From starting `bundle serve` to the first 200 of `GET /v1/models/model`, median of 7 "
        f"(the first run validates; later ones reuse the validation cache): **{statistics.median(times[1:]):.2f} s** "
        f"(first run {times[0]:.2f} s).",
        "",
    ]


def big_body(work: Path, log: Path) -> list[str]:
    rng = random.Random(7)
    values = [rng.uniform(-1e6, 1e6) for _ in range(1_500_000)]
    body = json.dumps({"x": values}).encode()
    home = work / "home-body"
    home.mkdir(exist_ok=True)
    proc, url = start_bundle(write(work / "length", LENGTH), home, log)
    try:
        took = []
        for _ in range(5):
            request = urllib.request.Request(
                url + "/v1/models/model:predict",
                data=body,
                headers={"Content-Type": "application/json"},
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as r:
                assert json.loads(r.read()) == len(values)
            took.append(time.perf_counter() - start)
    finally:
        stop(proc)
    base = []
    for _ in range(5):
        start = time.perf_counter()
        json.loads(body)
        base.append(time.perf_counter() - start)
    return [
        f"### A {len(body) / 1e6:.0f} MB JSON body of floats",
        "",
        "| | seconds (median of 5) |",
        "|---|---:|",
        f"| one request to `bundle serve` (upload, decode, predict, answer) | {statistics.median(took):.3f} |",
        f"| baseline: `json.loads` of the same bytes in one process | {statistics.median(base):.3f} |",
        "",
    ]


def main() -> int:
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("bench_serve needs wrk and taskset (make bench installs wrk)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        log = work / "servers.log"
        try:
            lines = ["## bundle serve", "", f"Machine: {machine()}.", ""]
            lines += throughput(work, log)
            lines += ready_time(work, log)
            lines += big_body(work, log)
        except Exception:
            sys.stderr.write(log.read_text(errors="replace")[-5000:] if log.exists() else "")
            raise
    lines += ["Reproduce: `.venv/bin/python benchmarks/bench_serve.py`", ""]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
