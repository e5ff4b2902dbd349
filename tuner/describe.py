"""Describe a study by the dataset it tuned, so that it becomes meta-data with meta-features."""

from __future__ import annotations

from typing import Any


def describe_study(study: Any, X: Any, y: Any, *, name: str | None = None) -> dict[str, float]:
    """Record the meta-features of ``X, y`` (and a dataset ``name``) in ``study``'s user
    attributes, as studies driven by ``MetaSampler`` carry them. Knowledge learned from
    such studies (``MetaSampler(history=...)``, ``KnowledgeBase.from_studies``) then tells
    datasets apart by what they are, not only by their trials. Returns the meta-features."""
    import warnings

    import optuna

    import metafeatures
    from warmstart.history import ATTR_METAFEATURES, ATTR_NAME

    from .sampler import METAFEATURE_SECONDS

    if not isinstance(study, optuna.Study):  # before the extraction: it can take seconds
        raise TypeError(f"study must be an optuna.Study (optuna.load_study(study_name=..., storage=...)), "
                        f"got {type(study).__name__}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = metafeatures.extract(X, y, time_budget=METAFEATURE_SECONDS)
    values = {str(k): float(v) for k, v in m.items()}
    study.set_user_attr(ATTR_METAFEATURES, values)
    if name:
        study.set_user_attr(ATTR_NAME, name)
    return values
