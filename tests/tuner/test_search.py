"""MetaSearchCV: scikit-learn's estimator checks, the GridSearchCV layout, warm start,
pipelines, error handling and study reuse."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from tuner import MetaSearchCV
from warmstart import KnowledgeBase, spaces

optuna.logging.set_verbosity(optuna.logging.WARNING)


# Every check of scikit-learn's suite runs; none is skipped. A classifier search with the
# warm start (meta-features computed in every fit) and a regressor search without it.
@parametrize_with_checks([
    MetaSearchCV(LogisticRegression(), n_trials=2, cv=3, random_state=0),
    MetaSearchCV(Ridge(), n_trials=2, cv=3, random_state=0, warm_start=False),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()  # standardized: logistic regressions converge fast
    return X.iloc[::2].reset_index(drop=True), y.iloc[::2].reset_index(drop=True)


@pytest.fixture(scope="module")
def xgb_search(cancer):
    from xgboost import XGBClassifier

    X, y = cancer
    return MetaSearchCV(XGBClassifier(n_jobs=1), n_trials=6, cv=3, scoring="roc_auc",
                        random_state=0).fit(X, y)


def test_results_follow_the_grid_search_layout(cancer, xgb_search):
    X, y = cancer
    s = xgb_search
    grid = GridSearchCV(LogisticRegression(max_iter=50), {"C": [1.0, 2.0]}, cv=3).fit(X, y)
    expected = {k for k in grid.cv_results_ if k != "param_C"}
    expected |= {f"param_{p}" for p in spaces.get_space("xgboost-classifier")}
    assert expected <= set(s.cv_results_)
    res = s.cv_results_
    assert len(res["params"]) == s.n_trials_ == 6 and s.n_splits_ == 3
    means = np.mean([res[f"split{i}_test_score"] for i in range(3)], axis=0)
    np.testing.assert_allclose(res["mean_test_score"], means)
    assert s.best_index_ == int(np.nanargmax(res["mean_test_score"]))
    assert res["rank_test_score"][s.best_index_] == 1
    assert s.best_score_ == pytest.approx(res["mean_test_score"].max())
    assert set(s.best_params_) == set(spaces.get_space("xgboost-classifier"))
    assert all(type(v) in (int, float) for v in s.best_params_.values())
    # fitted attributes and delegation
    assert list(s.classes_) == [0, 1] and s.n_features_in_ == X.shape[1]
    assert list(s.feature_names_in_) == list(X.columns)
    assert s.refit_time_ > 0 and s.study_ is not None and len(s.study_.trials) == 6
    assert s.predict_proba(X).shape == (len(X), 2)
    np.testing.assert_array_equal(s.predict(X), s.best_estimator_.predict(X))
    assert 0.5 < s.score(X, y) <= 1.0
    assert s.metafeatures_["NumberOfInstances"] == len(X)
    # the study became meta-data for later runs
    assert "learn2tune:metafeatures" in s.study_.user_attrs


def test_warm_start_tries_the_bundled_portfolio_first(cancer, xgb_search):
    kb = KnowledgeBase.default("xgboost-classifier")
    first = kb.warm_start(xgb_search.metafeatures_, n=3)
    tried = xgb_search.cv_results_["params"][:3]
    for want, got in zip(first, tried):
        for k, v in want.items():
            assert got[k] == pytest.approx(v), k


def test_without_warm_start_the_search_is_plain_tpe(cancer):
    X, y = cancer
    s = MetaSearchCV(LogisticRegression(), n_trials=3, cv=3, random_state=1,
                     warm_start=False).fit(X, y)
    assert isinstance(s.study_.sampler, optuna.samplers.TPESampler)
    assert s.metafeatures_ is None


def test_pipeline_last_step_is_tuned_under_step_names(cancer):
    X, y = cancer
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    s = MetaSearchCV(pipe, n_trials=3, cv=3, random_state=0).fit(X, y)
    assert set(s.best_params_) == {"clf__C", "clf__class_weight"}
    # the study holds the bare names (meta-knowledge matches them)
    assert set(s.study_.best_trial.params) == {"C", "class_weight"}
    again = clone(pipe).set_params(**s.best_params_)
    assert again.get_params()["clf__C"] == s.best_params_["clf__C"]


def test_user_distributions_are_honoured(cancer):
    X, y = cancer
    dists = {"n_neighbors": IntDistribution(3, 9, step=2), "weights": ["uniform", "distance"]}
    s = MetaSearchCV(KNeighborsClassifier(), dists, n_trials=5, cv=3, random_state=0).fit(X, y)
    for p in s.cv_results_["params"]:
        assert p["n_neighbors"] in (3, 5, 7, 9) and p["weights"] in ("uniform", "distance")


def test_clear_errors(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="no built-in search space.*param_distributions"):
        MetaSearchCV(KNeighborsClassifier()).fit(X, y)
    with pytest.raises(ValueError, match=r"param_distributions\['C'\].*optuna distribution"):
        MetaSearchCV(LogisticRegression(), {"C": 3.0}).fit(X, y)
    with pytest.raises(ValueError, match="does not have; valid parameters"):
        MetaSearchCV(LogisticRegression(), {"gamma": FloatDistribution(0.1, 1.0)}).fit(X, y)
    with pytest.raises(ValueError, match="optimizes one scorer"):
        MetaSearchCV(LogisticRegression(), scoring=["accuracy", "roc_auc"]).fit(X, y)
    # GridSearchCV's multi-metric refit names its scorer: say how to get the same search here
    with pytest.raises(ValueError, match="pass scoring='accuracy' and refit=True"):
        MetaSearchCV(LogisticRegression(), refit="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="optimizes one scorer"):
        MetaSearchCV(LogisticRegression(), scoring=["accuracy", "roc_auc"], refit="accuracy").fit(X, y)
    with pytest.raises(ValueError, match="refit must be True or False.*callable"):
        MetaSearchCV(LogisticRegression(), refit=lambda cv_results: 0).fit(X, y)
    with pytest.raises(ValueError, match="n_trials must be an int >= 1, got 0"):
        MetaSearchCV(LogisticRegression(), n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="direction='maximize'"):
        MetaSearchCV(LogisticRegression(), study=optuna.create_study()).fit(X, y)


def test_xgboost_classes_other_than_0_to_k_are_refused_before_the_search(cancer):
    """XGBoost accepts only classes 0..K-1: with labels "no"/"yes" every configuration
    failed in every fold, and after the whole search the refit raised XGBoost's own words."""
    from xgboost import XGBClassifier

    X, y = cancer
    labels = np.where(y == 1, "yes", "no")
    for est, target, shown in [(XGBClassifier(n_estimators=5), labels, r"\['no', 'yes'\]"),
                               (make_pipeline(StandardScaler(), XGBClassifier(n_estimators=5)), y + 1, r"\[1, 2\]"),
                               (XGBClassifier(n_estimators=5), y.astype(str), r"\['0', '1'\]")]:
        with pytest.raises(ValueError, match=shown + r"; XGBClassifier accepts only classes 0\.\.1\. Encode"):
            MetaSearchCV(est, n_trials=50).fit(X, target)
    search = MetaSearchCV(XGBClassifier(n_estimators=5), n_trials=2, cv=2, random_state=0)
    assert np.isfinite(search.fit(X, y.astype(float)).best_score_)  # 0.0/1.0 are classes 0..1


