"""The cross-task surrogate: an ensemble of XGBoost regressors on (scaled meta-features,
encoded configuration) -> per-task copula score, bootstrapped over tasks (the spread of
the members is its uncertainty)."""

from __future__ import annotations

from typing import Any

import numpy as np


def cross_task_features(task_rows: np.ndarray, enc: np.ndarray) -> np.ndarray:
    """The members' inputs: each row's task vector next to its encoded configuration."""
    return np.hstack([task_rows, enc])


def fit_cross_task(task_matrix: np.ndarray, scores: np.ndarray, enc: np.ndarray, n_members: int,
                   random_state: int, bootstrap: bool = True) -> list[Any]:
    """``n_members`` XGBoost regressors on every finite entry of ``scores`` (tasks x
    configs; ``enc`` the configs' encoding), each on a bootstrap sample of the tasks (their
    spread is an uncertainty), or with ``bootstrap=False`` each on every task (members that
    differ only by their seed: a steadier mean, for an argmax such as the first pick)."""
    import xgboost

    ti, ci = np.nonzero(np.isfinite(scores))
    X = cross_task_features(task_matrix[ti], enc[ci])
    y = scores[ti, ci]
    rng = np.random.default_rng(random_state)
    n_tasks = len(task_matrix)
    models = []
    for m in range(n_members):
        chosen = rng.integers(0, n_tasks, size=n_tasks)  # bootstrap over tasks
        weight = np.bincount(chosen, minlength=n_tasks)[ti].astype(np.float64) if bootstrap else np.ones(len(ti))
        model = xgboost.XGBRegressor(
            n_estimators=150, max_depth=6, learning_rate=0.08, subsample=0.8,
            colsample_bytree=0.8, min_child_weight=5, tree_method="hist", random_state=random_state + m,
            # one thread: on a core another process uses, OpenMP's spinning threads made a
            # fit 10x slower (1.4 s -> 14.7 s on 12k rows), more than a second thread gains
            n_jobs=1,
        )
        model.fit(X[weight > 0], y[weight > 0], sample_weight=weight[weight > 0])
        models.append(model)
    return models


def cross_task_raw(models: list[Any], task_rows: np.ndarray, enc: np.ndarray) -> np.ndarray:
    """Raw member predictions (members x rows)."""
    X = cross_task_features(task_rows, enc)
    return np.stack([m.predict(X) for m in models]).astype(np.float64)


#: at most this many gaps of a knowledge base's score matrix are predicted when it is filled
FILL_BUDGET = 400_000
#: each task's best configurations kept as candidates when the budget does not cover every gap
MIN_CANDIDATES = 5


def fill_gaps(models: list[Any], task_matrix: np.ndarray, scores: np.ndarray, enc: np.ndarray,
              budget: int = FILL_BUDGET) -> np.ndarray:
    """``scores`` (tasks x configs) with its gaps filled by the members' mean prediction.
    When there are more than ``budget`` gaps (knowledge of users' studies, where every trial
    is its own configuration: 200 studies x 100 trials is 4 million gaps), only the columns
    of candidate configurations are predicted (each task's best ones: as many per task as
    the budget allows, at least ``MIN_CANDIDATES``); a gap in any other column is the task's
    worst score, so no portfolio picks such a column for a task that did not evaluate it."""
    filled = np.array(scores, dtype=np.float64)
    finite = np.isfinite(filled)
    n, m = filled.shape
    if finite.all():
        return filled
    cols = np.arange(m)
    if (~finite).sum() > budget:
        k = max(MIN_CANDIDATES, budget // max(n * n, 1))
        ranked = np.argsort(-np.where(finite, filled, -np.inf), axis=1, kind="stable")[:, :k]
        cols = np.unique(ranked[np.take_along_axis(finite, ranked, axis=1)])
        worst = np.nanmin(np.where(finite, filled, np.nan), axis=1)
        rest = np.setdiff1d(np.arange(m), cols)
        block = filled[:, rest]
        filled[:, rest] = np.where(np.isfinite(block), block, worst[:, None])
    ti, cj = np.nonzero(~np.isfinite(filled[:, cols]))
    if ti.size:
        filled[ti, cols[cj]] = cross_task_raw(models, task_matrix[ti], enc[cols[cj]]).mean(axis=0)
    return filled
