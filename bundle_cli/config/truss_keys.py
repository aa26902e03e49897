"""Every key Truss's config defines, at every depth: data only, taken from one Truss release.

Following a new Truss release is a change to this file alone: update TRUSS_VERSION and the trees
below from `truss/base/truss_config.py` (class TrussConfig and the classes its fields use) and
`truss/base/trt_llm_config.py` of that release. A tree maps a key to its shape:
ANY (a value of any type), MAP (a mapping whose keys are the user's own names), a nested tree
(a mapping with those keys), `[tree]` (a list of such mappings) or `{EACH: tree}` (a mapping of
the user's names to such mappings). Keys bundle itself reads are in config/schema.py; every other
key here is accepted with the one "no local meaning" warning, and a key found in neither is an
unknown-key error.
"""

from __future__ import annotations

from typing import Any

TRUSS_VERSION = "0.18.25"

ANY = "any"
MAP = "map"
EACH = "*"

# Shapes Truss uses in more than one place.
_CHECKPOINT_REPOSITORY: dict[str, Any] = dict.fromkeys(
    ("repo", "revision", "runtime_secret_name", "source"), ANY
)
_MODEL_REPO: dict[str, Any] = dict.fromkeys(
    ("allow_patterns", "ignore_patterns", "kind", "repo_id", "revision", "runtime_secret_name",
     "use_volume", "volume_folder"),
    ANY,
)  # fmt: skip

_TRT_BUILD: dict[str, Any] = {
    "base_model": ANY,
    "checkpoint_repository": _CHECKPOINT_REPOSITORY,
    "gather_all_token_logits": ANY,
    "lora_adapters": {
        EACH: {
            "repo": ANY,
            "revision": ANY,
            "runtime_secret_name": ANY,
            "source": ANY,
        }
    },
    "lora_configuration": {
        "lora_target_modules": ANY,
        "max_lora_rank": ANY,
    },
    "max_batch_size": ANY,
    "max_beam_width": ANY,
    "max_num_tokens": ANY,
    "max_prompt_embedding_table_size": ANY,
    "max_seq_len": ANY,
    "moe_expert_parallel_option": ANY,
    "num_builder_gpus": ANY,
    "pipeline_parallel_count": ANY,
    "plugin_configuration": {
        "paged_kv_cache": ANY,
        "use_fp8_context_fmha": ANY,
        "use_paged_context_fmha": ANY,
    },
    "quantization_config": {
        "calib_dataset": ANY,
        "calib_max_seq_length": ANY,
        "calib_size": ANY,
    },
    "quantization_type": ANY,
    "sequence_parallel_count": ANY,
    "skip_build_result": ANY,
    "strongly_typed": ANY,
    "tensor_parallel_count": ANY,
}
_TRT_BUILD["speculator"] = {
    "build": _TRT_BUILD,
    "checkpoint_repository": _CHECKPOINT_REPOSITORY,
    "enable_b10_lookahead": ANY,
    "lookahead_ngram_size": ANY,
    "lookahead_verification_set_size": ANY,
    "lookahead_windows_size": ANY,
    "num_draft_tokens": ANY,
    "runtime": {
        "batch_scheduler_policy": ANY,
        "enable_chunked_context": ANY,
        "kv_cache_free_gpu_mem_fraction": ANY,
        "kv_cache_host_memory_bytes": ANY,
        "request_default_max_tokens": ANY,
        "served_model_name": ANY,
        "total_token_limit": ANY,
        "webserver_default_route": ANY,
    },
    "speculative_decoding_mode": ANY,
}

_TRT_LLM: dict[str, Any] = {
    "build": _TRT_BUILD,
    "inference_stack": ANY,
    "runtime": {
        "batch_scheduler_policy": ANY,
        "enable_chunked_context": ANY,
        "enable_chunked_prefill": ANY,
        "kv_cache_free_gpu_mem_fraction": ANY,
        "kv_cache_host_memory_bytes": ANY,
        "max_batch_size": ANY,
        "max_num_tokens": ANY,
        "max_seq_len": ANY,
        "patch_kwargs": MAP,
        "request_default_max_tokens": ANY,
        "served_model_name": ANY,
        "tensor_parallel_size": ANY,
        "total_token_limit": ANY,
        "webserver_default_route": ANY,
    },
    "version_overrides": {
        "bei_bert_version": ANY,
        "bei_version": ANY,
        "briton_version": ANY,
        "engine_builder_version": ANY,
        "v2_llm_version": ANY,
    },
}

