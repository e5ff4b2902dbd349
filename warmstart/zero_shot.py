"""The zero-shot warm start of a knowledge base: which configurations a new dataset tries
first (:meth:`KnowledgeBase.warm_start` is this module's :func:`warm_start`).

The first configuration is the one the first-pick members rank best for the dataset's
meta-features (:func:`first_pick`: cross-task XGBoost members trained on normalized gains,
the scale of the regret a first trial is judged by). A greedy portfolio continues from it,
each step adding the configuration that most reduces the regret over the known tasks
weighted by a kernel on the learned task distance (:mod:`warmstart.portfolio`). The
kernel's bandwidth is chosen per dataset by local cross-validation (:func:`choose_k`). Far
from every known family the safety net (:mod:`warmstart.safety`) continues instead with the
most robust configurations: the estimator's defaults, then what is good everywhere; the
first pick stays first (held out by family, the defaults as a first trial fell far short
on the large tables where the net fired). Knowledge learned from studies without meta-features has a warm start of its own
(:func:`warmstart.study_models.history_portfolio`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from .checks import check_count
from .portfolio import BANDWIDTH_CANDIDATES, choose_bandwidth, greedy_portfolio, kernel_weights
from .portfolio import bandwidth_table as loo_bandwidth_table
from .safety import defaults_index, family_quantile, safety_start
from .study_models import history_portfolio, uses_study_models

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase


def warm_start(kb: KnowledgeBase, metafeatures: pd.Series | Mapping[str, float] | None, n: int = 10,
               k: int | None = None, first: str = "surrogate") -> list[dict[str, Any]]:
    """:meth:`KnowledgeBase.warm_start` (see there and the module docstring)."""
    check_count("n", n, 0, what=" (configurations to return)")
    check_count("k", k, 0, optional=True, what=" (None: the bandwidth chosen by local cross-validation)")
    if n < 1:
        return []
    if first not in ("surrogate", "portfolio"):
        raise ValueError(f"first must be 'surrogate' or 'portfolio', got {first!r}")
    start: list[int] = []  # the surrogate's first pick
    if uses_study_models(kb):  # studies without meta-features: a dataset's say nothing here
        return history_portfolio(kb, n)
    if metafeatures is None:
        # no meta-features: a portfolio over every known task, weighted alike
        w = np.full(len(kb.task_ids), 1.0 / len(kb.task_ids))
    else:
        v = kb.task_vector(metafeatures)
        d = kb._distances(v[None, :])[0]  # kb.distances, the vector computed once
        if first == "surrogate" and (kb.gain_models or kb.xgb_models):
            start = [first_pick(kb, v)]
        if k is None and safety_on(kb, d):
            # far from every known family: the first pick (the least expected shortfall),
            # then the defaults and what is good everywhere instead of the nearest tasks'
            rest = safety_start(kb.filled, n, defaults_index_of(kb))
            return [dict(kb.configs[j]) for j in (start + [j for j in rest if j not in start])[:n]]
        w = kernel_weights(d, int(choose_k(kb, d) if k is None else k))
    return [dict(kb.configs[j]) for j in greedy_portfolio(kb.filled, w, n, start=start)]


def first_pick(kb: KnowledgeBase, task_vector: np.ndarray) -> int:
    """Index (in ``kb.configs``) of the known configuration with the highest predicted
    normalized gain for this task: one minus the normalized regret, so the pick is the
    configuration expected to fall least short of the task's best, where the copula
    members' argmax is the one expected to rank best. Held out by family the two are within
    noise of each other: on the classifier's tables of 5,000+ rows the gain pick fell
    short less often, on the regressor's more often (BENCHMARKS.md). Knowledge bases saved
    before the gain members existed use the copula members."""
    members = kb.cross_task_members(task_vector, kb._encode(kb.configs), kb.gain_models or kb.xgb_models)
    return int(np.argmax(members.mean(axis=0)))


def choose_k(kb: KnowledgeBase, d: np.ndarray) -> int:
    """The candidate bandwidth whose leave-one-out portfolios did best on the known tasks
    near a query at distances ``d`` (see :mod:`warmstart.portfolio`)."""
    return choose_bandwidth(d, bandwidth_table(kb))


def bandwidth_table(kb: KnowledgeBase) -> np.ndarray:
    """Each known task's leave-one-out portfolio regret under each candidate bandwidth
    (see :func:`warmstart.portfolio.bandwidth_table`). Computed once per knowledge base
    (5 s for the bundled classifier knowledge) and saved with it (:func:`keep_bandwidth_table`)."""
    key = _bandwidth_key(kb)
    if kb._bw_cache is not None and _same_arrays(kb._bw_cache[0], key):
        return kb._bw_cache[1]
    truth = np.where(np.isfinite(kb.scores), kb.scores, kb.filled)
    table = loo_bandwidth_table(kb.filled, truth, kb._distances(kb.task_matrix))
    kb._bw_cache = (key, table)
    return table


def keep_bandwidth_table(kb: KnowledgeBase, saved: Mapping[str, Any] | None) -> None:
    """Take the bandwidth table a saved knowledge base carries (``{"candidates": [...],
    "table": [[...]]}``, from :func:`saved_bandwidth_table`) where it was computed for the
    same candidates and tasks; otherwise it is computed when first needed."""
    if not saved or list(saved.get("candidates", [])) != list(BANDWIDTH_CANDIDATES):
        return
    table = np.asarray(saved.get("table", []), dtype=np.float64)
    if table.shape == (len(kb.filled), len(BANDWIDTH_CANDIDATES)) and np.isfinite(table).all():
        kb._bw_cache = (_bandwidth_key(kb), table)


def saved_bandwidth_table(kb: KnowledgeBase) -> dict[str, list]:
    """The bandwidth table as ``kb.json`` keeps it (see :func:`keep_bandwidth_table`)."""
    return {"candidates": list(BANDWIDTH_CANDIDATES), "table": bandwidth_table(kb).tolist()}


def _bandwidth_key(kb: KnowledgeBase) -> tuple:
    # the arrays themselves, not their ids: a cached table holds them alive, so an array
    # that replaced one of them (a knowledge base extended with studies) never matches
    return (kb.filled, kb.scores, kb.task_matrix, kb.weights)


def _same_arrays(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def defaults_index_of(kb: KnowledgeBase) -> int | None:
    """The known configuration that is the estimator's defaults (built-in spaces only)."""
    return defaults_index(kb.configs, kb.space.defaults()) if kb.space_name in spaces_mod.SPACES else None


def safety_on(kb: KnowledgeBase, d: np.ndarray) -> bool:
    """Whether a dataset at distances ``d`` from the known tasks is far enough for the
    safety net (its calibrated threshold, :mod:`warmstart.safety`)."""
    t = kb.safety.get("threshold")
    return t is not None and family_quantile(float(d.min()), kb.safety.get("family_quantiles", [])) >= t
