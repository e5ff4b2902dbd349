"""The meta-feature scaler: each meta-feature mapped to [0, 1] by its empirical
distribution over the training tasks (a min-max scaling of ranks, robust to heavy tails)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class QuantileScaler:
    """Maps each meta-feature to [0, 1] by its empirical CDF over the training tasks."""

    def __init__(self, names: list[str], grid: np.ndarray) -> None:
        self.names = names
        self.grid = grid  # (n_quantiles, n_features), column-wise sorted

    @classmethod
    def fit(cls, frame: pd.DataFrame, n_quantiles: int = 101) -> QuantileScaler:
        """The quantile grid of each column of ``frame`` (tasks x meta-features)."""
        qs = np.linspace(0, 1, n_quantiles)
        grid = np.quantile(frame.to_numpy(np.float64), qs, axis=0)
        return cls(list(frame.columns), grid)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Scaled values of ``frame``'s columns :attr:`names`."""
        return self.transform_array(frame[self.names].to_numpy(np.float64))

    def transform_array(self, x: np.ndarray) -> np.ndarray:
        """``x`` is ``(n, n_features)`` in :attr:`names` order. A value on a plateau of
        repeated grid values maps to the plateau's mid-point; NaN stays NaN."""
        qs = np.linspace(0, 1, self.grid.shape[0])
        lo = _interp_columns(x, self.grid, qs)
        hi = 1.0 - _interp_columns(-x, -self.grid[::-1], qs)
        return 0.5 * (lo + hi)

    def inverse_transform(self, u: np.ndarray) -> np.ndarray:
        """Meta-feature values at scaled positions ``u`` (``(n, n_features)`` in [0, 1]):
        the grid value at the nearest quantile."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        n_q = self.grid.shape[0]
        idx = np.clip((u * (n_q - 1)).round().astype(int), 0, n_q - 1)
        return self.grid[idx, np.arange(self.grid.shape[1])[None, :]]


def _interp_columns(x: np.ndarray, grid: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.interp(x[:, j], grid[:, j], qs, left=0, right=1)`` for every column ``j`` at
    once (``grid`` column-wise ascending, ties allowed)."""
    n_q = grid.shape[0]
    j = (grid[None, :, :] <= x[:, None, :]).sum(axis=1) - 1  # last grid index <= x
    inner = (j >= 0) & (j < n_q - 1)
    jc = np.clip(j, 0, n_q - 2)
    cols = np.arange(grid.shape[1])[None, :]
    g0, g1 = grid[jc, cols], grid[jc + 1, cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(inner, (x - g0) / np.where(g1 > g0, g1 - g0, 1.0), 0.0)
    out = np.where(j < 0, 0.0, np.where(j >= n_q - 1, 1.0, qs[jc] + frac * (qs[jc + 1] - qs[jc])))
    return np.where(np.isnan(x), np.nan, out)
