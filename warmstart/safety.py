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
* the regret of its first :data:`PICKS` warm-start configurations under the
  similarity-weighted portfolio over the other families' tasks and under the two orders of
  the **safety start**: the portfolio of every other family's task weighted alike (the
  configurations that are good everywhere) with the estimator's defaults second, or the
  defaults first (when the defaults are among the configurations known).

The threshold is the family novelty above which a safety start did better over the held-out
families' tasks (at least :data:`MIN_TASKS` of them), and the order is the one that did
better there; none when no safety start ever did: the safety net then never triggers. Held
out by family on the bundled knowledge, the defaults as a first trial have about 1.5 times
the mean regret of the most robust known configuration, on far datasets too; knowledge
calibrated before the order was chosen (no ``"defaults_first"`` in its record) keeps the
defaults first, as it was calibrated.
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


def safety_start(filled: np.ndarray, n: int, default_j: int | None, defaults_first: bool = False) -> list[int]:
    """The safety start: the configurations that most reduce the regret of every task
    weighted alike, with the defaults (if known) second, or first if ``defaults_first``
    (or if they are the most robust)."""
    w = np.full(len(filled), 1.0 / max(len(filled), 1))
    picks = greedy_portfolio(filled, w, n + 1)
    if default_j is None or n < 1:
        return picks[:n]
    rest = [j for j in picks if j != default_j]
    if defaults_first or picks[0] == default_j:
        return ([default_j] + rest)[:n]
    return (rest[:1] + [default_j] + rest[1:])[:n]


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

    Returns ``{"family_quantiles", "threshold", "defaults_first", "tasks_above", "gain",
    "groups"}``: the reference distances, the chosen threshold (None: never), the order of
    the safety start, how many held-out tasks lay above the threshold, the mean regret it
    saved on them and the families it held out."""
    g = np.asarray(list(groups), dtype=object)
    n = len(g)
    none: dict[str, Any] = {"family_quantiles": [], "threshold": None, "defaults_first": False,
                            "tasks_above": 0, "gain": 0.0, "groups": g.tolist()}
    if n < 3 or len(set(g.tolist())) < 2:
        return none
    other = g[:, None] != g[None, :]
    nearest_other = np.where(other, D, np.inf).min(axis=1)
    quantiles = np.quantile(nearest_other, np.linspace(0, 1, 21))
    novelty = np.array([family_quantile(x, quantiles) for x in nearest_other])
    orders = (False, True) if default_j is not None else (False,)
    meta, safe = np.zeros(n), np.zeros((len(orders), n))
    for i in range(n):
        others = np.flatnonzero(other[i])
        k = choose_bandwidth(D[i, others], bandwidth[others])
        picks = greedy_portfolio(filled[others], kernel_weights(D[i, others], k), PICKS)
        meta[i] = _regret(truth[i], picks)
        for o, first in enumerate(orders):
            safe[o, i] = _regret(truth[i], safety_start(filled[others], PICKS, default_j, first))
    best = dict(none, family_quantiles=quantiles.tolist())
    for o, first in enumerate(orders):  # ties keep the robust configuration first
        for t in THRESHOLDS:
            above = novelty >= t
            if above.sum() < MIN_TASKS:
                continue
            gain = float((meta[above] - safe[o, above]).sum() / n)  # mean regret saved over all tasks
            if gain > best["gain"] + 1e-12:
                best.update(threshold=t, defaults_first=first, tasks_above=int(above.sum()), gain=gain)
    return best
