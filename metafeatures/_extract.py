"""The public entry points: :func:`extract` and :func:`list_features`."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from . import general, info_theory, landmarking, statistical, target
from ._prepare import DEFAULT_MAX_ROWS, LANDMARK_ROWS, prepare
from ._registry import FeatureSpec

logger = logging.getLogger(__name__)

#: Groups in the order they run (cheap first, so a time budget drops the costly ones).
GROUPS = {
    "general": general,
    "statistical": statistical,
    "information": info_theory,
    "landmarking": landmarking,
    "target": target,
}

#: Value that stands for an undefined feature (see :func:`extract`).
UNDEFINED = 0.0


def _all_specs() -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for module in GROUPS.values():
        specs.extend(module.FEATURES)
    return specs


def list_features() -> pd.DataFrame:
    """All meta-features, in output order.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``group``, ``description``, ``cost`` (``low``: linear in the
        data; ``medium``: sorting or pairwise columns; ``high``: fits cheap models),
        ``openml_name`` (the OpenML data-quality name, empty where OpenML defines none),
        ``task`` (``any``, ``classification`` or ``regression``: undefined otherwise) and
        ``scale_free`` (invariant to positive rescaling of numeric columns).
    """
    rows = [
        {
            "name": s.name,
            "group": s.group,
            "description": s.description,
            "cost": s.cost,
            "openml_name": s.openml_name,
            "task": s.task,
            "scale_free": s.scale_free,
        }
        for s in _all_specs()
    ]
    return pd.DataFrame(rows)


def _resolve_groups(groups: str | Iterable[str] | None) -> list[str]:
    if groups is None:
        return list(GROUPS)
    if not isinstance(groups, str | Iterable):
        raise TypeError(
            f"groups={groups!r} is not a group name or a list of them; "
            f"use 'all' or a list from {list(GROUPS)}."
        )
    if isinstance(groups, str):
        if groups == "all":
            return list(GROUPS)
        groups = [groups]
    chosen = list(groups)
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown or not chosen:
        raise ValueError(
            f"groups={chosen!r} has unknown or no group names {unknown}; "
            f"use 'all' or a list from {list(GROUPS)}."
        )
    return [g for g in GROUPS if g in chosen]


def extract(
    X: object,
    y: object,
    *,
    task: str = "auto",
    groups: str | Iterable[str] | None = "all",
    random_state: int = 0,
    max_rows: int | None = None,
    time_budget: float | None = None,
) -> pd.Series:
    """Compute the meta-features of a dataset.

    Parameters
    ----------
    X : array-like, pandas.DataFrame or scipy sparse matrix of shape (n_rows, n_columns)
        Numeric, bool, categorical and string/object columns. Missing values are
        allowed; infinite values are treated as missing (with a ``RuntimeWarning``).
        A sparse matrix is described as the dense table it stands for (its zeros are
        values), up to 10 million cells. ``X`` is never modified.
    y : array-like of shape (n_rows,)
        Class labels (numbers, strings, bools) or a numeric target. No missing values.
    task : {"auto", "classification", "regression"}
        ``"auto"``: bool, categorical and string targets, and integer-valued targets
        with at most 20 distinct values, are classification; anything else regression.
    groups : "all", None or list of str
        ``"all"`` or ``None``: every group; otherwise any of ``general``,
        ``statistical``, ``information``, ``landmarking``, ``target``.
    random_state : int
        Seeds the canonical row order, hence the subsamples and landmarker folds.
    max_rows : int, optional
        Rows used by the statistical and information-theoretic groups (a seeded random
        subsample of the rows); default 100,000. General counts always use all rows;
        landmarkers use at most 2,000 rows.
    time_budget : float, optional
        Seconds. Groups run cheapest first; a group that would start after the budget
        is spent is skipped, its features undefined and listed in ``attrs["skipped"]``.

    Returns
    -------
    pandas.Series
        Feature name -> float, in the stable order of :func:`list_features` (filtered
        to ``groups``). Every value is finite: a feature that is undefined for this
        dataset (kurtosis when every numeric column is constant, class features of a
        regression task, correlations with fewer than two numeric columns...) is
        ``0.0`` and its name is listed in ``result.attrs["undefined"]``.
        ``result.attrs`` also holds ``task``, ``rows_used``, ``skipped`` and
        ``infinite_values_as_missing``.

    Notes
    -----
    The result does not depend on the order of rows or columns: both are put in a
    canonical order derived from content hashes before anything is computed (only
    floating-point summation order can differ, at the 1e-9 relative level).
    """
    if time_budget is not None and not (
        isinstance(time_budget, (int, float)) and time_budget > 0
    ):
        raise ValueError(
            f"time_budget must be None or a positive number of seconds, got {time_budget!r}."
        )
    chosen = _resolve_groups(groups)
    start = time.perf_counter()
    prep = prepare(
        X, y, task=task, random_state=random_state, max_rows=max_rows,
        landmark_rows=LANDMARK_ROWS,
    )
    values: dict[str, float] = {}
    skipped: list[str] = []
    names: list[str] = []
    for g in chosen:
        module = GROUPS[g]
        group_names = [s.name for s in module.FEATURES]
        names.extend(group_names)
        if time_budget is not None and time.perf_counter() - start > time_budget:
            skipped.append(g)
            continue
        t0 = time.perf_counter()
        values.update(module.compute(prep))
        logger.debug("group %s: %.3f s", g, time.perf_counter() - t0)
    out = np.empty(len(names))
    undefined: list[str] = []
    for i, name in enumerate(names):
        v = values.get(name, float("nan"))
        if v is None or not np.isfinite(v):
            undefined.append(name)
            v = UNDEFINED
        out[i] = v
    result = pd.Series(out, index=pd.Index(names, name="feature"), name="value", dtype=np.float64)
    result.attrs.update(
        {
            "task": prep.task,
            "rows_used": prep.m,
            "undefined": undefined,
            "skipped": skipped,
            "infinite_values_as_missing": prep.notes["infinite_values_as_missing"],
            "cut": list(prep.notes.get("cut", [])),
            "random_state": int(random_state),
        }
    )
    return result


__all__ = ["extract", "list_features", "DEFAULT_MAX_ROWS", "LANDMARK_ROWS", "UNDEFINED"]


#: Incremented whenever a change of this package changes any computed value: meta-data
#: stores it with each task, so that rows computed by an older revision are recomputed.
REVISION = 7


def signature() -> str:
    """A short hash of the feature list and :data:`REVISION`: equal signatures mean equal
    meta-features for the same data."""
    import hashlib

    names = "\n".join(s.name for g in GROUPS.values() for s in g.FEATURES)
    return hashlib.sha256(f"{REVISION}\n{names}".encode()).hexdigest()[:12]


def task_of(metafeatures: Mapping[str, float]) -> str | None:
    """The task type a meta-feature vector describes: its ``attrs["task"]`` when it came
    from :func:`extract`, else ``"classification"`` when it counts classes, ``"regression"``
    when it has ``NumberOfClasses`` 0, ``None`` when it does not say."""
    attrs = getattr(metafeatures, "attrs", None) or {}
    if attrs.get("task") in ("classification", "regression"):
        return str(attrs["task"])
    if "NumberOfClasses" not in metafeatures:
        return None
    return "classification" if float(metafeatures["NumberOfClasses"]) > 0 else "regression"
