"""The negative-transfer guard.

:meth:`KnowledgeBase.adapt` measures how well the meta-knowledge, adapted to a study's
trials, predicts trials it was not adapted to (the meta-trained network adapted to all but
one fold of the observed trials ranks that fold: cross-validation), and how far the task is
from every known task (against the distribution of nearest-neighbour distances among the
known tasks); when the adapted knowledge ranks held-out trials poorly or the task is out of
distribution, the prior's weight drops, the surrogate's spread widens, and the reason is
logged and returned in ``surrogate.diagnostics``.

Cross-validating the *adapted* network, not the meta-trained one, matters where the known
tasks disagree with each other: a study unlike the average known task is ranked poorly by
the network before adaptation, while adapted (its task context moved to fit the trials) it
can rank new trials well.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from .scores import spearman

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

logger = logging.getLogger("warmstart.knowledge")


def nearest_distance_quantiles(D: np.ndarray) -> np.ndarray:
    """Quantiles (0, 5, ..., 100 %) of each known task's distance to its nearest other
    known task, from the task-to-task distance matrix ``D``."""
    D = D.copy()
    np.fill_diagonal(D, np.inf)
    return np.quantile(D.min(axis=1), np.linspace(0, 1, 21))


def novelty_of(kb: KnowledgeBase, v: np.ndarray) -> dict[str, Any]:
    """How far a dataset (its task vector ``v``) is from everything the knowledge base
    knows: the distance to the nearest known task, and where that distance falls among the
    known tasks' own nearest-neighbour distances (0: as close as known tasks are to each
    other at the closest; 1: farther than any known task from its nearest neighbour)."""
    d = kb._distances(v[None, :])[0]
    d_near = float(d.min())
    q = float(np.searchsorted(kb.nn_distance_quantiles, d_near) / (len(kb.nn_distance_quantiles) - 1))
    nearest = int(np.argmin(d))
    return {"nearest_distance": d_near, "distance_quantile": min(q, 1.0),
            "nearest_task": kb.task_names[nearest] if kb.task_names else ""}


#: folds of the guard's cross-validation (fewer when there are fewer observations)
GUARD_FOLDS = 5


def out_of_fold(kb: KnowledgeBase, x: np.ndarray, y: np.ndarray, folds: int = GUARD_FOLDS,
                steps: int | None = None) -> np.ndarray:
    """The meta-trained network's prediction of each observation (inputs ``x``, scores
    ``y``) after adapting (``steps`` inner steps, default as meta-trained) to the
    observations of the other folds (a fixed shuffle: the same observations give the same
    folds)."""
    k = min(folds, len(y))
    fold_of = np.empty(len(y), dtype=int)
    fold_of[np.argsort(np.random.RandomState(0).rand(len(y)))] = np.arange(len(y)) % k
    pred = np.empty(len(y))
    for f in range(k):
        test = fold_of == f
        pred[test] = kb.maml.adapt(x[~test], y[~test], steps=steps).predict(x[test])[0]
    return pred


def assess_transfer(kb: KnowledgeBase, v: np.ndarray, x: np.ndarray, y: np.ndarray,
                    steps: int | None = None) -> dict:
    """How far to trust the meta-knowledge for one study (see the module docstring):
    ``prior_weight``, the reason when it is lowered, and the distances behind it;
    ``steps``: the inner steps the surrogate adapts with (the knowledge is judged as used)."""
    near = novelty_of(kb, v)
    q = near["distance_quantile"]
    diag: dict[str, Any] = {"nearest_distance": near["nearest_distance"], "distance_quantile": q}
    weight = 1.0
    reasons = []
    if q >= 1.0:
        weight *= 0.5
        reasons.append("task is farther from every known task than any training task was")
    if len(y) >= 5 and np.ptp(y) > 0:
        rho = spearman(out_of_fold(kb, x, y, steps=steps), y)
        diag["cv_rank_correlation"] = rho
        if not np.isfinite(rho) or rho < 0.3:
            r = 0.0 if not np.isfinite(rho) else rho
            weight *= float(np.clip((r + 0.2) / 0.5, 0.0, 1.0))
            reasons.append(f"adapted to the other trials, it ranks the {len(y)} observed trials poorly "
                           f"(cross-validated Spearman {r:.2f})")
    diag["prior_weight"] = weight
    diag["reason"] = "; ".join(reasons)
    if reasons:
        logger.info("negative-transfer guard lowers the prior weight to %.2f: %s", weight, diag["reason"])
    return diag