def test_a_regression_target_given_to_a_classifier_is_refused_before_the_search(cancer):
    """A continuous target failed every fold of every configuration (sklearn's "Unknown label
    type" once per trial) before the search raised; an integer-valued one with as many
    classes as a regression target has was taken for classes to encode."""
    from sklearn.ensemble import RandomForestClassifier
    from xgboost import XGBClassifier

    X, y = cancer
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"y holds continuous values .* RandomForestClassifier is a classifier.*"
                                         r"looks like a regression target: tune a regressor"):
        MetaSearchCV(RandomForestClassifier(), n_trials=50).fit(X, rng.normal(size=len(y)))
    counts = rng.integers(0, 300, size=len(y)).astype(float)
    with pytest.raises(ValueError, match=r"accepts only classes .* looks like a regression target"):
        MetaSearchCV(XGBClassifier(n_estimators=5), n_trials=50).fit(X, counts)
    with pytest.raises(ValueError, match=r"accepts only classes 0\.\.1\. Encode") as info:
        MetaSearchCV(XGBClassifier(n_estimators=5), n_trials=50).fit(X, y + 1)
    assert "regression" not in str(info.value)  # two classes: no regression hint


class _Fragile(ClassifierMixin, BaseEstimator):
    """Fails to fit when ``c > 0.5``; otherwise a scaled logistic regression."""

    def __init__(self, c: float = 0.1) -> None:
        self.c = c

    def fit(self, X, y):
        if self.c > 0.5:
            raise RuntimeError("c too large")
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.c)).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_failing_configurations_follow_error_score(cancer):
    X, y = cancer
    dists = {"c": FloatDistribution(0.01, 1.0)}
    with pytest.warns(UserWarning, match="every fold of a configuration failed"):
        s = MetaSearchCV(_Fragile(), dists, n_trials=12, cv=3, random_state=0).fit(X, y)
    means = s.cv_results_["mean_test_score"]
    failed = np.array([p["c"] > 0.5 for p in s.cv_results_["params"]])
    assert failed.any() and (~failed).any()
    assert np.isnan(means[failed]).all() and np.isfinite(means[~failed]).all()
    assert s.cv_results_["rank_test_score"][failed].min() > s.cv_results_["rank_test_score"][~failed].max()
    assert s.best_params_["c"] <= 0.5
    s0 = MetaSearchCV(_Fragile(), dists, n_trials=12, cv=3, random_state=0, error_score=0.0).fit(X, y)
    failed0 = np.array([p["c"] > 0.5 for p in s0.cv_results_["params"]])
    assert failed0.any() and (s0.cv_results_["mean_test_score"][failed0] == 0.0).all()
    with pytest.raises(RuntimeError, match="c too large"):
        MetaSearchCV(_Fragile(), {"c": FloatDistribution(0.6, 1.0)}, n_trials=2, cv=3,
                     error_score="raise").fit(X, y)
    with pytest.raises(RuntimeError, match="c too large"):  # all failed: the real error
        MetaSearchCV(_Fragile(), {"c": FloatDistribution(0.6, 1.0)}, n_trials=2, cv=3).fit(X, y)


