"""Built-in search spaces: Optuna distributions, a stable signature, an estimator builder.

>>> from warmstart import spaces
>>> sorted(spaces.get_space("xgboost-classifier"))[:2]
['colsample_bytree', 'learning_rate']
>>> len(spaces.space_signature("xgboost-classifier"))
12

Every space uses the same preprocessing of the raw table (:func:`make_preprocessor`):
numeric columns are median-imputed with missing-value indicators, categorical columns
are mode-imputed and one-hot encoded (at most 20 levels, rarer levels grouped).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna.distributions as od
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)


@dataclass(frozen=True)
class SearchSpace:
    """A named search space: distributions, fixed parameters and how to build the model."""

    name: str
    task_type: str  # "classification" or "regression"
    distributions: Mapping[str, BaseDistribution]
    fixed: Mapping[str, Any]
    builder: Callable[[dict[str, Any]], Any] = field(repr=False, compare=False)
    estimator_defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def signature(self) -> str:
        """Hash of the name, distributions and fixed parameters (12 hex digits)."""
        payload = {
            "name": self.name,
            "task_type": self.task_type,
            "distributions": {
                k: od.distribution_to_json(v) for k, v in sorted(self.distributions.items())
            },
            "fixed": {k: repr(v) for k, v in sorted(self.fixed.items())},
        }
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def params(self) -> list[str]:
        """Hyperparameter names in a stable (sorted) order."""
        return sorted(self.distributions)

    def build(self, config: Mapping[str, Any]) -> Any:
        """A fresh, unfitted estimator (preprocessing included) for ``config``."""
        unknown = set(config) - set(self.distributions)
        if unknown:
            raise ValueError(
                f"config has parameters {sorted(unknown)} that space {self.name!r} does not "
                f"define; its parameters are {self.params}."
            )
        params = {**self.fixed, **self.defaults(), **dict(config)}
        return self.builder(params)

    def defaults(self) -> dict[str, Any]:
        """The estimator's own defaults, clipped into the space (a baseline config)."""
        return {k: clip(self.distributions[k], v) for k, v in self.estimator_defaults.items()}

    def validate(self, config: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` naming the first parameter outside its distribution."""
        for k, dist in self.distributions.items():
            if k not in config:
                raise ValueError(f"config lacks parameter {k!r} of space {self.name!r}")
            if not dist._contains(dist.to_internal_repr(config[k])):
                raise ValueError(f"config[{k!r}]={config[k]!r} is outside {dist}")


# ----------------------------------------------------------------- unit-cube mapping
def clip(dist: BaseDistribution, value: Any) -> Any:
    """Clip ``value`` into ``dist`` (steps honoured); categorical values must belong."""
    if isinstance(dist, CategoricalDistribution):
        if value not in dist.choices:
            raise ValueError(f"{value!r} is not one of {dist.choices}")
        return value
    v = clip_array(dist, np.array([float(value)]))[0]
    return int(v) if isinstance(dist, IntDistribution) else float(v)


def _log_span(dist: BaseDistribution) -> tuple[float, float]:
    """Log-scale interval that the unit interval maps onto (integers get half a step
    on each side so that every integer has its share)."""
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    if isinstance(dist, IntDistribution):
        return math.log(lo - 0.5 if lo > 0.5 else lo), math.log(hi + 0.5)
    return math.log(lo), math.log(hi)


def from_unit_array(dist: BaseDistribution, u: np.ndarray, exact: bool = True) -> np.ndarray:
    """Vectorized :func:`from_unit`: numeric values (float array, integers rounded), or
    choice indices for a categorical distribution. ``exact=False`` uses numpy's ``exp``
    on log scales (faster; may differ from ``from_unit`` in the last bit)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if isinstance(dist, CategoricalDistribution):
        k = len(dist.choices)
        return np.minimum((u * k).astype(np.int64), k - 1)
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    if dist.log:  # type: ignore[attr-defined]
        a, b = _log_span(dist)
        # math.exp, not np.exp: the two can differ in the last bit, and configurations of
        # stored meta-datasets must be reproduced exactly
        if exact:
            v = np.array([math.exp(a + x * (b - a)) for x in u.ravel()]).reshape(u.shape)
        else:
            v = np.exp(a + u * (b - a))
    elif isinstance(dist, IntDistribution):
        v = lo - 0.5 + u * (hi - lo + 1)
    else:
        v = lo + u * (hi - lo)
    return clip_array(dist, v)


def clip_array(dist: BaseDistribution, v: np.ndarray) -> np.ndarray:
    """Clip numeric values into ``dist``, honouring its step (integers rounded)."""
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    v = np.clip(np.asarray(v, dtype=np.float64), lo, hi)
    step = dist.step  # type: ignore[attr-defined]
    if step is not None:
        v = np.clip(lo + np.round((v - lo) / step) * step, lo, hi)
    return v


def to_unit_array(dist: BaseDistribution, values: np.ndarray) -> np.ndarray:
    """Vectorized :func:`to_unit` for numeric distributions."""
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    if dist.log:  # type: ignore[attr-defined]
        a, b = _log_span(dist)
        return (np.log(v) - a) / (b - a)
    if isinstance(dist, IntDistribution):
        return (v - (lo - 0.5)) / (hi - lo + 1)
    return (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)


def from_unit(dist: BaseDistribution, u: float) -> Any:
    """Map ``u`` in [0, 1] to a value of ``dist`` (log-uniform where ``log=True``)."""
    v = from_unit_array(dist, np.array([u]))[0]
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(v)]
    return int(v) if isinstance(dist, IntDistribution) else float(v)


def to_unit(dist: BaseDistribution, value: Any) -> float:
    """Inverse of :func:`from_unit` for numeric distributions (categoricals: bin centre)."""
    if isinstance(dist, CategoricalDistribution):
        return (dist.choices.index(value) + 0.5) / len(dist.choices)
    return float(to_unit_array(dist, np.array([value]))[0])


def sobol_configs(space: SearchSpace, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` configurations from a scrambled Sobol sequence over ``space``."""
    from scipy.stats import qmc

    params = space.params
    sampler = qmc.Sobol(d=len(params), scramble=True, rng=np.random.default_rng(seed))
    m = max(1, math.ceil(math.log2(max(n, 1))))
    points = sampler.random_base2(m)[:n]
    return [
        {p: _plain(from_unit(space.distributions[p], u)) for p, u in zip(params, row)}
        for row in points
    ]


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


# ----------------------------------------------------------------- preprocessing
def make_preprocessor() -> Any:
    """The preprocessing every space shares (see the module docstring)."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    numeric = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("num", numeric, make_column_selector(dtype_include="number")),
            ("cat", categorical, make_column_selector(dtype_exclude="number")),
        ],
        sparse_threshold=0.0,
    )


