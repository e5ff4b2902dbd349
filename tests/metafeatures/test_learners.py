"""The landmarkers' numpy learners predict as scikit-learn's (ties between columns aside)."""

from __future__ import annotations

import numpy as np
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from metafeatures import landmarking
from metafeatures._learners import DecisionTree, GaussianNaiveBayes, LinearDiscriminant


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
                 "1nn": (KNeighborsClassifier(n_neighbors=1), landmarking._OneNearestNeighbour())}
        for name, (ref, ours) in pairs.items():
            agree[name].append(float(np.mean(ref.fit(X, y).predict(T) == ours.fit(X, y).predict(T))))
    for name in ("stump", "nb", "lda", "1nn"):
        assert min(agree[name]) == 1.0, (name, agree[name])
    assert np.mean(agree["tree3"]) > 0.99, agree["tree3"]