def test_clone_nesting_and_reproducibility(cancer):
    X, y = cancer
    search = MetaSearchCV(LogisticRegression(), n_trials=3, cv=2, random_state=3)
    assert clone(search).get_params()["n_trials"] == 3
    scores = cross_val_score(search, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.8)
    pipe = make_pipeline(StandardScaler(), MetaSearchCV(LogisticRegression(), n_trials=2, cv=2, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.8
    a = clone(search).fit(X, y).cv_results_["params"]
    b = clone(search).fit(X, y).cv_results_["params"]
    assert a == b


def test_study_is_continued_and_refit_false(cancer, tmp_path):
    X, y = cancer
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    study = optuna.create_study(direction="maximize", storage=storage, study_name="s")
    s = MetaSearchCV(LogisticRegression(), n_trials=2, cv=2, study=study,
                     refit=False).fit(X, y)
    assert s.n_trials_ == 2 and not hasattr(s, "best_estimator_")
    with pytest.raises(AttributeError, match="refit=False"):
        s.predict(X)
    again = optuna.load_study(study_name="s", storage=storage)
    s2 = MetaSearchCV(LogisticRegression(), n_trials=2, cv=2, study=again).fit(X, y)
    assert s2.n_trials_ == 4 and s2.best_score_ >= s.best_score_


def test_regression_with_timeout():
    X, y = load_diabetes(return_X_y=True)
    s = MetaSearchCV(Ridge(), n_trials=1000, timeout=1.0, cv=3, random_state=0).fit(X, y)
    assert 1 <= s.n_trials_ < 1000
    assert s.best_score_ > 0.3  # R^2 on diabetes


def test_works_on_messy_pandas_input():
    X, y = make_classification(200, 6, random_state=0)
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(6)])
    df.iloc[::7, 0] = np.nan
    from sklearn.ensemble import HistGradientBoostingClassifier

    s = MetaSearchCV(HistGradientBoostingClassifier(), n_trials=2, cv=2, random_state=0).fit(df, y)
    assert s.predict(df).shape == (200,)
