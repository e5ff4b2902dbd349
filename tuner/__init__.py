"""tuner: what users touch (the Optuna sampler, the scikit-learn search, the CLI, benchmarks).

``MetaSampler`` and ``MetaSearchCV`` are imported on first use, so that the command line
(``learn2tune --help``) does not pay for scikit-learn and Optuna when it does not need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .describe import describe_study
    from .sampler import MetaSampler
    from .search import MetaSearchCV

__all__ = ["MetaSampler", "MetaSearchCV", "describe_study"]


def __getattr__(name: str) -> Any:
    if name == "MetaSampler":
        from .sampler import MetaSampler

        return MetaSampler
    if name == "MetaSearchCV":
        from .search import MetaSearchCV

        return MetaSearchCV
    if name == "describe_study":
        from .describe import describe_study

        return describe_study
    raise AttributeError(f"module 'tuner' has no attribute {name!r}")
