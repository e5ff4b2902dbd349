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

METHODS = ("meta", "random", "tpe", "gp", "cmaes", "ws-cmaes", "knn-tpe", "meta-nomf", "warm-only")
DEFAULT_METHODS = ("meta", "random", "tpe", "gp", "cmaes", "ws-cmaes", "knn-tpe")


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


def _optuna_objective(space: spaces.SearchSpace, f: TaskObjective) -> Callable[[optuna.Trial], float]:
    def objective(trial: optuna.Trial) -> float:
        config = {}
        for p in space.params:
            d = space.distributions[p]
            if isinstance(d, optuna.distributions.CategoricalDistribution):
                config[p] = trial.suggest_categorical(p, d.choices)
            elif isinstance(d, optuna.distributions.IntDistribution):
                config[p] = trial.suggest_int(p, d.low, d.high, log=d.log)
            else:
                config[p] = trial.suggest_float(p, d.low, d.high, log=d.log)
        return f(config)

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
    if method == "meta":
        sampler = MetaSampler(metafeatures=mf, knowledge=kb, seed=seed)
    elif method == "meta-nomf":
        sampler = MetaSampler(knowledge=kb, seed=seed)
    elif method == "warm-only":
        sampler = MetaSampler(metafeatures=mf, knowledge=kb, seed=seed, n_warm_start=10)
        sampler._propose = lambda study, trial, sp, ss: sampler._base.sample_relative(study, trial, ss)  # noqa: E731
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
    values = [t.value for t in study.trials]
    return list(np.maximum.accumulate(np.asarray(values, dtype=np.float64)))


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
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) the benchmark; one row per (task, method, seed, t)."""
    out = Path(out)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; choose from {METHODS}")
    md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
    md = md.filter(space=space)
    groups = task_folds(md, folds, seed=0)
    if tasks:
        wanted = set(tasks)
        groups = [[t for t in g if t in wanted] for g in groups]
    if max_tasks is not None:
        # a deterministic subset spread over the folds
        order = [t for g in zip(*groups) for t in g] + [t for g in groups for t in g[min(len(x) for x in groups):]]
        keep = set(order[:max_tasks])
        groups = [[t for t in g if t in keep] for g in groups]
    total = sum(len(g) for g in groups) * len(methods) * seeds
    done = 0
    mf_all = md.metafeatures()
    task_info = []
    for gi, group in enumerate(groups):
        if not group:
            continue
        kb_dir = out / "kb" / f"fold{gi}"
        if (kb_dir / "kb.json").exists():
            kb = KnowledgeBase.load(kb_dir)
        else:
            held_fps = md.tasks.loc[md.tasks["task_id"].isin(group), "fingerprint"].tolist()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kb = KnowledgeBase.fit(md, space, exclude_fingerprints=held_fps, **(kb_kwargs or {}))
            kb.save(kb_dir)
        for tid in group:
            f = TaskObjective(md, tid, space, kb.metric)
            task_info.append({"task_id": tid, "surrogate_cv_spearman": f.cv_spearman,
                              "y_max": f.y_max, "y_ref": f.y_ref})
            mf = mf_all.loc[tid]
            for method in methods:
                for seed in range(seeds):
                    part = out / "parts" / f"{_slug(tid)}--{method}--{seed}.parquet"
                    done += 1
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
                    if progress is not None:
                        progress(done, total, f"{tid} {method} {seed}")
    info = pd.DataFrame(task_info)
    if len(info):
        atomic_write_parquet(info, out / "tasks.parquet")
    parts = sorted((out / "parts").glob("*.parquet"))
    res = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()
    if len(res):
        atomic_write_parquet(res, out / "results.parquet")
    return res


def _slug(task_id: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in task_id)[-80:]


def summarize(res: pd.DataFrame, budgets: Sequence[int] = (1, 5, 10, 20, 30, 50)) -> dict[str, Any]:
    """Median and mean regret per method and budget (seeds averaged first), mean ranks,
    and the protocol's headline figures."""
    res = res[res["t"].isin(budgets)]
    per_task = res.groupby(["method", "task_id", "t"])["regret"].mean().reset_index()
    median = per_task.pivot_table(index="method", columns="t", values="regret", aggfunc="median")
    mean = per_task.pivot_table(index="method", columns="t", values="regret", aggfunc="mean")
    per_task["rank"] = per_task.groupby(["task_id", "t"])["regret"].rank(method="average")
    ranks = per_task.pivot_table(index="method", columns="t", values="rank", aggfunc="mean")
    head: dict[str, Any] = {}
    if "meta" in median.index and "tpe" in median.index:
        tpe_final = median.loc["tpe", max(median.columns)]
        meta_curve = res[res["method"] == "meta"].groupby(["task_id", "t"])["regret"].mean()
        full = meta_curve.groupby("t").median()
        hit = full[full <= tpe_final]
        head["sample_efficiency_t"] = int(hit.index.min()) if len(hit) else None
        head["tpe_median_regret_at_final"] = float(tpe_final)
        head["zero_shot_median_regret"] = float(median.loc["meta", min(median.columns)])
        head["no_negative_transfer"] = bool((mean.loc["meta"] <= mean.loc["tpe"] + 1e-12).all())
    return {"median": median, "mean": mean, "rank": ranks, "headline": head}


def plot(res: pd.DataFrame, path: str | Path) -> None:
    """Median regret versus trials per method, with the interquartile band (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_task = res.groupby(["method", "task_id", "t"])["regret"].mean().reset_index()
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=110)
    for method, g in per_task.groupby("method"):
        q = g.groupby("t")["regret"].quantile([0.25, 0.5, 0.75]).unstack()
        ax.plot(q.index, q[0.5] + 1e-4, label=method, lw=1.8 if method == "meta" else 1.1)
        ax.fill_between(q.index, q[0.25] + 1e-4, q[0.75] + 1e-4, alpha=0.12)
    ax.set_yscale("log")
    ax.set_xlabel("trials")
    ax.set_ylabel("normalized regret (median, IQR)")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