def _pipe(model: Any, scale: bool = False) -> Any:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("prep", make_preprocessor())]
    if scale:
        steps.append(("scale", StandardScaler()))
    steps.append(("model", model))
    return Pipeline(steps)


def _xgb(cls_name: str) -> Callable[[dict[str, Any]], Any]:
    def build(p: dict[str, Any]) -> Any:
        import xgboost

        return _pipe(getattr(xgboost, cls_name)(**p))

    return build


def _sk(module: str, cls_name: str, scale: bool = False, target_scale: bool = False):
    def build(p: dict[str, Any]) -> Any:
        import importlib

        cls = getattr(importlib.import_module(module), cls_name)
        model = _pipe(cls(**p), scale=scale)
        if target_scale:
            from sklearn.compose import TransformedTargetRegressor
            from sklearn.preprocessing import StandardScaler

            model = TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
        return model

    return build


F, I, C = FloatDistribution, IntDistribution, CategoricalDistribution

_XGB = {
    "n_estimators": I(8, 512, log=True),
    "learning_rate": F(1e-3, 1.0, log=True),
    "max_depth": I(1, 12),
    "min_child_weight": F(1.0, 128.0, log=True),
    "subsample": F(0.5, 1.0),
    "colsample_bytree": F(0.3, 1.0),
    "reg_lambda": F(1e-3, 1e3, log=True),
    "reg_alpha": F(1e-3, 1e3, log=True),
}
_XGB_FIXED = {"tree_method": "hist", "n_jobs": 1, "random_state": 0}
_XGB_DEFAULTS = {
    "n_estimators": 100, "learning_rate": 0.3, "max_depth": 6, "min_child_weight": 1.0,
    "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1.0, "reg_alpha": 0.0,
}
_RF = {
    "n_estimators": I(16, 256, log=True),
    "max_features": F(0.05, 1.0),
    "min_samples_split": I(2, 32, log=True),
    "min_samples_leaf": I(1, 32, log=True),
    "max_depth": I(2, 32, log=True),
    "bootstrap": C([True, False]),
}
_RF_FIXED = {"n_jobs": 1, "random_state": 0}
_HGB = {
    "learning_rate": F(1e-2, 1.0, log=True),
    "max_iter": I(16, 512, log=True),
    "max_leaf_nodes": I(4, 256, log=True),
    "min_samples_leaf": I(1, 128, log=True),
    "l2_regularization": F(1e-6, 10.0, log=True),
    "max_features": F(0.3, 1.0),
}
_HGB_FIXED = {"early_stopping": False, "random_state": 0}
_HGB_DEFAULTS = {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31,
                 "min_samples_leaf": 20, "l2_regularization": 0.0, "max_features": 1.0}

