"""Target meta-features for regression: shape of the target and landmarkers' R^2.

Landmarker R^2 is ``1 - SSE / SST`` of pooled out-of-fold predictions on the landmark
subsample (5 folds, consecutive rows dealt round-robin in the canonical seeded order).
All features here are undefined for classification.
"""

from __future__ import annotations

import numpy as np

from ._prepare import Prepared
from ._registry import FeatureSpec
from .landmarking import oof_predict, rank_design
from .statistical import column_moments

GROUP = "target"


def _s(name: str, desc: str, cost: str = "low", scale_free: bool = True) -> FeatureSpec:
    return FeatureSpec(name, GROUP, desc, cost, "", scale_free, "regression")


REGRESSORS = {
    "1nn": "1-nearest neighbour",
    "stump": "decision stump",
    "linear": "ridge regression (alpha=1, standardized features)",
    "tree3": "decision tree of depth 3",
}

FEATURES: list[FeatureSpec] = [
    _s("target.skewness", "skewness of the target"),
    _s("target.kurtosis", "excess kurtosis of the target"),
    _s("target.cv", "coefficient of variation sd/|mean| of the target"),
    _s("target.unique_share", "distinct target values / rows"),
    _s("target.integer_share", "share of integer-valued targets", scale_free=False),
    _s("target.outlier_share", "share of targets beyond 1.5 IQR of the quartiles"),
    _s("target.cor_abs.max", "max |Pearson correlation| of a numeric column with the target", "medium"),
    _s("target.cor_abs.mean", "mean |Pearson correlation| of numeric columns with the target", "medium"),
    *[
        _s(f"target.landmark.{k}.r2", f"{label}: out-of-fold R^2", "high")
        for k, label in REGRESSORS.items()
    ],
]


def compute(p: Prepared) -> dict[str, float]:
    nan = float("nan")
    if p.task != "regression":
        return {s.name: nan for s in FEATURES}
    y = p.y_num
    mom = column_moments(y[:, None])
    out: dict[str, float] = {
        "target.skewness": float(mom["skew"][0]),
        "target.kurtosis": float(mom["kurt"][0]),
        # undefined where the mean is within rounding of 0 (see statistical.py)
        "target.cv": float(mom["sd"][0] / abs(mom["mean"][0])) if abs(mom["mean"][0]) > 1e-10 * mom["sd"][0] else nan,
        "target.unique_share": float(np.unique(y).size / y.size),
        "target.integer_share": float(np.mean(np.mod(y, 1.0) == 0.0)),
    }
    q1, q3 = np.percentile(y, [25, 75])
    iqr = q3 - q1
    out["target.outlier_share"] = float(np.mean((y < q1 - 1.5 * iqr) | (y > q3 + 1.5 * iqr)))
    xi = p.num_imputed
    if xi.shape[1] and not mom["const"][0]:
        yc = y - y.mean()
        from ._numeric import BLOCK

        mu = p.num_imputed_mean
        ss = np.concatenate([((xi[:, s : s + BLOCK] - mu[s : s + BLOCK]) ** 2).sum(axis=0)
                             for s in range(0, xi.shape[1], BLOCK)])
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (xi.T @ yc) / (np.sqrt(ss) * np.sqrt(yc @ yc))
        r = np.abs(r[np.isfinite(r)])
        out["target.cor_abs.max"] = float(r.max()) if r.size else nan
        out["target.cor_abs.mean"] = float(r.mean()) if r.size else nan
    else:
        out["target.cor_abs.max"] = nan
        out["target.cor_abs.mean"] = nan

    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    from ._learners import OneNearestNeighbour

    X, yl = p.landmark_X, p.landmark_y.astype(np.float64)
    fold = np.arange(yl.size) % min(5, yl.size)
    sst = float(((yl - yl.mean()) ** 2).sum())
    if sst > 0:
        # the learners see the target standardized and rounded to 1e-10 of its spread: R^2
        # does not change, and a target in other units (x 100) is the same numbers, so the
        # rounding of a tie between two splits cannot pick another tree
        yl = np.round((yl - yl.mean()) / yl.std(), 10)
        sst = float(((yl - yl.mean()) ** 2).sum())
    makers = {
        "1nn": OneNearestNeighbour,  # tie-robust: duplicated rows are common in regression tables
        "stump": lambda: DecisionTreeRegressor(max_depth=1, random_state=0),
        "linear": lambda: Ridge(alpha=1.0),
        "tree3": lambda: DecisionTreeRegressor(max_depth=3, random_state=0),
    }
    # the trees read the order of the values only (see rank_design); a constant target
    # has no R^2 to compute
    R = rank_design(X) if sst > 0 else X
    for key, make in makers.items():
        name = f"target.landmark.{key}.r2"
        if sst <= 0:
            out[name] = nan
            continue
        pred = oof_predict(make, R if key in ("stump", "tree3") else X, yl, fold)[0]
        # R^2 below -1 carries no extra information and would dominate distances
        out[name] = float(max(1.0 - ((yl - pred) ** 2).sum() / sst, -1.0))
    return out
