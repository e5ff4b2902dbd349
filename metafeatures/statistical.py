"""Statistical meta-features of the numeric columns (on the shared subsample).

Per-column moments ignore missing values. Skewness is the Fisher-Pearson moment
coefficient ``m3 / m2**1.5`` and kurtosis the excess kurtosis ``m4 / m2**2 - 3``
(scipy's defaults; pymfe's ``method=1``). They are undefined for constant columns,
which are then left out of the summaries. Correlations, covariances and PCA use the
median-imputed numeric columns; pairs involving a constant column are left out.
"""

from __future__ import annotations

import numpy as np

from ._prepare import Prepared
from ._registry import FeatureSpec, summarize, summary_specs

GROUP = "statistical"
#: columns of the quadratic features (correlations, PCA...) at most
MAX_GRAM_COLS = 256


def _sf(specs: list[FeatureSpec], scale_free: bool) -> list[FeatureSpec]:
    return [
        FeatureSpec(s.name, s.group, s.description, s.cost, s.openml_name, scale_free, s.task)
        for s in specs
    ]


SKEW = summary_specs("", GROUP, "skewness of numeric columns", openml_stem="SkewnessOfNumericAtts", scale_free=True)
KURT = summary_specs("", GROUP, "excess kurtosis of numeric columns", openml_stem="KurtosisOfNumericAtts", scale_free=True)
MEANS = summary_specs("", GROUP, "means of numeric columns", openml_stem="MeansOfNumericAtts")
STDS = summary_specs("", GROUP, "standard deviations (ddof=1) of numeric columns", openml_stem="StdDevOfNumericAtts")
COR = summary_specs("stat.cor_abs", GROUP, "absolute Pearson correlations of numeric column pairs", cost="medium", scale_free=True)
COV = summary_specs("stat.cov_abs", GROUP, "absolute covariances of numeric column pairs", cost="medium", which=("mean", "max"))
CV = _sf(summary_specs("stat.cv", GROUP, "coefficients of variation sd/|mean| of numeric columns", which=("mean", "max")), True)


def _s(name: str, desc: str, cost: str = "low", scale_free: bool = True) -> FeatureSpec:
    return FeatureSpec(name, GROUP, desc, cost, "", scale_free)


FEATURES: list[FeatureSpec] = [
    *SKEW,
    *KURT,
    *MEANS,
    *STDS,
    *COR,
    *COV,
    *CV,
    _s("stat.cor_high_share", "share of numeric column pairs with |correlation| >= 0.5", "medium"),
    _s("stat.outlier_features_share", "share of numeric columns with a value beyond 1.5 IQR of the quartiles (pymfe nr_outliers / columns)", "medium"),
    _s("stat.outlier_cells_share", "share of non-missing numeric cells beyond 1.5 IQR of their column's quartiles", "medium"),
    _s("stat.iqr_to_sd.mean", "mean over numeric columns of IQR / sd", "medium"),
    _s("stat.low_cardinality_share", "share of numeric columns with at most 10 distinct values", "medium"),
    _s("stat.zero_share", "share of numeric cells equal to 0 (sparsity)"),
    _s("stat.pca.components_95_share", "share of principal components (correlation matrix) needed for 95% of the variance", "medium"),
    _s("stat.pca.first_ratio", "variance share of the first principal component (correlation matrix)", "medium"),
    _s("stat.pca.first_skewness_abs", "|skewness| of the scores on the first principal component", "medium"),
    _s("stat.pca.first_kurtosis", "excess kurtosis of the scores on the first principal component", "medium"),
    _s("stat.can_cor_first", "first canonical correlation between numeric columns and the target (one-hot classes; the target itself for regression)", "medium"),
]


def _names(specs: list[FeatureSpec]) -> list[str]:
    return [s.name for s in specs]


