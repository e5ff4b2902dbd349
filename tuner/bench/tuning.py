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
from warmstart._common import encode_configs, spearman
from warmstart.evaluation import task_folds
from warmstart.store import atomic_write_parquet

logger = logging.getLogger(__name__)

METHODS = ("meta", "random", "tpe", "gp", "cmaes", "ws-cmaes", "knn-tpe",
           "meta-noadapt", "meta-nomf", "meta-nogp", "warm-only")
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


class TaskObjective:
    """A held-out task's objective: an XGBoost surrogate of its own evaluations."""

    def __init__(self, md: MetaDataset, task_id: str, space: str, metric: str, seed: int = 0) -> None:
        import xgboost
        from sklearn.model_selection import cross_val_predict

        self.space = spaces.get_search_space(space)
        ev = md.evaluations
        sub = ev[(ev["task_id"] == task_id) & (ev["status"] == "ok") & ev[metric].notna()]
        sign = -1.0 if metric in ("log_loss", "rmse", "mae") else 1.0
        configs = [json.loads(c) for c in sub["config"]]
        X = encode_configs(self.space, configs)
        y = sign * sub[metric].to_numpy(np.float64)
        params = dict(n_estimators=300, max_depth=5, learning_rate=0.05, subsample=0.9,
                      colsample_bytree=0.9, n_jobs=1, random_state=seed)
        self.model = xgboost.XGBRegressor(**params).fit(X, y)
        oof = cross_val_predict(xgboost.XGBRegressor(**params), X, y, cv=5)
        self.cv_spearman = spearman(oof, y)
        rng = np.random.default_rng(seed)
        rand = [
            {p: spaces.from_unit(self.space.distributions[p], u) for p, u in zip(self.space.params, row)}
            for row in rng.random((20_000, len(self.space.params)))
        ]
        pred = self.model.predict(encode_configs(self.space, rand))
        self.y_max = float(max(np.max(y), np.max(pred)))
        self.y_ref = float(np.median(pred))
        self.table_configs, self.table_scores = configs, y

    def __call__(self, config: dict[str, Any]) -> float:
        return float(self.model.predict(encode_configs(self.space, [config]))[0])

    def regret(self, best: float) -> float:
        d = self.y_max - self.y_ref
        return float(max(0.0, (self.y_max - best) / d)) if d > 0 else 0.0


class RealObjective:
    """A held-out task's real objective (``--real``): each configuration is
    cross-validated on the task's data exactly as the meta-dataset's build did (same folds,
    row cap and seeds), so a configuration of the table scores its table value. Regret is
    normalized by the table's maximum and median."""

    def __init__(self, md: MetaDataset, task_id: str, space: str, metric: str) -> None:
        from warmstart.evaluate import prepare_task_data, task_seed
        from warmstart.tasks import load_task, suite_specs

        build = (md.manifest.get("builds") or {}).get(space)
        if not build:
            raise ValueError(f"the meta-dataset's manifest has no build of {space!r}: --real needs its protocol")
        specs, base = suite_specs(build["suite"])
        spec = next((sp for sp in specs if sp["source"] == task_id), None)
        if spec is None:
            raise ValueError(f"task {task_id!r} is not in the build's suite {build['suite']!r}")
        self.space = spaces.get_search_space(space)
        self.metric, self.sign = metric, (-1.0 if metric in ("log_loss", "rmse", "mae") else 1.0)
        self.folds, self.seed = int(build["folds"]), task_seed(task_id, int(build["seed"]))
        task = load_task(spec, base)
        self.X, self.y = prepare_task_data(task.X, task.y, task.task_type, folds=self.folds,
                                           max_rows=build.get("max_rows"), seed=self.seed)
        ev = md.evaluations
        sub = ev[(ev["task_id"] == task_id) & (ev["status"] == "ok") & ev[metric].notna()]
        self.table_configs = [json.loads(c) for c in sub["config"]]
        self.table_scores = self.sign * sub[metric].to_numpy(np.float64)
        self.y_max, self.y_ref = float(np.max(self.table_scores)), float(np.median(self.table_scores))
        self.cv_spearman = 1.0  # the objective is the real thing

    def __call__(self, config: dict[str, Any]) -> float:
        from warmstart.evaluate import cross_validate

        rec = cross_validate(self.space, config, self.X, self.y, folds=self.folds, seed=self.seed)
        value = rec.get(self.metric, float("nan"))
        return float(self.sign * value) if np.isfinite(value) else float("nan")

    def regret(self, best: float) -> float:
        d = self.y_max - self.y_ref
        return float(max(0.0, (self.y_max - best) / d)) if d > 0 and np.isfinite(best) else 1.0


