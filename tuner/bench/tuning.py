"""``learn2tune bench``: leave-tasks-out tuning benchmark against Optuna's samplers.

Protocol (``BENCHMARK_PROTOCOL.md``): for each held-out task T, the knowledge base is
fitted without T (and without any task sharing T's fingerprint; with ``folds=K`` tasks are
held out in K groups, which removes more training data, never less). T's objective is a
surrogate fitted on T's own evaluations (its cross-validated Spearman is reported). Each
method runs ``trials`` trials for each seed; normalized regret after t trials is
``(y_max - best_so_far(t)) / (y_max - y_ref)`` clipped at 0, with ``y_max`` the larger of
T's table maximum and the surrogate's maximum over 20,000 random configurations and
``y_ref`` the surrogate's median over those configurations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from warmstart import KnowledgeBase, MetaDataset, spaces
from warmstart.store import atomic_write_parquet, atomic_write_text

from .anchors import ANCHORS, anchor_value
from .folds import holdout_fingerprints, rows_bucket, task_folds, task_table
from .objectives import RealObjective, TaskObjective
from .protocol_file import keep_protocol

logger = logging.getLogger(__name__)

METHODS = ("meta", "random", "tpe", "gp", "cmaes", "ws-cmaes", "knn-tpe",
           "meta-noadapt", "meta-nomf", "meta-nogp", "warm-only", *ANCHORS)
#: The default set fits the protocol's 60 minutes on 2 cores over every task and 5 seeds.
#: ``gp`` (0.3-0.5 s per trial: hours at that scale) and the ablations (each costs as much
#: as ``meta``) are opt-in: ``--methods meta,tpe,gp`` or ``--methods meta,meta-noadapt,...``.
DEFAULT_METHODS = ("meta", "random", "tpe", "cmaes", "ws-cmaes", "knn-tpe")
ABLATIONS = {
    "meta-noadapt": "MetaSampler without MAML adaptation (meta-trained network, rescaled)",
    "meta-nomf": "MetaSampler without the dataset's meta-features (every task alike)",
    "meta-nogp": "MetaSampler without the residual GP (EI on the surrogate's own spread)",
    "warm-only": "MetaSampler's warm start, then TPE (no surrogate phase)",
}


def _optuna_objective(space: spaces.SearchSpace, f: TaskObjective) -> Callable[[optuna.Trial], float]:
    from tuner.search import suggest

    def objective(trial: optuna.Trial) -> float:
        return f({p: suggest(trial, p, space.distributions[p]) for p in space.params})

    return objective


def _require(module: str, method: str) -> None:
    """Stop with the extra to install when a baseline's package is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(
            f"method {method!r} needs the {module} package: pip install 'learn2tune[bench]'"
        )


def _source_trials(kb: KnowledgeBase, md: MetaDataset, mf: pd.Series, k: int = 3) -> list:
    """Completed trials of the k nearest tasks (for warm-starting CMA-ES)."""
    space = spaces.get_search_space(kb.space_name)
    sim = kb.similar_tasks(mf, k=k)
    ev = md.evaluations
    trials = []
    for tid in sim["task_id"]:
        sub = ev[(ev["task_id"] == tid) & (ev["status"] == "ok") & ev[kb.metric].notna()]
        for c, v in zip(sub["config"], sub[kb.metric]):
            params = json.loads(c)
            trials.append(
                optuna.trial.create_trial(
                    params=params, distributions=dict(space.distributions), value=float(v)
                )
            )
    return trials


