"""How a study maps onto knowledge: which parameters a knowledge space covers, values made
valid for the user's distribution, unit-cube coordinates, and the study's trials as
observations (higher is better)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from warmstart import spaces as spaces_mod

#: other names of the built-in spaces' parameters (XGBoost's native API and training
#: arguments), by space: a study that calls a parameter by one of them gets its knowledge
ALIASES: dict[str, dict[str, str]] = {
    space: {"eta": "learning_rate", "lambda": "reg_lambda", "alpha": "reg_alpha",
            "num_boost_round": "n_estimators", "num_round": "n_estimators",
            "num_rounds": "n_estimators", "n_rounds": "n_estimators"}
    for space in ("xgboost-classifier", "xgboost-regressor")
}


def canonical(space: str, name: str) -> str:
    """The built-in space's own name of a study's parameter (the name itself, or the
    parameter it is an alias of)."""
    dists = spaces_mod.get_search_space(space).distributions
    return name if name in dists else ALIASES.get(space, {}).get(name, name)


def covers(known: BaseDistribution, user: BaseDistribution) -> bool:
    """Whether values of ``user`` are valid values of ``known`` (a sound mapping)."""
    if isinstance(known, CategoricalDistribution):
        return isinstance(user, CategoricalDistribution) and all(c in known.choices for c in user.choices)
    if isinstance(known, IntDistribution):
        return isinstance(user, IntDistribution) and known.low <= user.low and user.high <= known.high
    if isinstance(known, FloatDistribution):
        return isinstance(user, FloatDistribution) and known.low <= user.low and user.high <= known.high
    return False


def usable(known: BaseDistribution, user: BaseDistribution) -> bool:
    """Whether knowledge about ``known`` informs a parameter drawn from ``user``: the same
    kind of number with overlapping ranges (a wider or shifted user range included: the
    knowledge speaks where it has data, the study's own model explores the rest), or a
    categorical whose choices are all known."""
    if isinstance(known, CategoricalDistribution):
        return covers(known, user)
    if type(known) is not type(user) or not isinstance(known, (IntDistribution, FloatDistribution)):
        return False
    return user.low <= known.high and known.low <= user.high  # type: ignore[attr-defined]


def into(dist: BaseDistribution, value: Any) -> Any:
    """``value`` made a valid, plain-Python value of ``dist`` (clipped, stepped)."""
    if isinstance(dist, CategoricalDistribution):
        return value if value in dist.choices else dist.choices[0]
    v = spaces_mod.clip(dist, value)
    return int(v) if isinstance(dist, IntDistribution) else snap_to_bounds(dist, float(v))


def units_of(search_space: dict[str, BaseDistribution], names: list[str], configs: list[dict]) -> np.ndarray:
    """Unit-cube coordinates of ``configs`` (columns in ``names`` order; a categorical
    value sits at its bin's centre, as :func:`warmstart.spaces.to_unit`)."""
    cols = []
    for n in names:
        d = search_space[n]
        if isinstance(d, CategoricalDistribution):
            cols.append((np.array([d.choices.index(c[n]) for c in configs]) + 0.5) / len(d.choices))
        else:
            cols.append(spaces_mod.to_unit_array(d, np.array([c[n] for c in configs], dtype=np.float64)))
    return np.column_stack(cols)


def plain_value(dist: BaseDistribution, v: Any) -> Any:
    """A candidate's value as the plain Python value Optuna stores: a categorical index
    becomes its choice, an int an int, and a float within rounding of a bound the bound
    itself (``0.001`` as the user wrote it, not ``0.0010000000000000002``)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(v)]
    if isinstance(dist, IntDistribution):
        return int(v)
    return snap_to_bounds(dist, float(v))


def snap_to_bounds(dist: BaseDistribution, v: float) -> float:
    """``v``, or the bound of ``dist`` it differs from by rounding only."""
    for bound in (float(dist.low), float(dist.high)):  # type: ignore[attr-defined]
        if abs(v - bound) <= 1e-9 * max(abs(bound), 1e-300):
            return bound
    return v


def best_matching_space(candidates: list[str], params: dict[str, BaseDistribution]) -> str | None:
    """The candidate space that knows most of ``params`` (by name or alias; an exact
    distribution counts 1.5, a usable one 1); ``None`` when none knows any."""
    best, best_score = None, 0.0
    for sname in candidates:
        sp = spaces_mod.get_search_space(sname)
        score = 0.0
        for pname, pdist in params.items():
            known = sp.distributions.get(canonical(sname, pname))
            if known is not None and usable(known, pdist):
                score += 1.0 + (0.5 if known == pdist else 0.0)
        if score > best_score:
            best, best_score = sname, score
    return best


def observations(study: Study, names: list[str],
                 optional: Collection[str] = ()) -> tuple[list[dict], np.ndarray, list[dict]]:
    """A study's trials that set every parameter in ``names`` but the ``optional`` ones
    (conditional parameters, left out of a trial's config when it did not set them):
    completed (and pruned with an intermediate value) as (configs, higher-is-better
    scores), and running ones."""
    sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
    configs, scores, running = [], [], []
    for t in study._get_trials(deepcopy=False, use_cache=False):
        if not all(n in t.params for n in names if n not in optional):
            continue
        config = {n: t.params[n] for n in names if n in t.params}
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value):
            configs.append(config)
            scores.append(sign * t.value)
        elif t.state == TrialState.PRUNED and t.intermediate_values:
            last = t.intermediate_values[max(t.intermediate_values)]
            if math.isfinite(last):
                configs.append(config)
                scores.append(sign * last)
        elif t.state == TrialState.RUNNING:
            running.append(config)
    return configs, np.asarray(scores, dtype=np.float64), running


def conditional_space(trials: Sequence[FrozenTrial]) -> dict[str, BaseDistribution]:
    """Parameters some but not all of ``trials`` set (conditional, define-by-run ones), each
    with the one distribution every trial that set it used (parameters drawn from several
    distributions are left out)."""
    seen: dict[str, BaseDistribution | None] = {}
    counts: dict[str, int] = {}
    for t in trials:
        for n, d in t.distributions.items():
            counts[n] = counts.get(n, 0) + 1
            if n not in seen:
                seen[n] = d
            elif seen[n] is not None and seen[n] != d:
                seen[n] = None
    return {n: d for n, d in seen.items() if d is not None and counts[n] < len(trials)}


def enqueued_configs(study: Study) -> set[str]:
    """Configurations the user enqueued in a study (``enqueue_trial``), as sorted JSON."""
    import json

    out = set()
    for t in study._get_trials(deepcopy=False, use_cache=True):
        fixed = t.system_attrs.get("fixed_params")
        if fixed:
            out.add(json.dumps(dict(sorted(fixed.items())), sort_keys=True))
    return out


def enqueued_before(study: Study, number: int) -> int:
    """How many trials numbered below ``number`` were enqueued by the user."""
    return sum(1 for t in study._get_trials(deepcopy=False, use_cache=False)
               if t.number < number and "fixed_params" in t.system_attrs)


def knowledge_observations(study: Study, space: str, exclude: int, decided_attr: str,
                           decided_first: bool = False) -> tuple[list[dict], np.ndarray, list[dict]]:
    """The study's trials (but trial number ``exclude``) as full configurations of the
    knowledge ``space`` (its names; its defaults where a trial lacks a parameter):
    completed ones with their higher-is-better values, and running ones (the configuration
    decided for them, stored in their system attribute ``decided_attr``, if any).
    ``decided_first``: a completed trial that took a decided configuration is that
    configuration (the known one, before the study's space rounded or clipped it)."""
    known = spaces_mod.get_search_space(space)
    defaults = known.defaults()
    sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
    observed, values, pending = [], [], []
    for t in study._get_trials(deepcopy=False, use_cache=False):
        if t.number == exclude:
            continue
        conf = {canonical(space, n): v for n, v in t.params.items()}
        conf = {k: v for k, v in conf.items() if k in known.distributions}
        if t.state == TrialState.COMPLETE and conf and t.value is not None and math.isfinite(t.value):
            decided = t.system_attrs.get(decided_attr) if decided_first else None
            observed.append(dict(decided) if decided else {**defaults, **conf})
            values.append(sign * t.value)
        elif t.state == TrialState.RUNNING and (t.system_attrs.get(decided_attr) or conf):
            pending.append(t.system_attrs.get(decided_attr) or {**defaults, **conf})
    return observed, np.asarray(values, dtype=np.float64), pending
