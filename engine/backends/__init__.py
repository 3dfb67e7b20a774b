"""Backends: one Protocol per role (one verb each), one module per implementation.

A role's package (`engine/backends/<role>/__init__.py`) holds its Protocol and the frozen request
and result types; `engine/backends/<role>/<impl>.py` holds an implementation, chosen by the Hydra
config group of the same name (`conf/<role>/<impl>.yaml`, `_target_: engine.backends.<role>...`).
Heavy imports (torch, diffusers, transformers, moviepy) stay inside the implementation modules.
"""