KEYS: dict[str, Any] = {
    "apply_library_patches": ANY,
    "base_image": {
        "docker_auth": {
            "auth_method": ANY,
            "aws_access_key_id_secret_name": ANY,
            "aws_oidc_region": ANY,
            "aws_oidc_role_arn": ANY,
            "aws_secret_access_key_secret_name": ANY,
            "gcp_oidc_service_account": ANY,
            "gcp_oidc_workload_id_provider": ANY,
            "registry": ANY,
            "secret_name": ANY,
        },
        "image": ANY,
        "python_executable_path": ANY,
    },
    "bis_llm": {
        "additional_autoscaling_config": {
            "metrics": [
                {
                    "name": ANY,
                    "target": ANY,
                }
            ],
        },
        "config": ANY,
        "version": ANY,
    },
    "build": {
        "arguments": MAP,
        "model_server": ANY,
        "no_cache": ANY,
        "secret_to_path_mapping": MAP,
    },
    "build_commands": ANY,
    "bundled_packages_dir": ANY,
    "cache_internal": [_MODEL_REPO],
    "data_dir": ANY,
    "description": ANY,
    "docker_server": {
        "liveness_endpoint": ANY,
        "no_build": ANY,
        "predict_endpoint": ANY,
        "readiness_endpoint": ANY,
        "run_as_user_id": ANY,
        "server_port": ANY,
        "start_command": ANY,
    },
    "environment_variables": MAP,
    "examples_filename": ANY,
    "external_data": [
        {
            "backend": ANY,
            "local_data_path": ANY,
            "name": ANY,
            "url": ANY,
        }
    ],
    "external_package_dirs": ANY,
    "input_type": ANY,
    "live_reload": ANY,
    "model_cache": [_MODEL_REPO],
    "model_class_filename": ANY,
    "model_class_name": ANY,
    "model_framework": ANY,
    "model_metadata": MAP,
    "model_module_dir": ANY,
    "model_name": ANY,
    "model_type": ANY,
    "python_version": ANY,
    "requirements": ANY,
    "requirements_file": ANY,
    "resources": {
        "accelerator": {
            "accelerator": ANY,
            "count": ANY,
        },
        "cpu": ANY,
        "fabric": {
            "preferences": ANY,
            "use_rdma": ANY,
        },
        "instance_type": ANY,
        "memory": ANY,
        "node_count": ANY,
    },
    "runtime": {
        "egress_restrictions": {
            "fqdn_allow_list": ANY,
            "ip_allow_list": ANY,
        },
        "enable_debug_logs": ANY,
        "enable_tracing_data": ANY,
        "health_checks": {
            "restart_check_delay_seconds": ANY,
            "restart_threshold_seconds": ANY,
            "startup_threshold_seconds": ANY,
            "stop_traffic_threshold_seconds": ANY,
        },
        "is_websocket_endpoint": ANY,
        "oidc": {
            "enabled": ANY,
        },
        "predict_concurrency": ANY,
        "remote_ssh": {
            "enabled": ANY,
        },
        "streaming_read_timeout": ANY,
        "transport": {
            "kind": ANY,
            "ping_interval_seconds": ANY,
            "ping_timeout_seconds": ANY,
        },
        "truss_server_version_override": ANY,
    },
    "secrets": MAP,
    "spec_version": ANY,
    "system_packages": ANY,
    "training_checkpoints": {
        "artifact_references": [
            {
                "paths": ANY,
                "training_job_id": ANY,
            }
        ],
        "download_folder": ANY,
        "loops_checkpoint_ids": ANY,
    },
    "trt_llm": _TRT_LLM,
    "use_local_src": ANY,
    "weights": [
        {
            "allow_patterns": ANY,
            "auth": {
                "auth_method": ANY,
                "auth_secret_name": ANY,
                "aws_oidc_region": ANY,
                "aws_oidc_role_arn": ANY,
                "gcp_oidc_service_account": ANY,
                "gcp_oidc_workload_id_provider": ANY,
            },
            "auth_secret_name": ANY,
            "ignore_patterns": ANY,
            "mount_location": ANY,
            "source": ANY,
        }
    ],
}

# Keys of earlier Truss releases that 0.18 no longer defines but that configs in use still carry
# (Truss itself still reads `hf_cache` as `model_cache`). Accepted with the same warning.
RETIRED: dict[str, Any] = {
    "hf_cache": KEYS["model_cache"],
    "chains_metadata": ANY,
    "train": ANY,
    "use_local_chains_src": ANY,
    "runtime": {"num_workers": ANY},
}

# Top-level keys with which Truss serves the model without a model/model.py of the user's:
# key -> what the bundle is, as messages name it.
NO_MODEL_CODE = {
    "docker_server": "a custom server image",
    "trt_llm": "a TensorRT-LLM engine build",
    "bis_llm": "a BIS-LLM engine build",
}
