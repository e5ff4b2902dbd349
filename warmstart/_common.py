"""Shared helpers of the knowledge base: score normalization and config encoding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution
from scipy.special import ndtri
from scipy.stats import rankdata

from .spaces import SearchSpace, to_unit_array


def copula(values: np.ndarray) -> np.ndarray:
    """Gaussian copula of ``values`` (higher is better): normal quantiles of mid-ranks.

    ``z_i = Phi^-1((rank_i - 0.5) / n)``. Ties share their average rank. This is how
    learn2tune puts scores of different tasks (and of a study's observed trials) on one
    scale: only the order of the values matters.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    r = rankdata(v, method="average")
    return ndtri((r - 0.5) / v.size)


def encode_configs(space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Configs as rows of numbers: numeric parameters on the unit interval (log scale
    where the distribution is log), categorical parameters one-hot."""
    cols: list[np.ndarray] = []
    for p in space.params:
        dist = space.distributions[p]
        if isinstance(dist, CategoricalDistribution):
            idx = np.array([dist.choices.index(c[p]) for c in configs], dtype=np.int64)
            cols.append(np.eye(len(dist.choices))[idx])
        else:
            cols.append(to_unit_array(dist, np.array([c[p] for c in configs], dtype=np.float64))[:, None])
    if not cols:
        return np.zeros((len(configs), 0))
    return np.hstack(cols).astype(np.float64)


def encoded_width(space: SearchSpace) -> int:
    """Number of columns of :func:`encode_configs` for ``space``."""
    return sum(
        len(d.choices) if isinstance(d, CategoricalDistribution) else 1
        for d in space.distributions.values()
    )


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def order_keeping_affine(f: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of predictions ``f`` (models x n), the least-squares map ``a * f + b`` onto
    observed targets ``y`` (n,), with the slope floored at 1/1000 of the scale ratio: a
    model whose order disagrees with the observations keeps its order (it is never
    inverted) with almost no weight, rather than being flattened to a constant. A constant
    row gets ``a = 0``."""
    f = np.atleast_2d(np.asarray(f, dtype=np.float64))
    y = np.asarray(y, dtype=np.float64)
    fc = f - f.mean(axis=1, keepdims=True)
    var = (fc**2).mean(axis=1)
    ok = var > 1e-12
    safe = np.where(ok, var, 1.0)
    slope = (fc * (y - y.mean())).mean(axis=1) / safe
    floor = 1e-3 * np.sqrt(y.var() / safe)
    a = np.where(ok, np.maximum(slope, floor), 0.0)
    return a, y.mean() - a * f.mean(axis=1)