SPACES: dict[str, SearchSpace] = {
    s.name: s
    for s in [
        SearchSpace("xgboost-classifier", "classification", _XGB, _XGB_FIXED,
                    _xgb("XGBClassifier"), _XGB_DEFAULTS, "XGBoost gradient-boosted trees"),
        SearchSpace("xgboost-regressor", "regression", _XGB, _XGB_FIXED,
                    _xgb("XGBRegressor"), _XGB_DEFAULTS, "XGBoost gradient-boosted trees"),
        SearchSpace("random-forest-classifier", "classification", _RF, _RF_FIXED,
                    _sk("sklearn.ensemble", "RandomForestClassifier"),
                    {"n_estimators": 100, "max_features": 1.0, "min_samples_split": 2,
                     "min_samples_leaf": 1, "max_depth": 32, "bootstrap": True},
                    "scikit-learn random forest"),
        SearchSpace("random-forest-regressor", "regression", _RF, _RF_FIXED,
                    _sk("sklearn.ensemble", "RandomForestRegressor"),
                    {"n_estimators": 100, "max_features": 1.0, "min_samples_split": 2,
                     "min_samples_leaf": 1, "max_depth": 32, "bootstrap": True},
                    "scikit-learn random forest"),
        SearchSpace("hist-gradient-boosting-classifier", "classification", _HGB, _HGB_FIXED,
                    _sk("sklearn.ensemble", "HistGradientBoostingClassifier"), _HGB_DEFAULTS,
                    "scikit-learn histogram gradient boosting"),
        SearchSpace("hist-gradient-boosting-regressor", "regression", _HGB, _HGB_FIXED,
                    _sk("sklearn.ensemble", "HistGradientBoostingRegressor"), _HGB_DEFAULTS,
                    "scikit-learn histogram gradient boosting"),
        SearchSpace("svc", "classification",
                    {"C": F(1e-2, 1e4, log=True), "gamma": F(1e-5, 10.0, log=True)},
                    {"kernel": "rbf", "cache_size": 500},
                    _sk("sklearn.svm", "SVC", scale=True), {"C": 1.0, "gamma": 0.1},
                    "RBF support vector classifier (standardized features)"),
        SearchSpace("svr", "regression",
                    {"C": F(1e-2, 1e4, log=True), "gamma": F(1e-5, 10.0, log=True),
                     "epsilon": F(1e-3, 1.0, log=True)},
                    {"kernel": "rbf", "cache_size": 500},
                    _sk("sklearn.svm", "SVR", scale=True, target_scale=True),
                    {"C": 1.0, "gamma": 0.1, "epsilon": 0.1},
                    "RBF support vector regressor (standardized features and target)"),
        SearchSpace("logistic-regression", "classification",
                    {"C": F(1e-4, 1e4, log=True), "class_weight": C([None, "balanced"])},
                    {"max_iter": 2000},
                    _sk("sklearn.linear_model", "LogisticRegression", scale=True),
                    {"C": 1.0, "class_weight": None}, "L2 logistic regression"),
        SearchSpace("ridge", "regression",
                    {"alpha": F(1e-4, 1e4, log=True)}, {},
                    _sk("sklearn.linear_model", "Ridge", scale=True, target_scale=True),
                    {"alpha": 1.0}, "ridge regression"),
    ]
}


