"""The per-study model of the surrogate phase (candidates, a residual GP, expected
improvement): a Gaussian process on the residuals of the
meta-learned surrogate at the study's own trials, and expected improvement.

The meta-learned surrogate is the GP's prior mean; the GP learns what is particular to
this task, and its posterior (mean and spread) drives expected improvement. Inputs are the
unit cube of the study's own distributions (a categorical one-hot, scaled so that two
choices are as far apart as the ends of a numeric range).
"""

from __future__ import annotations

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution

from warmstart import spaces as spaces_mod


def _gp_features(units: np.ndarray, search_space: dict[str, BaseDistribution], names: list[str]) -> np.ndarray:
    """Unit coordinates for the kernel; a categorical becomes one-hot (scaled so two
    different choices are as far apart as the ends of a numeric range)."""
    cols = []
    for j, n in enumerate(names):
        d = search_space[n]
        if isinstance(d, CategoricalDistribution):
            k = len(d.choices)
            idx = np.clip(np.floor(units[:, j] * k), 0, k - 1).astype(int)
            cols.append(np.eye(k)[idx] / np.sqrt(2.0))
        else:
            cols.append(units[:, j:j + 1])
    return np.hstack(cols)


def residual_gp(x_obs: np.ndarray, r: np.ndarray, x_cand: np.ndarray,
                 search_space: dict[str, BaseDistribution], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation at ``x_cand`` of a zero-mean GP (Matern 5/2)
    fitted to residuals ``r`` at ``x_obs`` (unit cube). Length scale and noise are chosen
    by marginal likelihood over a small grid; the signal variance is the residuals'
    mean square (a good prior leaves small residuals, hence a confident GP)."""
    from scipy.linalg import solve_triangular

    a = _gp_features(x_obs, search_space, names)
    b = _gp_features(x_cand, search_space, names)
    n, d = a.shape
    s2 = max(float(np.mean(r**2)), 0.05)
    # hyperparameters by marginal likelihood on at most 64 observations (a fixed,
    # evenly spread subset: cheap at hundreds of trials), the posterior on all of them
    sub = np.linspace(0, n - 1, min(n, 64)).round().astype(int)
    d_sub = pairwise_distances(a[sub], a[sub])
    best = None
    for ls in (0.15, 0.3, 0.6, 1.2):
        ls_d = ls * np.sqrt(d / 2.0)
        k_sub = s2 * _matern52(d_sub / ls_d)
        for noise in (1e-3, 0.05, 0.3):
            try:
                chol = np.linalg.cholesky(k_sub + (noise * s2 + 1e-9) * np.eye(len(sub)))
            except np.linalg.LinAlgError:
                continue
            w = solve_triangular(chol, r[sub], lower=True, check_finite=False)
            lml = -0.5 * float(w @ w) - float(np.log(np.diag(chol)).sum())
            if best is None or lml > best[0]:
                best = (lml, ls_d, noise)
    chol = None
    if best is not None:
        _, ls_d, noise = best
        try:
            k_aa = s2 * _matern52(pairwise_distances(a, a) / ls_d)
            chol = np.linalg.cholesky(k_aa + (noise * s2 + 1e-9) * np.eye(n))
        except np.linalg.LinAlgError:
            chol = None
    if chol is None:  # numerically hopeless: the prior alone, with the residual spread
        return np.zeros(len(b)), np.full(len(b), np.sqrt(s2))
    w = solve_triangular(chol, r, lower=True, check_finite=False)
    k_ba = s2 * _matern52(pairwise_distances(b, a) / ls_d)
    v = solve_triangular(chol, k_ba.T, lower=True, check_finite=False)  # (n, candidates)
    mean = v.T @ w  # = k_ba K^-1 r
    var = np.maximum(s2 - (v**2).sum(axis=0), 1e-12)
    return mean, np.sqrt(var)


def pairwise_distances(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``b`` and ``a`` (one matrix product)."""
    sq = (b**2).sum(1)[:, None] + (a**2).sum(1)[None, :] - 2.0 * (b @ a.T)
    return np.sqrt(np.maximum(sq, 0.0))


def _matern52(t: np.ndarray) -> np.ndarray:
    s5 = np.sqrt(5.0) * t
    return (1.0 + s5 + 5.0 / 3.0 * t**2) * np.exp(-s5)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    from scipy.stats import norm

    std = np.maximum(std, 1e-9)
    z = (mean - best) / std
    return (mean - best) * norm.cdf(z) + std * norm.pdf(z)


def candidate_units(rng: np.random.RandomState, n: int, search_space: dict[str, BaseDistribution],
                    names: list[str], configs: list[dict], scores: np.ndarray) -> np.ndarray:
    """Candidates in the unit cube of the study's own distributions: uniform points and
    Gaussian perturbations of the best trials (categoricals kept or redrawn)."""
    d = len(names)
    n_local = n // 3
    units = rng.rand(n, d)
    top = np.argsort(-scores)[: min(5, len(scores))]
    base = np.array([[spaces_mod.to_unit(search_space[nm], configs[int(t)][nm]) for nm in names]
                     for t in top])
    local = base[np.arange(n_local) % len(top)]
    for j, nm in enumerate(names):
        if isinstance(search_space[nm], CategoricalDistribution):
            redraw = rng.rand(n_local) < 0.2
            local[redraw, j] = units[:n_local][redraw, j]
        else:
            local[:, j] = np.clip(local[:, j] + rng.normal(scale=0.08, size=n_local), 0.0, 1.0)
    units[:n_local] = local
    return units
