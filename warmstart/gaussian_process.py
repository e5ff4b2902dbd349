"""A small Gaussian process: zero mean, Matern 5/2 kernel on the rows' Euclidean
distances, length scale and noise chosen by marginal likelihood over a small grid.

One implementation for every place that models a single study: the residual GP of
``MetaSampler``'s surrogate phase (:mod:`tuner.gp`) and the per-study models of knowledge
learned from studies (:mod:`warmstart.study_models`). Inputs are rows of numbers on the
unit scale (numeric parameters in [0, 1], categoricals one-hot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: length scales tried (times sqrt(width / 2), so that they mean the same in any width)
LENGTH_SCALES = (0.15, 0.3, 0.6, 1.2)
#: noise variances tried, as a share of the signal variance
NOISES = (1e-3, 0.05, 0.3)
#: the hyperparameters are chosen on at most this many rows (an evenly spread subset)
MAX_SELECTION_ROWS = 64


def pairwise_distances(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``b`` and ``a`` (one matrix product)."""
    sq = (b**2).sum(1)[:, None] + (a**2).sum(1)[None, :] - 2.0 * (b @ a.T)
    return np.sqrt(np.maximum(sq, 0.0))


def matern52(t: np.ndarray) -> np.ndarray:
    """The Matern 5/2 correlation at scaled distances ``t``."""
    s5 = np.sqrt(5.0) * t
    return (1.0 + s5 + 5.0 / 3.0 * t**2) * np.exp(-s5)


@dataclass
class GPFit:
    """A fitted GP: ``predict`` gives the posterior mean and standard deviation."""

    rows: np.ndarray
    length: float
    signal: float
    chol: np.ndarray | None  # None: numerically hopeless, the prior alone
    weights: np.ndarray  # L^-1 y
    _alpha: np.ndarray | None = field(default=None, repr=False)

    def mean(self, b: np.ndarray) -> np.ndarray:
        """The posterior mean alone (one kernel product: no solve per row of ``b``)."""
        from scipy.linalg import solve_triangular

        if self.chol is None:
            return np.zeros(len(b))
        if self._alpha is None:  # K^-1 y, once
            self._alpha = solve_triangular(self.chol.T, self.weights, lower=False, check_finite=False)
        return self.signal * matern52(pairwise_distances(b, self.rows) / self.length) @ self._alpha

    def predict(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation at the rows ``b``."""
        from scipy.linalg import solve_triangular

        if self.chol is None:
            return np.zeros(len(b)), np.full(len(b), np.sqrt(self.signal))
        k_ba = self.signal * matern52(pairwise_distances(b, self.rows) / self.length)
        v = solve_triangular(self.chol, k_ba.T, lower=True, check_finite=False)  # (n, len(b))
        mean = v.T @ self.weights  # = k_ba K^-1 y
        var = np.maximum(self.signal - (v**2).sum(axis=0), 1e-12)
        return mean, np.sqrt(var)


def fit_gp(a: np.ndarray, y: np.ndarray, min_signal: float = 0.05) -> GPFit:
    """A zero-mean GP fitted to ``y`` at the rows ``a``. The signal variance is ``y``'s mean
    square (at least ``min_signal``); length scale and noise maximize the marginal
    likelihood on at most ``MAX_SELECTION_ROWS`` rows, the posterior uses all of them."""
    from scipy.linalg import solve_triangular

    n, d = a.shape
    s2 = max(float(np.mean(y**2)), min_signal)
    sub = np.linspace(0, n - 1, min(n, MAX_SELECTION_ROWS)).round().astype(int)
    d_sub = pairwise_distances(a[sub], a[sub])
    best = None
    for ls in LENGTH_SCALES:
        ls_d = ls * np.sqrt(max(d, 1) / 2.0)
        k_sub = s2 * matern52(d_sub / ls_d)
        for noise in NOISES:
            try:
                chol = np.linalg.cholesky(k_sub + (noise * s2 + 1e-9) * np.eye(len(sub)))
            except np.linalg.LinAlgError:
                continue
            w = solve_triangular(chol, y[sub], lower=True, check_finite=False)
            lml = -0.5 * float(w @ w) - float(np.log(np.diag(chol)).sum())
            if best is None or lml > best[0]:
                best = (lml, ls_d, noise)
    if best is not None:
        _, ls_d, noise = best
        try:
            k_aa = s2 * matern52(pairwise_distances(a, a) / ls_d)
            chol = np.linalg.cholesky(k_aa + (noise * s2 + 1e-9) * np.eye(n))
            w = solve_triangular(chol, y, lower=True, check_finite=False)
            return GPFit(a, ls_d, s2, chol, w)
        except np.linalg.LinAlgError:
            pass
    return GPFit(a, 1.0, s2, None, np.zeros(0))
