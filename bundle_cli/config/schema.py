"""The typed model of config.yaml. Validated once here; everything downstream trusts it.

Key names follow Truss where Truss has the concept, so an existing Truss directory validates.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bundle_cli import frameworks
from bundle_cli.config import values


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)


class Resources(StrictModel):
    """What the model needs to run; advisory locally, recorded in the archive."""

    cpu: str | None = Field(None, description='CPU cores: "1", "2.5" or millicores such as "500m".')
    memory: str | None = Field(None, description='Memory: "512Mi", "2Gi", "1G".')
    accelerator: str | None = Field(None, description='GPU type and count: "T4", "H100:2".')
    use_gpu: bool | None = Field(None, description="Truss legacy flag; implied by accelerator.")
    node_count: int | None = Field(None, ge=1, description="Truss multi-node count; advisory.")

    _cpu = field_validator("cpu", mode="before")(values.check_cpu)
    _memory = field_validator("memory", mode="before")(values.check_memory)
    _accelerator = field_validator("accelerator", mode="before")(values.check_accelerator)


class Runtime(StrictModel):
    """How the model is run."""

    predict_concurrency: int = Field(1, ge=1, description="Requests predict may serve at once.")
    streaming_read_timeout: int | None = Field(None, ge=1, description="Truss: seconds; advisory.")
    enable_tracing_data: bool | None = Field(None, description="Truss: advisory.")
    enable_debug_logs: bool | None = Field(None, description="Truss: advisory.")


TYPE_CHECKING = False
if TYPE_CHECKING:
    StageType = str
else:  # one per framework module (bundle_cli/frameworks)
    StageType = Literal[frameworks.types()]


class FlowStage(StrictModel):
    """One stage of a flow: pre(data[, files]) -> the stage's model -> post(result[, input[, files]])."""

    name: str = Field(description="Unique within the flow; used in messages.")
    model: str = Field(description="Path of the model file inside the bundle.")
    type: StageType = Field(description="How the model file is loaded and called.")
    options: dict[str, Any] = Field(default_factory=dict, description="Options for the loader.")
    pre: str | None = Field(
        None,
        description='"module:function" inside the bundle, or a .pkl file written by build_flow.',
    )
    post: str | None = Field(
        None,
        description='"module:function" inside the bundle, or a .pkl file written by build_flow.',
    )


class BundleConfig(StrictModel):
    """config.yaml of a bundle."""

    model_name: str | None = Field(
        None, description="Free text; file names use a slug of it. Defaults to the folder name."
    )
    description: str | None = Field(None, description="Free text shown by `bundle inspect`.")
    version: str = Field("0.1.0", description="The bundle's own version; part of the archive name.")
    spec_version: str | None = Field(
        None, description='Version of this config format; Truss writes "2.0".'
    )
    python_version: str = Field("py311", description='"3.11" or "py311".')
    requirements: list[str] = Field(
        default_factory=list,
        description="Requirement lines as pip reads them: PEP 508, URLs, options.",
    )
    requirements_file: str | None = Field(
        None, description="A requirements.txt, pyproject.toml or uv.lock in the bundle."
    )
    system_packages: list[str] = Field(
        default_factory=list, description="OS packages the model needs; recorded, not installed."
    )
    environment_variables: dict[str, str] = Field(
        default_factory=dict,
        description="Set while the model runs, unless the environment already sets them.",
    )
    secrets: dict[str, None] = Field(
        default_factory=dict,
        description="Secret names, each set to null; a value is ignored, and refused by `bundle package`.",
    )
    resources: Resources = Field(
        default_factory=Resources,  # type: ignore[arg-type]
        description="What the model needs to run; advisory locally, recorded in the archive.",
    )
    model_metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Free map for your own use; passed to the model in `config`.",
    )
    model_module_dir: str = Field("model", description="Folder holding the model code.")
    model_class_filename: str = Field(
        "model.py", description="File in model_module_dir defining the model class."
    )
    model_class_name: str = Field("Model", description="Name of the model class.")
    data_dir: str = Field("data", description="Folder passed to the model as `data_dir`.")
    bundled_packages_dir: str = Field(
        "packages", description="Folder put on sys.path: code shipped with the bundle."
    )
    external_package_dirs: list[str] = Field(
        default_factory=list,
        description="More folders for sys.path, relative to the bundle; ones outside it are not archived.",
    )
    examples_filename: str = Field(
        "examples.yaml", description="Named inputs with expected outputs, run by `bundle test`."
    )
    runtime: Runtime = Field(
        default_factory=Runtime,  # type: ignore[arg-type]
        description="How the model is run.",
    )
    flow: list[FlowStage] | None = Field(
        None, description="A chain of stages run instead of the single Model class."
    )
    trusted_pickle_globals: list[str] = Field(
        default_factory=list,
        description="Globals pickles may import beyond the allow-list, as module.name (or a pattern), after review.",
    )
    trusted_pickles: dict[str, str] = Field(
        default_factory=dict,
        description="Pickle files trusted whole, path -> sha256; untrusted again once the file changes.",
    )
    # Truss legacy or computed keys: accepted, without local meaning.
    model_type: str | None = Field(None, description="Truss legacy; accepted, unused.")
    model_framework: str | None = Field(None, description="Truss legacy; accepted, unused.")
    input_type: str | None = Field(None, description="Truss legacy; accepted, unused.")

    _python = field_validator("python_version", mode="before")(values.check_python_version)
    _spec = field_validator("spec_version", mode="before")(values.check_spec_version)
    _version = field_validator("version", mode="before")(values.check_bundle_version)
    _reqs = field_validator("requirements", mode="before")(values.check_requirements)
    _env = field_validator("environment_variables", mode="before")(values.check_env)
    _secrets = field_validator("secrets", mode="before")(values.check_secrets)

    @field_validator("flow")
    @classmethod
    def _unique_stage_names(cls, flow: list[FlowStage] | None) -> list[FlowStage] | None:
        names = [stage.name for stage in flow or []]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stage names must be unique; repeated: {', '.join(repeated)}")
        if flow is not None and not flow:
            raise ValueError("a flow needs at least one stage; remove `flow` for a single Model")
        return flow

    @model_validator(mode="after")
    def _one_requirements_source(self) -> BundleConfig:
        if self.requirements and self.requirements_file:
            raise ValueError(
                "both `requirements` and `requirements_file` are set; keep one of them"
            )
        return self

    @property
    def slug(self) -> str:
        """A file-name-safe form of model_name (`basic truss` -> `basic-truss`)."""
        return slugify(self.model_name or "model")


def slugify(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-._").lower()
    return slug or "model"


def section_fields(section: str | None) -> frozenset[str]:
    """The key names valid at the top level (None) or inside a nested section."""
    model: type[BaseModel] = BundleConfig
    if section is not None:
        annotation = BundleConfig.model_fields[section].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return frozenset()
        model = annotation
    return frozenset(model.model_fields)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of config.yaml (what `bundle schema` prints)."""
    schema = BundleConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "bundle config.yaml"
    return schema
