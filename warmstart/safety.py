"""The warm start's safety net: far from every known family, start from the most robust
configurations instead of the portfolio of the nearest known tasks.

A dataset unlike anything known should not get configurations that only suit the cluster of
known tasks that happens to be nearest to it. How far is "far" is calibrated on **held-out
families** when a knowledge base is fitted: each known family (the collection a task comes
from: each R package, each KEEL suite, each new suite; see :func:`warmstart.sources.family`)
is held out in turn, and each of its tasks gets

* its **family novelty**: where its distance to the nearest task of *another* family falls
  among those distances of every known task (0: as close to another family as known tasks
  get, 1: farther than any). A user's dataset is compared with the same reference (its
  distance to the nearest known task), so that "0.9" means what it meant for a held-out
  family;
* the regret of its first :data:`PICKS` warm-start configurations under two policies: the
  similarity-weighted portfolio over the other families' tasks, and the **safety start**:
  the estimator's defaults (when they are among the configurations known), then the
  portfolio of every other family's task weighted alike (the configurations that are good
  everywhere).

The threshold is the family novelty above which the safety start did better over the held-out
families' tasks (at least :data:`MIN_TASKS` of them), or none when it never did: the safety
net then never triggers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from .portfolio import choose_bandwidth, greedy_portfolio, kernel_weights

#: candidate thresholds on the family novelty
THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)
#: the policies are compared on the mean best-so-far regret of this many first picks
PICKS = 3
#: a threshold must leave at least this many held-out tasks above it
MIN_TASKS = 5


def _regret(row: np.ndarray, picks: Sequence[int]) -> float:
    """Mean best-so-far normalized regret of ``picks`` on one task's scores."""
    top, ref = float(row.max()), float(np.median(row))
    scale = max(top - ref, 1e-12)
    return float(np.mean(np.maximum(top - np.maximum.accumulate(row[list(picks)]), 0.0) / scale))


def defaults_index(configs: Sequence[dict], defaults: dict) -> int | None:
    """Position of the estimator's defaults among the known configurations, if there."""
    key = json.dumps(defaults, sort_keys=True, default=str)
    for j, c in enumerate(configs):
        if json.dumps(c, sort_keys=True, default=str) == key:
            return j
    return None


def safety_start(filled: np.ndarray, n: int, default_j: int | None) -> list[int]:
    """The safety start: the defaults (if known), then the configurations that most reduce
    the regret of every task weighted alike."""
    w = np.full(len(filled), 1.0 / max(len(filled), 1))
    picks = greedy_portfolio(filled, w, n + 1)
    if default_j is None:
        return picks[:n]
    return ([default_j] + [j for j in picks if j != default_j])[:n]


def family_quantile(d_nearest: float, quantiles: Sequence[float]) -> float:
    """Where a distance to the nearest known task falls among the held-out families'
    nearest-other-family distances (0..1)."""
    q = np.asarray(quantiles, dtype=np.float64)
    if q.size < 2:
        return 0.0
    return float(min(np.searchsorted(q, d_nearest) / (q.size - 1), 1.0))


def calibrate(filled: np.ndarray, truth: np.ndarray, D: np.ndarray, groups: Sequence[str],
              bandwidth: np.ndarray, default_j: int | None) -> dict[str, Any]:
    """The safety net of a knowledge base (see the module docstring).

    ``filled``: tasks x configs scores with gaps filled; ``truth``: the scores each task is
    judged on; ``D``: task-to-task distances; ``groups``: each task's family;
    ``bandwidth``: the warm start's bandwidth table (:func:`warmstart.portfolio.bandwidth_table`);
    ``default_j``: the defaults' column, or None.

    Returns ``{"family_quantiles", "threshold", "tasks_above", "gain", "groups"}``: the
    reference distances, the chosen threshold (None: never), how many held-out tasks lay
    above it, the mean regret it saved on them and the families it held out."""
    g = np.asarray(list(groups), dtype=object)
    n = len(g)
    none: dict[str, Any] = {"family_quantiles": [], "threshold": None, "tasks_above": 0, "gain": 0.0,
                            "groups": g.tolist()}
    if n < 3 or len(set(g.tolist())) < 2:
        return none
    other = g[:, None] != g[None, :]
    nearest_other = np.where(other, D, np.inf).min(axis=1)
    quantiles = np.quantile(nearest_other, np.linspace(0, 1, 21))
    novelty = np.array([family_quantile(x, quantiles) for x in nearest_other])
    meta, safe = np.zeros(n), np.zeros(n)
    for i in range(n):
        others = np.flatnonzero(other[i])
        k = choose_bandwidth(D[i, others], bandwidth[others])
        picks = greedy_portfolio(filled[others], kernel_weights(D[i, others], k), PICKS)
        meta[i] = _regret(truth[i], picks)
        safe[i] = _regret(truth[i], safety_start(filled[others], PICKS, default_j))
    best_t, best_gain, best_above = None, 0.0, 0
    for t in THRESHOLDS:
        above = novelty >= t
        if above.sum() < MIN_TASKS:
            continue
        gain = float((meta[above] - safe[above]).sum() / n)  # mean regret saved over all tasks
        if gain > best_gain + 1e-12:
            best_t, best_gain, best_above = t, gain, int(above.sum())
    return {"family_quantiles": quantiles.tolist(), "threshold": best_t, "tasks_above": best_above,
            "gain": best_gain, "groups": g.tolist()}
