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
from warmstart.gaussian_process import fit_gp

#: half-width (unit cube) of the box around the best trial so far in which the warm start's
#: last trial looks for the configuration with the highest expected improvement
REFINE_HALF_WIDTH = 0.1


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
    """Posterior mean and standard deviation at ``x_cand`` of a zero-mean GP (Matern 5/2,
    :func:`warmstart.gaussian_process.fit_gp`) fitted to residuals ``r`` at ``x_obs`` (unit
    cube). Its signal variance is the residuals' mean square: a good prior leaves small
    residuals, hence a confident GP."""
    fit = fit_gp(_gp_features(x_obs, search_space, names), r)
    return fit.predict(_gp_features(x_cand, search_space, names))


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


def local_units(rng: np.random.RandomState, n: int, search_space: dict[str, BaseDistribution],
                names: list[str], center: dict, half_width: float) -> np.ndarray:
    """``n`` candidates uniform in the box of ``half_width`` (unit cube, clipped) around the
    configuration ``center`` of the study's own distributions; a categorical keeps the
    center's choice (redrawn with probability 0.2)."""
    c = np.array([spaces_mod.to_unit(search_space[nm], center[nm]) for nm in names])
    units = np.clip(c + rng.uniform(-half_width, half_width, size=(n, len(names))), 0.0, 1.0)
    for j, nm in enumerate(names):
        if isinstance(search_space[nm], CategoricalDistribution):
            units[:, j] = np.where(rng.rand(n) < 0.2, rng.rand(n), c[j])
    return units
