"""The inputs of :func:`metafeatures.extract` checked and turned into one form: a
DataFrame of features and a target Series, with errors that name the argument."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

#: a sparse X is described as the dense table it stands for, up to this many cells (80 MB)
MAX_SPARSE_CELLS = 10_000_000


def _as_frame(X: object) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        raise ValueError(
            "X is a pandas Series (one column); pass a 2-D table, e.g. X.to_frame()."
        )
    try:
        import scipy.sparse as sp

        if sp.issparse(X):
            # its zeros are values: described as the dense table it stands for, if that fits
            cells = int(X.shape[0]) * int(X.shape[1])
            if cells > MAX_SPARSE_CELLS:
                raise TypeError(
                    f"X is a scipy sparse matrix of {X.shape[0]:,} x {X.shape[1]:,}: too large to "
                    f"describe as a dense table (over {MAX_SPARSE_CELLS:,} cells); pass a sample "
                    "of its rows or a reduction of its columns (e.g. TruncatedSVD) instead."
                )
            return pd.DataFrame(X.toarray())
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"X must be 2-D (rows x columns), got an array with shape {arr.shape}; "
            "reshape it, e.g. X.reshape(-1, 1) for a single feature."
        )
    # A frame over the array: no copy for homogeneous numeric arrays.
    return pd.DataFrame(arr, copy=False)


def _validate_y(y: object, n: int) -> pd.Series:
    if y is None:
        raise ValueError("y is None; pass the target: one value per row of X (meta-features describe "
                         "a supervised task).")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y must be one column, got a DataFrame with {y.shape[1]} columns; "
                "pass the target column only."
            )
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        ys = y.reset_index(drop=True)
    else:
        arr = np.asarray(y)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"y must be 1-D, got shape {arr.shape}; multi-output targets are not supported."
            )
        ys = pd.Series(arr)
    if len(ys) != n:
        raise ValueError(
            f"X and y have different lengths: X has {n} rows, y has {len(ys)} values; "
            "pass one target value per row of X."
        )
    if ptypes.is_numeric_dtype(ys.dtype) and not ptypes.is_bool_dtype(ys.dtype):
        vals = ys.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(vals).any():
            raise ValueError(
                "y contains infinite values; replace or drop those rows before extracting."
            )
    missing = ys.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(
            f"y contains {int(missing.sum())} missing values (first rows: {rows}); "
            "drop those rows of X and y first."
        )
    return ys
