"""Scores on one scale: metric directions, the Gaussian copula, rank agreement and
normalized regret. Everything in learn2tune that compares scores of different tasks, or
decides whether a metric is better high or low, uses these."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

#: Metrics that are better when lower (every other metric is better when higher).
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def metric_sign(metric: str) -> float:
    """``-1.0`` for a metric that is better when lower, else ``1.0``: ``sign * value`` is
    then always higher-is-better."""
    return -1.0 if metric in LOWER_IS_BETTER else 1.0


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


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (NaN when either side is constant)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def pairwise_spearman(scores: np.ndarray, min_shared: int = 2) -> np.ndarray:
    """Spearman correlation of every pair of rows of ``scores`` (NaN = not evaluated) on the
    columns both evaluated: :func:`spearman` of each pair, NaN where they share fewer than
    ``min_shared`` columns or either side is constant there. Rows with the same evaluated
    columns are ranked together, so a matrix of a few hundred tasks takes a second, not a
    minute."""
    s = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(s)
    n = len(s)
    rho = np.full((n, n), np.nan)
    patterns: dict[bytes, list[int]] = {}
    for i, row in enumerate(finite):
        patterns.setdefault(np.packbits(row).tobytes(), []).append(i)
    groups = [np.array(g) for g in patterns.values()]
    masks = np.array([finite[g[0]] for g in groups]).reshape(len(groups), s.shape[1])
    shared_n = masks.astype(np.float64) @ masks.T.astype(np.float64)  # exact counts, on BLAS
    for a, ga in enumerate(groups):
        for b in range(a, len(groups)):
            if shared_n[a, b] < max(min_shared, 2):
                continue
            shared = masks[a] & masks[b]
            za = _unit_ranks(s[np.ix_(ga, shared)])
            gb = groups[b]
            zb = za if b == a else _unit_ranks(s[np.ix_(gb, shared)])
            block = za @ zb.T
            rho[np.ix_(ga, gb)] = block
            rho[np.ix_(gb, ga)] = block.T
    return rho


def _unit_ranks(values: np.ndarray) -> np.ndarray:
    """Each row's average ranks, centred and scaled to unit length (NaN for a constant row):
    the dot product of two such rows is their Spearman correlation."""
    r = rankdata(values, axis=1)
    r -= r.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(r, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, r / np.where(norm > 0, norm, 1.0), np.nan)


def normalized_regret(best: float, y_max: float, y_ref: float) -> float:
    """``(y_max - best) / (y_max - y_ref)`` clipped at 0 (higher-is-better scores; ``y_ref``
    is a typical random configuration's score). With no finite ``best`` yet (every trial so
    far failed) the regret is 1, a typical random configuration's; with ``y_max <= y_ref``
    nothing can be gained and the regret is 0."""
    d = y_max - y_ref
    if not d > 0:
        return 0.0
    if not np.isfinite(best):
        return 1.0
    return float(max(0.0, (y_max - best) / d))


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


def task_score_matrix(evaluations: pd.DataFrame, task_ids: list[str], metric: str,
                      min_evals: int) -> tuple[np.ndarray, list[str], list[dict]]:
    """Tasks x configurations matrix of per-task copula scores (NaN: not evaluated), over
    the union of the tasks' configurations (sorted by their JSON). A task needs
    ``min_evals`` successful, not all equal evaluations; its failed or timed-out
    configurations rank at its bottom. Returns (matrix, kept task ids, configurations)."""
    grid_keys = _config_grid(evaluations)
    order = {t: i for i, t in enumerate(task_ids)}
    rows = []
    for tid, cols, vals, ok in _task_values(evaluations, order, metric, grid_keys):
        if ok.sum() < min_evals or np.ptp(vals[ok]) == 0:
            continue
        vals = np.where(ok, vals, np.nanmin(vals[ok]) - 1.0)
        row = np.full(len(grid_keys), np.nan)
        row[cols] = copula(vals)
        rows.append((order[tid], row, tid))
    rows.sort(key=lambda r: r[0])  # the order of task_ids
    matrix = np.vstack([r[1] for r in rows]) if rows else np.zeros((0, len(grid_keys)))
    return matrix, [r[2] for r in rows], [json.loads(k) for k in grid_keys]


#: normalized gains are floored here (failed configurations too): a few disasters must not
#: dominate what the first-pick members learn
GAIN_FLOOR = -3.0


def task_gain_matrix(evaluations: pd.DataFrame, task_ids: list[str], metric: str) -> np.ndarray:
    """Tasks (``task_ids``, e.g. those :func:`task_score_matrix` kept) x configurations
    (its columns) matrix of normalized gains: ``1 - (max - v) / (max - median)`` of each
    task's evaluations, 1 at its best, 0 at its median. This is one minus the normalized
    regret learn2tune reports (:func:`normalized_regret`, with the median as the typical
    configuration), so a mean over tasks on this scale weighs how far a configuration
    falls short, where copula scores (ranks) only say how many do better. Floored at
    :data:`GAIN_FLOOR`; failed configurations sit at the floor; NaN: not evaluated. A task
    whose median is its best divides by its range instead."""
    grid_keys = _config_grid(evaluations)
    pos = {t: i for i, t in enumerate(task_ids)}
    gains = np.full((len(task_ids), len(grid_keys)), np.nan)
    for tid, cols, vals, ok in _task_values(evaluations, pos, metric, grid_keys):
        if not ok.any():
            continue
        top, mid = vals[ok].max(), np.median(vals[ok])
        scale = top - mid if top > mid else np.ptp(vals[ok])
        g = 1.0 - (top - vals) / scale if scale > 0 else np.zeros(len(vals))
        g = np.where(ok, np.maximum(g, GAIN_FLOOR), GAIN_FLOOR)
        gains[pos[tid], cols] = g
    return gains


def _task_values(evaluations: pd.DataFrame, wanted: Mapping[str, int], metric: str,
                 grid_keys: list[str]) -> Iterator[tuple[str, list[int], np.ndarray, np.ndarray]]:
    """Per task of ``wanted``: (task id, its evaluations' columns in ``grid_keys``, their
    higher-is-better values, which of them succeeded with a finite value)."""
    sign = metric_sign(metric)
    col = {k: i for i, k in enumerate(grid_keys)}
    for tid, sub in evaluations.groupby("task_id", sort=False):
        if tid in wanted:
            vals = sign * sub[metric].to_numpy(np.float64)
            ok = (sub["status"] == "ok").to_numpy() & np.isfinite(vals)
            yield tid, [col[k] for k in sub["config"].astype(str)], vals, ok


def _config_grid(evaluations: pd.DataFrame) -> list[str]:
    """The configuration grid of a knowledge base: the evaluations' distinct configurations
    (JSON), sorted."""
    return sorted(evaluations["config"].astype(str).unique())
