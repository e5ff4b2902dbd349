"""Validate and prepare a dataset once; every feature group reads the prepared form.

Preparation does, exactly once per call of :func:`metafeatures.extract`:

* validation of ``X`` and ``y`` (clear errors naming the argument and the fix);
* typing of columns (numeric, categorical; bool and 2-valued columns are binary);
* infinite values are treated as missing values (and reported in the metadata);
* a *canonical order* of rows and columns computed from content hashes, so that
  the result does not depend on the order of the caller's rows or columns;
* one bounded subsample (``max_rows``) for the statistical and information-theoretic
  groups, and one smaller subsample for the landmarkers;
* one discretization (equal-frequency bins) and one numeric encoding.

The caller's data is never modified: everything here works on copies of columns.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from ._canonical import column_orders, element_hashes, row_order
from ._inputs import _as_frame, _validate_y
from ._numeric import (
    BLOCK,
    _equal_frequency_bins,
    _splitmix64,
    discretize,
)

#: Rows used by statistical and information-theoretic features when ``max_rows`` is None.
DEFAULT_MAX_ROWS = 100_000
#: Cells (rows x columns) the statistical and information groups read by default: a wide
#: table uses fewer rows (never fewer than ``MIN_ROWS_WIDE``), so their cost is bounded.
CELL_BUDGET = 5_000_000
MIN_ROWS_WIDE = 2_000
#: Tables up to this many cells order their rows and columns by the ranks of the values
#: (a column in other units keeps the subsample, the folds and the landmarkers); larger
#: ones by the values themselves: ranking costs a sort per column (BENCHMARKS.md, session
#: 25: 1,000,000 x 100 took 2.75x as long by rank, 100,000 x 100 1.41x).
RANK_CELLS = 20_000_000
#: Input columns the landmarkers use at most (the first in the canonical column order).
LANDMARK_COLS = 100
#: Rows used by the landmarkers (cross-validated cheap learners).
LANDMARK_ROWS = 2_000
#: Integer-valued targets with at most this many distinct values are classification.
MAX_CLASSES_AUTO = 20
#: Categorical columns are one-hot encoded on their most frequent levels only.
MAX_ONEHOT_LEVELS = 10

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass
class Prepared:
    """The prepared form of a dataset, shared by every feature group."""

    task: str  # "classification" or "regression"
    n_rows: int  # rows of the full input
    n_features: int  # input columns
    # --- full-data counts (general group) ---
    n_numeric: int
    n_categorical: int
    n_binary: int
    n_missing: int
    n_rows_with_missing: int
    n_cols_with_missing: int
    n_infinite: int
    cat_levels: np.ndarray  # distinct non-missing levels per categorical column
    class_counts: np.ndarray  # full-data class counts (classification), sorted desc
    # --- subsample (canonical order), used by statistical and info-theory groups ---
    num: np.ndarray  # float64 (m, d_num), NaN = missing
    cat: np.ndarray  # int64 (m, d_cat) codes, -1 = missing
    y_codes: np.ndarray | None  # int64 (m,) class codes (classification)
    y_num: np.ndarray | None  # float64 (m,) target (regression)
    y_disc: np.ndarray  # int64 (m,) class codes, or the discretized regression target
    n_classes: int
    # --- derived once ---
    num_imputed: np.ndarray = field(default=None)  # type: ignore[assignment]  # ``num`` itself without NaN
    num_imputed_mean: np.ndarray = field(default=None)  # type: ignore[assignment]
    disc_num: np.ndarray = field(default=None)  # type: ignore[assignment]
    n_bins: int = 0
    landmark_X: np.ndarray = field(default=None)  # type: ignore[assignment]
    landmark_y: np.ndarray = field(default=None)  # type: ignore[assignment]
    random_state: int = 0
    notes: dict = field(default_factory=dict)

    @property
    def m(self) -> int:
        """Rows in the subsample."""
        return int(self.num.shape[0])


# --------------------------------------------------------------------------- columns
def _column_kind(name: object, col: pd.Series) -> str:
    dtype = col.dtype
    if ptypes.is_bool_dtype(dtype):
        return "categorical"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if ptypes.is_complex_dtype(dtype):
        raise TypeError(
            f"X column {name!r} has unsupported dtype {dtype} (complex numbers); "
            "convert it to real numbers or drop it."
        )
    if ptypes.is_datetime64_any_dtype(dtype):
        raise TypeError(
            f"X column {name!r} has unsupported dtype {dtype}; convert dates to numbers "
            "(e.g. year, day of week, seconds since epoch) or drop the column."
        )
    if ptypes.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"X column {name!r} has unsupported dtype {dtype}; convert durations to numbers "
            "(e.g. X[col].dt.total_seconds()) or drop the column."
        )
    if ptypes.is_numeric_dtype(dtype):
        return "numeric"
    if ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype):
        # object columns holding only numbers are numeric; anything else is categorical.
        non_null = col.dropna()
        if len(non_null) and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in non_null.iloc[: min(len(non_null), 1000)]
        ):
            converted = pd.to_numeric(non_null, errors="coerce")
            if converted.notna().all():
                return "numeric"
        return "categorical"
    raise TypeError(
        f"X column {name!r} has unsupported dtype {dtype}; convert it to a numeric, "
        "bool, categorical or string column, or drop it."
    )


def _has_two_values(a: np.ndarray) -> bool:
    """Exactly two distinct values, in O(n) (no sort)."""
    if a.size < 2:
        return False
    others = a[a != a[0]]
    return bool(others.size) and bool(np.all(others == others[0]))


def infer_task(ys: pd.Series | np.ndarray) -> str:
    """The task type a target calls for: classification for bool/categorical/string
    targets and for integer-valued numeric targets with at most ``MAX_CLASSES_AUTO``
    distinct values; else regression. Every learn2tune command decides it here."""
    ys = ys if isinstance(ys, pd.Series) else pd.Series(np.asarray(ys))
    dtype = ys.dtype
    if not ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
        return "classification"
    vals = ys.to_numpy(dtype=float)
    if not np.all(np.isfinite(vals)):  # infinite (or missing) values: not class labels
        return "regression"
    if np.all(np.mod(vals, 1.0) == 0.0) and len(np.unique(vals)) <= MAX_CLASSES_AUTO:
        return "classification"
    return "regression"


def prepare(
    X: object,
    y: object,
    *,
    task: str = "auto",
    random_state: int = 0,
    max_rows: int | None = None,
    landmark_rows: int = LANDMARK_ROWS,
) -> Prepared:
    """Validate ``X``/``y`` and build the shared prepared form (see module docstring)."""
    if task not in ("auto", "classification", "regression"):
        raise ValueError(
            f"task={task!r} is not supported; use 'auto', 'classification' or 'regression'."
        )
    if not isinstance(random_state, (int, np.integer)) or isinstance(random_state, bool):
        raise TypeError(
            f"random_state must be an int, got {random_state!r}; pass e.g. random_state=0."
        )
    if max_rows is not None and (not isinstance(max_rows, (int, np.integer)) or max_rows < 10):
        raise ValueError(f"max_rows must be None or an int >= 10, got {max_rows!r}.")

    df = _as_frame(X)
    n, d = df.shape
    if n == 0 or d == 0:
        raise ValueError(
            f"X is empty (shape {df.shape}); pass at least 2 rows and 1 column."
        )
    if n < 2:
        raise ValueError(f"X has {n} row; meta-features need at least 2 rows.")
    ys = _validate_y(y, n)
    if task == "auto":
        task = infer_task(ys)

    # ---- target
    if task == "classification":
        if ptypes.is_numeric_dtype(ys.dtype) or ptypes.is_bool_dtype(ys.dtype):
            labels = ys.to_numpy()
        else:
            labels = ys.astype("string").to_numpy(dtype=object)
        uniq, y_codes_full = np.unique(labels, return_inverse=True)
        if uniq.size < 2:
            raise ValueError(
                f"y has a single class ({uniq[0]!r}); classification meta-features need "
                "at least 2 classes (or pass task='regression' for a numeric target)."
            )
        class_counts = np.sort(np.bincount(y_codes_full))[::-1]
        y_hash = _splitmix64(y_codes_full.astype(np.uint64) + np.uint64(0x1234567))
        y_num_full = None
    else:
        if not ptypes.is_numeric_dtype(ys.dtype) or ptypes.is_bool_dtype(ys.dtype):
            raise ValueError(
                f"task='regression' needs a numeric y, got dtype {ys.dtype}; "
                "use task='classification' or convert y to numbers."
            )
        y_num_full = ys.to_numpy(dtype=np.float64)
        y_codes_full = None
        class_counts = np.zeros(0, dtype=np.int64)
        y_hash = element_hashes(y_num_full, None)  # by rank: a target in other units hashes alike
    with np.errstate(over="ignore"):
        y_mix = _splitmix64(y_hash ^ np.uint64(0x7F4A7C159E3779B9))

    # ---- columns: type, hash, missing counts (full data, column by column: no full copy);
    # numbers hashed by their ranks (units do not move the order) up to RANK_CELLS cells
    by_rank = n * d <= RANK_CELLS
    num_cols: list[np.ndarray] = []
    num_hash: list[np.uint64] = []
    cat_cols: list[np.ndarray] = []  # object arrays of labels (None = missing)
    cat_hash: list[np.uint64] = []
    row_hash = np.zeros(n, dtype=np.uint64)
    row_missing = np.zeros(n, dtype=bool)
    n_missing = 0
    n_cols_missing = 0
    n_inf = 0
    n_binary = 0
    all_nan: list[object] = []
    columns = list(df.columns)
    for j, name in enumerate(columns):
        col = df.iloc[:, j]
        kind = _column_kind(name, col)
        if kind == "numeric":
            # a view where possible: the full column is never copied, only the subsample
            vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
            miss = ~np.isfinite(vals)
            any_miss = bool(miss.any())
            if any_miss:
                n_inf += int(np.isinf(vals).sum())
        else:
            miss = col.isna().to_numpy()
            vals = col.astype("string").to_numpy(dtype=object, na_value=None)
        h = element_hashes(vals, miss if (kind != "numeric" or any_miss) else None, by_rank)
        n_miss_col = int(miss.sum())
        if n_miss_col == n:
            all_nan.append(name)
            continue
        if n_miss_col:
            n_missing += n_miss_col
            n_cols_missing += 1
            row_missing |= miss
        with np.errstate(over="ignore"):
            # a column's key: the multiset of its (value rank, target) pairs, so that columns
            # are told apart without looking at their values' units
            colh = _splitmix64(np.array([_splitmix64(h ^ y_mix).sum(dtype=np.uint64)]))[0] | np.uint64(1)
            row_hash += h * colh
        if kind == "numeric":
            if _has_two_values(vals[~miss] if n_miss_col else vals):
                n_binary += 1
            num_cols.append(vals)
            num_hash.append(colh)
        else:
            distinct = pd.unique(vals[~miss])
            if distinct.size == 2:
                n_binary += 1
            cat_cols.append(vals)
            cat_hash.append(colh)
    if all_nan:
        raise ValueError(
            f"X has {len(all_nan)} column(s) with only missing values: {all_nan[:10]}; "
            "drop them (e.g. X.dropna(axis=1, how='all')) before extracting."
        )
    if n_inf:
        warnings.warn(
            f"X contains {n_inf} infinite values; they are treated as missing values.",
            RuntimeWarning,
            stacklevel=3,
        )

    with np.errstate(over="ignore"):
        row_hash += y_hash * np.uint64(0x2545F4914F6CDD1D)

    # ---- canonical order of columns, then a canonical, seeded order of rows
    num_order, cat_order = column_orders([(num_hash, num_cols), (cat_hash, cat_cols)], row_hash, by_rank)
    width = len(num_cols) + len(cat_cols)
    if max_rows is None:  # default: bounded by cells, so a wide table costs no more than a long one
        cap = min(DEFAULT_MAX_ROWS, max(MIN_ROWS_WIDE, CELL_BUDGET // max(width, 1)))
    else:
        cap = int(max_rows)
    ordered = [num_cols[j] for j in num_order] + [cat_cols[j] for j in cat_order]
    sub = row_order(row_hash, random_state, cap, ordered, y_hash, by_rank)
    m = sub.size
    num = np.empty((m, len(num_cols)), dtype=np.float64)
    for k, j in enumerate(num_order):
        num[:, k] = num_cols[j][sub]
    if n_inf:
        num[np.isinf(num)] = np.nan
    cat = np.empty((m, len(cat_cols)), dtype=np.int64)
    levels = np.empty(len(cat_cols), dtype=np.float64)
    for k, j in enumerate(cat_order):
        full = cat_cols[j]
        present = full[full != None]  # noqa: E711 - object array comparison
        uniq_levels = np.unique(present.astype(str))
        levels[k] = uniq_levels.size
        part = full[sub]
        codes = np.full(m, -1, dtype=np.int64)
        ok = part != None  # noqa: E711
        codes[ok] = np.searchsorted(uniq_levels, part[ok].astype(str))
        cat[:, k] = codes

    if task == "classification":
        y_codes = y_codes_full[sub].astype(np.int64)
        y_num = None
        n_classes = int(class_counts.size)
    else:
        y_codes = None
        y_num = y_num_full[sub]
        n_classes = 0

    prep = Prepared(
        task=task,
        n_rows=n,
        n_features=len(num_cols) + len(cat_cols),
        n_numeric=len(num_cols),
        n_categorical=len(cat_cols),
        n_binary=n_binary,
        n_missing=n_missing,
        n_rows_with_missing=int(row_missing.sum()),
        n_cols_with_missing=n_cols_missing,
        n_infinite=n_inf,
        cat_levels=levels,
        class_counts=class_counts,
        num=num,
        cat=cat,
        y_codes=y_codes,
        y_num=y_num,
        y_disc=np.zeros(m, dtype=np.int64),
        n_classes=n_classes,
        random_state=int(random_state),
    )
    prep.notes = {"rows_used": m, "infinite_values_as_missing": n_inf, "cut": []}
    if max_rows is None and m < min(n, DEFAULT_MAX_ROWS):
        prep.notes["cut"].append(
            f"statistical and information groups on {m} of {n} rows ({width} columns: "
            f"at most {CELL_BUDGET:,} cells by default; max_rows= overrides)"
        )
    _derive(prep, landmark_rows)
    return prep


def _derive(prep: Prepared, landmark_rows: int) -> None:
    """Shared derived arrays: centered imputed numerics, discretization, landmark encoding."""
    m = prep.m
    num = prep.num
    # median imputation (a copy only when something is missing) and column means
    if num.size and np.isnan(num).any():
        imputed = np.empty_like(num)
        for s in range(0, num.shape[1], BLOCK):
            block = num[:, s : s + BLOCK]
            nan = np.isnan(block)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN column in the subsample
                med = np.nan_to_num(np.nanmedian(block, axis=0))
            imputed[:, s : s + BLOCK] = np.where(nan, med, block)
    else:
        imputed = num
    prep.num_imputed = imputed
    prep.num_imputed_mean = imputed.mean(axis=0) if imputed.size else np.zeros(num.shape[1])

    # equal-frequency discretization with floor(m ** (1/3)) bins (as pymfe does)
    n_bins = max(2, int(m ** (1.0 / 3.0)))
    prep.n_bins = n_bins
    prep.disc_num = discretize(num, n_bins)
    if prep.task == "classification":
        prep.y_disc = prep.y_codes
    else:
        prep.y_disc = _equal_frequency_bins(prep.y_num, n_bins)

    # landmark set: the first rows of the canonical (seeded) order, encoded once
    k = min(m, landmark_rows)
    parts = []
    if imputed.shape[1]:
        block = imputed[:k]
        with np.errstate(over="ignore"):
            sd = block.std(axis=0)
        huge = ~np.isfinite(sd)  # values past ~1e154: their square overflows
        if huge.any():  # standardizing is scale-free: divide those columns by their largest value first
            block = block.copy()
            block[:, huge] /= np.abs(block[:, huge]).max(axis=0)
            sd = block.std(axis=0)
        mu = block.mean(axis=0)
        sd[sd == 0] = 1.0
        parts.append((block - mu) / sd)
    for j in range(prep.cat.shape[1]):
        codes = prep.cat[:k, j]
        counts = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0)
        top = np.argsort(-counts, kind="stable")[:MAX_ONEHOT_LEVELS]
        top = top[counts[top] > 0] if counts.size else top
        if top.size:
            parts.append((codes[:, None] == top[None, :]).astype(np.float64))
    design = np.hstack(parts) if parts else np.zeros((k, 1))
    if design.shape[1] > LANDMARK_COLS:  # bounded work on wide tables
        prep.notes["cut"].append(f"landmarkers on the first {LANDMARK_COLS} of {design.shape[1]} "
                                 "encoded columns (canonical order)")
        design = design[:, :LANDMARK_COLS]
    prep.landmark_X = design
    prep.landmark_y = (prep.y_codes if prep.task == "classification" else prep.y_num)[:k]
