"""Dataset meta-features: describe a dataset as a fixed-length vector of numbers.

>>> from sklearn.datasets import load_iris
>>> import metafeatures
>>> X, y = load_iris(return_X_y=True)
>>> m = metafeatures.extract(X, y)
>>> m["NumberOfInstances"]
np.float64(150.0)
"""

from ._extract import GROUPS, REVISION, UNDEFINED, extract, list_features, signature, task_of
from ._prepare import infer_task

__all__ = ["extract", "list_features", "infer_task", "task_of", "signature", "REVISION", "GROUPS",
           "UNDEFINED"]