#: spaces derived from users' studies (``study_space``), registered by name at run time
_DERIVED: dict[str, SearchSpace] = {}


def _lookup(name: str) -> SearchSpace:
    if name in SPACES:
        return SPACES[name]
    if name in _DERIVED:
        return _DERIVED[name]
    raise ValueError(f"unknown space {name!r}; choose one of {sorted(SPACES)}")


def register_space(space: SearchSpace) -> SearchSpace:
    """Make a space derived at run time (from studies) findable by ``get_search_space``."""
    if space.name in SPACES:
        raise ValueError(f"{space.name!r} is a built-in space; a derived space needs another name")
    _DERIVED[space.name] = space
    return space


def get_search_space(name: str) -> SearchSpace:
    """The :class:`SearchSpace` object called ``name``."""
    return _lookup(name)


def get_space(name: str) -> dict[str, BaseDistribution]:
    """The Optuna distributions of space ``name`` (a fresh dict)."""
    return dict(_lookup(name).distributions)


def space_signature(name: str) -> str:
    """Stable signature of space ``name`` (changes when a distribution changes)."""
    return _lookup(name).signature


def list_spaces(task_type: str | None = None) -> list[str]:
    """Names of the built-in spaces, optionally only those for ``task_type``."""
    return [n for n, s in SPACES.items() if task_type in (None, s.task_type)]


def match_space(
    distributions: Mapping[str, BaseDistribution], candidates: Sequence[str] | None = None
) -> str | None:
    """The built-in space whose distributions equal ``distributions`` exactly, if any."""
    for name in candidates or list(SPACES):
        if dict(SPACES[name].distributions) == dict(distributions):
            return name
    return None


#: the estimator classes each built-in space tunes: (module prefix, class name) -> space
ESTIMATOR_SPACES: dict[tuple[str, str], str] = {
    ("xgboost", "XGBClassifier"): "xgboost-classifier",
    ("xgboost", "XGBRegressor"): "xgboost-regressor",
    ("sklearn.", "RandomForestClassifier"): "random-forest-classifier",
    ("sklearn.", "RandomForestRegressor"): "random-forest-regressor",
    ("sklearn.", "HistGradientBoostingClassifier"): "hist-gradient-boosting-classifier",
    ("sklearn.", "HistGradientBoostingRegressor"): "hist-gradient-boosting-regressor",
    ("sklearn.", "SVC"): "svc",
    ("sklearn.", "SVR"): "svr",
    ("sklearn.", "LogisticRegression"): "logistic-regression",
    ("sklearn.", "Ridge"): "ridge",
}

#: model names of the command line -> (classification space, regression space)
MODELS: dict[str, tuple[str, str]] = {
    "xgboost": ("xgboost-classifier", "xgboost-regressor"),
    "random-forest": ("random-forest-classifier", "random-forest-regressor"),
    "hist-gradient-boosting": ("hist-gradient-boosting-classifier", "hist-gradient-boosting-regressor"),
    "svm": ("svc", "svr"),
    "linear": ("logistic-regression", "ridge"),
}


def space_for_estimator(model: Any) -> str | None:
    """The built-in space of an estimator's type (not of a pipeline around it), if any."""
    cls = type(model)
    for (module, name), space in ESTIMATOR_SPACES.items():
        if cls.__name__ == name and cls.__module__.startswith(module):
            return space
    return None


def space_for_model(model: str, task_type: str) -> str:
    """The built-in space of a command-line model name (``xgboost``...) for a task type."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {sorted(MODELS)}")
    return MODELS[model][0 if task_type == "classification" else 1]
