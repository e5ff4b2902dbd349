"""The warm start of ``MetaSampler``: which trials take a warm-start slot and which
configuration each slot takes.

A slot follows the trial number (the storage hands numbers out atomically, so no two
trials of any thread or process take the same slot; trials the user enqueued take none).
Its configuration is the knowledge base's portfolio for the dataset
(``KnowledgeBase.warm_start``) for the first ``FOLLOW_FROM`` slots, then a known
configuration chosen given the values of the study's trials so far
(:func:`warmstart.warm_follow.next_warm_config`: the known tasks that order them right
weigh more); for knowledge learned from studies
without meta-features, that next pick from the second trial on
(:func:`warmstart.study_models.next_warm_config`). The configuration is decided once, at the
trial's first parameter, and kept in the trial's system attributes (``ATTR_CONFIG``).

The last slot of a warm start of ``REFINE_MIN_TRIALS`` or more trials with meta-features
(the safety net's too; not when the sampler's surrogate phase is off) takes no known
configuration (:meth:`WarmStart.refines`): the sampler proposes it with the surrogate
phase's model among candidates near the best trial so far (``tuner.gp.REFINE_HALF_WIDTH``).
Held out by family, on the 5,000+-row classifier tables, that trial found a better
configuration than the tenth known one on 39 tasks and a worse one on 8 (BENCHMARKS.md,
session 22): the known configurations' best is a point of a design, and the best trial's
neighbourhood usually holds a better one.

A decision that follows the study's own trials reads the configurations of the trials still
running, so that no two trials take the same one. Trials of one process decide one at a
time; across processes sharing a storage, a trial first waits (at most ``DECIDE_WAIT``
seconds) until every earlier trial still running has decided, so decisions follow the
trial numbers (whether a decision ranks by the study's trials or takes the portfolio's
next one depends on how many have completed by then, which a concurrent decision could
see differently: the order is kept from the first slot on).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from warmstart.study_models import uses_study_models
from warmstart.warm_follow import FOLLOW_FROM, next_warm_config

from .knowledge_source import KnowledgeSource
from .mapping import enqueued_before, enqueued_configs, knowledge_observations

logger = logging.getLogger(__name__)

#: trial system attributes: the warm-start slot of a trial, and the configuration it takes
ATTR_INDEX = "learn2tune:warm_start_index"
ATTR_CONFIG = "learn2tune:warm_start_config"
#: seconds a warm-start trial waits for earlier running ones (other processes) to decide
DECIDE_WAIT = 2.0
#: warm starts of at least this many trials end with a trial that refines the best so far
REFINE_MIN_TRIALS = FOLLOW_FROM + 3


def study_key(study: Study) -> tuple:
    """A key for per-study caches: the storage object, the study id and its name (an id
    alone can be reused by a new storage object once the old one is gone)."""
    return (id(study._storage), study._study_id, study.study_name)


class WarmStart:
    """The warm-start slots of the studies a sampler drives (thread-safe, picklable)."""

    def __init__(self, n: int, source: KnowledgeSource, metafeatures: Mapping[str, float] | None,
                 refine: bool = True) -> None:
        self.n, self._source, self._metafeatures = n, source, metafeatures
        #: whether the last slot may refine (off: every slot takes a known configuration)
        self.refine = refine
        self._portfolios: dict[str, list[dict]] = {}
        #: per space: how far the dataset is from the known tasks (``KnowledgeBase.novelty``)
        self.novelty: dict[str, dict] = {}
        # per study: the first trial number known to be past the warm start (slots only
        # grow with trial numbers, so later trials need not read the study's trials again)
        self._over: dict[tuple, int] = {}
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_over"] = {}  # keyed by storage object ids, which mean nothing in another process
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def portfolio(self, space: str) -> list[dict]:
        """The knowledge's zero-shot warm start of ``space`` for this dataset (computed once)."""
        with self._lock:
            if space not in self._portfolios:
                kb = self._source.kb(space)
                self._portfolios[space] = kb.warm_start(self._metafeatures, n=max(self.n, 1))
                if self._metafeatures is not None:
                    self.novelty[space] = n = kb.novelty(self._metafeatures)
                    logger.info("MetaSampler: nearest known task %s at distance %.3g (farther than "
                                "%.0f%% of known tasks are from theirs, %.0f%% of held-out families "
                                "from the nearest other family)%s", n["nearest_task"],
                                n["nearest_distance"], 100 * n["distance_quantile"],
                                100 * n["family_quantile"],
                                ": far from everything known, the warm start begins with the most "
                                "robust configurations" if n["safety_net"] else "")
            return self._portfolios[space]

    def assign(self, study: Study, trial: FrozenTrial) -> None:
        """Give ``trial`` its warm-start slot, if it takes one. The index never decreases as
        numbers grow (each earlier trial adds 1 to the number and at most 1 to the enqueued
        count), so once a trial is past the warm start, every later one is too."""
        if "fixed_params" in trial.system_attrs or self.n == 0:
            return
        key = study_key(study)
        over = self._over.get(key)
        if over is not None and trial.number >= over:
            return
        index = trial.number - enqueued_before(study, trial.number)
        if index < self.n:
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_INDEX, index)
        else:
            with self._lock:
                self._over[key] = min(trial.number, self._over.get(key, trial.number))

    def config(self, study: Study, trial: FrozenTrial, space: str) -> dict[str, Any] | None:
        """The configuration (the knowledge's names) ``trial`` takes, or None if it takes
        no warm-start slot or the portfolio is shorter than its slot."""
        attrs = study._storage.get_trial_system_attrs(trial._trial_id)
        if ATTR_INDEX not in attrs:
            return None
        if ATTR_CONFIG in attrs:  # decided at this trial's first parameter
            return attrs[ATTR_CONFIG]
        if self._refines(int(attrs[ATTR_INDEX]), space):  # no known configuration: see refines
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_CONFIG, None)
            return None
        portfolio = self.portfolio(space)
        index, enqueued = int(attrs[ATTR_INDEX]), enqueued_configs(study)
        remaining = [c for c in portfolio if json.dumps(c, sort_keys=True) not in enqueued]
        if index >= len(remaining):
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_CONFIG, None)  # decided: none
            return None
        config = remaining[index]
        kb = self._source.kb(space)
        history = uses_study_models(kb)
        follow = history or (self._metafeatures is not None and index >= FOLLOW_FROM)
        if follow:
            await_earlier(study, trial.number)
        with self._lock:  # one decision at a time, each seeing the others' (threads of a process)
            if follow:  # follow the known tasks (or past studies) that rank this one's trials
                observed, values, pending = knowledge_observations(
                    study, space, trial.number, ATTR_CONFIG, decided_first=not history)
                picked = next_warm_config(kb, self._metafeatures, observed, values, pending)
                if picked is None:  # the fixed portfolio's: one no trial took yet
                    taken = {json.dumps(dict(c), sort_keys=True) for c in [*observed, *pending]}
                    picked = next((c for c in remaining[index:] if json.dumps(c, sort_keys=True) not in taken),
                                  config)
                config = picked
            study._storage.set_trial_system_attr(trial._trial_id, ATTR_CONFIG, config)
        return config

    def refines(self, study: Study, trial: FrozenTrial, space: str) -> bool:
        """Whether ``trial`` is the warm start's last trial and refines the best trial so
        far instead of taking a known configuration: the sampler proposes it with the
        surrogate phase's model, among candidates near that trial (warm starts of at least
        ``REFINE_MIN_TRIALS`` trials with meta-features)."""
        over = self._over.get(study_key(study))
        if over is not None and trial.number >= over:  # past the warm start: no storage read
            return False
        index = study._storage.get_trial_system_attrs(trial._trial_id).get(ATTR_INDEX)
        return index is not None and self._refines(int(index), space)

    def _refines(self, index: int, space: str) -> bool:
        return (self.refine and index == self.n - 1 and self.n >= REFINE_MIN_TRIALS
                and self._metafeatures is not None and not uses_study_models(self._source.kb(space)))


def await_earlier(study: Study, number: int, timeout: float | None = None) -> None:
    """Wait until every running trial numbered below ``number`` that the user did not
    enqueue has decided its warm-start configuration (another process's trial may be
    deciding right now), at most ``timeout`` seconds (default ``DECIDE_WAIT``: a trial whose
    objective is slow to ask for its first parameter, or whose process died, does not hold
    the study up for longer). Called for a warm-start slot, so every earlier trial not
    enqueued has a slot too, even one whose slot is not written yet (its process is between
    creating the trial and giving it its slot)."""
    deadline, pause = time.monotonic() + (DECIDE_WAIT if timeout is None else timeout), 0.005
    while True:
        running = study._storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.RUNNING,))
        if not any(t.number < number and ATTR_CONFIG not in t.system_attrs
                   and "fixed_params" not in t.system_attrs for t in running) or time.monotonic() >= deadline:
            return
        time.sleep(pause)
        pause = min(2 * pause, 0.05)
