"""tuner: what users touch (the Optuna sampler, the CLI, benchmarks)."""

from .sampler import MetaSampler

__all__ = ["MetaSampler"]
