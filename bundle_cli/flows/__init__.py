"""Flows: a bundle as a chain of model stages, each with optional pre/post functions.

- `stages`: the stage types (`ModelType`) and the options each loader takes;
- `loaders`, `python_stage`: reading and calling each framework's model file;
- `functions`, `calling`: finding a stage's pre/post functions and calling them by arity;
- `load`, `pipeline`: assembling a loaded flow and running it;
- `store`: the per-bundle store shared by stages, calls and Model hooks;
- `build`, `pickles`: `build_flow`, which writes a bundle from Python functions.
"""