def column_moments(num: np.ndarray) -> dict[str, np.ndarray]:
    """NaN-aware per-column count, mean, sd (ddof=1), skewness, excess kurtosis,
    quartiles and outlier/zero counts, computed by blocks of columns."""
    from ._numeric import BLOCK

    d = num.shape[1]
    keys = ("count", "mean", "m2n", "m3", "m4", "q1", "q3", "beyond", "zeros", "scale")
    out = {k: np.empty(d) for k in keys}
    for s in range(0, d, BLOCK):
        b = num[:, s : s + BLOCK]
        sl = slice(s, s + b.shape[1])
        ok = ~np.isnan(b)
        if ok.all():
            cnt = np.full(b.shape[1], float(b.shape[0]))
            mean = b.mean(axis=0)
            c = b - mean
            q1, q3 = np.percentile(b, [25, 75], axis=0)
        else:
            cnt = ok.sum(axis=0).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(ok, b, 0.0).sum(axis=0) / cnt
            c = np.where(ok, b - mean, 0.0)
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                q1, q3 = np.nanpercentile(b, [25, 75], axis=0)
        # moments of the deviations scaled by their largest magnitude: skewness and
        # kurtosis are then exactly scale-free, and tiny values do not underflow
        with np.errstate(invalid="ignore"):
            scale = np.nanmax(np.abs(c), axis=0, initial=0.0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        c = c / scale
        c2 = c * c
        with np.errstate(invalid="ignore", divide="ignore"):
            out["m3"][sl] = (c2 * c).sum(axis=0) / cnt  # in units of scale**3
            out["m4"][sl] = (c2 * c2).sum(axis=0) / cnt  # in units of scale**4
            out["m2n"][sl] = c2.sum(axis=0) / cnt
        iqr = q3 - q1
        with np.errstate(invalid="ignore"):
            out["beyond"][sl] = ((b < q1 - 1.5 * iqr) | (b > q3 + 1.5 * iqr)).sum(axis=0)
        out["zeros"][sl] = (b == 0).sum(axis=0)
        out["count"][sl], out["mean"][sl], out["q1"][sl], out["q3"][sl] = cnt, mean, q1, q3
        out["scale"][sl] = scale
    cnt, mean = out["count"], out["mean"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sd"] = np.sqrt(out["m2n"] * cnt / (cnt - 1)) * out["scale"]  # root first: no overflow
        # a column is constant when its spread is at rounding level of its mean (compared in
        # units of its scale: the variance of values near 1e300 overflows, the column is not constant)
        m2n = out["m2n"]
        const = (np.sqrt(m2n) <= 1e-12 * np.abs(mean) / out["scale"]) | (m2n == 0) | (cnt < 2) | ~np.isfinite(m2n)
        out["const"] = const
        out["skew"] = np.where(const, np.nan, out["m3"] / m2n**1.5)
        out["kurt"] = np.where(const, np.nan, out["m4"] / m2n**2 - 3.0)
    return out


def _moments(x: np.ndarray) -> tuple[float, float]:
    c = x - x.mean()
    m2 = float(np.mean(c * c))
    if m2 <= 0:
        return float("nan"), float("nan")
    return float(np.mean(c**3) / m2**1.5), float(np.mean(c**4) / m2**2 - 3.0)


def compute(p: Prepared) -> dict[str, float]:
    out: dict[str, float] = {}
    num = p.num
    d = num.shape[1]
    nan = float("nan")
    if d == 0:
        return {s.name: nan for s in FEATURES}
    mom = column_moments(num)
    out.update(summarize(mom["skew"], _names(SKEW)))
    out.update(summarize(mom["kurt"], _names(KURT)))
    out.update(summarize(mom["mean"], _names(MEANS)))
    out.update(summarize(mom["sd"], _names(STDS)))
    with np.errstate(invalid="ignore", divide="ignore"):
        # a mean within rounding of 0 (|mean| <= 1e-10 sd) has no sign to divide by: its
        # value was 0 or 1e-15 depending on the summation, so cv was undefined or 1e16
        cv = np.where(mom["const"] | (np.abs(mom["mean"]) <= 1e-10 * mom["sd"]), np.nan,
                      mom["sd"] / np.abs(mom["mean"]))
        ratio = np.where(mom["const"], np.nan, (mom["q3"] - mom["q1"]) / mom["sd"])
    out.update(summarize(cv, _names(CV)))
    out["stat.outlier_features_share"] = float((mom["beyond"] > 0).mean())
    n_ok = max(float(mom["count"].sum()), 1.0)
    out["stat.outlier_cells_share"] = float(mom["beyond"].sum() / n_ok)
    out["stat.iqr_to_sd.mean"] = float(np.nanmean(ratio)) if np.isfinite(ratio).any() else nan
    low_card = [np.unique(col[~np.isnan(col)]).size <= 10 for col in num[:5000].T]
    out["stat.low_cardinality_share"] = float(np.mean(low_card))
    out["stat.zero_share"] = float(mom["zeros"].sum() / n_ok)

    # correlations, covariances, PCA, canonical correlation: imputed centered columns,
    # constant columns dropped; one Gram matrix (BLAS), no copy of the data
    from ._numeric import centered_gram

    keep = ~mom["const"]
    if keep.sum() > MAX_GRAM_COLS:  # quadratic in columns: the first ones of the canonical order
        first = np.flatnonzero(keep)[:MAX_GRAM_COLS]
        p.notes.setdefault("cut", []).append(
            f"correlations, covariances, PCA and canonical correlation on {MAX_GRAM_COLS} of "
            f"{int(keep.sum())} numeric columns (canonical order)")
        keep = np.zeros_like(keep)
        keep[first] = True
    xi = p.num_imputed[:, keep] if not keep.all() else p.num_imputed
    mu = p.num_imputed_mean[keep]
    k = xi.shape[1]
    cor_names = _names(COR)
    if k >= 2:
        with np.errstate(over="ignore"):
            scaled = centered_gram(xi, mu) / (xi.shape[0] - 1)
        scale = np.ones(k)
        if not np.isfinite(scaled).all():  # values past ~1e154 overflow their products: the Gram
            # matrix of the columns scaled by their largest deviation, as column_moments
            # scaled them (correlations are scale-free)
            scale = mom["scale"][keep]
            scaled = centered_gram(xi, mu, scale) / (xi.shape[0] - 1)
        sd_scaled = np.sqrt(np.diag(scaled))
        sd_scaled[sd_scaled == 0] = np.nan
        cor = scaled / np.outer(sd_scaled, sd_scaled)
        with np.errstate(over="ignore"):
            cov = scaled * np.outer(scale, scale)
            sd = sd_scaled * scale
        tri = np.tril_indices(k, -1)
        rabs = np.abs(cor[tri])
        out.update(summarize(rabs, cor_names))
        out.update(summarize(np.abs(cov[tri]), _names(COV)))
        out["stat.cor_high_share"] = float(np.nanmean(rabs >= 0.5))
        cor = np.where(np.isfinite(cor), cor, 0.0)
        np.fill_diagonal(cor, 1.0)
        evals, evecs = np.linalg.eigh(cor)
        evals = np.clip(evals[::-1], 0.0, None)
        evecs = evecs[:, ::-1]
        share = np.cumsum(evals) / evals.sum()
        out["stat.pca.components_95_share"] = float((np.searchsorted(share, 0.95) + 1) / k)
        out["stat.pca.first_ratio"] = float(share[0])
        if evals[1] >= evals[0] * (1.0 - 1e-6):
            # tied leading eigenvalues: the first component's direction is not defined
            sk, ku = nan, nan
        else:
            w = evecs[:, 0] / np.where(np.isnan(sd), 1.0, sd)
            sk, ku = _moments(xi @ w)  # moments are shift-invariant: no centering needed
        out["stat.pca.first_skewness_abs"] = abs(sk)
        out["stat.pca.first_kurtosis"] = ku
        out["stat.can_cor_first"] = _first_canonical_correlation(xi, sd, cor, p)
    else:
        for name in cor_names + _names(COV) + [
            "stat.cor_high_share",
            "stat.pca.components_95_share",
            "stat.pca.first_ratio",
            "stat.pca.first_skewness_abs",
            "stat.pca.first_kurtosis",
            "stat.can_cor_first",
        ]:
            out[name] = nan
    return out


def _inv_sqrt(cov: np.ndarray) -> np.ndarray:
    """Pseudo-inverse square root of a covariance matrix (tiny eigenvalues dropped)."""
    w, v = np.linalg.eigh(cov)
    tol = max(w.max(), 0.0) * cov.shape[0] * np.finfo(np.float64).eps * 100
    keep = w > tol
    return v[:, keep] / np.sqrt(w[keep])


def _first_canonical_correlation(
    xc: np.ndarray, sd: np.ndarray, cor: np.ndarray, p: Prepared
) -> float:
    """Largest canonical correlation from the correlation matrix of X (scale-free, so
    computed on standardized columns, which is better conditioned) and X'Y."""
    if p.task == "classification":
        y = p.y_codes
        classes = np.unique(y)
        if classes.size < 2:
            return float("nan")
        yb = (y[:, None] == classes[None, 1:]).astype(np.float64)
    else:
        yb = p.y_num[:, None].astype(np.float64)
    yc = yb - yb.mean(axis=0)
    m = xc.shape[0]
    # X'yc equals the centered cross-product because yc sums to zero
    sxy = (xc.T @ yc) / (m - 1) / np.where(np.isnan(sd), 1.0, sd)[:, None]
    syy = (yc.T @ yc) / (m - 1)
    wx, wy = _inv_sqrt(cor), _inv_sqrt(syy)
    if wx.shape[1] == 0 or wy.shape[1] == 0:
        return float("nan")
    s = np.linalg.svd(wx.T @ sxy @ wy, compute_uv=False)
    return float(np.clip(s[0], 0.0, 1.0))
