"""Shapes found in real Truss bundles (Truss 0.18's test data and its public examples), each as a
minimal bundle of our own: every key family, values as Truss reads them, requirement lines as pip
reads them, bundles without model code, placeholder secrets."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bundle_cli import validate
from bundle_cli.config import load_config, read_config
from bundle_cli.config.truss_keys import KEYS, TRUSS_VERSION

Run = Callable[..., subprocess.CompletedProcess[str]]
MODEL = "class Model:\n    def predict(self, model_input):\n        return model_input\n"

EVERY_FAMILY = """\
model_name: every key family
apply_library_patches: true
use_local_src: false
live_reload: false
base_image: {image: "python:3.11-slim", python_executable_path: /usr/bin/python3}
build: {model_server: TrussServer, arguments: {anything: 1}, secret_to_path_mapping: {tok: /x}}
build_commands: ["echo hi"]
cache_internal:
  - {repo_id: org/model, revision: main, use_volume: false}
model_cache:
  - {repo_id: org/model, revision: abc, use_volume: true, volume_folder: m, allow_patterns: ["*.json"]}
weights:
  - source: hf://org/model@abc
    mount_location: /weights
    auth: {auth_method: CUSTOM_SECRET, auth_secret_name: hf_access_token}
external_data:
  - {url: "https://example.com/w.bin", local_data_path: w.bin}
training_checkpoints:
  download_folder: /tmp/ckpt
  artifact_references: [{training_job_id: j1, paths: ["a/*"]}]
bis_llm: {version: "1", config: {free: map}, additional_autoscaling_config: {metrics: [{name: m, target: 1.0}]}}
resources: {cpu: "1", memory: 2Gi, accelerator: H100:2, instance_type: H100:2x, fabric: {use_rdma: true}}
runtime:
  predict_concurrency: 4
  transport: {kind: websocket, ping_interval_seconds: 10}
  is_websocket_endpoint: true
  health_checks: {restart_check_delay_seconds: 5, restart_threshold_seconds: 60}
  truss_server_version_override: "0.9.0"
  remote_ssh: {enabled: false}
trt_llm:
  inference_stack: v2
  build:
    checkpoint_repository: {source: HF, repo: org/model, revision: main}
    quantization_type: fp8
    lora_adapters: {legal: {source: HF, repo: org/legal}}
    speculator: {speculative_decoding_mode: LOOKAHEAD_DECODING, build: {max_seq_len: 4096}}
  runtime: {max_seq_len: 8192, patch_kwargs: {anything: [1, 2]}}
  version_overrides: {engine_builder_version: "0.20.0"}
