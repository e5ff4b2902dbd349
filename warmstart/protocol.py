"""Evaluate one configuration of a search space on one task by cross-validation.

The protocol (the same for every space and every executor):

* classes with fewer members than folds are dropped (stratified folds need them);
* rows are capped at ``max_rows`` by a stratified (classification) or plain random
  subsample with a fixed seed (classes the subsample leaves rarer than the folds are
  dropped from it too);
* K-fold cross-validation, stratified for classification, shuffled with a seed derived
  from the task id and ``seed``;
* metrics are averaged over folds. Classification: ROC AUC (binary, or one-vs-rest
  weighted by class support for multiclass), accuracy, balanced accuracy, log loss.
  Regression: R^2, RMSE, MAE;
* a configuration that raises is recorded as ``failed`` with its error message; one that
  passes the deadline is recorded as ``timeout``. Neither stops a build.
"""

from __future__ import annotations

import hashlib
import platform
import time
import traceback
from typing import Any

import numpy as np
import pandas as pd

from .spaces import SearchSpace

CLASSIFICATION_METRICS = ("roc_auc", "accuracy", "balanced_accuracy", "log_loss")
REGRESSION_METRICS = ("r2", "rmse", "mae")
#: The metric a build's evaluations are ranked by, per task type (higher is better).
PRIMARY_METRIC = {"classification": "roc_auc", "regression": "r2"}


class EvaluationTimeout(Exception):
    """Raised inside an evaluation whose deadline has passed."""


def task_seed(task_id: str, seed: int) -> int:
    """A 32-bit seed derived from the task id and the build seed (stable across runs)."""
    h = hashlib.sha256(f"{task_id}|{seed}".encode()).digest()
    return int.from_bytes(h[:4], "little")


def prepare_task_data(
    X: pd.DataFrame, y: pd.Series, task_type: str, *, folds: int, max_rows: int | None, seed: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows and target as evaluated: rare classes dropped, capped, target encoded."""
    if task_type == "classification":
        counts = y.value_counts()
        keep = y.isin(counts[counts >= folds].index).to_numpy()
        X, y = X.loc[keep].reset_index(drop=True), y.loc[keep].reset_index(drop=True)
        codes = pd.Categorical(y.astype(str))
        y_arr = np.asarray(codes.codes, dtype=np.int64)
    else:
        y_arr = y.to_numpy(dtype=np.float64)
    n = len(y_arr)
    if max_rows is not None and n > max_rows:
        from sklearn.model_selection import train_test_split

        strat = y_arr if task_type == "classification" else None
        idx, _ = train_test_split(
            np.arange(n), train_size=max_rows, random_state=seed % (2**32), stratify=strat
        )
        idx = np.sort(idx)
        X, y_arr = X.iloc[idx].reset_index(drop=True), y_arr[idx]
        if task_type == "classification":
            # the subsample can leave a rare class with fewer members than folds (a training
            # fold without it breaks every classifier): drop those rows too, then re-code
            vals, counts = np.unique(y_arr, return_counts=True)
            if (counts < folds).any():
                keep = np.isin(y_arr, vals[counts >= folds])
                X, y_arr = X.loc[keep].reset_index(drop=True), y_arr[keep]
            _, y_arr = np.unique(y_arr, return_inverse=True)
    return X, y_arr


def _auc(y: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    from sklearn.metrics import roc_auc_score

    if n_classes == 2:
        return float(roc_auc_score(y, proba[:, 1] if proba.ndim == 2 else proba))
    total, weight = 0.0, 0
    for c in range(n_classes):
        pos = y == c
        if pos.any() and (~pos).any():
            total += roc_auc_score(pos, proba[:, c]) * pos.sum()
            weight += int(pos.sum())
    return float(total / weight) if weight else float("nan")


def _scores(model: Any, X: pd.DataFrame, n_classes: int) -> tuple[np.ndarray, bool]:
    """Class probabilities, or decision scores (second value False) when unavailable."""
    if hasattr(model, "predict_proba"):
        try:
            return np.asarray(model.predict_proba(X)), True
        except AttributeError:
            pass
    d = np.asarray(model.decision_function(X))
    return d, False


class _Deadline:
    """An XGBoost callback that stops training when the deadline passes."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def check(self) -> None:
        if time.perf_counter() > self.deadline:
            raise EvaluationTimeout("evaluation exceeded its timeout")


def cross_validate(
    space: SearchSpace,
    config: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    folds: int,
    seed: int,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Cross-validate ``config`` on prepared data; returns metrics, status and times."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        log_loss,
        mean_absolute_error,
        mean_squared_error,
        r2_score,
    )
    from sklearn.model_selection import KFold, StratifiedKFold

    is_clf = space.task_type == "classification"
    names = CLASSIFICATION_METRICS if is_clf else REGRESSION_METRICS
    record: dict[str, Any] = {m: float("nan") for m in names}
    start = time.perf_counter()
    deadline = _Deadline(start + timeout if timeout else float("inf"))
    splitter = (
        StratifiedKFold(folds, shuffle=True, random_state=seed % (2**32))
        if is_clf
        else KFold(folds, shuffle=True, random_state=seed % (2**32))
    )
    per_fold: dict[str, list[float]] = {m: [] for m in names}
    n_classes = int(y.max()) + 1 if is_clf else 0
    try:
        for train, test in splitter.split(X, y):
            deadline.check()
            model = space.build(config)
            _attach_deadline(model, deadline)
            model.fit(X.iloc[train], y[train])
            deadline.check()
            Xt, yt = X.iloc[test], y[test]
            if is_clf:
                scores, is_proba = _scores(model, Xt, n_classes)
                pred = np.asarray(model.predict(Xt))
                per_fold["accuracy"].append(accuracy_score(yt, pred))
                per_fold["balanced_accuracy"].append(balanced_accuracy_score(yt, pred))
                per_fold["roc_auc"].append(_auc(yt, scores, n_classes))
                if is_proba:
                    p = np.clip(scores, 1e-15, 1.0)
                    p = p / p.sum(axis=1, keepdims=True)
                    per_fold["log_loss"].append(log_loss(yt, p, labels=np.arange(n_classes)))
            else:
                pred = np.asarray(model.predict(Xt), dtype=np.float64)
                per_fold["r2"].append(r2_score(yt, pred))
                per_fold["rmse"].append(float(np.sqrt(mean_squared_error(yt, pred))))
                per_fold["mae"].append(mean_absolute_error(yt, pred))
        for m in names:
            vals = [v for v in per_fold[m] if np.isfinite(v)]
            record[m] = float(np.mean(vals)) if vals else float("nan")
        record["status"] = "ok"
        record["error"] = ""
    except EvaluationTimeout as exc:
        record["status"] = "timeout"
        record["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - a failing config is data, never a crash
        record["status"] = "failed"
        tb = traceback.format_exception_only(type(exc), exc)
        record["error"] = "".join(tb).strip()[-500:]
    record["fit_seconds"] = time.perf_counter() - start
    return record


def _attach_deadline(model: Any, deadline: _Deadline) -> None:
    """Make XGBoost check the deadline after every boosting round."""
    est = getattr(model, "named_steps", {}).get("model") if hasattr(model, "named_steps") else None
    if est is None or not type(est).__module__.startswith("xgboost"):
        return
    import xgboost

    class _CB(xgboost.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):  # noqa: ANN001
            deadline.check()
            return False

    est.set_params(callbacks=[_CB()])


def library_versions() -> dict[str, str]:
    """Versions of the libraries that determine evaluation results."""
    import sklearn
    import xgboost

    from . import __version__

    return {
        "learn2tune": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
    }
