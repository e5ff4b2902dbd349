"""Knowledge from the user's own finished studies, on any search space.

Each finished single-objective study is a task; its completed trials are its evaluations
(the value, negated for minimized studies, in the column ``objective``). The space is
derived from the studies' distributions (:func:`warmstart.study_spaces.study_space`:
ranges merged, its signature from its content). A study that carries learn2tune's
meta-features (one learn2tune drove, or one described with ``tuner.describe_study``) is
described by them; otherwise studies are told apart by their trials only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .history import ATTR_METAFEATURES, ATTR_NAME, load_studies
from .spaces import SearchSpace
from .store import MF_PREFIX, MetaDataset, param_columns
from .study_models import study_models
from .study_spaces import merge_distributions, study_space

#: a study needs this many completed trials to teach anything
MIN_TRIALS = 10
#: meta-training of a history's MAML members (:func:`meta_iterations_for`)
EPISODES_PER_STUDY, MIN_ITERATIONS, MAX_ITERATIONS = 128, 80, 150


def _usable(study: Any) -> list[Any]:
    import optuna

    if len(study.directions) != 1:
        return []
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return [t for t in trials if t.value is not None and np.isfinite(t.value) and t.params]


def studies_metadataset(studies: Sequence[Any]) -> tuple[MetaDataset, SearchSpace]:
    """The studies (at least ``MIN_TRIALS`` completed trials each) as a MetaDataset on a
    space derived from their distributions."""
    import optuna

    kept = [(s, _usable(s)) for s in studies]
    kept = [(s, trials) for s, trials in kept if len(trials) >= MIN_TRIALS]
    if len(kept) < 3:
        raise ValueError(
            f"learning from studies needs at least 3 finished single-objective studies with "
            f"{MIN_TRIALS}+ completed trials; {len(kept)} of the {len(studies)} given qualify"
        )
    by_name: dict[str, list[Any]] = {}
    for _, trials in kept:
        for t in trials:
            for name, dist in t.distributions.items():
                by_name.setdefault(name, []).append(dist)
    merged = {}
    for name, dists in by_name.items():
        m = merge_distributions(dists)
        if m is not None and not m.single():
            merged[name] = m
    if not merged:
        raise ValueError("the studies share no parameter that varies; nothing to learn")
    space = study_space(merged)
    defaults = space.defaults()
    task_rows, eval_rows = [], []
    for study, trials in kept:
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        storage_id = getattr(study._storage, "url", None) or type(study._storage).__name__
        task_id = f"optuna:{study.study_name}@{hashlib.sha1(str(storage_id).encode()).hexdigest()[:8]}"
        mf = study.user_attrs.get(ATTR_METAFEATURES) or {}
        row = {"task_id": task_id, "fingerprint": hashlib.sha256(task_id.encode()).hexdigest()[:16],
               "source": f"optuna:{study.study_name}", "name": study.user_attrs.get(ATTR_NAME, study.study_name),
               "task_type": "any", "n_rows": int(mf.get("NumberOfInstances", 0)),
               "n_features": int(max(mf.get("NumberOfFeatures", 1) - 1, 0)),
               **{f"{MF_PREFIX}{k}": float(v) for k, v in mf.items()}}
        task_rows.append(row)
        for t in trials:
            # merged distributions hold every value a study used; an absent (conditional)
            # parameter reads as the space's default
            config = {p: t.params.get(p, defaults[p]) for p in space.params}
            rec = {"task_id": task_id, "space": space.name, "space_signature": space.signature,
                   "config_id": int(t.number), "config": json.dumps(config, sort_keys=True, default=str),
                   "objective": sign * float(t.value), "fit_seconds": float("nan"),
                   "status": "ok", "error": ""}
            rec.update(param_columns(space, config))
            eval_rows.append(rec)
    tasks = pd.DataFrame(task_rows)
    mf_cols = [c for c in tasks.columns if c.startswith(MF_PREFIX)]
    if mf_cols and tasks[mf_cols].isna().any().any():
        tasks = tasks.drop(columns=mf_cols)  # some studies are not described: none are
    return MetaDataset(tasks, pd.DataFrame(eval_rows), {"from_studies": len(kept)}), space


def fit_from_studies(studies: str | Iterable[Any], *, pattern: str | None = None,
                     maml: dict | None = None, n_xgb: int = 3, random_state: int = 0) -> Any:
    """A :class:`~warmstart.KnowledgeBase` learned from finished studies (see the module
    docstring): ``studies`` is an Optuna storage URL, a storage or a list of studies."""
    md, space = studies_metadataset(load_studies(studies, pattern, "studies"))
    return fit_on(md, space, maml=maml, n_xgb=n_xgb, random_state=random_state)


def meta_iterations_for(n_studies: int, meta_batch: int = 16) -> int:
    """MAML meta-iterations for a history of ``n_studies``: each study drawn about
    ``EPISODES_PER_STUDY`` times (``meta_batch`` episodes per iteration), at least
    ``MIN_ITERATIONS`` and at most ``MAX_ITERATIONS``. Meta-training is most of the fit, and
    its cost does not depend on the history's size: without this a history of 5 studies
    took as long as one of 200."""
    n = math.ceil(EPISODES_PER_STUDY * n_studies / max(int(meta_batch), 1))
    return int(min(MAX_ITERATIONS, max(MIN_ITERATIONS, n)))


def fit_on(md: MetaDataset, space: SearchSpace, *, maml: dict | None = None, n_xgb: int = 3,
           random_state: int = 0) -> Any:
    """The knowledge base of :func:`studies_metadataset`'s output (a lighter MAML ensemble
    than the bundled knowledge's by default: a user's history is fitted at run time)."""
    from .knowledge import KnowledgeBase
    from .maml import MAMLConfig

    batch = (maml or {}).get("meta_batch", MAMLConfig.meta_batch)
    settings = {"members": 3, "meta_iterations": meta_iterations_for(len(md.tasks), batch), **(maml or {})}
    kb = KnowledgeBase.fit(md, space.name, metric="objective", maml=settings, n_xgb=n_xgb,
                           random_state=random_state)
    kb.info["from_studies"] = len(kb.task_ids)  # per-study models drive its warm start
    study_models(kb)  # fitted with the rest (a loaded knowledge base fits them at first use)
    return kb
