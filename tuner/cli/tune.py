"""``learn2tune tune``: tune a model on a CSV/Parquet table from the command line.

Cross-validates every configuration on the same splits, stores the study (SQLite by
default: rerunning the command continues it), and reports the best configuration against
the estimator's defaults (and, with ``--compare-tpe``, against Optuna's TPE run for the same
number of trials on the same splits).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def add_parser(sub: argparse._SubParsersAction) -> None:
    from warmstart.spaces import MODELS

    p = sub.add_parser(
        "tune", help="tune a model on a CSV/Parquet table (warm-started, resumable)",
        description="Tune a model by cross-validation on a table. The study is stored (SQLite "
        "in --out by default): rerunning the same command continues it up to --trials.",
    )
    p.add_argument("file", help="CSV or Parquet file, or a bundled table such as sklearn:breast_cancer")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--model", default="xgboost", choices=sorted(MODELS),
                   help="model family (default xgboost)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--trials", type=int, default=30, help="total trials of the study (default 30)")
    p.add_argument("--metric", default=None,
                   help="a scikit-learn scorer name (default: roc_auc, or roc_auc_ovr_weighted for "
                   "several classes; r2 for regression)")
    p.add_argument("--cv", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--storage", default=None, help="Optuna storage URL (default: SQLite in --out)")
    p.add_argument("--study-name", default=None, help="default: FILE's name and the model")
    p.add_argument("--out", default=None, help="output folder (default learn2tune-out/STUDY_NAME)")
    p.add_argument("--no-warm-start", action="store_true", help="plain TPE, no meta-knowledge")
    p.add_argument("--knowledge", default=None,
                   help="a knowledge-base folder (learn2tune fit-kb); default: the bundled one")
    p.add_argument("--compare-tpe", action="store_true",
                   help="also run TPE for the same number of trials (in memory) and compare")
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--jobs", type=int, default=1, help="folds evaluated in parallel (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _default_metric(task: str, n_classes: int) -> str:
    if task == "regression":
        return "r2"
    return "roc_auc" if n_classes <= 2 else "roc_auc_ovr_weighted"


def _check_args(args: argparse.Namespace) -> None:
    if args.trials < 1:
        raise ValueError(f"--trials must be >= 1, got {args.trials}")
    if args.cv < 2:
        raise ValueError(f"--cv must be >= 2, got {args.cv}")
    if args.timeout is not None and args.timeout <= 0:
        raise ValueError(f"--timeout must be positive, got {args.timeout}")
    if args.metric is not None:
        from sklearn.metrics import get_scorer, get_scorer_names

        try:
            get_scorer(args.metric)
        except ValueError:
            raise ValueError(
                f"--metric {args.metric!r} is not a scikit-learn scorer; e.g. "
                f"{', '.join(n for n in get_scorer_names() if n in ('roc_auc', 'accuracy', 'balanced_accuracy', 'neg_log_loss', 'f1', 'r2', 'neg_root_mean_squared_error', 'neg_mean_absolute_error'))}"
            ) from None


def load_xy(file: str, target: str, task: str, cv: int) -> tuple[pd.DataFrame, pd.Series, str, list[str], list[str]]:
    """Features, target (class codes for classification), task type, class names, notes."""
    from warmstart.tasks import load_table

    df = load_table(file)
    if target not in df.columns:
        raise ValueError(f"--target {target!r} is not a column of {file}; columns are {list(df.columns)[:20]}")
    notes = []
    missing = df[target].isna()
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows whose target is missing")
        df = df.loc[~missing].reset_index(drop=True)
    y = df.pop(target)
    if task == "auto":
        from metafeatures import infer_task

        task = infer_task(y)
    classes: list[str] = []
    if task == "classification":
        counts = y.astype(str).value_counts()
        rare = counts[counts < cv]
        if len(rare):
            notes.append(f"dropped {int(rare.sum())} rows of {len(rare)} classes with fewer than {cv} "
                         f"members (stratified {cv}-fold CV needs them): {list(rare.index)[:5]}")
            keep = ~y.astype(str).isin(rare.index)
            df, y = df.loc[keep].reset_index(drop=True), y.loc[keep].reset_index(drop=True)
        codes = pd.Categorical(y.astype(str))
        classes = [str(c) for c in codes.categories]
        if len(classes) < 2:
            raise ValueError(f"--target {target!r} has fewer than 2 classes left; nothing to classify")
        y = pd.Series(codes.codes.astype(np.int64), name=target)
    else:
        y = pd.to_numeric(y, errors="raise").astype(np.float64)
    return df, y, task, classes, notes


def run(args: argparse.Namespace) -> int:
    import optuna
    from rich.console import Console
    from rich.table import Table
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    import metafeatures
    from warmstart import spaces

    from ..sampler import MetaSampler
    from ..search import MetaSearchCV

    _check_args(args)
    console = Console(soft_wrap=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y, task, classes, notes = load_xy(args.file, args.target, args.task, args.cv)
    for note in notes:
        console.print(f"[yellow]note[/]: {note}")
    space = spaces.space_for_model(args.model, task)
    sp = spaces.get_search_space(space)
    metric = args.metric or _default_metric(task, len(classes))
    stem = Path(str(args.file)).stem.replace("sklearn:", "").replace(":", "-").replace("/", "-")
    study_name = args.study_name or f"{stem}-{space}"
    out = Path(args.out or Path("learn2tune-out") / study_name)
    out.mkdir(parents=True, exist_ok=True)
    storage_url = args.storage or f"sqlite:///{(out / 'study.db').resolve()}"

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = metafeatures.extract(X, y, task=task)
    mf_seconds = time.perf_counter() - t0
    console.print(
        f"[bold]{args.file}[/]: {X.shape[0]} rows x {X.shape[1]} columns, {task}"
        + (f" ({len(classes)} classes)" if classes else "")
        + f"; {space}, metric {metric}, {args.cv}-fold CV; meta-features in {mf_seconds:.2f} s"
    )

    estimator = sp.build({})  # preprocessing + the model at its defaults (fixed seed)
    splitter = (StratifiedKFold if task == "classification" else KFold)(args.cv, shuffle=True, random_state=args.seed)
    splits = list(splitter.split(X, y))

    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = (optuna.storages.RDBStorage(storage_url, heartbeat_interval=60, grace_period=180)
                   if storage_url.startswith(("sqlite", "postgresql", "mysql")) else storage_url)
    sampler = (optuna.samplers.TPESampler(seed=args.seed) if args.no_warm_start
               else MetaSampler(metafeatures=mf, seed=args.seed, knowledge=getattr(args, "knowledge", None)))
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize",
                                sampler=sampler, load_if_exists=True)
    if isinstance(storage, optuna.storages.RDBStorage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # trials of a killed earlier run
    done = _finished(study)
    remaining = args.trials - done
    if done:
        console.print(f"study {study_name!r} in {storage_url}: {done} trials already finished"
                      + (f", running {remaining} more" if remaining > 0 else
                         f"; nothing to run (raise --trials above {done} to continue)"))

    search = None
    if remaining > 0:
        search = MetaSearchCV(
            estimator, n_trials=remaining, timeout=args.timeout, cv=splits, scoring=metric,
            n_jobs=args.jobs, refit=False, random_state=args.seed, study=study,
            callbacks=[], verbose=0,
        )
        with _progress(console, remaining, args.quiet) as cb:
            search.set_params(callbacks=[cb])
            search.fit(X, y)
    best = _best(study)
    if best is None:
        raise ValueError("no configuration could be evaluated; see the warnings above")

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default_cv = cross_validate(estimator, X, y, cv=splits, scoring=metric, n_jobs=args.jobs)
    d_mean, d_std = float(np.mean(default_cv["test_score"])), float(np.std(default_cv["test_score"]))
    rows.append(("defaults", d_mean, d_std, "-", "-"))
    curve = _best_curve(study)
    label = "TPE" if args.no_warm_start else "learn2tune"
    rows.append((label, best["mean"], best["std"], f"{len(curve)}", _first_beat(curve, d_mean)))
    tpe_curve = None
    if args.compare_tpe:
        tpe = MetaSearchCV(estimator, n_trials=len(curve), cv=splits, scoring=metric, n_jobs=args.jobs,
                           refit=False, random_state=args.seed, warm_start=False)
        with _progress(console, len(curve), args.quiet, what="TPE") as cb:
            tpe.set_params(callbacks=[cb])
            tpe.fit(X, y)
        tpe_curve = _best_curve(tpe.study_)
        tb = tpe.cv_results_
        rows.append(("TPE (same trials)", tpe.best_score_, float(tb["std_test_score"][tpe.best_index_]),
                     f"{len(tpe_curve)}", _first_beat(tpe_curve, d_mean)))

    table = Table(title=f"{metric} ({args.cv}-fold CV, same splits for every row)")
    for col, just in (("best of", "left"), (metric, "right"), ("std", "right"),
                      ("trials", "right"), ("beat defaults at trial", "right")):
        table.add_column(col, justify=just)
    for name, mean, std, n, beat in rows:
        table.add_row(name, f"{mean:.5f}", f"{std:.5f}", n, beat)
    console.print(table)
    if tpe_curve is not None:
        k = min(10, len(curve), len(tpe_curve))
        console.print(f"after {k} trials: learn2tune {curve[k - 1]:.5f}, TPE {tpe_curve[k - 1]:.5f}; "
                      f"after {len(curve)}: learn2tune {curve[-1]:.5f}, TPE {tpe_curve[-1]:.5f}")

    params = best["params"]
    bare = {k.split("__")[-1]: v for k, v in params.items()}
    (out / "best_params.json").write_text(json.dumps(bare, indent=1) + "\n")
    _trials_frame(study).to_csv(out / "trials.csv", index=False)
    _plot(study, tpe_curve, d_mean, metric, out / "history.png")
    console.print_json(json.dumps(bare))
    console.print(f"best parameters, trials and the history plot: {out}/ (best_params.json, "
                  f"trials.csv, history.png); study {study_name!r} in {storage_url}")
    return 0


# ----------------------------------------------------------------------- helpers
def _cv(trial: Any) -> dict:
    """What MetaSearchCV recorded on a trial (fold scores, times, estimator parameters)."""
    from ..results import ATTR_CV

    return trial.user_attrs[ATTR_CV]


def _cv_trials(study: Any) -> list:
    from ..results import search_trials

    return search_trials(study)


def _finished(study: Any) -> int:
    return len(_cv_trials(study))


def _best(study: Any) -> dict | None:
    best = None
    for t in _cv_trials(study):
        if t.value is None or not np.isfinite(t.value):
            continue
        if best is None or t.value > best["mean"]:
            scores = [s for s in _cv(t)["test_score"] if s is not None]
            best = {"mean": float(t.value), "std": float(np.std(scores)), "number": t.number,
                    "params": _cv(t)["params"]}
    return best


def _best_curve(study: Any) -> list[float]:
    vals = [t.value if t.value is not None and np.isfinite(t.value) else -np.inf for t in _cv_trials(study)]
    return list(np.maximum.accumulate(vals)) if vals else []


def _first_beat(curve: list[float], reference: float) -> str:
    for i, v in enumerate(curve):
        if v > reference:
            return str(i + 1)
    return "never"


def _trials_frame(study: Any) -> pd.DataFrame:
    from ..sampler import ATTR_PROPOSED_BY

    rows = []
    for t in _cv_trials(study):
        rec = _cv(t)
        rows.append({"trial": t.number, "value": t.value,
                     "proposed_by": t.system_attrs.get(ATTR_PROPOSED_BY, ""),
                     **{k.split("__")[-1]: v for k, v in rec["params"].items()}})
    return pd.DataFrame(rows)


class _progress:
    """A rich progress bar with the best score so far, as an Optuna callback."""

    def __init__(self, console: Any, total: int, quiet: bool, what: str = "tuning") -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("best {task.fields[best]}"), TimeElapsedColumn(),
                            console=console, disable=quiet)
        self.task = self.bar.add_task(what, total=total, best="-")
        self.best = -np.inf

    def __enter__(self):  # noqa: ANN204
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, study: Any, trial: Any) -> None:
        if trial.value is not None and np.isfinite(trial.value):
            self.best = max(self.best, trial.value)
        self.bar.update(self.task, advance=1, best=f"{self.best:.5f}" if np.isfinite(self.best) else "-")


def _plot(study: Any, tpe_curve: list[float] | None, defaults: float, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = _trials_frame(study)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    colors = {"warm_start": "tab:orange", "surrogate": "tab:blue", "base_sampler": "tab:gray", "": "tab:blue"}
    labels = {"warm_start": "warm-start trials", "surrogate": "surrogate trials",
              "base_sampler": "base-sampler trials", "": "trials"}
    x = np.arange(1, len(frame) + 1)
    for who, grp in frame.groupby("proposed_by"):
        idx = grp.index.to_numpy()
        ax.scatter(x[idx], grp["value"], s=18, color=colors.get(who, "tab:blue"), label=labels.get(who, who))
    curve = _best_curve(study)
    ax.step(x, curve, where="post", color="black", label="best so far")
    if tpe_curve is not None:
        ax.step(np.arange(1, len(tpe_curve) + 1), tpe_curve, where="post", color="tab:red",
                linestyle="--", label="TPE best so far")
    ax.axhline(defaults, color="tab:green", linestyle=":", label="estimator defaults")
    finite = frame["value"].dropna()
    if len(finite):
        lo = min(np.quantile(finite, 0.2), defaults)
        hi = max(finite.max(), defaults)
        ax.set_ylim(lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{metric} (CV mean)")
    ax.set_title(f"optimization history: {study.study_name}")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