def run_method(method: str, f: TaskObjective, kb: KnowledgeBase, md: MetaDataset, mf: pd.Series,
               trials: int, seed: int) -> list[float]:
    """Best-so-far curve (raw objective, higher better) of one method on one task (one
    point for the single-configuration anchors)."""
    from tuner.sampler import MetaSampler

    if method in ANCHORS:
        return [anchor_value(method, f)]
    space = f.space
    study_kwargs: dict[str, Any] = {"direction": "maximize"}
    enqueue: list[dict] = []
    if method.startswith("meta") or method == "warm-only":
        sampler = MetaSampler(
            metafeatures=None if method == "meta-nomf" else mf, knowledge=kb, seed=seed,
            adapt_steps=0 if method == "meta-noadapt" else None,
            residual_gp=method != "meta-nogp", surrogate_phase=method != "warm-only",
        )
    elif method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif method == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif method == "gp":
        sampler = optuna.samplers.GPSampler(seed=seed)
    elif method in ("cmaes", "ws-cmaes"):
        _require("cmaes", method)
        source = _source_trials(kb, md, mf) if method == "ws-cmaes" else None
        sampler = optuna.samplers.CmaEsSampler(seed=seed, source_trials=source)
    elif method == "knn-tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
        sim = kb.similar_tasks(mf, k=10)
        ev = md.evaluations
        for tid in sim["task_id"]:
            sub = ev[(ev["task_id"] == tid) & (ev["status"] == "ok")]
            if len(sub):
                best = sub.loc[sub[kb.metric].idxmax(), "config"]
                enqueue.append(json.loads(best))
    else:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    study = optuna.create_study(sampler=sampler, **study_kwargs)
    for c in enqueue:
        study.enqueue_trial(c, skip_if_exists=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(_optuna_objective(space, f), n_trials=trials)
    values = np.array([t.value if t.value is not None else np.nan for t in study.trials], dtype=np.float64)
    return list(np.maximum.accumulate(np.where(np.isfinite(values), values, -np.inf)))


def _fold_kb(out: Path, gi: int | str, md: MetaDataset, space: str, group: Sequence[str],
             kb_kwargs: dict | None, extra_fingerprints: Sequence[str] = (),
             max_known_tasks: int | None = None) -> Path:
    """Fit (or find) the knowledge base of task group ``gi``: trained without the group's
    tasks and without any task sharing their fingerprints (or ``extra_fingerprints``);
    with ``max_known_tasks``, from that many of the others only (a fixed pseudo-random
    choice of fingerprints: a quick check, not a benchmark)."""
    kb_dir = out / "kb" / (f"fold{gi}" if isinstance(gi, int) else str(gi))
    held_fps = sorted(set(holdout_fingerprints(md, list(group))) | set(extra_fingerprints))
    if max_known_tasks is not None:
        known = md.tasks.loc[~md.tasks["fingerprint"].isin(held_fps), "fingerprint"].astype(str)
        order = sorted(set(known), key=lambda fp: hashlib.sha256(fp.encode()).hexdigest())
        keep = set(order[:max_known_tasks])
        held_fps = sorted(set(held_fps) | (set(known) - keep))
    held_path = kb_dir / "held_out.json"
    cached = (kb_dir / "kb.json").exists() and held_path.exists()
    if not cached or json.loads(held_path.read_text()) != held_fps:
        # a knowledge base is reused only if it left out exactly these tasks
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kb = KnowledgeBase.fit(md, space, exclude_fingerprints=held_fps, **(kb_kwargs or {}))
        kb.save(kb_dir)
        atomic_write_text(json.dumps(held_fps), held_path)
    return kb_dir


_WORKER_CACHE: dict[str, Any] = {}


def _worker_init() -> None:
    from warmstart.threads import pin_process_to_one_thread

    pin_process_to_one_thread()
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _task_job(out: str, metadata: str, space: str, kb_dir: str, tid: str, methods: Sequence[str],
              trials: int, seeds: int, objective: str, test_metadata: str | None = None) -> dict:
    """Every method and seed on one held-out task (parts written one by one: resumable).
    The task's objective and meta-features come from ``test_metadata`` when given; the
    baselines that read known tasks' evaluations (knn-tpe, ws-cmaes) read ``metadata``."""
    out_p = Path(out)
    key = f"{metadata}|{test_metadata}|{space}"
    if _WORKER_CACHE.get("md_key") != key:
        md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
        test_md = md if test_metadata is None else MetaDataset.load(test_metadata)
        _WORKER_CACHE.update(md_key=key, md=md.filter(space=space), test_md=test_md.filter(space=space),
                             mf=None)
    md, test_md = _WORKER_CACHE["md"], _WORKER_CACHE["test_md"]
    if _WORKER_CACHE.get("kb_dir") != kb_dir:
        _WORKER_CACHE.update(kb_dir=kb_dir, kb=KnowledgeBase.load(kb_dir))
    kb = _WORKER_CACHE["kb"]
    if _WORKER_CACHE.get("mf") is None:
        _WORKER_CACHE["mf"] = test_md.metafeatures()
    mf = _WORKER_CACHE["mf"].loc[tid]
    f = (RealObjective(test_md, tid, space, kb.metric) if objective == "real"
         else TaskObjective(test_md, tid, space, kb.metric))
    row = task_table(test_md).set_index("task_id").loc[tid]
    info = {"task_id": tid, "objective": objective, "surrogate_cv_spearman": f.cv_spearman, "y_max": f.y_max, "y_ref": f.y_ref,
            "n_evaluations": len(f.table_scores), "family": row["family"], "n_rows": int(row["n_rows"]),
            "rows_bucket": rows_bucket(row["n_rows"])}
    for method in methods:
        for seed in range(seeds):
            part = out_p / "parts" / f"{_slug(tid)}--{method}--{seed}.parquet"
            if part.exists():
                continue
            t0 = time.perf_counter()
            curve = run_method(method, f, kb, md, mf, trials, seed)
            dt = time.perf_counter() - t0
            df = pd.DataFrame({
                "task_id": tid, "method": method, "seed": seed, "t": np.arange(1, len(curve) + 1),
                "best": curve, "regret": [f.regret(b) for b in curve], "seconds": dt,
            })
            atomic_write_parquet(df, part)
    atomic_write_parquet(pd.DataFrame([info]), out_p / "parts" / f"{_slug(tid)}--info.parquet")
    return info


def run(
    out: str | Path,
    *,
    metadata: str = "default",
    space: str = "xgboost-classifier",
    methods: Sequence[str] = DEFAULT_METHODS,
    trials: int = 50,
    seeds: int = 5,
    folds: int | str | None = 5,
    max_tasks: int | None = None,
    tasks: Sequence[str] | None = None,
    kb_kwargs: dict | None = None,
    workers: int = 1,
    objective: str = "surrogate",
    progress: Callable[[int, int, str], None] | None = None,
    test_metadata: str | None = None,
    max_known_tasks: int | None = None,
) -> pd.DataFrame:
    """Run (or resume) the benchmark; one row per (task, method, seed, t).

    ``objective="surrogate"`` scores configurations with a model of the held-out task's own
    evaluations; ``"real"`` cross-validates them on the task's data (the build's protocol).
    Tasks run in ``workers`` processes; every (task, method, seed) is a part file, so an
    interrupted run resumes where it stopped.

    ``test_metadata`` (a meta-dataset folder) turns leave-one-task-out into a train/test
    split: one knowledge base learns from all of ``metadata`` (minus any task whose data
    is also a test task's) and the held-out tasks are ``test_metadata``'s, e.g. another
    family of datasets than the ones the knowledge was learned from.

    ``max_known_tasks`` caps what each knowledge base learns from (tables, fidelities of one
    table count once each): a quick check of the machinery (``--quick``), not a figure."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
    if "flaml" in methods and objective != "real":
        raise ValueError("methods: 'flaml' needs objective='real' (--real): FLAML's configurations lie "
                         "outside the space, where the held-out tasks' objective models are not valid")
    out = Path(out)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    protocol = {"metadata": str(metadata), "space": space, "folds": folds, "objective": objective,
                "test_metadata": test_metadata, "kb": kb_kwargs or {}}
    if max_known_tasks is not None:
        if max_known_tasks < 3:
            raise ValueError(f"max_known_tasks must be >= 3 (a knowledge base needs 3 tasks), got {max_known_tasks}")
        protocol["max_known_tasks"] = max_known_tasks
    keep_protocol(out, protocol)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; choose from {METHODS}")
    if objective not in ("surrogate", "real"):
        raise ValueError(f"objective must be 'surrogate' or 'real', got {objective!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
    md = md.filter(space=space)
    test_md = md
    if test_metadata is not None:
        test_md = MetaDataset.load(test_metadata).filter(space=space)
        if test_md.tasks.empty:
            raise ValueError(f"test_metadata {test_metadata!r} has no tasks with evaluations of {space!r}")
        groups = [list(test_md.tasks["task_id"])]
    else:
        groups = task_folds(md, folds, seed=0)
    # each fold's knowledge base leaves out its whole fold, whichever of its tasks are run
    # (so --tasks / --max-tasks subsets share the full run's knowledge bases and numbers)
    full_groups = [list(g) for g in groups]
    if tasks:
        wanted = set(tasks)
        unknown = wanted - {t for g in groups for t in g}
        if unknown:
            which = "test meta-dataset" if test_metadata is not None else "meta-dataset"
            raise ValueError(f"tasks {sorted(unknown)[:5]} are not in the {which}'s {space!r} tasks")
        groups = [[t for t in g if t in wanted] for g in groups]
    if max_tasks is not None:
        # a deterministic subset spread over the folds
        order = [t for g in zip(*groups) for t in g] + [t for g in groups for t in g[min(len(x) for x in groups):]]
        keep = set(order[:max_tasks])
        groups = [[t for t in g if t in keep] for g in groups]
    jobs = []
    for gi, group in enumerate(groups):
        if group:
            if test_metadata is not None:
                held_fps = test_md.tasks["fingerprint"].tolist()
                kb_dir = _fold_kb(out, "train", md, space, [], kb_kwargs, held_fps, max_known_tasks)
            else:
                kb_dir = _fold_kb(out, gi, md, space, full_groups[gi], kb_kwargs, (), max_known_tasks)
            jobs += [(str(kb_dir), tid) for tid in group]
    total = len(jobs)
    args = (str(out), metadata, space)
    kwargs = {"test_metadata": test_metadata}
    if workers == 1:
        _worker_init()
        for i, (kb_dir, tid) in enumerate(jobs):
            _task_job(*args, kb_dir, tid, list(methods), trials, seeds, objective, **kwargs)
            if progress is not None:
                progress(i + 1, total, tid)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init) as pool:
            futs = {pool.submit(_task_job, *args, kb_dir, tid, list(methods), trials, seeds, objective,
                                **kwargs): tid
                    for kb_dir, tid in jobs}
            for i, fut in enumerate(as_completed(futs)):
                fut.result()
                if progress is not None:
                    progress(i + 1, total, futs[fut])
    return collect(out, [tid for _, tid in jobs], methods)


def collect(out: str | Path, task_ids: Sequence[str] | None = None,
            methods: Sequence[str] | None = None) -> pd.DataFrame:
    """The results on disk (optionally only these tasks and methods), also written as
    ``results.parquet`` and ``tasks.parquet``."""
    out = Path(out)
    parts = sorted(p for p in (out / "parts").glob("*.parquet") if not p.name.endswith("--info.parquet"))
    res = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
    infos = sorted((out / "parts").glob("*--info.parquet"))
    info = pd.concat([pd.read_parquet(p) for p in infos], ignore_index=True) if infos else pd.DataFrame()
    if len(res) and task_ids is not None:
        res = res[res["task_id"].isin(set(task_ids))]
        info = info[info["task_id"].isin(set(task_ids))] if len(info) else info
    if len(res) and methods is not None:
        res = res[res["method"].isin(set(methods))]
    if len(res):
        atomic_write_parquet(res.reset_index(drop=True), out / "results.parquet")
    if len(info):
        atomic_write_parquet(info.reset_index(drop=True), out / "tasks.parquet")
    return res.reset_index(drop=True)


def _slug(task_id: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in task_id)[-80:]
