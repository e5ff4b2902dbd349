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

from .arguments import int_at_least, n_jobs, positive_int


def add_parser(sub: argparse._SubParsersAction) -> None:
    from warmstart.spaces import MODELS

    p = sub.add_parser(
        "tune", help="tune a model on a CSV/Parquet table (warm-started, resumable)",
        description="Tune a model by cross-validation on a table. The study is stored (SQLite "
        "in --out by default): rerunning the same command continues it up to --trials.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  learn2tune tune data.csv --target label\n"
               "  learn2tune tune data.parquet --target price --model random-forest --trials 50 --metric r2\n"
               "  learn2tune tune sklearn:wine --target target --compare-tpe\n"
               "  learn2tune tune data.csv --target churned --drop customer_id signup_date --sep ';'",
    )
    p.add_argument("file", help="CSV or Parquet file, or a bundled table such as sklearn:breast_cancer")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--model", default="xgboost", choices=sorted(MODELS),
                   help="model family (default xgboost)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="task type (default: inferred from the target)")
    p.add_argument("--trials", type=positive_int, default=30, help="total trials of the study (default 30)")
    p.add_argument("--metric", default=None,
                   help="a scikit-learn scorer name (default: roc_auc, or roc_auc_ovr_weighted for "
                   "several classes (accuracy for svm, which has no class probabilities); r2 for regression)")
    p.add_argument("--cv", type=int_at_least(2), default=5, help="cross-validation folds (default 5)")
    p.add_argument("--storage", default=None, help="Optuna storage URL (default: SQLite in --out)")
    p.add_argument("--study-name", default=None, help="default: FILE's name and the model")
    p.add_argument("--out", default=None, help="output folder (default learn2tune-out/STUDY_NAME)")
    p.add_argument("--no-warm-start", action="store_true", help="plain TPE, no meta-knowledge")
    p.add_argument("--knowledge", default=None,
                   help="a knowledge-base folder (learn2tune fit-kb); default: the bundled one")
    p.add_argument("--compare-tpe", action="store_true",
                   help="also run TPE for the same number of trials (in memory) and compare")
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--jobs", type=n_jobs, default=1, help="folds evaluated in parallel (default 1)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the CV splits and the sampler")
    p.add_argument("--drop", nargs="+", default=None, metavar="COL",
                   help="columns to leave out (identifiers, dates, free text...)")
    p.add_argument("--sep", default=None,
                   help="field separator of a CSV file (default: sniffed among , ; tab |)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _default_metric(task: str, n_classes: int, estimator: Any) -> str:
    if task == "regression":
        return "r2"
    if n_classes <= 2:
        return "roc_auc"  # from predict_proba or decision_function
    # one-vs-rest AUC needs class probabilities; an SVC has none (probability=False)
    return "roc_auc_ovr_weighted" if hasattr(estimator, "predict_proba") else "accuracy"


def _metric_kind(name: str) -> str | None:
    """'regression' or 'classification': what a scikit-learn scorer scores, read from the
    module of its score function (None when it does not say, e.g. clustering scores)."""
    from sklearn.metrics import get_scorer

    module = getattr(getattr(get_scorer(name), "_score_func", None), "__module__", "") or ""
    if module.endswith("._regression"):
        return "regression"
    if module.endswith(("._classification", "._ranking")):
        return "classification"
    return None


def _check_metric_fits(metric: str, task: str, target: str) -> None:
    """A classification metric on a regression target or the reverse is refused before any
    trial: one failed every trial, the other scored predicted labels as numbers."""
    kind = _metric_kind(metric)
    if kind is None or (kind == "regression") == (task == "regression"):
        return
    fix = ("r2, neg_root_mean_squared_error, neg_mean_absolute_error" if task == "regression"
           else "roc_auc, accuracy, balanced_accuracy, neg_log_loss")
    raise ValueError(f"--metric {metric!r} scores {kind}, but --target {target!r} is a {task} target; "
                     f"pass a {'regression' if task == 'regression' else 'classification'} metric "
                     f"({fix}), or --task if the target's kind was read wrong")


def _check_metric_response(metric: str, estimator: Any, space: str) -> None:
    """A metric that reads a method the model lacks (one-vs-rest AUC or log loss of an SVC:
    no ``predict_proba``) failed every trial in every fold; it is refused before any."""
    from sklearn.metrics import get_scorer

    wanted = getattr(get_scorer(metric), "_response_method", None)
    methods = (wanted,) if isinstance(wanted, str) else tuple(wanted or ())
    if methods and not any(hasattr(estimator, m) for m in methods):
        raise ValueError(f"--metric {metric!r} reads {' or '.join(methods)}, which {space} does not have; "
                         "pass a metric of predicted labels (accuracy, balanced_accuracy, f1_macro) "
                         "or another --model")


def _check_args(args: argparse.Namespace) -> None:
    # --trials and --cv are refused while parsing (tuner.cli.arguments)
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


def run(args: argparse.Namespace) -> int:
    import optuna
    from rich.markup import escape
    from rich.table import Table
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    import metafeatures
    from warmstart import spaces
    from warmstart.kb_io import bundled_spaces, space_of
    from warmstart.tasks import fingerprint

    from ..sampler import METAFEATURE_SECONDS, MetaSampler
    from ..search import MetaSearchCV
    from .output import console as make_console
    from .studies import check_definition, open_storage
    from .tables import load_xy

    _check_args(args)
    console = make_console()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_xy(args.file, args.target, task=args.task, cv=args.cv,
                   drop=getattr(args, "drop", None), sep=getattr(args, "sep", None))
    X, y, task, classes = data.X, data.y, data.task, data.classes
    for note in data.notes:
        console.print(f"[yellow]note[/]: {escape(note)}")
    for col, why in data.suspicious.items():
        console.print(f"[yellow]note[/]: column {escape(repr(col))} looks like {escape(why)}; it is "
                      f"used as a feature (add --drop {escape(col)} to leave it out)")
    space = spaces.space_for_model(args.model, task)
    sp = spaces.get_search_space(space)
    knowledge = getattr(args, "knowledge", None)
    if isinstance(knowledge, str):
        kb_space = space_of(knowledge)  # a missing or wrong folder stops here, not at trial 1
        if kb_space != space:
            raise ValueError(f"--knowledge {knowledge!r} is about {kb_space}, but this run tunes {space} "
                             f"(--model {args.model}, {task})")
    warm = not args.no_warm_start and (knowledge is not None or space in bundled_spaces())
    if not args.no_warm_start and not warm:
        console.print(f"[yellow]no bundled knowledge for {space}[/]: tuning with TPE "
                      f"(knowledge exists for {', '.join(bundled_spaces())})")
    estimator = sp.build({})  # preprocessing + the model at its defaults (fixed seed)
    metric = args.metric or _default_metric(task, len(classes), estimator)
    _check_metric_fits(metric, task, args.target)
    _check_metric_response(metric, estimator, space)
    stem = Path(str(args.file)).stem.replace("sklearn:", "").replace(":", "-").replace("/", "-")
    study_name = args.study_name or f"{stem}-{space}"
    out = Path(args.out or Path("learn2tune-out") / study_name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the output folder {str(out)!r} ({exc.strerror}); pass --out DIR") from None
    storage_url = args.storage or f"sqlite:///{(out / 'study.db').resolve()}"
    storage = open_storage(storage_url)

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = metafeatures.extract(X, y, task=task, time_budget=METAFEATURE_SECONDS)
    mf_seconds = time.perf_counter() - t0
    console.print(
        f"[bold]{escape(str(args.file))}[/]: {X.shape[0]} rows x {X.shape[1]} columns, {task}"
        + (f" ({len(classes)} classes)" if classes else "")
        + f"; {space}, metric {metric}, {args.cv}-fold CV; meta-features in {mf_seconds:.2f} s"
    )
    for cut in mf.attrs.get("cut", []) + [f"meta-feature group {g} skipped (over "
                                          f"{METAFEATURE_SECONDS:.0f} s)" for g in mf.attrs.get("skipped", [])]:
        console.print(f"[yellow]note[/]: {escape(cut)}")

    splitter = (StratifiedKFold if task == "classification" else KFold)(args.cv, shuffle=True, random_state=args.seed)
    splits = list(splitter.split(X, y))
    sampler = (MetaSampler(metafeatures=mf, seed=args.seed, knowledge=knowledge, metric=metric)
               if warm else optuna.samplers.TPESampler(seed=args.seed))
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize",
                                sampler=sampler, load_if_exists=True)
    definition = {"data": fingerprint(X, y, task), "target": args.target, "task": task, "space": space,
                  "metric": metric, "cv": int(args.cv), "seed": int(args.seed)}
    check_definition(study, definition, storage_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # trials of a killed earlier run
    done = _finished(study)
    remaining = args.trials - done
    if done:
        console.print(f"study {escape(study_name)!r} in {escape(storage_url)}: {done} trials already finished"
                      + (f", running {remaining} more" if remaining > 0 else
                         f"; nothing to run (raise --trials above {done} to continue)"))

    interrupted = False
    if remaining > 0:
        search = MetaSearchCV(
            estimator, n_trials=remaining, timeout=args.timeout, cv=splits, scoring=metric,
            n_jobs=args.jobs, refit=False, random_state=args.seed, study=study,
            callbacks=[], verbose=0,
        )
        try:
            with _progress(console, remaining, args.quiet) as cb:
                search.set_params(callbacks=[cb])
                search.fit(X, y)
        except KeyboardInterrupt:
            interrupted = True
        except ValueError as exc:
            if _best(study) is None:
                raise
            console.print(f"[yellow]note[/]: {escape(str(exc).splitlines()[0])}")
    best = _best(study)
    label = "learn2tune" if warm else ("TPE (no knowledge for this model)" if not args.no_warm_start else "TPE")
    if interrupted:
        _write_outputs(study, out, None, None, metric)
        console.print(f"[yellow]interrupted[/]: {_finished(study)} trials finished and saved in "
                      f"{escape(str(out))}/; rerun the same command to continue the study")
        return 130
    if best is None:
        raise ValueError("no configuration could be evaluated; see the warnings above")

    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default_cv = cross_validate(estimator, X, y, cv=splits, scoring=metric, n_jobs=args.jobs)
    d_mean, d_std = float(np.mean(default_cv["test_score"])), float(np.std(default_cv["test_score"]))
    rows.append(("defaults", d_mean, d_std, "-", "-"))
    curve = _best_curve(study)
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
        table.add_row(escape(name), f"{mean:.5f}", f"{std:.5f}", n, beat)
    console.print(table)
    from ..sampler import ATTR_NOVELTY

    nov = study.user_attrs.get(ATTR_NOVELTY)
    if warm and isinstance(nov, dict) and nov.get("nearest_task"):
        console.print(f"nearest known dataset: {escape(str(nov['nearest_task']))} (this dataset is farther from "
                      f"it than {100 * float(nov.get('family_quantile', 0.0)):.0f}% of held-out families were "
                      "from the nearest other family)"
                      + ("; far from everything known, the warm start began with the estimator's defaults "
                         "and the configurations good everywhere" if nov.get("safety_net") else ""))
    if tpe_curve is not None:
        k = min(10, len(curve), len(tpe_curve))
        console.print(f"after {k} trials: {escape(label)} {curve[k - 1]:.5f}, TPE {tpe_curve[k - 1]:.5f}; "
                      f"after {len(curve)}: {escape(label)} {curve[-1]:.5f}, TPE {tpe_curve[-1]:.5f}")
    bare = _write_outputs(study, out, tpe_curve, d_mean, metric)
    console.print_json(json.dumps(bare))
    console.print(f"best parameters, trials and the history plot: {escape(str(out))}/ (best_params.json, "
                  f"trials.csv, history.png); study {escape(study_name)!r} in {escape(storage_url)}")
    return 0


def _write_outputs(study: Any, out: Path, tpe_curve: list[float] | None, defaults: float | None,
                   metric: str) -> dict:
    """best_params.json, trials.csv and history.png for the finished trials (atomically)."""
    best = _best(study)
    bare = {} if best is None else {k.split("__")[-1]: _as_written(v) for k, v in best["params"].items()}
    if best is not None:
        _atomic_text(json.dumps(bare, indent=1) + "\n", out / "best_params.json")
    frame = _trials_frame(study)
    _atomic_text(frame.to_csv(index=False), out / "trials.csv")
    if len(frame):
        _plot(study, tpe_curve, defaults, metric, out / "history.png")
    return bare


def _atomic_text(text: str, path: Path) -> None:
    from warmstart.store import atomic_write_text

    atomic_write_text(text, path)


def _as_written(v: Any) -> Any:
    """A float as short as it prints (``0.001``, not ``0.0010000000000000002``)."""
    if isinstance(v, float):
        return float(f"{v:.12g}")
    return v


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


def _plot(study: Any, tpe_curve: list[float] | None, defaults: float | None, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = _trials_frame(study)
    fig, ax = plt.subplots(figsize=(8.5, 4), dpi=100)
    colors = {"warm_start": "tab:orange", "warm_start_refine": "tab:purple", "surrogate": "tab:blue",
              "base_sampler": "tab:gray", "": "tab:blue"}
    labels = {"warm_start": "warm-start trials", "warm_start_refine": "warm start: refining the best",
              "surrogate": "surrogate trials",
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
    if defaults is not None:
        ax.axhline(defaults, color="tab:green", linestyle=":", label="estimator defaults")
    finite = frame["value"].dropna()
    finite = finite[np.isfinite(finite)]
    if len(finite):
        ref = [defaults] if defaults is not None else []
        if tpe_curve:  # the comparison's end stays on the axis
            ref += [float(v) for v in tpe_curve[-1:] if np.isfinite(v)]
        lo = min([float(np.quantile(finite, 0.2)), *ref])
        hi = max([float(finite.max()), *ref])
        pad = 0.05 * (hi - lo + 1e-9)
        ax.set_ylim(lo - pad, hi + pad)
        below = int((finite < lo - pad).sum())
        tpe_below = sum(1 for v in (tpe_curve or []) if v < lo - pad)
        if below or tpe_below:  # what lies off the axis is counted, not silently cut
            parts = [f"{below} trial{'s' if below != 1 else ''}"] + (
                [f"TPE's best of its first {tpe_below}"] if tpe_below else [])
            ax.annotate(" and ".join(parts) + " below the axis", xy=(0.01, 0.01),
                        xycoords="axes fraction", fontsize=8, color="tab:gray")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{metric} (CV mean)")
    ax.set_title(f"optimization history: {study.study_name}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
