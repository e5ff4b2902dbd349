"""Behaviour of metafeatures.extract and list_features: API, invariances, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

import metafeatures


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def mixed_frame(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "skewed": rng.lognormal(size=n),
            "ints": rng.integers(0, 5, size=n),
            "flag": rng.random(n) > 0.5,
            "color": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
            "text": rng.choice(["a", "b", "c", "d"], size=n).astype(object),
            "with_nan": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        }
    )
    y = pd.Series(rng.choice(["yes", "no"], size=n))
    return X, y


# ----------------------------------------------------------------- API
def test_list_features_describes_every_feature():
    info = metafeatures.list_features()
    assert list(info.columns[:5]) == ["name", "group", "description", "cost", "openml_name"]
    assert len(info) >= 80
    assert info["name"].is_unique
    assert set(info["group"]) == {"general", "statistical", "information", "landmarking", "target"}
    assert set(info["cost"]) <= {"low", "medium", "high"}
    openml = info.loc[info["openml_name"] != "", "openml_name"]
    for name in ("NumberOfInstances", "ClassEntropy", "MajorityClassPercentage",
                 "MeanMutualInformation", "EquivalentNumberOfAtts"):
        assert name in set(openml)
    # OpenML names are CamelCase; ours are dotted lower-case: one scheme each
    ours = info.loc[info["openml_name"] == "", "name"]
    assert all("." in n and n == n.lower() for n in ours)


def test_output_is_stable_ordered_finite_and_deterministic(iris):
    X, y = iris
    a = metafeatures.extract(X, y, random_state=3)
    b = metafeatures.extract(X, y, random_state=3)
    assert list(a.index) == list(metafeatures.list_features()["name"])
    assert np.all(np.isfinite(a.to_numpy()))
    pd.testing.assert_series_equal(a, b)
    assert a.attrs["task"] == "classification"


def test_undefined_features_are_zero_and_listed():
    X, y = load_diabetes(return_X_y=True)
    m = metafeatures.extract(X, y)
    assert m.attrs["task"] == "regression"
    undefined = m.attrs["undefined"]
    assert "ClassEntropy" in undefined and "landmark.1nn.accuracy" in undefined
    assert (m[undefined] == metafeatures.UNDEFINED).all()
    assert "target.landmark.linear.r2" not in undefined
    assert 0.2 < m["target.landmark.linear.r2"] < 0.7  # diabetes: linear R^2 is about 0.5


def test_constant_column_kurtosis_is_excluded_not_nan():
    X = np.column_stack([np.ones(50), np.arange(50.0)])
    y = np.arange(50) % 2
    m = metafeatures.extract(X, y)
    assert m["MaxKurtosisOfNumericAtts"] == pytest.approx(-1.2, abs=0.01)  # uniform column only
    X2 = np.ones((50, 2))
    m2 = metafeatures.extract(X2, y)
    assert "MeanKurtosisOfNumericAtts" in m2.attrs["undefined"]


def test_task_inference_and_override(iris):
    X, y = iris
    assert metafeatures.extract(X, y.astype(float)).attrs["task"] == "classification"
    assert metafeatures.extract(X, X[:, 0]).attrs["task"] == "regression"
    assert metafeatures.extract(X, y, task="regression").attrs["task"] == "regression"
    assert metafeatures.extract(X, y.astype(str)).attrs["task"] == "classification"
    assert metafeatures.extract(X, y == 1).attrs["task"] == "classification"


def test_mixed_dtypes_frame():
    X, y = mixed_frame()
    before = X.copy(deep=True)
    m = metafeatures.extract(X, y)
    pd.testing.assert_frame_equal(X, before)  # never modified
    assert m["NumberOfSymbolicFeatures"] == 3 + 1  # flag, color, text, and the class
    assert m["NumberOfNumericFeatures"] == 4
    assert m["NumberOfBinaryFeatures"] == 1 + 1  # flag, and the binary class
    assert m["NumberOfMissingValues"] == X["with_nan"].isna().sum()
    assert m["MeanAttributeEntropy"] > 0  # nominal attributes exist
    assert np.all(np.isfinite(m.to_numpy()))


def test_groups_and_time_budget(iris):
    X, y = iris
    m = metafeatures.extract(X, y, groups=["general"])
    assert set(metafeatures.list_features().set_index("name").loc[m.index, "group"]) == {"general"}
    m = metafeatures.extract(X, y, time_budget=1e-9)
    assert m.attrs["skipped"]  # everything after the first group was skipped
    assert "landmarking" in m.attrs["skipped"]
    with pytest.raises(ValueError, match="groups"):
        metafeatures.extract(X, y, groups=["nope"])
    # None is every group, as "all" is; a value that names no group says so
    pd.testing.assert_series_equal(metafeatures.extract(X, y, groups=None), metafeatures.extract(X, y))
    with pytest.raises(TypeError, match="groups=5 is not a group name"):
        metafeatures.extract(X, y, groups=5)


def test_max_rows_bounds_the_subsample():
    X, y = load_breast_cancer(return_X_y=True)
    m = metafeatures.extract(X, y, max_rows=100)
    assert m.attrs["rows_used"] == 100
    assert m["NumberOfInstances"] == len(y)  # counts use every row


# ----------------------------------------------------------------- invariances
def test_row_and_column_permutations_are_exact(iris):
    X, y = iris
    rng = np.random.default_rng(0)
    base = metafeatures.extract(X, y)
    rows = rng.permutation(len(y))
    cols = rng.permutation(X.shape[1])
    perm = metafeatures.extract(X[rows][:, cols], y[rows])
    # canonical order: landmarkers included, equal up to summation order
    np.testing.assert_allclose(perm.to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-12)


finite_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=hnp.arrays(np.float64, st.tuples(st.integers(6, 40), st.integers(1, 5)), elements=finite_floats),
    labels=st.lists(st.integers(0, 2), min_size=40, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_permutation_invariance_property(data, labels, seed):
    y = np.array(labels[: data.shape[0]])
    if np.unique(y).size < 2:
        y[0], y[1] = 0, 1
    rng = np.random.default_rng(seed)
    rows = rng.permutation(data.shape[0])
    cols = rng.permutation(data.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = metafeatures.extract(data, y)
        b = metafeatures.extract(data[rows][:, cols], y[rows])
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-7, atol=1e-7)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # measurements at a resolution (quarters): values a few roundings apart (0 and 2e-16 in a
    # column reaching 17) are not data a unit change keeps, as scaling or standardizing them
    # merges or splits them
    data=hnp.arrays(np.float64, st.tuples(st.integers(8, 40), st.integers(1, 4)),
                    elements=st.integers(-400, 400).map(lambda v: v / 4.0)),
    scales=st.lists(st.floats(0.01, 100.0), min_size=4, max_size=4),
    regression=st.booleans(),
    subsample=st.booleans(),
)
def test_columns_in_other_units_leave_every_scale_free_feature_unchanged(data, scales, regression, subsample):
    """Each column (and a numeric target) in its own units: the landmarkers too, and the
    subsample of a table past ``max_rows``, since rows and columns are ordered by ranks."""
    n, d = data.shape
    y = np.sin(np.arange(n) * 1.7) * 50 if regression else np.arange(n) % 2
    factors = np.array(scales[:d])
    info = metafeatures.list_features().set_index("name")
    scale_free = info.index[info["scale_free"]]
    kw = {"max_rows": max(10, n // 2 + 2)} if subsample else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = metafeatures.extract(data, y, **kw).reindex(scale_free)
        b = metafeatures.extract(data * factors, y * scales[0] if regression else y, **kw).reindex(scale_free)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-6, atol=1e-6)


def test_a_table_in_other_units_gets_the_same_landmarkers_and_subsample():
    """Landmarkers read their folds and the subsample in an order hashed from the data: from
    the values themselves, a unit change (x 100, + 273.15) moved them (digits: 12 of 118
    scale-free meta-features; a 130,000-row table: 54, through its 100,000-row subsample)."""
    rng = np.random.default_rng(3)
    n = 3_000
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.gamma(2.0, size=n), "c": rng.integers(0, 9, n),
                      "d": rng.normal(size=n)})
    y = (x["a"] + x["c"] / 4 + rng.normal(size=n) > 1).astype(int)
    landmarks = [f for f in metafeatures.list_features()["name"] if f.startswith("landmark.")]
    other = x.assign(a=x["a"] * 100.0, b=x["b"] + 273.15, c=x["c"] * 2.5 - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = metafeatures.extract(x, y, max_rows=1_000).reindex(landmarks)
        moved = metafeatures.extract(other, y, max_rows=1_000).reindex(landmarks)
    assert base.notna().sum() >= 8
    np.testing.assert_allclose(moved.to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-12)


def test_columns_of_values_near_1e300_keep_their_scale_free_features():
    """Squares of values past 1e154 overflow: the column counted as constant (no skewness,
    no kurtosis), its correlations were lost and its landmark column was all zeros, with
    overflow warnings; the same table at ordinary scale is the reference."""
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"a": rng.normal(size=300), "b": rng.gamma(2.0, size=300), "c": rng.normal(size=300)})
    x["c"] += 0.8 * x["a"]
    y = (x["a"] + 0.5 * rng.normal(size=300) > 0).astype(int)
    from metafeatures._prepare import prepare

    info = metafeatures.list_features().set_index("name")
    scale_free = info.index[info["scale_free"]]
    big = x.assign(b=x["b"] * 1e300, c=x["c"] * 1e299)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning reaches the user
        huge = metafeatures.extract(big, y)
        design = prepare(big, y).landmark_X
    ordinary = metafeatures.extract(x, y)
    np.testing.assert_allclose(huge[scale_free].to_numpy(), ordinary[scale_free].to_numpy(), rtol=1e-6, atol=1e-9)
    # the landmarkers' standardized columns: unit spread each, none flattened to zeros
    np.testing.assert_allclose(design.std(axis=0), 1.0, rtol=1e-9)


column_strategies = st.sampled_from(["float", "int", "bool", "category", "object", "nan", "const"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(column_strategies, min_size=1, max_size=6),
    n=st.integers(2, 60),
    y_kind=st.sampled_from(["int", "str", "bool", "float"]),
    seed=st.integers(0, 1000),
)
def test_no_shape_or_dtype_crashes(kinds, n, y_kind, seed):
    rng = np.random.default_rng(seed)
    cols = {}
    for i, kind in enumerate(kinds):
        if kind == "float":
            cols[f"c{i}"] = rng.normal(size=n)
        elif kind == "int":
            cols[f"c{i}"] = rng.integers(-3, 3, size=n)
        elif kind == "bool":
            cols[f"c{i}"] = rng.random(n) > 0.5
        elif kind == "category":
            cols[f"c{i}"] = pd.Categorical(rng.choice(["x", "y", "z"], size=n))
        elif kind == "object":
            cols[f"c{i}"] = rng.choice(["p", "q"], size=n).astype(object)
        elif kind == "nan":
            v = rng.normal(size=n)
            v[rng.random(n) < 0.5] = np.nan
            v[0] = 1.0
            cols[f"c{i}"] = v
        else:
            cols[f"c{i}"] = np.full(n, 7.0)
    X = pd.DataFrame(cols)
    if y_kind == "float":
        y = rng.normal(size=n)
    else:
        y = rng.integers(0, 3, size=n)
        y[0], y[1] = 0, 1
        y = {"int": y, "str": y.astype(str), "bool": y > 0}[y_kind]
        if y_kind == "bool":
            y[0], y[1] = False, True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = metafeatures.extract(X, y)
    assert np.all(np.isfinite(m.to_numpy()))
    assert len(m) == len(metafeatures.list_features())


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, y, exc, match",
    [
        (np.ones((5, 2)), np.arange(4), ValueError, "different lengths"),
        (np.ones((5, 2)), None, ValueError, "y is None; pass the target"),
        (np.ones((0, 2)), np.arange(0), ValueError, "empty"),
        (np.ones((3, 0)), np.arange(3), ValueError, "empty"),
        (np.ones((1, 2)), np.arange(1), ValueError, "at least 2 rows"),
        (np.ones((4, 2)), np.zeros(4), ValueError, "single class"),
        (np.ones(4), np.arange(4), ValueError, "2-D"),
        (np.ones((2, 2, 2)), np.arange(2), ValueError, "2-D"),
        (np.ones((4, 2)), np.array([0, 1, np.nan, 1]), ValueError, "missing values"),
        (np.ones((4, 2)), np.array([0, 1, np.inf, 1]), ValueError, "infinite"),
        (np.column_stack([np.ones(4), np.full(4, np.nan)]), [0, 1, 0, 1], ValueError, "only missing values"),
        (pd.DataFrame({"d": pd.date_range("2020", periods=4)}), [0, 1, 0, 1], TypeError, "convert dates"),
        (pd.DataFrame({"z": np.ones(4) * 1j}), [0, 1, 0, 1], TypeError, "complex"),
        (pd.DataFrame({"t": pd.to_timedelta(np.arange(4), unit="s")}), [0, 1, 0, 1], TypeError,
         r"convert durations to numbers \(e.g. X\[col\].dt.total_seconds"),
    ],
)
def test_bad_input_errors_name_the_problem_and_fix(X, y, exc, match):
    with pytest.raises(exc, match=match):
        metafeatures.extract(X, y)


def test_a_sparse_matrix_is_described_as_the_dense_table_it_stands_for():
    """A sparse X (one-hot or count features) was refused; its zeros are values."""
    import scipy.sparse as sp

    X = sp.random(200, 12, density=0.2, format="csr", random_state=0)
    y = (np.asarray(X.sum(axis=1)).ravel() > 0.6).astype(int)
    dense = metafeatures.extract(X.toarray(), y)
    for fmt in ("csr", "csc", "coo"):
        pd.testing.assert_series_equal(metafeatures.extract(X.asformat(fmt), y), dense)
    huge = sp.random(100_000, 101, density=1e-4, format="csr", random_state=0)  # 10.1 million cells
    with pytest.raises(TypeError, match=r"sparse matrix of 100,000 x 101: too large .* TruncatedSVD"):
        metafeatures.extract(huge, np.arange(100_000) % 2)


def test_bad_arguments():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="task="):
        metafeatures.extract(X, y, task="clustering")
    with pytest.raises(TypeError, match="random_state"):
        metafeatures.extract(X, y, random_state="0")
    with pytest.raises(ValueError, match="max_rows"):
        metafeatures.extract(X, y, max_rows=1)
    with pytest.raises(ValueError, match="time_budget"):
        metafeatures.extract(X, y, time_budget=-1)
    with pytest.raises(ValueError, match="numeric y"):
        metafeatures.extract(X, y.astype(str), task="regression")


def test_tied_principal_components_leave_first_component_features_undefined():
    # three exchangeable binary columns: the leading eigenvalues tie
    X = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 1], [1, 1, 0]] + [[1, 1, 1]] * 5, dtype=float)
    y = np.arange(9) % 2
    for scale in (1.0, 0.5):
        m = metafeatures.extract(X * scale, y)
        assert "stat.pca.first_skewness_abs" in m.attrs["undefined"]


def test_infinite_values_are_missing_with_a_warning():
    X = np.arange(40, dtype=float).reshape(20, 2)
    X[3, 1] = np.inf
    before = X.copy()
    with pytest.warns(RuntimeWarning, match="treated as missing"):
        m = metafeatures.extract(X, np.arange(20) % 2)
    assert m["NumberOfMissingValues"] == 1
    assert m.attrs["infinite_values_as_missing"] == 1
    np.testing.assert_array_equal(X, before)


def test_wide_and_long_tables_are_bounded_and_say_so():
    """Issue 16, item 15: the quadratic statistics read at most 256 columns, the
    landmarkers 100, and the statistical/information groups a bounded number of cells;
    attrs["cut"] says what was cut, and every value is still finite."""
    from metafeatures._prepare import CELL_BUDGET, LANDMARK_COLS
    from metafeatures.statistical import MAX_GRAM_COLS

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 600))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = metafeatures.extract(X, y)
    cut = " ".join(m.attrs["cut"])
    assert f"{MAX_GRAM_COLS} of 600 numeric columns" in cut and f"first {LANDMARK_COLS} of 600" in cut
    assert np.isfinite(m.to_numpy()).all()
    long = rng.normal(size=(CELL_BUDGET // 400 + 500, 400))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m2 = metafeatures.extract(long, (long[:, 0] > 0).astype(int), groups=["general", "statistical"])
    assert m2.attrs["rows_used"] == CELL_BUDGET // 400 and "rows" in " ".join(m2.attrs["cut"])
    small = metafeatures.extract(X[:, :20], y)
    assert small.attrs["cut"] == []


def test_columns_with_the_same_values_in_other_rows_keep_the_canonical_order():
    X = np.ones((9, 3))
    X[0, 1] = 0.0  # columns 1 and 2: eight ones and a zero each, in different rows
    X[7, 2] = 0.0
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = metafeatures.extract(X, y)
        b = metafeatures.extract(X[:, [0, 2, 1]], y)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-7, atol=1e-7)


def test_columns_tied_in_pairs_of_two_kinds_keep_their_pairing_in_any_order():
    """A table symmetric under swapping x0 with x1 *and* c0 with c1 (hypothesis found it):
    every hash of a column and its rows ties, and ordering each kind on its own paired x0
    with c0 in one column order and with c1 in another, so the landmarkers' folds saw other
    tables. The pairing now follows from singling out one column and refining."""
    n = 17
    data = np.zeros((n, 6))
    data[0, 0] = data[9, 1] = 1.0
    cats = np.array(["a"] * n, dtype=object)
    cats[[9, 16]] = "b"
    X = pd.DataFrame(data, columns=[f"x{j}" for j in range(6)])
    X["c0"] = pd.Categorical(cats)
    X["c1"] = pd.Categorical(np.roll(cats, 1))
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, n)
    y[[0, 9]] = 0
    y[[10, 16]] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = metafeatures.extract(X, y)
        for cols in ([0, 7, 1, 3, 2, 6, 4, 5], [1, 0, 2, 3, 4, 5, 6, 7], [7, 6, 5, 4, 3, 2, 1, 0]):
            rows = rng.permutation(n)
            b = metafeatures.extract(X.iloc[rows, cols].reset_index(drop=True), y[rows])
            np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-7, atol=1e-7, err_msg=str(cols))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # few distinct values: columns with equal value multisets in other rows are common
    data=hnp.arrays(np.int64, st.tuples(st.integers(8, 30), st.integers(2, 6)), elements=st.integers(0, 1)),
    cats=st.lists(st.sampled_from(["a", "b"]), min_size=30, max_size=30),
    seed=st.integers(0, 2**16),
)
def test_permutation_invariance_with_tied_columns(data, cats, seed):
    n = data.shape[0]
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(data.astype(float), columns=[f"x{j}" for j in range(data.shape[1])])
    X["c0"] = pd.Categorical(cats[:n])
    X["c1"] = pd.Categorical(np.roll(cats[:n], 1))  # the same labels, other rows
    y = (data[:, 0] + rng.integers(0, 2, n)) % 2
    y[0], y[1] = 0, 1
    rows = rng.permutation(n)
    cols = rng.permutation(X.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = metafeatures.extract(X, y)
        b = metafeatures.extract(X.iloc[rows, cols].reset_index(drop=True), y[rows])
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-7, atol=1e-7)


def test_infer_task_reads_a_target_with_infinite_values_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metafeatures.infer_task(np.array([0.0, 1.0, np.inf, 1.0])) == "regression"
        assert metafeatures.infer_task(np.array([0.0, 1.0, 2.0, 1.0])) == "classification"


def test_tables_past_the_rank_budget_hash_values_and_keep_order_invariance(monkeypatch):
    """Past ``RANK_CELLS`` cells the order comes from the values (no sort per column): the
    caller's row and column order still do not matter, the units again do."""
    from metafeatures import _prepare

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.integers(0, 5, 400).astype(float),
                      "c": rng.gamma(2.0, size=400)})
    y = (X["a"] + X["b"] / 3 + rng.normal(size=400) > 1).astype(int)
    rows, cols = rng.permutation(400), ["c", "a", "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        by_rank = metafeatures.extract(X, y, max_rows=200)
        monkeypatch.setattr(_prepare, "RANK_CELLS", 0)
        base = metafeatures.extract(X, y, max_rows=200)
        moved = metafeatures.extract(X.iloc[rows][cols], y.iloc[rows], max_rows=200)
        units = metafeatures.extract(X.assign(a=X["a"] * 100.0), y, max_rows=200)
    np.testing.assert_allclose(moved.to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-12)
    landmarks = [f for f in base.index if f.startswith("landmark.")]
    assert not np.allclose(by_rank[landmarks].to_numpy(), base[landmarks].to_numpy(), equal_nan=True)
    assert not np.allclose(units[landmarks].to_numpy(), base[landmarks].to_numpy(), equal_nan=True)


def test_columns_with_the_same_ranks_keep_one_order_whatever_the_callers():
    """``x`` and ``exp(x)`` hash alike by rank: the whole extraction still does not follow
    the caller's column order (where they are placed is tested below, on the ordering)."""
    rng = np.random.default_rng(8)
    a = rng.normal(size=300)
    X = pd.DataFrame({"a": a, "b": np.exp(a), "c": rng.normal(size=300)})
    y = (a + rng.normal(size=300) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = metafeatures.extract(X, y)
        swapped = metafeatures.extract(X[["c", "b", "a"]], y)
    np.testing.assert_allclose(swapped.to_numpy(), base.to_numpy(), rtol=1e-9, atol=1e-12)


def test_columns_with_the_same_ranks_are_placed_by_their_values():
    """Tied on every hash, ``x`` and ``exp(x)`` are placed by their values, so which of them
    a column cut keeps (the landmarkers' first 100, the quadratic features' first 256) does
    not follow the caller's order."""
    from metafeatures._canonical import column_orders

    rng = np.random.default_rng(9)
    a = rng.normal(size=50)
    cols = {"a": a, "exp": np.exp(a), "c": rng.normal(size=50)}
    row_hash = np.zeros(50, dtype=np.uint64)  # the same rows for both callers
    placed = []
    for names in (["a", "exp", "c"], ["exp", "a", "c"], ["c", "exp", "a"]):
        keys = [np.uint64(9) if k == "c" else np.uint64(7) for k in names]  # a and exp share a key
        (order, _) = column_orders([(keys, [cols[k] for k in names]), ([], [])], row_hash)
        placed.append([names[j] for j in order])
    assert placed[0] == placed[1] == placed[2], placed
