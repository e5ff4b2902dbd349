"""The warm start that follows the study's values: which known configuration the next
warm-start trial takes, given the trials the new study has evaluated so far.

The zero-shot warm start (:mod:`warmstart.zero_shot`) fixes its configurations before any
value is seen. From ``FOLLOW_FROM`` completed warm-start trials on, the known tasks are
reweighted by how well their scores order the new study's values: each known task's kernel
weight (its closeness in meta-features) times ``exp(FOLLOW_STRENGTH * pairs * (share - 1/2))``,
``share`` the share of the pairs of evaluated configurations the task orders as the study
did (ties half) and ``pairs`` how many pairs the study's values order. The next trial is,
while fewer than ``EXPLOIT_FROM`` configurations are taken, the greedy portfolio's next
pick under those weights (the one that most reduces their weighted regret, given what is
already evaluated or running), then the known configuration not yet taken with the best
score under them (:func:`best_expected`): the one the known tasks that rank this dataset's
configurations right expect to be best.

Held out by family, as lookups over the objective models' regrets (BENCHMARKS.md, sessions
18 and 19), the best of ten trials was better than the fixed ten's on 95 of 425 classifier
tasks and worse on 30 (238 regression tasks: 38 and 12) when the next trial was the greedy
portfolio's next pick under the weights (the configuration that most reduces their
weighted regret); taking the best-scoring one instead, from the seventh trial, was better
again on 73 classifier tasks and worse on 32 (regression: 23 and 14): once the weights
single out the tasks like this one, covering the others costs trials. From the fourth trial
on (86 and 34 in the lookups) it left the sampler's later model-based trials less to learn
from (mean regret at 20-30 trials worse than with the greedy picks); from the seventh it
kept the gain at ten trials on the tables of 5,000+ rows (median regret 0.087 against
0.097) and the later trials within noise (BENCHMARKS.md, session 19). Far from every known
family (the safety net) the robust start stays as it is: there the reweighting did worse.

Only trials that took a known configuration count (the warm start's own, and the user's
enqueued ones that equal a known configuration); knowledge learned from studies without
meta-features follows its own per-study models (:func:`warmstart.study_models.next_warm_config`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import study_models
from .portfolio import kernel_weights, next_pick
from .zero_shot import choose_k, safety_on

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

#: completed warm-start trials before the warm start follows the study's values
FOLLOW_FROM = 3
#: how fast ranking agreement moves a known task's weight (per pair the study orders)
FOLLOW_STRENGTH = 0.5
#: configurations taken (evaluated or running) from which the next one is the best-scoring
#: under the weights rather than the greedy portfolio's next pick
EXPLOIT_FROM = 6


def agreement(scores: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int]:
    """(tasks,) share of the pairs of ``values`` (higher better) that each row of ``scores``
    (tasks x the same configurations) orders the same way (ties in a row count half), and
    the number of pairs ``values`` orders (its ties are left out)."""
    i, j = np.triu_indices(len(values), k=1)
    dv = np.sign(values[i] - values[j])
    keep = dv != 0
    if not keep.any():
        return np.full(len(scores), 0.5), 0
    ds = np.sign(scores[:, i[keep]] - scores[:, j[keep]]) * dv[keep]
    return (ds > 0).mean(axis=1) + 0.5 * (ds == 0).mean(axis=1), int(keep.sum())


def follow_weights(prior: np.ndarray, scores: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Normalized weights of the known tasks: ``prior`` times the ranking agreement of their
    ``scores`` (tasks x evaluated configurations) with the study's ``values``."""
    share, pairs = agreement(scores, values)
    logw = np.log(np.maximum(prior, 1e-300)) + FOLLOW_STRENGTH * pairs * (share - 0.5)
    w = np.exp(logw - logw.max())
    return w / w.sum()


def best_expected(scores: np.ndarray, weights: np.ndarray, exclude: Sequence[int] = ()) -> int:
    """The column of ``scores`` (tasks x configurations, higher better) with the highest
    ``weights``-weighted score, columns in ``exclude`` left out (ties: the first)."""
    expected = weights @ scores
    expected[list(exclude)] = -np.inf
    return int(np.argmax(expected))


def next_warm_config(
    kb: KnowledgeBase,
    metafeatures: pd.Series | Mapping[str, float] | None,
    observed: Sequence[Mapping[str, Any]],
    values: np.ndarray,
    pending: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The next warm-start configuration given the new study's ``observed`` configurations
    (full configurations in the knowledge's names), their ``values`` (higher better) and
    the ``pending`` ones still running; None where the fixed warm start goes on (fewer than
    ``FOLLOW_FROM`` observations of known configurations, no meta-features, the safety
    net, or every known configuration taken)."""
    if study_models.uses_study_models(kb):
        return study_models.next_warm_config(kb, observed, values, pending)
    if metafeatures is None or not len(kb.task_ids):
        return None
    column = {json.dumps(c, sort_keys=True): j for j, c in enumerate(kb.configs)}
    values = np.asarray(values, dtype=np.float64)
    seen = [(column[k], v) for k, v in zip((json.dumps(dict(c), sort_keys=True) for c in observed), values)
            if k in column and np.isfinite(v)]
    if len({j for j, _ in seen}) < FOLLOW_FROM:
        return None
    d = kb.distances(metafeatures)
    if safety_on(kb, d):
        return None
    cols = np.array([j for j, _ in seen])
    w = follow_weights(kernel_weights(d, choose_k(kb, d)), kb.filled[:, cols], np.array([v for _, v in seen]))
    taken = sorted({*cols.tolist(), *(column[k] for k in (json.dumps(dict(c), sort_keys=True) for c in pending)
                                      if k in column)})
    if len(taken) >= len(kb.configs):
        return None
    if len(taken) < EXPLOIT_FROM:
        return dict(kb.configs[next_pick(kb.filled, w, kb.filled[:, taken].max(axis=1), exclude=taken)])
    return dict(kb.configs[best_expected(kb.filled, w, exclude=taken)])
