"""``learn2tune bench history``: learning from the user's own studies, leave-one-study-out.

The studies a user keeps are simulated from a meta-dataset: every task's objective (the
model of its own evaluations, as in ``bench tuning``) is exposed through **renamed
parameters** no built-in space or alias knows (``trees``, ``step``, ``depth``...; the random
forest's depth is conditional on a categorical switch, as ``max_depth=None`` is), and one
TPE study of ``history_trials`` trials is run on each: that is the history. Each task is then
held out in turn and tuned with the other tasks' studies as history:

* ``meta-history``: ``MetaSampler`` with a knowledge base learned from the other studies
  (``KnowledgeBase.from_studies``, fitted once per held-out task, shared by the seeds);
* ``tpe``: Optuna's ``TPESampler`` (no history);
* ``ws-cmaes``: ``CmaEsSampler(source_trials=...)`` with every trial of the history;
* ``meta-learn-tpe``: optunahub's ``MetaLearnTPESampler`` (a peer, loaded from the folder
  named by ``--peers`` or ``LEARN2TUNE_PEERS``; never part of learn2tune).

``unrelated=True`` shuffles the values of every history study (same configurations, values
permuted): knowledge that says nothing, which must not make MetaSampler worse than TPE.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from warmstart import KnowledgeBase, MetaDataset
from warmstart.store import atomic_write_parquet

from .folds import task_table
from .objectives import TaskObjective
from .protocol_file import keep_protocol

_XGB_RENAME = {"n_estimators": "trees", "learning_rate": "step", "max_depth": "depth",
               "min_child_weight": "leaf_weight", "subsample": "row_share", "colsample_bytree": "col_share",
               "reg_lambda": "l2", "reg_alpha": "l1"}
#: the renamed parameters of each space the bench knows: names no built-in space or alias knows
RENAMES = {
    "xgboost-classifier": _XGB_RENAME,
    "xgboost-regressor": _XGB_RENAME,
    "random-forest-classifier": {"n_estimators": "forest_size", "max_features": "feature_share",
                                 "min_samples_split": "split_min", "min_samples_leaf": "leaf_min",
                                 "max_depth": "depth", "bootstrap": "resample"},
}
#: a conditional parameter (define-by-run): (parameter, the categorical switch's name, its
#: value when the switch is "none"). The random forest's depth is set only when the switch
#: says "limited"; "none" grows the deepest trees the space knows (32 levels: unlimited on
#: tables of 2,000 rows), as scikit-learn's ``max_depth=None``.
CONDITIONAL = {"random-forest-classifier": ("max_depth", "depth_limit", 32)}
METHODS = ("meta-history", "tpe", "ws-cmaes", "meta-learn-tpe")


def renamed_objective(f: TaskObjective) -> Callable[[optuna.Trial], float]:
    """``f`` with every parameter under its renamed name (same distributions), and the
    space's conditional parameter, if any, behind its switch."""
    from tuner.search import suggest

    dists = f.space.distributions
    rename = RENAMES[f.space.name]
    cond, switch, off = CONDITIONAL.get(f.space.name, (None, "", None))

    def objective(trial: optuna.Trial) -> float:
        config = {}
        for p in f.space.params:
            if p == cond and trial.suggest_categorical(switch, ["limited", "none"]) == "none":
                config[p] = off
            else:
                config[p] = suggest(trial, rename[p], dists[p])
        return f(config)

    return objective


def load_peer(folder: str | None) -> Any:
    """optunahub's ``MetaLearnTPESampler`` from the peers folder, adapted to Optuna 5 from
    here (its files are not edited): ``_split_trials`` lost its ``constraints_enabled``
    argument, and ``TPESampler._gamma`` is set on first use only, so the peer's own TPE
    samplers get Optuna's default gamma before it reads them."""
    folder = folder or os.environ.get("LEARN2TUNE_PEERS")
    if not folder or not (Path(folder) / "meta_learn_tpe").is_dir():
        raise ValueError(
            "method 'meta-learn-tpe' needs the peers folder holding meta_learn_tpe/: pass "
            "--peers DIR or set LEARN2TUNE_PEERS"
        )
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    import meta_learn_tpe.sampler as peer
    from optuna.samplers._tpe.sampler import default_gamma

    split = peer._split_trials
    if "constraints_enabled" not in split.__code__.co_varnames:
        def split_compat(study: Any, trials: Any, n_below: int, constraints_enabled: bool = False) -> Any:
            return split(study, trials, n_below)

        peer._split_trials = split_compat

    class Adapted(peer.MetaLearnTPESampler):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            for s in [self._target_sampler, *self._source_samplers]:
                if s._gamma is None:
                    s._gamma = default_gamma

    return Adapted


