"""``MetaSearchCV``: hyperparameter search in scikit-learn's style, driven by
``MetaSampler`` (meta-learned warm start, then a surrogate adapted to the trials).

It follows ``GridSearchCV``/``RandomizedSearchCV``: the constructor only stores its
arguments, ``fit`` cross-validates one configuration per Optuna trial, refits the best one
on all the data, and exposes ``cv_results_`` in the same layout. Every configuration is
cross-validated on the same splits.
"""

from __future__ import annotations

import logging
import numbers
import time
import warnings
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv, cross_validate
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import indexable, validate_data

from warmstart import spaces as spaces_mod
from warmstart.checks import check_count

from .delegation import BestEstimatorDelegation
from .estimators import builtin_space, label_problem, tuned_model
from .results import ATTR_CV, cv_results, search_trials
from .sampler import METAFEATURE_SECONDS

logger = logging.getLogger(__name__)



class MetaSearchCV(BestEstimatorDelegation, MetaEstimatorMixin, BaseEstimator):
    """Cross-validated hyperparameter search warm-started from meta-knowledge.

    Parameters
    ----------
    estimator : scikit-learn estimator
        The model to tune (or a ``Pipeline``; its last step is tuned by default).
    param_distributions : dict of str to optuna distribution, optional
        What to search. ``None`` takes the built-in space of the estimator's type (XGBoost,
        random forest, histogram gradient boosting, SVC/SVR, logistic regression, ridge, or a
        ``Pipeline`` ending in one, with ``step__param`` names). A list or tuple value is
        taken as a categorical choice. User-given distributions are always honoured.
    n_trials : int, default=20
        Configurations to evaluate in this ``fit``.
    timeout : float, optional
        Stop starting new trials after this many seconds.
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn (stratified K-fold for classifiers when an int).
    scoring : str or callable, optional
        One scorer (higher is better); ``None`` uses the estimator's ``score``.
    n_jobs : int, default=1
        Folds of one configuration evaluated in parallel (joblib).
    refit : bool, default=True
        Refit the best configuration on the whole data (``best_estimator_``).
    random_state : int, RandomState or None
        Seeds the sampler (and hence the sequence of configurations).
    study : optuna.Study, optional
        Continue this study (e.g. one in an SQLite or PostgreSQL storage) with its own
        sampler; create it with ``sampler=MetaSampler(...)`` to keep the warm start.
        Without it every ``fit`` starts a fresh in-memory study. ``cv_results_`` then
        covers every trial of the study that this class evaluated, earlier fits included.
    knowledge : None, path, KnowledgeBase or False
        As in ``MetaSampler``: ``None`` uses the bundled knowledge bases.
    warm_start : bool, default=True
        ``False`` searches with Optuna's ``TPESampler`` (no meta-knowledge).
    error_score : "raise" or float, default=nan
        Score of a fold whose fit fails (a warning names the error); ``"raise"`` raises.
        A failing configuration never stops the search.
    return_train_score : bool, default=False
        Also record training scores in ``cv_results_``.
    verbose : int, default=0
        ``0`` silent; ``1`` one line per trial with the best score so far; ``2`` also
        Optuna's own log lines.
    callbacks : list of callables, optional
        Optuna callbacks ``f(study, frozen_trial)`` called after every trial.

    Attributes
    ----------
    best_estimator_, best_params_, best_score_, best_index_, cv_results_, scorer_,
    n_splits_, refit_time_, study_, metafeatures_, n_trials_, classes_, n_features_in_,
    feature_names_in_, multimetric_
        As in ``GridSearchCV``; ``study_`` is the Optuna study, ``metafeatures_`` the
        dataset's meta-features (``None`` if they could not be computed), ``n_trials_``
        the number of configurations in ``cv_results_``.

    Notes
    -----
    Calling ``fit`` again starts a fresh study unless ``study`` was given; ``best_params_``
    use the estimator's parameter names, so ``estimator.set_params(**best_params_)`` works.
    """

    def __init__(
        self,
        estimator: Any,
        param_distributions: Mapping[str, Any] | None = None,
        *,
        n_trials: int = 20,
        timeout: float | None = None,
        cv: Any = 5,
        scoring: str | Callable | None = None,
        n_jobs: int | None = 1,
        refit: bool = True,
        random_state: Any = None,
        study: optuna.Study | None = None,
        knowledge: Any = None,
        warm_start: bool = True,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        verbose: int = 0,
        callbacks: list[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] | None = None,
    ) -> None:
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.random_state = random_state
        self.study = study
        self.knowledge = knowledge
        self.warm_start = warm_start
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.verbose = verbose
        self.callbacks = callbacks

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):  # noqa: ANN204 - scikit-learn's Tags object
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = deepcopy(sub.classifier_tags)
        tags.regressor_tags = deepcopy(sub.regressor_tags)
        tags.target_tags = deepcopy(sub.target_tags)
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        tags.input_tags.allow_nan = sub.input_tags.allow_nan
        tags.non_deterministic = self.random_state is None
        return tags

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        if not hasattr(self.estimator, "fit"):
            raise ValueError(f"estimator must be a scikit-learn estimator with fit, got {self.estimator!r}")
        check_count("n_trials", self.n_trials, 1)
        if self.timeout is not None and (not isinstance(self.timeout, numbers.Real) or self.timeout <= 0):
            raise ValueError(f"timeout must be None or a positive number of seconds, got {self.timeout!r}")
        if not (self.error_score == "raise" or isinstance(self.error_score, numbers.Real)):
            raise ValueError(f"error_score must be 'raise' or a number, got {self.error_score!r}")
        if isinstance(self.scoring, (list, tuple, set, dict)):
            raise ValueError(
                f"scoring={self.scoring!r}: MetaSearchCV optimizes one scorer; pass a single "
                "scorer name or callable (and compute other metrics on best_estimator_)."
            )
        if isinstance(self.refit, str):  # GridSearchCV's multi-metric habit
            raise ValueError(
                f"refit={self.refit!r} names the scorer of a multi-metric search; MetaSearchCV "
                f"optimizes one scorer: pass scoring={self.refit!r} and refit=True."
            )
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError(f"refit must be True or False, got {self.refit!r} (MetaSearchCV refits "
                             "the best trial's configuration; a callable choosing another is not supported)")
        if self.study is not None:
            if not isinstance(self.study, optuna.Study):
                raise ValueError(f"study must be an optuna.Study or None, got {type(self.study).__name__}")
            if self.study._is_multi_objective() or self.study.direction != optuna.study.StudyDirection.MAXIMIZE:
                raise ValueError(
                    "study must be single-objective with direction='maximize' (scikit-learn "
                    "scorers are higher-is-better); create it with "
                    "optuna.create_study(direction='maximize', ...)."
                )

    def _distributions(self) -> tuple[dict[str, BaseDistribution], dict[str, str], str | None]:
        """``(study name -> distribution, study name -> estimator parameter, space)``.

        Parameters of a Pipeline's last step are searched under their bare names in the
        study (so meta-knowledge recorded without the pipeline matches them)."""
        valid = set(self.estimator.get_params(deep=True))
        if self.param_distributions is None:
            space, prefix = builtin_space(self.estimator)
            dists = {prefix + k: v for k, v in spaces_mod.get_space(space).items()}
        else:
            if not isinstance(self.param_distributions, Mapping) or not self.param_distributions:
                raise ValueError(
                    "param_distributions must be None or a non-empty dict of parameter name "
                    f"-> optuna distribution, got {self.param_distributions!r}"
                )
            space = None
            dists = {}
            for k, v in self.param_distributions.items():
                if isinstance(v, (list, tuple)) and len(v) > 0:
                    v = CategoricalDistribution(list(v))
                if not isinstance(v, BaseDistribution):
                    raise ValueError(
                        f"param_distributions[{k!r}] is {v!r}; use an optuna distribution, e.g. "
                        "optuna.distributions.FloatDistribution(1e-3, 1.0, log=True), or a list "
                        "of choices."
                    )
                dists[str(k)] = v
        unknown = [k for k in dists if k not in valid]
        if unknown:
            raise ValueError(
                f"param_distributions names {unknown} that {type(self.estimator).__name__} does "
                f"not have; valid parameters: {sorted(valid)}"
            )
        _, prefix = tuned_model(self.estimator)
        to_est: dict[str, str] = {}
        out: dict[str, BaseDistribution] = {}
        for k, v in dists.items():
            bare = k[len(prefix):] if prefix and k.startswith(prefix) and "__" not in k[len(prefix):] else k
            if bare in out:  # a bare name would collide with another parameter: keep full names
                bare = k
            out[bare] = v
            to_est[bare] = k
        return out, to_est, space

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> MetaSearchCV:
        """Search, then (with ``refit``) fit the best configuration on all of ``X, y``.

        ``fit_params`` go to the estimator's ``fit`` in every fold and in the refit."""
        self._check_params()
        dists, to_est, space = self._distributions()
        if y is None and get_tags(self.estimator).target_tags.required:
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but the target y is "
                "None; call fit(X, y)."
            )
        X, y, groups = indexable(X, y, groups)
        validate_data(self, X, skip_check_array=True, reset=True)
        if y is not None:  # every configuration would fail on it, after the whole search
            target = np.asarray(y, dtype=object)
            missing = np.asarray(pd.isna(target)).reshape(len(target), -1).any(axis=1)
            if missing.any():
                raise ValueError(
                    f"y contains {int(missing.sum())} missing values (first rows: "
                    f"{np.flatnonzero(missing)[:5].tolist()}); no estimator learns from a missing "
                    "target: drop those rows of X and y first."
                )
            problem = label_problem(self.estimator, target)
            if problem:
                raise ValueError(problem)
        for attr in ("best_estimator_", "refit_time_", "_classes"):
            self.__dict__.pop(attr, None)
        classifier = is_classifier(self.estimator)
        cv = check_cv(self.cv, y, classifier=classifier)
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.scorer_ = check_scoring(self.estimator, scoring=self.scoring)
        self.multimetric_ = False
        sampler = getattr(self.study, "sampler", None)
        given = getattr(sampler, "metafeatures", None) if self.study is not None else None
        # a study driven by a MetaSampler already holds the dataset's meta-features
        self.metafeatures_ = pd.Series(given) if given is not None else self._metafeatures(X, y)
        self._first_error: str | None = None
        level = optuna.logging.get_verbosity()
        if self.verbose < 2:  # failed configurations get our own warning
            optuna.logging.set_verbosity(optuna.logging.ERROR)
        if (self.warm_start and self.study is None and space is not None
                and self.knowledge is not False and self._known_space(space) is None):
            warnings.warn(f"no bundled knowledge for {space}: MetaSearchCV searches with TPE "
                          "(pass knowledge=... to use a knowledge base you fitted)",
                          UserWarning, stacklevel=2)
        try:
            study = self.study if self.study is not None else self._new_study(space)
            self.study_ = study
            self._optimize(study, dists, to_est, X, y, splits, fit_params)
        finally:
            optuna.logging.set_verbosity(level)
        self._build_results(study, X, y, fit_params)
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            t0 = time.perf_counter()
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - t0
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        if classifier and y is not None:
            self._classes = np.unique(np.asarray(y))
        return self

    def _optimize(self, study: optuna.Study, dists: dict, to_est: dict, X: Any, y: Any,
                  splits: list, fit_params: dict) -> None:

        def objective(trial: optuna.Trial) -> float:
            params = {name: suggest(trial, name, d) for name, d in dists.items()}
            est = clone(self.estimator).set_params(**{to_est[k]: v for k, v in params.items()})
            res = self._cross_validate(est, X, y, splits, fit_params)
            trial.set_user_attr(ATTR_CV, {
                "params": {to_est[k]: v for k, v in params.items()},
                **{k: [None if not np.isfinite(s) else float(s) for s in v] for k, v in res.items()},
            })
            scores = np.asarray(res["test_score"], dtype=float)
            # a configuration whose every fold failed is a FAIL trial (nan), not a score
            return float(np.mean(scores)) if np.all(np.isfinite(scores)) else float("nan")

        callbacks = ([self._report] if self.verbose else []) + list(self.callbacks or [])
        with warnings.catch_warnings():
            # a nan (all folds failed) is reported by our own error-score warning
            warnings.filterwarnings("ignore", message=".*failed because of the following error.*")
            study.optimize(objective, n_trials=int(self.n_trials), timeout=self.timeout,
                           callbacks=callbacks, catch=())

    def _metafeatures(self, X: Any, y: Any) -> Any:
        if y is None or not self.warm_start:
            return None
        import metafeatures

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                task = "classification" if is_classifier(self.estimator) else "regression"
                return metafeatures.extract(X, y, task=task, time_budget=METAFEATURE_SECONDS)
        except Exception as exc:  # noqa: BLE001 - the search works without them
            warnings.warn(
                f"meta-features could not be computed ({type(exc).__name__}: {exc}); the warm "
                "start weights every known task alike.", UserWarning, stacklevel=3,
            )
            return None

    def _seed(self) -> int | None:
        if self.random_state is None:
            return None
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _known_space(self, space: str | None) -> str | None:
        """The built-in space to warm-start from when it is certain (the default search of
        an estimator type with knowledge): classifier and regressor spaces can share
        parameter names, so matching by name alone could pick the other one."""
        if space is None or self.knowledge is False:
            return None
        if self.knowledge is None:
            from warmstart.kb_io import bundled_spaces

            return space if space in bundled_spaces() else None
        return space

    def _new_study(self, space: str | None = None) -> optuna.Study:
        seed = self._seed()
        if self.warm_start:
            from .sampler import MetaSampler

            sampler: optuna.samplers.BaseSampler = MetaSampler(
                metafeatures=self.metafeatures_, knowledge=self.knowledge,
                space=self._known_space(space), seed=seed,
            )
        else:
            sampler = optuna.samplers.TPESampler(seed=seed)
        return optuna.create_study(direction="maximize", sampler=sampler)

    def _cross_validate(self, est: Any, X: Any, y: Any, splits: list, fit_params: dict) -> dict:
        kw = {"params": fit_params} if fit_params else {}
        try:
            with warnings.catch_warnings():
                if self.verbose == 0:
                    warnings.simplefilter("ignore", category=UserWarning)
                res = cross_validate(
                    est, X, y, cv=splits, scoring=self.scorer_, n_jobs=self.n_jobs,
                    error_score=self.error_score, return_train_score=self.return_train_score, **kw,
                )
        except ValueError as exc:
            # scikit-learn raises when every fold failed even with a numeric error_score;
            # the search goes on, the configuration scores error_score in every fold
            if self.error_score == "raise" or "fits failed" not in str(exc):
                raise
            detail = str(exc).strip()
            if self._first_error is None:
                self._first_error = detail
            warnings.warn(
                f"every fold of a configuration failed; its score is error_score="
                f"{self.error_score!r}. Last error: {detail.splitlines()[-1]}",
                UserWarning, stacklevel=2,
            )
            n = len(splits)
            res = {"test_score": [self.error_score] * n, "fit_time": [np.nan] * n,
                   "score_time": [np.nan] * n}
            if self.return_train_score:
                res["train_score"] = [self.error_score] * n
        return {k: [float(v) for v in np.asarray(res[k], dtype=float)] for k in
                ("test_score", "fit_time", "score_time", *(("train_score",) if self.return_train_score else ()))}

    def _report(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        try:
            best = f"{study.best_value:.5g} (trial {study.best_trial.number})"
        except ValueError:
            best = "none yet"
        value = "failed" if trial.value is None else f"{trial.value:.5g}"
        print(f"[MetaSearchCV] trial {trial.number}: {value}; best {best}", flush=True)

    def _build_results(self, study: optuna.Study, X: Any = None, y: Any = None,
                       fit_params: dict | None = None) -> None:
        fit_params = fit_params or {}
        trials = search_trials(study)
        if not trials:
            raise ValueError(
                "no configuration was evaluated (timeout too short, or the study holds no "
                "trials of this search); increase n_trials or timeout."
            )
        results = cv_results(trials, return_train_score=self.return_train_score)
        params = results["params"]
        self.cv_results_ = results
        self.n_trials_ = len(params)
        finite = np.isfinite(results["mean_test_score"])
        if not finite.any():
            if self.refit and X is not None:
                # like scikit-learn's searches: the estimator's own error on the whole data
                # is the most useful message (a no-op if that fit happens to succeed)
                est = clone(self.estimator).set_params(**params[0])
                est.fit(X, **fit_params) if y is None else est.fit(X, y, **fit_params)
            detail = f"\nThe first failure:\n{self._first_error}" if self._first_error else ""
            raise ValueError(
                f"all {len(params)} configurations failed in every fold (error_score="
                f"{self.error_score!r}); run with error_score='raise' to see the error "
                f"in place.{detail}"
            )
        self.best_index_ = int(np.argmin(results["rank_test_score"]))
        self.best_score_ = float(results["mean_test_score"][self.best_index_])
        self.best_params_ = dict(params[self.best_index_])


def suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> Any:
    """``trial.suggest_*`` for an Optuna distribution."""
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"parameter {name!r}: unsupported distribution {dist!r}")


__all__ = ["MetaSearchCV", "builtin_space", "search_trials", "suggest"]
