"""Single-configuration anchors of the tuning benchmark (scored at t = 1 only): what a user
gets without tuning, the bar a zero-shot warm start must clear.

- ``defaults``: the estimator's own defaults (clipped into the space; every build
  evaluates them, so their value is the task's table value);
- ``flaml``: FLAML's zero-shot configuration (``flaml.default``: the portfolio
  configuration of the training task nearest in FLAML's four meta-features). FLAML is an
  optional bench dependency (``pip install flaml==2.7.0``), never one of the library. Its
  configurations lie outside the space's ranges (thousands of trees, ``colsample_bylevel``),
  where an objective model is not valid: this anchor needs ``--real`` (the task's data,
  cross-validated with the build's protocol).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from optuna.distributions import CategoricalDistribution

from warmstart.protocol import cross_validate

from .objectives import RealObjective, TaskObjective

ANCHORS = {
    "defaults": "the estimator's defaults (one configuration, t = 1)",
    "flaml": "FLAML 2.7's zero-shot configuration (flaml.default; t = 1; needs --real)",
}
#: FLAML's estimator for each family of our spaces
_FLAML_ESTIMATOR = {"xgboost": "xgb_limitdepth", "random-forest": "rf", "extra-trees": "extra_tree"}
#: parameters FLAML sets that the benchmark's protocol owns (seed, threads, logging)
_PROTOCOL_OWNED = ("random_state", "seed", "n_jobs", "nthread", "verbosity", "verbose")


def anchor_value(method: str, f: TaskObjective | RealObjective) -> float:
    """The objective value (higher is better) of the anchor ``method`` on a task."""
    if method == "defaults":
        config = f.space.defaults()
        key = json.dumps(config, sort_keys=True)
        table = {json.dumps(c, sort_keys=True): s for c, s in zip(f.table_configs, f.table_scores)}
        return float(table[key]) if key in table else f(config)
    if method == "flaml":
        return _flaml_value(f)
    raise ValueError(f"unknown anchor {method!r}; choose from {sorted(ANCHORS)}")


def flaml_config(space_name: str, task_type: str, X: Any, y: Any) -> dict[str, Any]:
    """FLAML's zero-shot hyperparameters for this data, as the estimator's own parameters."""
    try:
        from flaml.default import suggest_hyperparams
    except ImportError as exc:
        raise ImportError("the 'flaml' anchor needs FLAML: pip install flaml==2.7.0") from exc
    family = next((k for k in _FLAML_ESTIMATOR if space_name.startswith(k)), None)
    if family is None:
        raise ValueError(f"FLAML has no zero-shot portfolio for space {space_name!r}; it has "
                         f"{sorted(_FLAML_ESTIMATOR)} families")
    logging.getLogger("flaml").setLevel(logging.WARNING)  # its meta-feature distance, per call
    params, _ = suggest_hyperparams(task_type, X, y, _FLAML_ESTIMATOR[family])
    return {k: v for k, v in dict(params).items() if k not in _PROTOCOL_OWNED}


def _flaml_value(f: TaskObjective | RealObjective) -> float:
    if not isinstance(f, RealObjective):
        raise ValueError("the 'flaml' anchor needs the task's data: run the benchmark with --real "
                         "(FLAML's configurations lie outside the space, where objective models are not valid)")
    config = flaml_config(f.space.name, f.space.task_type, f.X, f.y)
    # the space's estimator and protocol, with FLAML's parameters where they go beyond it
    extra = {k: CategoricalDistribution([v]) for k, v in config.items() if k not in f.space.distributions}
    open_space = dataclasses.replace(f.space, distributions={**f.space.distributions, **extra})
    rec = cross_validate(open_space, config, f.X, f.y, folds=f.folds, seed=f.seed)
    value = rec.get(f.metric, float("nan"))
    return float(f.sign * value)
