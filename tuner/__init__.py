"""tuner: what users touch (the Optuna sampler, the scikit-learn search, the CLI, benchmarks)."""

from .sampler import MetaSampler
from .search import MetaSearchCV

__all__ = ["MetaSampler", "MetaSearchCV"]
