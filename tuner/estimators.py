"""Which model of an estimator a search tunes, its built-in space, and what that model
accepts as a target."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from warmstart import spaces as spaces_mod


def tuned_model(estimator: Any) -> tuple[Any, str]:
    """The model a search tunes by default and its parameter prefix: the last step of a
    ``Pipeline`` (``"step__"``), the ``regressor`` of a ``TransformedTargetRegressor``
    (``"regressor__"``), recursively."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    prefix = ""
    model = estimator
    while True:
        if isinstance(model, Pipeline):
            name, model = model.steps[-1]
            prefix += f"{name}__"
        elif isinstance(model, TransformedTargetRegressor) and model.regressor is not None:
            prefix += "regressor__"
            model = model.regressor
        else:
            return model, prefix


def builtin_space(estimator: Any) -> tuple[str, str]:
    """``(space name, parameter prefix)`` for ``estimator`` or a ``Pipeline`` whose last
    step has a built-in space (prefix ``"step__"``). Raises ``ValueError`` otherwise."""
    model, prefix = tuned_model(estimator)
    space = spaces_mod.space_for_estimator(model)
    if space is None:
        known = ", ".join(sorted(name for _, name in spaces_mod.ESTIMATOR_SPACES))
        raise ValueError(
            f"estimator {type(model).__name__} has no built-in search space (built-in: "
            f"{known}, or a Pipeline ending in one); pass param_distributions={{name: "
            f"optuna.distributions...}}."
        )
    return space, prefix


def label_problem(estimator: Any, target: np.ndarray) -> str | None:
    """What is wrong with ``target`` for a classifier (the model the search tunes:
    :func:`tuned_model`), or None. A continuous target fails every fold of every
    configuration, and XGBoost accepts only classes 0..K-1 and says so in every fold: the
    whole search would fail, then the refit. Said before the first trial instead."""
    from sklearn.base import is_classifier
    from sklearn.utils.multiclass import type_of_target

    final, _ = tuned_model(estimator)
    if not is_classifier(final):
        return None
    labels = pd.unique(pd.Series(target.ravel())).tolist()
    numbers = not any(isinstance(v, (str, bytes)) for v in labels)  # "0", "1" are not classes 0, 1
    regression = (f" With {len(labels)} distinct values over {target.shape[0]} rows, y looks like a "
                  f"regression target: tune a regressor (e.g. XGBRegressor, RandomForestRegressor) instead.")
    flat = target.ravel() if target.ndim == 1 or target.shape[1] == 1 else None
    if numbers and flat is not None and type_of_target(np.asarray(flat.tolist())) == "continuous":
        return (f"y holds continuous values (e.g. {labels[:3]}), but {type(final).__name__} is a "
                f"classifier and needs discrete classes.{regression}")
    if not type(final).__module__.startswith("xgboost"):
        return None
    try:
        ordered = np.sort(np.asarray(labels, dtype=np.float64)) if numbers else None
    except (TypeError, ValueError):
        ordered = None
    if ordered is not None and np.array_equal(ordered, np.arange(len(labels))):
        return None
    try:
        shown = sorted(labels)[:5]
    except TypeError:  # mixed types
        shown = sorted(labels, key=str)[:5]
    many = numbers and len(labels) > max(20, 0.1 * target.shape[0])
    return (f"y holds the classes {shown}{' ...' if len(labels) > 5 else ''}; "
            f"{type(final).__name__} accepts only classes 0..{len(labels) - 1}. Encode them first: "
            "y = sklearn.preprocessing.LabelEncoder().fit_transform(y) (its inverse_transform "
            "turns predictions back into your labels)." + (regression if many else ""))
