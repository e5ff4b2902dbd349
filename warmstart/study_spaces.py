"""Search spaces derived from users' own studies: any parameter names and distributions,
merged across studies, registered so that knowledge bases can be fitted, saved and loaded
for them as for the built-in spaces."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import optuna.distributions as od
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from .spaces import SearchSpace, clip, register_space


def _no_builder(params: dict[str, Any]) -> Any:
    raise ValueError("a space derived from studies describes their parameters; it builds no model")


def _middle(dist: BaseDistribution) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[0]
    lo, hi = float(dist.low), float(dist.high)  # type: ignore[attr-defined]
    mid = math.sqrt(lo * hi) if dist.log else (lo + hi) / 2  # type: ignore[attr-defined]
    return clip(dist, mid)


def study_space(distributions: Mapping[str, BaseDistribution]) -> SearchSpace:
    """A search space of the parameters of users' studies (any names and distributions),
    registered so that ``get_search_space`` finds it. Its name carries its content hash
    (``studies-<hash>``); a parameter a configuration lacks (a conditional one) is read as
    the middle of its range (the first choice of a categorical)."""
    dists = {str(k): v for k, v in sorted(distributions.items())}
    payload = json.dumps({k: od.distribution_to_json(v) for k, v in dists.items()}, sort_keys=True)
    name = "studies-" + hashlib.sha256(payload.encode()).hexdigest()[:10]
    space = SearchSpace(name, "any", dists, {}, _no_builder, {k: _middle(v) for k, v in dists.items()},
                        "parameters of finished studies")
    return register_space(space)


def merge_distributions(dists: list[BaseDistribution]) -> BaseDistribution | None:
    """One distribution covering several studies' distributions of a parameter: the union
    of ranges (log if every one is log; float if any is float) or of categorical choices;
    ``None`` when they cannot be merged (categorical in one study, numeric in another)."""
    if all(isinstance(d, CategoricalDistribution) for d in dists):
        choices: list[Any] = []
        for d in dists:
            choices += [c for c in d.choices if c not in choices]
        return CategoricalDistribution(choices)
    if any(isinstance(d, CategoricalDistribution) for d in dists):
        return None
    lo = min(float(d.low) for d in dists)  # type: ignore[attr-defined]
    hi = max(float(d.high) for d in dists)  # type: ignore[attr-defined]
    log = all(d.log for d in dists)  # type: ignore[attr-defined]
    if all(isinstance(d, IntDistribution) for d in dists) and not log:
        return IntDistribution(int(lo), int(hi))
    if all(isinstance(d, IntDistribution) for d in dists):
        return IntDistribution(int(lo), int(hi), log=True)
    return FloatDistribution(lo, hi, log=log)
