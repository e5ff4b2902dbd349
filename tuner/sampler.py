"""``MetaSampler``: an Optuna sampler that warm-starts from meta-knowledge and proposes
with a MAML surrogate adapted to the study's trials.

Phases: (1) **warm start**: the first ``n_warm_start`` trials (after any the user enqueued)
take the knowledge base's zero-shot portfolio for this dataset (:mod:`tuner.warm_start`),
from the very first trial and without ``space=`` (parameters are matched by name and
distribution against the spaces with knowledge), the later ones following the study's
values, and the last one refining the best trial so far (the surrogate phase's model, near
that trial); (2) **surrogate**: expected improvement of a residual GP whose prior mean is
the meta-learned surrogate adapted to the study's trials (:mod:`tuner.gp`);
(3) the **negative-transfer guard** hands trials to the base sampler when the knowledge
disagrees with the trials or the dataset is far from every known one. Parameters without
knowledge go to the base sampler (TPE by default); narrower ranges are mapped
(:mod:`tuner.mapping`).

State lives in the study's storage (trial and study system attributes), so several
threads or processes can share one study.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
)
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from metafeatures import task_of
from warmstart import spaces as spaces_mod
from warmstart.checks import check_count, check_finite
from warmstart.history import (
    ATTR_METAFEATURES,
    checked_source,
    study_attributes,
)
from warmstart.kb_io import space_of
from warmstart.scores import copula
from warmstart.threads import one_blas_thread

from .gp import REFINE_HALF_WIDTH, candidate_units, expected_improvement, local_units, residual_gp
from .knowledge_source import KnowledgeSource
from .mapping import (
    best_matching_space,
    canonical,
    conditional_space,
    into,
    observations,
    plain_value,
    units_of,
    usable,
)
from .warm_start import WarmStart, study_key

logger = logging.getLogger(__name__)

_ATTR_SPACE = "learn2tune:resolved_space"
#: trial system attribute: which phase proposed the trial ("warm_start", "warm_start_refine"
#: (the warm start's last trial, see :mod:`tuner.warm_start`), "surrogate", "base_sampler")
ATTR_PROPOSED_BY = "learn2tune:proposed_by"
#: study user attribute: how far the dataset is from the known tasks (``KnowledgeBase.novelty``)
ATTR_NOVELTY = "learn2tune:novelty"
_DEFAULT_WARM_START = 10
#: seconds the meta-features of ``MetaSampler(X=, y=)`` may take (groups past it are skipped)
METAFEATURE_SECONDS = 5.0


class MetaSampler(BaseSampler):
    """A drop-in Optuna sampler that learned, across many datasets, how to tune.

    Parameters
    ----------
    X, y : array-like, optional
        The dataset being tuned; its meta-features are computed here.
    metafeatures : pandas.Series or dict, optional
        Meta-features computed beforehand (``metafeatures.extract(X, y)``). Without
        ``X, y`` or ``metafeatures`` the warm start weights every known task alike.
    space : str, optional
        A built-in space name. By default the study's parameters are matched by name and
        distribution against the spaces with knowledge.
    knowledge : None, path, KnowledgeBase or False
        ``None``: the bundled knowledge bases; a folder written by ``KnowledgeBase.save``;
        a ``KnowledgeBase``; ``False``: no knowledge (the sampler is its base sampler).
    n_warm_start : int, optional
        Warm-start trials (default 10).
    base_sampler : optuna.samplers.BaseSampler, optional
        Samples what the knowledge does not cover (default ``TPESampler(seed=seed)``).
    history : str, optuna storage or list of optuna.Study, optional
        Past studies: an Optuna storage URL, a storage, or studies (read once, at the
        first trial). Finished learn2tune studies there join the bundled knowledge of
        their space; any other finished studies (3 or more, 10+ completed trials each)
        are learned from on their own space (see "Learn from your own studies").
    metric : str, optional
        The name of the metric the objective returns (e.g. ``"roc_auc"``, ``"log_loss"``),
        recorded in the study so that it becomes meta-data under that name; not recorded
        when not given (the study's values are then imported as ``objective``).
    seed : int, optional
        Seeds every random choice (candidate pools, the guard's coin, the base sampler).
    n_candidates : int
        Candidate pool size for the acquisition function.
    constraints_func : callable, optional
        Passed to the default base sampler; the meta-learned proposals ignore it (a
        warning says so).
    adapt_steps : int, optional
        Inner gradient steps of the MAML surrogate's adaptation to the study's trials
        (default: as meta-trained; ``0`` keeps the meta-trained network, an ablation).
    residual_gp : bool, default=True
        Model the study's trials with a GP on the meta-learned surrogate's residuals;
        ``False`` uses the surrogate's own mean and spread (an ablation).
    surrogate_phase : bool, default=True
        ``False`` hands every trial after the warm start to the base sampler (an ablation:
        the warm start alone; its last trial takes a known configuration too, instead of
        refining the best trial with the surrogate phase's model).
    """

    def __init__(
        self,
        X: Any = None,
        y: Any = None,
        *,
        metafeatures: Mapping[str, float] | None = None,
        space: str | None = None,
        knowledge: Any = None,
        n_warm_start: int | None = None,
        base_sampler: BaseSampler | None = None,
        history: str | BaseStorage | Sequence[Study] | None = None,
        seed: int | None = None,
        n_candidates: int = 1000,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        metric: str | None = None,
        adapt_steps: int | None = None,
        residual_gp: bool = True,
        surrogate_phase: bool = True,
    ) -> None:
        if (X is None) != (y is None):
            raise ValueError("pass both X and y (or neither, and metafeatures=...)")
        if X is not None and metafeatures is not None:
            raise ValueError("pass X and y or metafeatures=, not both")
        # validates the name; the space's task type is checked against the data's below
        space_type = None if space is None else spaces_mod.get_search_space(space).task_type
        check_count("n_warm_start", n_warm_start, 0, optional=True)
        check_count("n_candidates", n_candidates, 10)
        check_count("adapt_steps", adapt_steps, 0, optional=True)
        for name, flag in (("residual_gp", residual_gp), ("surrogate_phase", surrogate_phase)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if metafeatures is not None and not hasattr(metafeatures, "items"):
            raise TypeError(f"metafeatures must map feature names to values (the pandas Series that "
                            f"metafeatures.extract(X, y) returns), got {type(metafeatures).__name__}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or not 0 <= seed < 2**32):
            raise ValueError(f"seed must be None or an int in [0, 2**32), got {seed!r}")
        if base_sampler is not None and not isinstance(base_sampler, BaseSampler):
            raise TypeError(f"base_sampler must be an optuna sampler (e.g. optuna.samplers.TPESampler()), "
                            f"got {type(base_sampler).__name__}")
        if X is not None:
            import metafeatures as mf_mod

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                metafeatures = mf_mod.extract(X, y, time_budget=METAFEATURE_SECONDS)
        self._metafeatures = None if metafeatures is None else {str(k): float(v) for k, v in dict(metafeatures).items()}
        check_finite(self._metafeatures or {})
        self._task_type = None if self._metafeatures is None else task_of(self._metafeatures)
        if space_type is not None and self._task_type not in (None, space_type):
            raise ValueError(f"space={space!r} is a space of {space_type}, and the data is a {self._task_type} "
                             f"task; choose a {self._task_type} space or leave space=None (it follows the "
                             "parameters and the data)")
        if isinstance(knowledge, (str, Path)):
            space_of(knowledge)  # the folder must be a knowledge base: say so now, not at trial 1
        elif knowledge is not None and knowledge is not False and not hasattr(knowledge, "warm_start"):
            raise TypeError(
                f"knowledge must be None, False, a KnowledgeBase or a folder path, got "
                f"{type(knowledge).__name__}"
            )
        self._space_arg = space
        self._knowledge_arg = knowledge
        self._metric = metric
        self._seed = seed
        self._rng = np.random.RandomState(seed)
        if constraints_func is not None:
            warnings.warn(
                "MetaSampler's meta-learned proposals ignore constraints_func; it is passed "
                "to the base sampler only.",
                UserWarning,
                stacklevel=2,
            )
        self._constraints_func = constraints_func
        self._base = base_sampler or optuna.samplers.TPESampler(seed=seed, constraints_func=constraints_func)
        self._n_candidates = int(n_candidates)
        if history is not None:
            history = checked_source(history)  # a wrong argument says so now, not at trial 1
        self._source = KnowledgeSource(knowledge, space, history, self._task_type)
        if X is None and self._metafeatures is not None:
            missing = self._source.missing_metafeatures(self._metafeatures)
            if missing:  # said now, not at the first trial
                raise ValueError(
                    f"metafeatures lacks {len(missing)} meta-features the knowledge reads (e.g. "
                    f"{missing[:3]}); pass metafeatures=metafeatures.extract(X, y), or X= and y= "
                    "and MetaSampler computes them")
        # without the surrogate phase (an ablation: the warm start alone) no slot refines
        self._warm = WarmStart(_DEFAULT_WARM_START if n_warm_start is None else int(n_warm_start), self._source,
                               self._metafeatures, refine=bool(surrogate_phase))
        self._lock = threading.RLock()
        self._resolved: dict[tuple, str] = {}
        self._told: set[tuple] = set()  # studies told that no knowledge covers them
        self._adapt_steps = None if adapt_steps is None else int(adapt_steps)
        self._residual_gp = bool(residual_gp)
        self._surrogate_phase = bool(surrogate_phase)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lock"] = None
        # keyed by storage object ids, which mean nothing in another process
        state["_resolved"], state["_told"] = {}, set()
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    @property
    def metafeatures(self) -> dict[str, float] | None:
        """The meta-features of the dataset being tuned (``None`` if none were given)."""
        return None if self._metafeatures is None else dict(self._metafeatures)

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._base.reseed_rng()

    # ------------------------------------------------------------------ knowledge
    def _kb(self, space: str) -> Any:
        return self._source.kb(space)

    def _resolve_space(self, study: Study, name: str | None = None, dist: BaseDistribution | None = None,
                       params: Mapping[str, BaseDistribution] | None = None,
                       seen: Mapping[str, BaseDistribution] | None = None) -> str | None:
        """The knowledge space of this study (stored in the study once decided)."""
        key = study_key(study)
        if key in self._resolved:
            return self._resolved[key]
        stored = study._storage.get_study_system_attrs(study._study_id).get(_ATTR_SPACE)
        if stored:
            self._resolved[key] = stored
            return stored
        candidates = self._source.candidate_spaces()
        if not candidates:
            if params and key not in self._told and self._knowledge_arg is not False:
                self._told.add(key)
                logger.warning("MetaSampler: no knowledge base for this study's task type; "
                               "sampling with %s", type(self._base).__name__)
            return None
        items = dict(params or seen or {})
        if name is not None and dist is not None:
            items[name] = dist
        best = best_matching_space(candidates, items)
        if best is not None and params:
            study._storage.set_study_system_attr(study._study_id, _ATTR_SPACE, best)
            self._resolved[key] = best
        elif best is None and params and key not in self._told:
            self._told.add(key)
            logger.warning(
                "MetaSampler: no knowledge covers the parameters of study %r (%s; knowledge for: "
                "%s); sampling with %s", study.study_name, ", ".join(sorted(params)),
                ", ".join(candidates), type(self._base).__name__,
            )
        return best

    def _known(self, space: str | None, name: str, dist: BaseDistribution) -> bool:
        if space is None:
            return False
        known = spaces_mod.get_search_space(space).distributions.get(canonical(space, name))
        return known is not None and usable(known, dist)

    # ------------------------------------------------------------------ Optuna API
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        self._raise_error_if_multi_objective(study)
        base_space = self._base.infer_relative_search_space(study, trial)
        if self._knowledge_arg is False:
            return base_space
        complete = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True)
        if not complete:
            return base_space
        space_all = optuna.search_space.intersection_search_space(complete)
        sname = self._resolve_space(study, params=space_all)
        if sname is None:
            return base_space
        # conditional (define-by-run) parameters too: a trial that does not set one ignores it
        every = {**conditional_space(complete), **space_all}
        known = {n: d for n, d in every.items() if not d.single() and self._known(sname, n, d)}
        return {**base_space, **known}

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if study._is_multi_objective():  # fail the trial just made: none is left RUNNING
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
            self._raise_error_if_multi_objective(study)
        self._base.before_trial(study, trial)
        if self._knowledge_arg is not False:
            self._warm.assign(study, trial)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        self._raise_error_if_multi_objective(study)
        try:
            seen = {**trial.distributions, param_name: param_distribution}
            space = self._resolve_space(study, params=None, name=param_name, dist=param_distribution,
                                        seen=seen)
        except (ValueError, OSError) as exc:
            logger.warning("no knowledge available (%s); using the base sampler", exc)
            space = None
        if space is not None and self._known(space, param_name, param_distribution):
            config = self._warm.config(study, trial, space)
            key = canonical(space, param_name)
            if config is not None and key in config:
                study._storage.set_trial_system_attr(trial._trial_id, ATTR_PROPOSED_BY, "warm_start")
                return into(param_distribution, config[key])
        return self._base.sample_independent(study, trial, param_name, param_distribution)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        self._raise_error_if_multi_objective(study)
        if not search_space:
            return {}
        space = None if self._knowledge_arg is False else self._resolve_space(study, params=search_space)
        known = {n: d for n, d in search_space.items() if self._known(space, n, d)}
        rest = {n: d for n, d in search_space.items() if n not in known}
        out = self._base.sample_relative(study, trial, rest) if rest else {}
        if not known:
            return out
        config = self._warm.config(study, trial, space)
        if config is not None:
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_PROPOSED_BY, "warm_start")
            keys = {n: canonical(space, n) for n in known}
            out.update({n: into(d, config[keys[n]]) for n, d in known.items() if keys[n] in config})
            return out
        out.update(self._propose(study, trial, space, known, refine=self._warm.refines(study, trial, space)))
        return out

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._base.after_trial(study, trial, state, values)
        stored = self._resolved.get(study_key(study))
        if stored and ATTR_METAFEATURES not in study.user_attrs and self._metafeatures is not None:
            try:
                for k, v in study_attributes(self._metafeatures, stored, metric=self._metric).items():
                    study.set_user_attr(k, v)
                if stored in self._warm.novelty:
                    study.set_user_attr(ATTR_NOVELTY, self._warm.novelty[stored])
            except (ValueError, OSError):
                pass

    # ------------------------------------------------------------------ proposals
    def _propose(self, study: Study, trial: FrozenTrial, space: str,
                 search_space: dict[str, BaseDistribution], refine: bool = False) -> dict[str, Any]:
        # small matrices: one BLAS thread (spinning OpenBLAS threads cost more than they add)
        with one_blas_thread():
            return self._propose_one_thread(study, trial, space, search_space, refine)

    def _propose_one_thread(self, study: Study, trial: FrozenTrial, space: str,
                            search_space: dict[str, BaseDistribution], refine: bool) -> dict[str, Any]:
        """The surrogate phase's proposal: expected improvement over a candidate pool; for
        the warm start's last trial (``refine``), candidates near the best trial so far and
        no hand-over to the base sampler."""
        kb = self._kb(space)
        sp = spaces_mod.get_search_space(space)
        names = sorted(search_space)
        complete = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True)
        optional = set(conditional_space(complete)) & set(names)
        configs, scores, running = observations(study, names, optional)
        if len(scores) < 2 or not self._surrogate_phase:
            return self._base.sample_relative(study, trial, search_space)
        defaults = sp.defaults()
        canon = {n: canonical(space, n) for n in names}  # the knowledge's names of the study's
        # a conditional parameter a trial did not set reads as the knowledge reads it (its
        # default) for the surrogate, and as that value in the study's range for the GP
        full = [{**defaults, **{canon[n]: v for n, v in c.items()}} for c in configs]
        fill = {n: into(search_space[n], defaults[canon[n]]) for n in optional}
        configs = [{**fill, **c} for c in configs]
        running = [{**fill, **c} for c in running]
        surrogate = kb.adapt(self._metafeatures or kb.neutral_metafeatures(), full, scores,
                             steps=self._adapt_steps)
        with self._lock:
            coin = self._rng.rand()
            if refine:
                units = local_units(self._rng, self._n_candidates, search_space, names,
                                    configs[int(np.argmax(scores))], REFINE_HALF_WIDTH)
            else:
                units = candidate_units(self._rng, self._n_candidates, search_space, names, configs, scores)
        if coin > surrogate.prior_weight and not refine:
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_PROPOSED_BY, "base_sampler")
            return self._base.sample_relative(study, trial, search_space)
        values = {n: spaces_mod.from_unit_array(search_space[n], units[:, j], exact=False)
                  for j, n in enumerate(names)}
        # The meta-learned surrogate is the prior mean; a GP on its residuals at the
        # study's own trials learns what is particular to this task, and its posterior
        # (mean and spread) drives expected improvement.
        target = copula(scores)
        prior_obs = surrogate.predict_observed()
        columns = {canon[n]: ([search_space[n].choices[int(i)] for i in v]
                              if isinstance(search_space[n], CategoricalDistribution) else v)
                   for n, v in values.items()}
        prior_cand, prior_std = surrogate.predict(columns)
        if self._residual_gp:
            obs_units = units_of(search_space, names, configs)
            mean, std = residual_gp(obs_units, target - prior_obs, units, search_space, names)
            mean = mean + prior_cand
        else:  # ablation: the surrogate's own mean and ensemble spread
            mean, std = prior_cand, prior_std
        ei = expected_improvement(mean, std, float(np.max(target)))
        taken = {tuple(c[n] for n in names) for c in configs + running}
        for i in np.argsort(-ei)[:64]:
            choice = {n: plain_value(search_space[n], values[n][i]) for n in names}
            if tuple(choice[n] for n in names) not in taken:
                break
        study._storage.set_trial_system_attr(trial._trial_id, ATTR_PROPOSED_BY,
                                             "warm_start_refine" if refine else "surrogate")
        return choice
