"""warmstart: meta-datasets of prior tuning runs and what is learned from them."""

__version__ = "0.1.0.dev0"

from . import spaces  # noqa: E402
from .knowledge import KnowledgeBase, KnowledgeBaseError, Surrogate  # noqa: E402
from .store import MetaDataset, MetaDatasetError  # noqa: E402

__all__ = [
    "KnowledgeBase",
    "KnowledgeBaseError",
    "MetaDataset",
    "MetaDatasetError",
    "Surrogate",
    "spaces",
    "__version__",
]
