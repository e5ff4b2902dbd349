"""warmstart: meta-datasets of prior tuning runs and what is learned from them.

The public names are imported on first use, so that ``import warmstart`` (and the command
line's ``--help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

if TYPE_CHECKING:  # pragma: no cover
    from . import spaces
    from .knowledge import KnowledgeBase, KnowledgeBaseError, Surrogate
    from .store import MetaDataset, MetaDatasetError

_LAZY = {
    "KnowledgeBase": ".knowledge",
    "KnowledgeBaseError": ".kb_io",
    "Surrogate": ".surrogate",
    "MetaDataset": ".store",
    "MetaDatasetError": ".store",
}

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "MetaDataset", "MetaDatasetError", "Surrogate",
           "spaces", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "spaces":
        return import_module(".spaces", __name__)
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'warmstart' has no attribute {name!r}")