"""


def test_the_key_list_names_its_truss_version_and_covers_the_issue_keys() -> None:
    assert TRUSS_VERSION.startswith("0.18.")
    runtime = KEYS["runtime"]
    for key in (
        "transport",
        "is_websocket_endpoint",
        "health_checks",
        "truss_server_version_override",
    ):
        assert key in runtime
    for key in (
        "training_checkpoints",
        "bis_llm",
        "use_local_src",
        "cache_internal",
        "docker_server",
    ):
        assert key in KEYS


def test_every_truss_key_family_is_accepted_with_one_warning(tree: Callable[..., Path]) -> None:
    result = load_config(tree({"config.yaml": EVERY_FAMILY}))
    assert result.ok, [d.format() for d in result.diagnostics]
    (warning,) = result.diagnostics
    assert warning.code == "truss-only-key"
    for key in (
        "trt_llm",
        "bis_llm",
        "training_checkpoints",
        "runtime.transport",
        "resources.fabric",
    ):
        assert key in warning.message
    assert result.config.runtime.predict_concurrency == 4
    assert result.config.resources.accelerator == "H100:2"


@pytest.mark.parametrize(
    ("text", "key_path", "suggestion"),
    [
        ("trt_llm:\n  build:\n    max_seq_lenn: 1\n", "trt_llm.build.max_seq_lenn", "max_seq_len"),
        ("docker_server:\n  start_comand: x\n", "docker_server.start_comand", "start_command"),
        ("model_cache:\n  - {repo_id: a, revison: b}\n", "model_cache.0.revison", "revision"),
        (
            "runtime:\n  health_checks: {restart_delay: 1}\n",
            "runtime.health_checks.restart_delay",
            None,
        ),
    ],
)
def test_an_unknown_key_deep_in_a_truss_section_is_an_error(
    tree: Callable[..., Path], text: str, key_path: str, suggestion: str | None
) -> None:
    result = load_config(tree({"config.yaml": "model_name: m\n" + text}))
    (error,) = [d for d in result.diagnostics if d.severity == "error"]
    assert (error.code, error.key_path) == ("unknown-key", key_path)
    assert error.line == text.count("\n") + 1
    if suggestion:
        assert f'did you mean "{suggestion}"?' in error.message


def test_scalar_environment_values_are_taken_as_truss_takes_them(
    tree: Callable[..., Path],
) -> None:
    text = (
        "model_name: m\nenvironment_variables: {A: true, B: false, C: 8, D: 0.5, E: null, F: x}\n"
    )
    config = read_config(tree({"config.yaml": text}))
    assert config.environment_variables == {
        "A": "true", "B": "false", "C": "8", "D": "0.5", "E": "None", "F": "x"
    }  # fmt: skip


@pytest.mark.parametrize("given", ["py39", "py310", "py313", "py314", "3.9", "3.12", "'3.10'"])
def test_every_python_version_form_truss_accepts(tree: Callable[..., Path], given: str) -> None:
    config = read_config(
        tree({"config.yaml": f"model_name: m\npython_version: {given}\nspec_version: 2.0\n"})
    )
    assert config.python_version == "py3" + given.strip("'").removeprefix("py3").removeprefix("3.")
    assert config.spec_version == "2.0"


def test_an_unquoted_3_10_is_explained(tree: Callable[..., Path]) -> None:
    result = load_config(tree({"config.yaml": "model_name: m\npython_version: 3.10\n"}))
    (error,) = result.diagnostics
    assert 'quote it: python_version: "3.10"' in error.message


REQUIREMENT_KINDS = [
    "numpy==1.26.4",
    "transformers[torch]>=4.33 ; python_version >= '3.9'",
    "diffusers @ git+https://github.com/huggingface/diffusers.git@v0.21.4",
    "git+https://github.com/openai/whisper.git@ba3f3cd",
    "https://example.com/flash_attn-2.5.8-cp311-cp311-linux_x86_64.whl",
    "--extra-index-url https://download.pytorch.org/whl/cpu",
    "--find-links ./wheels",
    "--pre",
    "-e git+https://github.com/org/pkg.git@v1#egg=pkg",
]


def test_each_requirement_line_kind_pip_reads_is_accepted(tree: Callable[..., Path]) -> None:
    items = "".join(f'  - "{r}"\n' for r in REQUIREMENT_KINDS) + '  - ""\n'
    result = load_config(tree({"config.yaml": f"model_name: m\nrequirements:\n{items}"}))
    assert result.ok, [d.format() for d in result.diagnostics]
    (blank,) = result.diagnostics
    assert (blank.code, blank.key_path, blank.line) == ("requirement-blank", "requirements.9", 12)
    assert result.config.requirements == REQUIREMENT_KINDS


def test_a_line_pip_refuses_stays_an_error_with_the_fix(tree: Callable[..., Path]) -> None:
    result = load_config(tree({"config.yaml": "model_name: m\nrequirements: [diffusers=0.21.4]\n"}))
    (error,) = result.diagnostics
    assert error.code == "requirement-invalid"
    assert "did you mean `diffusers==0.21.4`?" in error.message


@pytest.mark.parametrize("lock", [False, True])
def test_requirements_file_may_be_a_pyproject_or_uv_lock(
    tree: Callable[..., Path], lock: bool
) -> None:
    pyproject = '[project]\nname = "m"\ndependencies = [\n  "pyyaml>=6",\n  "scipy>>=1",\n]\n'
    files = {
        "config.yaml": f"model_name: m\nrequirements_file: {'uv.lock' if lock else 'pyproject.toml'}\n"
    }
    files |= {"model/model.py": MODEL, "pyproject.toml": pyproject}
    if lock:
        files["uv.lock"] = "version = 1\n"
    report = validate(tree(files))
    (error,) = report.errors
    assert (error.code, error.line, Path(str(error.file)).name) == (
        "requirements-invalid", 5, "pyproject.toml"
    )  # fmt: skip


def test_unpinned_requirements_are_named_under_strict_only(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    text = "model_name: m\nrequirements:\n  - pyyaml\n  - git+https://github.com/yaml/pyyaml.git\n  - pyyaml>=6\n"
    bundle = tree({"config.yaml": text, "model/model.py": MODEL})
    plain = run_bundle("validate", str(bundle))
    assert plain.returncode == 0, plain.stderr
    assert "requirement-unpinned" not in plain.stderr
    strict = run_bundle("validate", "--strict", str(bundle))
    assert strict.returncode == 2
    assert "config.yaml:3:1: warning: pyyaml is a name without a version" in strict.stderr
    assert "config.yaml:5:1" not in strict.stderr  # a range is the author's choice
    assert (
        "config.yaml:4:1: warning: git+https://github.com/yaml/pyyaml.git is a VCS URL without a revision"
        in strict.stderr
    )


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (
            "docker_server:\n  start_command: vllm serve\n  server_port: 8000\n",
            "a custom server image (docker_server)",
        ),
        ("trt_llm:\n  build:\n    base_model: decoder\n", "a TensorRT-LLM engine build (trt_llm)"),
        ("bis_llm:\n  version: '1'\n", "a BIS-LLM engine build (bis_llm)"),
    ],
)
def test_a_bundle_without_model_code_validates_packages_and_refuses_to_run(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path, key: str, kind: str
) -> None:
    bundle = tree({"config.yaml": "model_name: served elsewhere\n" + key})
    checked = run_bundle("validate", str(bundle))
    assert checked.returncode == 0, checked.stderr
    assert f"this bundle is {kind}" in checked.stderr
    packed = run_bundle("package", str(bundle), "-o", f"{tmp_path / 'dist'}/")
    assert packed.returncode == 0, packed.stderr
    (archive,) = (tmp_path / "dist").glob("*.tar.gz")
    assert run_bundle("verify", str(archive)).returncode == 0
    assert run_bundle("inspect", str(archive)).returncode == 0
    for command in (["predict", "-d", "{}"], ["test"]):
        refused = run_bundle(*command, str(bundle))
        assert refused.returncode == 2, refused.stderr
        assert f"this bundle is {kind}" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_placeholder_secret_values_warn_everywhere_and_block_packaging(
    tree: Callable[..., Path], run_bundle: Run, tmp_path: Path
) -> None:
    text = 'model_name: m\nsecrets:\n  hf_access_token: "ENTER HF ACCESS TOKEN HERE"\n'
    reads = "class Model:\n    def __init__(self, secrets):\n        self.s = secrets\n    def predict(self, x):\n        return {'token': self.s['hf_access_token']}\n"
    bundle = tree({"config.yaml": text, "model/model.py": reads})
    warning = "the value given for secret hf_access_token is ignored"
    checked = run_bundle("validate", str(bundle))
    assert checked.returncode == 0 and warning in checked.stderr, checked.stderr
    ran = run_bundle("predict", str(bundle), "-d", "{}", "--secret", "hf_access_token=real-value")
    assert ran.returncode == 0, ran.stderr
    assert warning in ran.stderr and "ENTER HF" not in ran.stdout
    packed = run_bundle("package", str(bundle), "-o", f"{tmp_path / 'dist'}/")
    assert packed.returncode == 2
    assert "hf_access_token" in packed.stderr and "would be archived" in packed.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())


def test_declared_requirements_are_checked_against_this_environment(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    text = (
        "model_name: m\npython_version: py39\nrequirements:\n"
        "  - pyyaml>=6\n  - numpy<1\n  - no-such-distribution-here==1.0\n"
        '  - pywin32==306 ; sys_platform == "win32"\n'
    )
    bundle = tree({"config.yaml": text, "model/model.py": MODEL})
    found = {d.code: d for d in validate(bundle).warnings}
    assert set(found) == {
        "python-version-mismatch",
        "requirement-version",
        "requirement-not-installed",
    }
    assert (
        found["requirement-version"].line == 5
        and "numpy<1 is required but numpy" in found["requirement-version"].message
    )
    assert found["requirement-not-installed"].line == 6
    ran = run_bundle("predict", str(bundle), "-d", '{"a": 1}')
    assert ran.returncode == 0, ran.stderr
    assert "no-such-distribution-here==1.0 is not installed here" in ran.stderr
    assert "python_version is 3.9" in ran.stderr


@pytest.mark.parametrize(
    "model",
    [
        "import no_such_module_here\n" + MODEL,
        "class Model:\n    def load(self):\n        import no_such_module_here\n"
        "    def predict(self, x):\n        return x\n",
    ],
    ids=["at-import", "in-load"],
)
def test_a_module_missing_while_loading_is_the_environment_exit_5(
    tree: Callable[..., Path], run_bundle: Run, model: str
) -> None:
    bundle = tree({"config.yaml": "model_name: m\n", "model/model.py": model})
    ran = run_bundle("predict", str(bundle), "-d", "{}")
    assert ran.returncode == 5, ran.stderr
    assert "imports no_such_module_here, which is not installed" in ran.stderr
    assert "config.yaml's requirements" in ran.stderr and "model.py" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_bundle_requirements_prints_a_requirements_file(
    tree: Callable[..., Path], run_bundle: Run
) -> None:
    files = {
        "config.yaml": "model_name: m\nrequirements_file: requirements.txt\n",
        "requirements.txt": "--extra-index-url https://download.pytorch.org/whl/cpu\n-r base.txt\n# c\ntorch==2.1.0\n",
        "base.txt": "numpy==1.26.4\n",
        "model/model.py": MODEL,
    }
    printed = run_bundle("requirements", str(tree(files)))
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (
        "--extra-index-url https://download.pytorch.org/whl/cpu\nnumpy==1.26.4\ntorch==2.1.0\n"
    )
