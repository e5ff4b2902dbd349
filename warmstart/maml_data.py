"""What the MAML network reads: its inputs and its meta-training tasks.

A row is ``[encoded configuration, cross-task prior, task embedding]``:

* the configuration on the unit cube (:func:`warmstart.surrogate.encode`);
* optionally, the **cross-task prior**: the cross-task XGBoost surrogate's prediction for
  this configuration on this task. For a new dataset it comes from the ensemble fitted on
  every known task; for the meta-training tasks it is **out of fold** (each group of
  families predicted by an XGBoost fitted without it), so that the network learns how far
  to trust the prior on a family it has not seen, not on the tasks the prior memorized.
  The network then adapts *on top of* what carries across tasks instead of re-learning it
  from the configuration alone;
* the task embedding: the most useful scaled meta-features (the last ``embed_dim``
  inputs, where meta-training adds noise, see :class:`warmstart.maml.MAMLConfig`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .cross_task import cross_task_raw, fit_cross_task

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

#: groups of families the out-of-fold prior is computed in
PRIOR_FOLDS = 5


def out_of_fold_prior(task_matrix: np.ndarray, scores: np.ndarray, enc: np.ndarray, groups: list[str],
                      random_state: int) -> np.ndarray:
    """(tasks, configs) cross-task predictions where ``scores`` is finite (NaN elsewhere:
    meta-training reads only evaluated configurations), each task's from one XGBoost
    regressor fitted on the folds of families it is not in."""
    uniq = sorted(set(groups))
    rng = np.random.default_rng(random_state)
    fold_of = {g: i % PRIOR_FOLDS for i, g in enumerate(rng.permutation(uniq))}
    fold = np.array([fold_of[g] for g in groups])
    finite = np.isfinite(scores)
    out = np.where(finite, 0.0, np.nan)
    for f in np.unique(fold):
        held, train = np.flatnonzero(fold == f), np.flatnonzero(fold != f)
        if len(train) < 3:  # (almost) nothing outside this fold to learn from: the prior stays 0
            continue
        model = fit_cross_task(task_matrix[train], scores[train], enc, 1, random_state + int(f))
        ti, ci = np.nonzero(finite[held])
        out[held[ti], ci] = cross_task_raw(model, task_matrix[held[ti]], enc[ci])[0]
    return out


def training_tasks(kb: KnowledgeBase, enc: np.ndarray, groups: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (inputs, copula scores) pair per known task, over its evaluated configurations."""
    prior = (out_of_fold_prior(kb.task_matrix, kb.scores, enc, groups, kb.random_state)
             if kb.maml_prior_input else None)
    tasks = []
    for i in range(len(kb.task_ids)):
        ok = np.isfinite(kb.scores[i])
        emb = np.repeat(kb.task_matrix[i, kb.embed_idx][None, :], ok.sum(), axis=0)
        cols = [enc[ok]] + ([prior[i, ok][:, None]] if prior is not None else []) + [emb]
        tasks.append((np.hstack(cols), kb.scores[i, ok]))
    return tasks


def inputs(kb: KnowledgeBase, enc: np.ndarray, task_vector: np.ndarray,
           cross_task: np.ndarray | None = None) -> np.ndarray:
    """The network's inputs for encoded configurations of one task (a task vector);
    ``cross_task``: the cross-task members' raw predictions at them, when already computed."""
    cols = [enc]
    if kb.maml_prior_input:
        if cross_task is None:
            cross_task = kb.cross_task_members(task_vector, enc) if len(enc) else np.zeros((1, 0))
        cols.append(cross_task.mean(axis=0)[:, None])
    cols.append(np.repeat(task_vector[kb.embed_idx][None, :], len(enc), axis=0))
    return np.hstack(cols)
