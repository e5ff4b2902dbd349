"""Landmarking: cross-validated quality of cheap learners (classification).

Learners run on the shared landmark subsample (at most ``LANDMARK_ROWS`` rows of the
canonical seeded order, numeric columns median-imputed and standardized, categorical
columns one-hot encoded on their most frequent levels). Folds are consecutive blocks of
that order, stratified, so the result does not depend on the caller's row order.
Accuracy and Cohen's kappa are computed on the pooled out-of-fold predictions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ._prepare import Prepared
from ._registry import FeatureSpec

GROUP = "landmarking"
N_FOLDS = 5

LEARNERS: dict[str, str] = {
    "1nn": "1-nearest neighbour (Euclidean, standardized features)",
    "stump": "decision stump (best single split)",
    "random_node": "decision stump on one randomly chosen feature (seeded)",
    "naive_bayes": "Gaussian naive Bayes",
    "lda": "linear discriminant analysis (lsqr, Ledoit-Wolf shrinkage)",
    "tree3": "decision tree of depth 3",
}

FEATURES: list[FeatureSpec] = [
    FeatureSpec(
        f"landmark.{key}.{metric}",
        GROUP,
        f"{label}: out-of-fold {metric}",
        "high",
        "",
        True,
        "classification",
    )
    for key, label in LEARNERS.items()
    for metric in ("accuracy", "kappa")
]


def stratified_folds(y: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold index per row: rows of each class dealt round-robin in their given order."""
    fold = np.empty(y.shape[0], dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        fold[idx] = np.arange(idx.size) % n_folds
    return fold


def oof_predict(
    make: Callable[[], object], X: np.ndarray, y: np.ndarray, fold: np.ndarray,
    depths: tuple[int | None, ...] = (None,),
) -> list[np.ndarray]:
    """Pooled out-of-fold predictions of the estimator ``make()``, one array per entry of
    ``depths`` (``None``: ``predict(X)``; an int: ``predict(X, depth)``, for trees cut at
    that depth, so that one fit per fold serves the stump and the depth-3 tree)."""
    preds = [np.empty_like(y) for _ in depths]
    for f in np.unique(fold):
        test = fold == f
        present = np.unique(y[~test])
        if present.size < 2 and np.issubdtype(y.dtype, np.integer):
            for pred in preds:
                pred[test] = present[0] if present.size else y[test][0]  # nothing to learn
            continue
        est = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X[~test], y[~test])  # type: ignore[attr-defined]
            for pred, depth in zip(preds, depths):
                args = () if depth is None else (depth,)
                pred[test] = est.predict(X[test], *args)  # type: ignore[attr-defined]
    return preds


def rank_design(X: np.ndarray) -> np.ndarray:
    """Each column of the landmark design as the ranks of its distinct values: the trees'
    data. A tree reads only the order of the values, and ranks keep it exactly whatever the
    units; on the standardized values, a held-out value lying on a split's midpoint went left
    or right with the rounding of the standardization, which moves with the units."""
    from ._canonical import dense_ranks

    out = np.empty(X.shape, dtype=np.float64)
    for j in range(X.shape[1]):
        out[:, j] = dense_ranks(X[:, j], None)
    return out


def _kappa(y: np.ndarray, pred: np.ndarray) -> float:
    po = float(np.mean(y == pred))
    classes = np.union1d(y, pred)
    pe = sum(float(np.mean(y == c)) * float(np.mean(pred == c)) for c in classes)
    return (po - pe) / (1.0 - pe) if pe < 1.0 else float("nan")


def compute(p: Prepared) -> dict[str, float]:
    nan = float("nan")
    if p.task != "classification":
        return {s.name: nan for s in FEATURES}
    from ._learners import DecisionTree, GaussianNaiveBayes, LinearDiscriminant, OneNearestNeighbour

    X, y = p.landmark_X, p.landmark_y
    n_folds = min(N_FOLDS, max(2, int(np.bincount(y).max())))
    fold = stratified_folds(y, n_folds)
    rng = np.random.default_rng(p.random_state)
    col = int(rng.integers(X.shape[1]))
    R = rank_design(X)
    # (learner, data, prediction depths): the stump is the depth-3 tree cut at depth 1
    # (the same root split, the same majorities), so one fit per fold serves both
    runs: list[tuple[tuple[str, ...], Callable[[], object], np.ndarray, tuple[int | None, ...]]] = [
        (("1nn",), OneNearestNeighbour, X, (None,)),
        (("stump", "tree3"), lambda: DecisionTree(max_depth=3), R, (1, 3)),
        (("random_node",), lambda: DecisionTree(max_depth=1), R[:, [col]], (None,)),
        (("naive_bayes",), GaussianNaiveBayes, X, (None,)),
        (("lda",), LinearDiscriminant, X, (None,)),
    ]
    out: dict[str, float] = {}
    for keys, make, data, depths in runs:
        try:
            preds = oof_predict(make, data, y, fold, depths)
        except Exception:  # noqa: BLE001 - a learner that cannot fit leaves its feature undefined
            preds = [None] * len(keys)
        for key, pred in zip(keys, preds):
            out[f"landmark.{key}.accuracy"] = nan if pred is None else float(np.mean(pred == y))
            out[f"landmark.{key}.kappa"] = nan if pred is None else _kappa(y, pred)
    return out
