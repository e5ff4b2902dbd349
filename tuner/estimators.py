"""Which model of an estimator a search tunes, and its built-in space."""

from __future__ import annotations

from typing import Any

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
