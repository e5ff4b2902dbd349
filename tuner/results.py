"""``cv_results_`` of a search, rebuilt from the trials of its Optuna study (the layout of
scikit-learn's ``GridSearchCV``), so that a search continued over several ``fit`` calls
reports every configuration it evaluated."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import optuna

#: trial user attribute: fold scores and times of a configuration a search evaluated
ATTR_CV = "learn2tune:cv"


def search_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The finished trials of ``study`` that a MetaSearchCV evaluated (their fold scores,
    times and estimator parameters are in the user attribute ``learn2tune:cv``)."""
    return [t for t in study.get_trials(deepcopy=False)
            if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
            and ATTR_CV in t.user_attrs]


def cv_results(trials: list[optuna.trial.FrozenTrial], *, return_train_score: bool) -> dict[str, Any]:
    """``cv_results_`` of the configurations these trials evaluated (in trial order), plus
    ``trial_number``."""
    recs = [t.user_attrs[ATTR_CV] for t in trials]
    n_splits = len(recs[-1]["test_score"])

    def arr(key: str) -> np.ndarray:
        out = np.full((len(recs), n_splits), np.nan)
        for i, r in enumerate(recs):
            vals = [np.nan if v is None else v for v in r.get(key, [])][:n_splits]
            out[i, :len(vals)] = vals
        return out

    test, fit_t, score_t = arr("test_score"), arr("fit_time"), arr("score_time")
    results: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-nan rows stay nan
        for key, a in (("fit_time", fit_t), ("score_time", score_t)):
            results[f"mean_{key}"] = np.nanmean(a, axis=1)
            results[f"std_{key}"] = np.nanstd(a, axis=1)
    params = [dict(r["params"]) for r in recs]
    names = sorted({k for p in params for k in p})
    for name in names:
        col = np.ma.MaskedArray(np.empty(len(params), dtype=object), mask=True)
        for i, p in enumerate(params):
            if name in p:
                col[i] = p[name]
        results[f"param_{name}"] = col
    results["params"] = params
    for i in range(n_splits):
        results[f"split{i}_test_score"] = test[:, i]
    results["mean_test_score"] = test.mean(axis=1)
    results["std_test_score"] = test.std(axis=1)
    results["rank_test_score"] = _rank(results["mean_test_score"])
    if return_train_score:
        train = arr("train_score")
        for i in range(n_splits):
            results[f"split{i}_train_score"] = train[:, i]
        results["mean_train_score"] = train.mean(axis=1)
        results["std_train_score"] = train.std(axis=1)
    results["trial_number"] = np.array([t.number for t in trials])
    return results


def _rank(mean: np.ndarray) -> np.ndarray:
    """scikit-learn's ``rank_test_score``: 1 is best, ties share the lowest rank, failed
    (nan) configurations rank last."""
    from scipy.stats import rankdata

    filled = np.where(np.isfinite(mean), mean, -np.inf)
    return rankdata(-filled, method="min").astype(np.int32)