def _optuna_objective(space: spaces.SearchSpace, f: TaskObjective) -> Callable[[optuna.Trial], float]:
    from tuner.search import _suggest

    def objective(trial: optuna.Trial) -> float:
        return f({p: _suggest(trial, p, space.distributions[p]) for p in space.params})

    return objective


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
    """Best-so-far curve (raw objective, higher better) of one method on one task."""
    from tuner.sampler import MetaSampler

    space = f.space
    study_kwargs: dict[str, Any] = {"direction": "maximize"}
    enqueue: list[dict] = []
    if method.startswith("meta") or method == "warm-only":
        sampler = MetaSampler(metafeatures=None if method == "meta-nomf" else mf, knowledge=kb, seed=seed)
        if method == "meta-noadapt":
            sampler._adapt_steps = 0
        elif method == "meta-nogp":
            sampler._residual_gp = False
        elif method == "warm-only":
            sampler._surrogate_phase = False
    elif method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif method == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    elif method == "gp":
        sampler = optuna.samplers.GPSampler(seed=seed)
    elif method == "cmaes":
        sampler = optuna.samplers.CmaEsSampler(seed=seed)
    elif method == "ws-cmaes":
        sampler = optuna.samplers.CmaEsSampler(seed=seed, source_trials=_source_trials(kb, md, mf))
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
             kb_kwargs: dict | None, extra_fingerprints: Sequence[str] = ()) -> Path:
    """Fit (or find) the knowledge base of task group ``gi``: trained without the group's
    tasks and without any task sharing their fingerprints (or ``extra_fingerprints``)."""
    kb_dir = out / "kb" / (f"fold{gi}" if isinstance(gi, int) else str(gi))
    if not (kb_dir / "kb.json").exists():
        held_fps = md.tasks.loc[md.tasks["task_id"].isin(group), "fingerprint"].tolist()
        held_fps += list(extra_fingerprints)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kb = KnowledgeBase.fit(md, space, exclude_fingerprints=held_fps, **(kb_kwargs or {}))
        kb.save(kb_dir)
    return kb_dir


_WORKER_CACHE: dict[str, Any] = {}


def _worker_init() -> None:
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)
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
    info = {"task_id": tid, "surrogate_cv_spearman": f.cv_spearman, "y_max": f.y_max, "y_ref": f.y_ref,
            "n_evaluations": len(f.table_scores)}
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
    folds: int | None = 5,
    max_tasks: int | None = None,
    tasks: Sequence[str] | None = None,
    kb_kwargs: dict | None = None,
    workers: int = 1,
    objective: str = "surrogate",
    progress: Callable[[int, int, str], None] | None = None,
    test_metadata: str | None = None,
) -> pd.DataFrame:
    """Run (or resume) the benchmark; one row per (task, method, seed, t).

    ``objective="surrogate"`` scores configurations with a model of the held-out task's own
    evaluations; ``"real"`` cross-validates them on the task's data (the build's protocol).
    Tasks run in ``workers`` processes; every (task, method, seed) is a part file, so an
    interrupted run resumes where it stopped.

    ``test_metadata`` (a meta-dataset folder) turns leave-one-task-out into a train/test
    split: one knowledge base learns from all of ``metadata`` (minus any task whose data
    is also a test task's) and the held-out tasks are ``test_metadata``'s, e.g. another
    family of datasets than the ones the knowledge was learned from."""
    out = Path(out)
    (out / "parts").mkdir(parents=True, exist_ok=True)
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
                kb_dir = _fold_kb(out, "train", md, space, [], kb_kwargs, held_fps)
            else:
                kb_dir = _fold_kb(out, gi, md, space, full_groups[gi], kb_kwargs)
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


