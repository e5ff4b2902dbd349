"""The landmarkers' cheap learners in numpy: the same models as scikit-learn's
``DecisionTreeClassifier`` (Gini, depth 1 or 3), ``GaussianNB`` and
``LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")`` and a 1-nearest neighbour
whose ties do not depend on the BLAS (classification and regression), without the per-fit
validation and thread-pool costs that dominate on landmark-sized data (30 fits per
dataset). Ties between equally good splits of different columns go to the first column
(scikit-learn visits columns in a random order), so a prediction can differ from
scikit-learn's in such ties only."""

from __future__ import annotations

import numpy as np

#: elements of one (columns x rows x classes) block of the vectorized split search
_BLOCK = 2_000_000


def _best_split(XT: np.ndarray, Y: np.ndarray, sorted_rows: np.ndarray) -> tuple[int, float] | None:
    """(column, threshold) of the split with the least weighted Gini impurity among a
    node's rows, or None. ``XT`` is the data transposed (columns x rows), ``Y`` the rows'
    one-hot classes, ``sorted_rows`` each column's rows of the node in value order
    (columns x m). Thresholds are midpoints between distinct values; rows with
    ``x <= threshold`` go left. Every column is searched at once; ties go to the first
    column, then to the smallest threshold."""
    d, m = sorted_rows.shape
    if m < 2:
        return None
    k = Y.shape[1]
    total = Y[sorted_rows[0]].sum(axis=0)
    nl = np.arange(1, m, dtype=np.float64)
    nr = m - nl
    t2 = float((total**2).sum())
    parent = t2 / m
    best, best_score = None, parent + 1e-12  # a split must lower the impurity
    step = max(1, _BLOCK // max(1, m * k))
    for lo in range(0, d, step):
        rows = sorted_rows[lo : lo + step]
        xs = np.take_along_axis(XT[lo : lo + step], rows, axis=1)
        valid = xs[:, 1:] > xs[:, :-1]
        left = np.cumsum(Y[rows], axis=1)[:, :-1]
        # sum of squared class counts left and right (right = total - left): higher is purer
        l2 = np.einsum("dmk,dmk->dm", left, left)
        score = l2 / nl + (t2 - 2.0 * (left @ total) + l2) / nr
        score = np.where(valid, score, -np.inf)
        at = np.argmax(score, axis=1)
        col_best = score[np.arange(len(at)), at]
        c = int(np.argmax(col_best))
        if col_best[c] > best_score:
            i = int(at[c])
            best = (lo + c, float((xs[c, i] + xs[c, i + 1]) / 2.0))
            best_score = float(col_best[c])
    return best


class DecisionTree:
    """A Gini decision tree of depth ``max_depth`` (leaves predict their majority class,
    ties to the smallest class code). :meth:`predict` can stop at a smaller depth: the
    tree cut at depth 1 is the stump fitted on the same rows."""

    def __init__(self, max_depth: int = 1) -> None:
        self.max_depth = max_depth

    def fit(self, X: np.ndarray, y: np.ndarray) -> DecisionTree:
        XT = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
        self.k = int(y.max()) + 1
        # float32 class counts are exact (landmark samples are far below 2**24 rows) and
        # halve the memory the split search streams; scores are computed in float64
        Y = np.eye(self.k, dtype=np.float32)[y]
        # each column's rows in value order, sorted once: a child's order is its parent's,
        # filtered (any order of equal values will do: splits fall between distinct values)
        self.tree = self._grow(XT, Y, np.argsort(XT, axis=1), 0)
        return self

    def _grow(self, XT: np.ndarray, Y: np.ndarray, sorted_rows: np.ndarray, depth: int) -> tuple:
        counts = Y[sorted_rows[0]].sum(axis=0)
        majority = int(np.argmax(counts))
        split = None
        if depth < self.max_depth and np.count_nonzero(counts) > 1:
            split = _best_split(XT, Y, sorted_rows)
        if split is None:
            return ("leaf", majority)
        j, t = split
        go_left = XT[j] <= t
        d = sorted_rows.shape[0]
        in_left = go_left[sorted_rows]
        n_left = int(in_left[0].sum())
        left = sorted_rows[in_left].reshape(d, n_left)
        right = sorted_rows[~in_left].reshape(d, sorted_rows.shape[1] - n_left)
        return ("split", j, t, self._grow(XT, Y, left, depth + 1), self._grow(XT, Y, right, depth + 1), majority)

    def predict(self, X: np.ndarray, depth: int | None = None) -> np.ndarray:
        """Classes of the rows of ``X``, descending at most ``depth`` levels (default: all)."""
        X = np.asarray(X, dtype=np.float64)
        out = np.empty(X.shape[0], dtype=np.int64)
        self._fill(self.tree, X, np.arange(X.shape[0]), out, self.max_depth if depth is None else depth)
        return out

    def _fill(self, node: tuple, X: np.ndarray, rows: np.ndarray, out: np.ndarray, depth: int) -> None:
        if node[0] == "leaf":
            out[rows] = node[1]
            return
        _, j, t, left, right, majority = node
        if depth == 0:
            out[rows] = majority
            return
        go_left = X[rows, j] <= t
        self._fill(left, X, rows[go_left], out, depth - 1)
        self._fill(right, X, rows[~go_left], out, depth - 1)


#: Class scores within this (relative) of the best are ties, won by the first class: the
#: rounding of a standardized column, which moves with the column's units, never decides.
SCORE_TIE = 1e-9


def _first_of_best(scores: np.ndarray) -> np.ndarray:
    """Per row, the first column whose score is within :data:`SCORE_TIE` of the row's best."""
    best = scores.max(axis=1, keepdims=True)
    return np.argmax(scores >= best - SCORE_TIE * (1.0 + np.abs(best)), axis=1)


class GaussianNaiveBayes:
    """Gaussian naive Bayes with scikit-learn's variance smoothing (1e-9 of the largest
    column variance, at least 1e-15) and class priors from the training frequencies; tied
    classes go to the first (:data:`SCORE_TIE`)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianNaiveBayes:
        X = np.asarray(X, dtype=np.float64)
        self.classes = np.unique(y)
        # floored at 1e-15 (the design is standardized, variance 1 over the whole sample):
        # where a fold's training rows hold one value, the variance left is the rounding of
        # the standardization (it moves with the column's units) or 0, which gave NaN scores
        eps = 1e-9 * max(float(np.var(X, axis=0).max()), 1e-6)
        self.mean = np.stack([X[y == c].mean(axis=0) for c in self.classes])
        self.var = np.stack([X[y == c].var(axis=0) for c in self.classes]) + eps
        self.log_prior = np.log(np.array([np.mean(y == c) for c in self.classes]))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        ll = -0.5 * (np.log(2.0 * np.pi * self.var).sum(axis=1)[None, :]
                     + (((X[:, None, :] - self.mean[None]) ** 2) / self.var[None]).sum(axis=2))
        return self.classes[_first_of_best(ll + self.log_prior[None, :])]


def _ledoit_wolf(Z: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrunk covariance of centred ``Z`` (as scikit-learn's ``ledoit_wolf``)."""
    n, d = Z.shape
    emp = Z.T @ Z / n
    mu = np.trace(emp) / d
    z2 = Z**2
    beta = float((z2.T @ z2).sum() / n - (emp**2).sum()) / n
    delta = float(((emp - mu * np.eye(d)) ** 2).sum())
    shrink = 0.0 if delta == 0 else min(beta, delta) / delta
    out = (1.0 - shrink) * emp
    out.flat[:: d + 1] += shrink * mu
    return out


class LinearDiscriminant:
    """Linear discriminant analysis as scikit-learn's ``solver="lsqr", shrinkage="auto"``:
    the priors-weighted within-class covariance, each class's estimated by Ledoit-Wolf on
    standardized columns, and least-squares discriminant coefficients; tied classes go to
    the first (:data:`SCORE_TIE`)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearDiscriminant:
        X = np.asarray(X, dtype=np.float64)
        self.classes = np.unique(y)
        priors = np.array([np.mean(y == c) for c in self.classes])
        means = np.stack([X[y == c].mean(axis=0) for c in self.classes])
        cov = np.zeros((X.shape[1], X.shape[1]))
        for p, c, m in zip(priors, self.classes, means):
            Xc = X[y == c] - m
            scale = Xc.std(axis=0)
            scale[scale == 0] = 1.0
            s = _ledoit_wolf(Xc / scale)
            cov += p * (scale[:, None] * s * scale[None, :])
        coef = np.linalg.lstsq(cov, means.T, rcond=None)[0].T
        self.coef = coef
        self.intercept = -0.5 * np.sum(means * coef, axis=1) + np.log(priors)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        scores = np.asarray(X, dtype=np.float64) @ self.coef.T + self.intercept
        return self.classes[_first_of_best(scores)]


class OneNearestNeighbour:
    """1-nearest neighbour, Euclidean, in numpy (one matrix product per fold; no thread
    pool to start, which is what dominates scikit-learn's version on landmark-sized data).
    Targets may be class labels or numbers (the regression landmarker uses it too).
    Ties go to the earliest training row: distances within ``TIE`` (relative) of the nearest
    are ties, so that the rounding of the matrix product, which changes with the BLAS
    library, its thread count and the arrays' alignment, never decides a neighbour."""

    TIE = 1e-9

    def fit(self, X: np.ndarray, y: np.ndarray) -> OneNearestNeighbour:
        X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y)
        self.sq = (X**2).sum(axis=1)
        self.sq_max = float(self.sq.max()) if len(self.sq) else 0.0
        self.minus_2x = -2.0 * X  # exact: the distances below are those of |a|^2 - 2 a.b
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        # squared distances up to |x|^2 (the same for every training row), in place: the
        # temporaries of the plain expression cost more than the product itself
        X = np.asarray(X, dtype=np.float64)
        d2 = X @ self.minus_2x.T
        d2 += self.sq
        # the product's rounding error is far below TIE x (|x|^2 + max |a|^2)
        slack = self.TIE * ((X**2).sum(axis=1) + self.sq_max) + np.finfo(np.float64).tiny
        nearest = d2.min(axis=1) + slack
        return self.y[np.argmax(d2 <= nearest[:, None], axis=1)]
