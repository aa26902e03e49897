"""Flows: a bundle as a chain of model stages, each with optional pre/post functions.

What only flows have; the runtime runs a flow as one kind of model (`runtime/flow.py`), and
the frameworks a stage can use are the registry in `bundle_cli/frameworks/`.

- `model`: `FlowModel`, the Model class the runtime instantiates for a flow bundle;
- `load`, `functions`: loading each stage's model and its pre/post functions (and their arity);
- `pipeline`: the stage chain, run per request;
- `stages`: `ModelType`, the registry's stage types as the enum `build_flow` takes;
- `build`, `build_config`, `pickling`: `build_flow`, which writes a bundle from Python functions.
"""