def _median_diff_ci(a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% paired bootstrap interval (tasks resampled) of median(a) - median(b)."""
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    if len(a) < 2:
        return (float("nan"), float("nan"))
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    diff = np.median(a[idx], axis=1) - np.median(b[idx], axis=1)
    lo, hi = np.quantile(diff, [0.025, 0.975])
    return (float(lo), float(hi))


def summarize(res: pd.DataFrame, budgets: Sequence[int] = (1, 5, 10, 20, 30, 50)) -> dict[str, Any]:
    """Median and mean regret per method and budget (seeds averaged first), mean ranks,
    a per-task table, and the protocol's headline figures."""
    per_task_all = _per_task(res)
    per_task = per_task_all[per_task_all["t"].isin(budgets)].copy()
    median = per_task.pivot_table(index="method", columns="t", values="regret", aggfunc="median")
    mean = per_task.pivot_table(index="method", columns="t", values="regret", aggfunc="mean")
    per_task["rank"] = per_task.groupby(["task_id", "t"])["regret"].rank(method="average")
    ranks = per_task.pivot_table(index="method", columns="t", values="rank", aggfunc="mean")
    order = mean.mean(axis=1).sort_values().index
    median, mean, ranks = median.loc[order], mean.loc[order], ranks.loc[order]
    final = max(median.columns)
    tasks = per_task[per_task["t"] == final].pivot_table(index="task_id", columns="method", values="regret")
    head: dict[str, Any] = {}
    if "meta" in median.index and "tpe" in median.index:
        tpe_final = float(median.loc["tpe", final])
        meta_curve = per_task_all[per_task_all["method"] == "meta"].groupby("t")["regret"].median()
        hit = meta_curve[meta_curve <= tpe_final]
        head["sample_efficiency_t"] = int(hit.index.min()) if len(hit) else None
        head["tpe_median_regret_at_final"] = tpe_final
        head["meta_median_regret_at_10"] = float(meta_curve.get(10, np.nan))
        head["zero_shot_median_regret"] = float(meta_curve.get(1, np.nan))
        tpe_curve = per_task_all[per_task_all["method"] == "tpe"].groupby("t")["regret"].median()
        head["tpe_median_regret_at_20"] = float(tpe_curve.get(20, np.nan))
        mean_all = per_task_all.groupby(["method", "t"])["regret"].mean().unstack()
        worse = mean_all.loc["meta"] > mean_all.loc["tpe"] + 1e-12
        head["no_negative_transfer"] = bool(not worse.any())
        head["budgets_meta_mean_worse_than_tpe"] = [int(t) for t in worse[worse].index]
        wide = per_task_all.pivot_table(index="task_id", columns=["method", "t"], values="regret")
        for name, a, b in (("zero_shot", ("meta", 1), ("tpe", 20)), ("at_10", ("meta", 10), ("tpe", final))):
            if a in wide.columns and b in wide.columns:
                head[f"{name}_diff_ci"] = _median_diff_ci(wide[a].to_numpy(), wide[b].to_numpy())
    return {"median": median, "mean": mean, "rank": ranks, "tasks": tasks, "headline": head}


def _ci_text(ci: tuple[float, float] | None, what: str) -> str:
    if not ci or not np.all(np.isfinite(ci)):
        return ""
    return f" ({what}: 95% paired bootstrap interval over tasks [{ci[0]:+.3f}, {ci[1]:+.3f}])"


def report(res: pd.DataFrame, info: pd.DataFrame, budgets: Sequence[int], command: str) -> str:
    """The benchmark's markdown report."""
    import os
    import platform

    summ = summarize(res, budgets)
    n_tasks, n_seeds = res["task_id"].nunique(), res["seed"].nunique()

    def table(df: pd.DataFrame, fmt: str = "{:.4g}") -> str:
        cols = [str(c) for c in df.columns]
        lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for idx, row in df.iterrows():
            lines.append(f"| {idx} | " + " | ".join(fmt.format(v) if np.isfinite(v) else "-" for v in row) + " |")
        return "\n".join(lines)

    h = summ["headline"]
    out = [
        f"# learn2tune bench tuning ({time.strftime('%Y-%m-%d')})",
        "",
        f"`{command}`",
        "",
        f"{n_tasks} held-out tasks x {n_seeds} seeds; {platform.machine()}, {os.cpu_count()} cores, "
        f"optuna {optuna.__version__}.",
    ]
    if len(info) and "surrogate_cv_spearman" in info:
        out.append(f"Objective surrogates: median cross-validated Spearman "
                   f"{info['surrogate_cv_spearman'].median():.3f} (min {info['surrogate_cv_spearman'].min():.3f}).")
    out += ["", "## Median normalized regret after t trials (seeds averaged first)", "", table(summ["median"]),
            "", "## Mean normalized regret", "", table(summ["mean"]),
            "", "## Mean rank across methods (1 is best)", "", table(summ["rank"], "{:.2f}"), ""]
    if h:
        se = h["sample_efficiency_t"]
        out += ["## Headline figures", "",
                f"- sample efficiency: MetaSampler's median regret first reaches TPE's after "
                f"{max(summ['median'].columns)} trials ({h['tpe_median_regret_at_final']:.4g}) at "
                f"t = {se if se is not None else 'never'} (goal: 10 or fewer); at t = 10 it is "
                f"{h['meta_median_regret_at_10']:.4g}" + _ci_text(h.get("at_10_diff_ci"), "minus TPE's at the last budget") + ".",
                f"- zero-shot: median regret at t = 1 is {h['zero_shot_median_regret']:.4g}; TPE's after "
                f"20 trials is {h['tpe_median_regret_at_20']:.4g} (goal: at or below)"
                + _ci_text(h.get("zero_shot_diff_ci"), "the first median minus the second") + ".",
                f"- no negative transfer: mean regret never above TPE's: {h['no_negative_transfer']}"
                + (f" (above at t = {h['budgets_meta_mean_worse_than_tpe']})" if h["budgets_meta_mean_worse_than_tpe"] else ""),
                ""]
    abl = [m for m in summ["median"].index if m in ABLATIONS]
    if abl:
        out += ["## Ablations", ""] + [f"- `{m}`: {ABLATIONS[m]}" for m in abl] + [""]
    tasks = summ["tasks"]
    out += [f"## Per task: regret after {max(summ['median'].columns)} trials", "",
            "| task | " + " | ".join(tasks.columns) + (" | objective Spearman |" if len(info) else " |"),
            "|---" * (len(tasks.columns) + 1 + (1 if len(info) else 0)) + "|"]
    sp = info.set_index("task_id")["surrogate_cv_spearman"] if len(info) else None
    for tid, row in tasks.iterrows():
        cells = " | ".join(f"{v:.3g}" if np.isfinite(v) else "-" for v in row)
        extra = f" | {sp.get(tid, np.nan):.3f}" if sp is not None else ""
        out.append(f"| {tid} | {cells}{extra} |")
    return "\n".join(out) + "\n"


def _per_task(res: pd.DataFrame) -> pd.DataFrame:
    """Regret per (method, task, t), seeds averaged."""
    return res.groupby(["method", "task_id", "t"])["regret"].mean().reset_index()


def _style(method: str) -> dict:
    return {"label": method, "lw": 1.8 if method == "meta" else 1.1, "ls": "--" if method in ABLATIONS else "-"}


def _save(fig: Any, ax: Any, ylabel: str, path: str | Path) -> None:
    import matplotlib.pyplot as plt

    ax.set_xlabel("trials")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot(res: pd.DataFrame, path: str | Path) -> None:
    """Median regret versus trials per method, with the interquartile band (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    for method, g in _per_task(res).groupby("method"):
        q = g.groupby("t")["regret"].quantile([0.25, 0.5, 0.75]).unstack()
        ax.plot(q.index, q[0.5] + 1e-4, **_style(method))
        ax.fill_between(q.index, q[0.25] + 1e-4, q[0.75] + 1e-4, alpha=0.08)
    ax.set_yscale("log")
    _save(fig, ax, "normalized regret (median, IQR)", path)


def plot_ranks(res: pd.DataFrame, path: str | Path) -> None:
    """Mean rank of each method across tasks versus trials (1 is best)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_task = _per_task(res)
    per_task["rank"] = per_task.groupby(["task_id", "t"])["regret"].rank(method="average")
    ranks = per_task.groupby(["method", "t"])["rank"].mean().unstack(0)
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    for method in ranks.columns:
        ax.plot(ranks.index, ranks[method], **_style(method))
    _save(fig, ax, "mean rank across tasks (1 is best)", path)