def ws_cmaes(source_trials: Sequence[optuna.trial.FrozenTrial], seed: int) -> optuna.samplers.BaseSampler:
    """Optuna's WS-CMA-ES warm-started from ``source_trials``. CMA-ES models the numeric
    parameters only (categoricals go to its independent sampler) and accepts a source trial
    only if its parameters are exactly that numeric space; on a space with categorical or
    conditional parameters no trial is. Here each source trial that sets every numeric
    parameter CMA-ES models is projected onto them (a space seen for the first time is
    projected once), which is what a user would do to warm-start it from such studies."""

    class Projected(optuna.samplers.CmaEsSampler):
        def sample_relative(self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
                            search_space: dict[str, Any]) -> dict[str, Any]:
            key = tuple(sorted(search_space))
            if key not in cache:
                cache[key] = [optuna.trial.create_trial(
                    params={k: t.params[k] for k in key}, distributions={k: t.distributions[k] for k in key},
                    value=t.value) for t in source_trials if all(k in t.params for k in key)]
            self._source_trials = cache[key] or None
            return super().sample_relative(study, trial, search_space)

    cache: dict[tuple, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return Projected(seed=seed, source_trials=list(source_trials))


def _histories(md: MetaDataset, space: str, task_ids: Sequence[str], trials: int,
               unrelated: bool) -> dict[str, optuna.Study]:
    studies = {}
    for i, tid in enumerate(task_ids):
        f = TaskObjective(md, tid, space, "roc_auc" if "classifier" in space else "r2")
        study = optuna.create_study(direction="maximize", study_name=f"history-{i}",
                                    sampler=optuna.samplers.TPESampler(seed=i))
        study.optimize(renamed_objective(f), n_trials=trials)
        if unrelated:  # the same configurations with their values permuted
            done = study.trials
            values = np.random.default_rng(i).permutation([t.value for t in done])
            shuffled = optuna.create_study(direction="maximize", study_name=f"history-{i}")
            for t, v in zip(done, values):
                shuffled.add_trial(optuna.trial.create_trial(params=t.params, distributions=t.distributions,
                                                             value=float(v)))
            study = shuffled
        studies[tid] = study
    return studies


def run(metadata: str = "default", space: str = "xgboost-classifier", *, n_tasks: int = 20,
        trials: int = 50, seeds: int = 5, history_trials: int = 50, methods: Sequence[str] = METHODS,
        unrelated: bool = False, peers: str | None = None, maml: dict | None = None,
        parts: str | Path | None = None, workers: int = 1, shard: tuple[int, int] = (0, 1),
        progress: Callable[[int, int, str], None] | None = None) -> pd.DataFrame:
    """One row per (task, method, seed, t): best-so-far and normalized regret.

    ``parts``: a folder that keeps each held-out study's rows per method as they finish
    (``NNN-METHOD.parquet``, written atomically): a rerun with the same folder and
    arguments reads them instead of running them again (a run with other arguments is
    refused: its rows would not compare). ``workers`` > 1 (needs ``parts``): the held-out
    studies are dealt to that many processes (``shard``: the one this call runs, ``(i,
    n)``: every n-th study from the i-th), each running the history's studies itself."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers > 1 and parts is None:
        raise ValueError("workers > 1 keeps each process's rows in parts: pass parts= (the command line: --out)")
    if space not in RENAMES:
        raise ValueError(f"bench history renames the parameters of the spaces {sorted(RENAMES)}; "
                         f"got space {space!r}: pass one of them with --space")
    md = (MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)).filter(space=space)
    table = task_table(md)
    # a deterministic subset spread over families: round-robin over them
    by_family = table.groupby("family")["task_id"].apply(sorted).sort_index()
    order = [t for group in zip(*by_family.tolist()) for t in group]
    order += [t for t in table["task_id"].sort_values() if t not in order]
    task_ids = order[:n_tasks]
    folder = None if parts is None else Path(parts)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        keep_protocol(folder, {"metadata": str(metadata), "space": space, "trials": trials, "seeds": seeds,
                               "history_trials": history_trials, "unrelated": unrelated, "maml": maml})
    if workers > 1 and folder is not None:
        _run_shards(folder, min(workers, len(task_ids)), len(task_ids), methods, progress, {
            "metadata": metadata, "space": space, "n_tasks": n_tasks, "trials": trials, "seeds": seeds,
            "history_trials": history_trials, "methods": list(methods), "unrelated": unrelated,
            "peers": peers, "maml": maml})  # then every part is on disk: read below
    mine = [k for k in range(len(task_ids)) if k % shard[1] == shard[0]]
    done: dict[tuple[int, str], pd.DataFrame] = {}
    if folder is not None:
        for k in mine:
            for method in methods:
                if (f := folder / f"{k:03d}-{method}.parquet").exists():
                    done[k, method] = pd.read_parquet(f)
    peer = load_peer(peers) if "meta-learn-tpe" in methods else None
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    history: dict[str, optuna.Study] = {}
    if len(done) < len(mine) * len(methods):  # the history only if something is left to run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = _histories(md, space, task_ids, history_trials, unrelated)
    metric = "roc_auc" if "classifier" in space else "r2"
    frames = []
    for k in mine:
        tid = task_ids[k]
        todo = [m for m in methods if (k, m) not in done]
        frames += [done[k, m] for m in methods if (k, m) in done]
        if todo:
            f = TaskObjective(md, tid, space, metric)
            sources = [s for other, s in history.items() if other != tid]
            kb = None
            if "meta-history" in todo:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    kb = KnowledgeBase.from_studies(sources, maml=maml)
            source_trials = [t for s in sources for t in s.trials]
        for method in todo:
            rows = []
            for seed in range(seeds):
                if method == "meta-history":
                    from tuner import MetaSampler

                    sampler: optuna.samplers.BaseSampler = MetaSampler(knowledge=kb, seed=seed)
                elif method == "tpe":
                    sampler = optuna.samplers.TPESampler(seed=seed)
                elif method == "ws-cmaes":
                    sampler = ws_cmaes(source_trials, seed)
                elif method == "meta-learn-tpe":
                    sampler = peer(source_studies=sources, seed=seed)
                else:
                    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
                study = optuna.create_study(direction="maximize", sampler=sampler)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    study.optimize(renamed_objective(f), n_trials=trials)
                values = np.array([t.value if t.value is not None else -np.inf for t in study.trials])
                best = np.maximum.accumulate(values)
                rows += [{"task_id": tid, "method": method, "seed": seed, "t": i + 1, "best": b,
                          "regret": f.regret(b), "seconds": time.perf_counter() - t0}
                         for i, b in enumerate(best)]
            frame = pd.DataFrame(rows)
            if folder is not None:
                atomic_write_parquet(frame, folder / f"{k:03d}-{method}.parquet")
            frames.append(frame)
        if progress is not None and workers == 1:
            progress(k + 1, len(task_ids), tid)
    if not frames:  # a shard without a study (more workers than held-out studies)
        return pd.DataFrame(columns=["task_id", "method", "seed", "t", "best", "regret", "seconds"])
    return pd.concat(frames, ignore_index=True)


def _run_shards(folder: Path, workers: int, n_tasks: int, methods: Sequence[str],
                progress: Callable[[int, int, str], None] | None, kwargs: dict[str, Any]) -> None:
    """:func:`run` in ``workers`` processes, each on its shard of the held-out studies,
    reporting progress as their parts appear."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, wait

    from warmstart.threads import pin_process_to_one_thread

    def finished() -> int:
        return sum(all((folder / f"{k:03d}-{m}.parquet").exists() for m in methods) for k in range(n_tasks))

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                             initializer=pin_process_to_one_thread) as pool:
        futures = [pool.submit(run, **kwargs, parts=folder, shard=(i, workers)) for i in range(workers)]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=2.0)
            if progress is not None:
                progress(finished(), n_tasks, "")
        for f in futures:
            f.result()  # a worker's error is raised here
