"""``learn2tune bench overhead``: sampler milliseconds per trial (ask + tell), and the cost
of learning from a user's history (:func:`history_scale`)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import optuna
import pandas as pd


def run(trials: int = 200, seed: int = 0) -> pd.DataFrame:
    """Median ms per trial around trial 50 (41-60) and at the end (last 20), on a trivial
    objective over the xgboost-classifier space, samplers side by side in one process."""
    from tuner.sampler import MetaSampler
    from warmstart import KnowledgeBase, spaces

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = spaces.get_space("xgboost-classifier")
    kb = KnowledgeBase.default("xgboost-classifier")
    mf = dict(zip(kb.feature_names, kb.scaler.grid[50]))
    samplers = {
        "MetaSampler": lambda: MetaSampler(metafeatures=mf, knowledge=kb, seed=seed),
        "TPESampler": lambda: optuna.samplers.TPESampler(seed=seed),
        "GPSampler": lambda: optuna.samplers.GPSampler(seed=seed),
    }
    def trivial(trial: optuna.Trial) -> float:
        return -sum((spaces.to_unit(dists[k], v) - 0.4) ** 2 for k, v in trial.params.items())

    rows = []
    for name, make in samplers.items():
        study = optuna.create_study(direction="maximize", sampler=make())
        ms = _ms_per_trial(study, trivial, trials, dists)
        rows.append({"sampler": name, "ms/trial at 50": float(np.median(ms[40:60])),
                     f"ms/trial at {trials}": float(np.median(ms[-20:]))})
    return pd.DataFrame(rows)


def _ms_per_trial(study: optuna.Study, objective: Any, trials: int, dists: dict | None = None) -> np.ndarray:
    """Milliseconds of each of ``trials`` ask + objective + tell rounds (``dists``: asked
    for up front; None: define-by-run)."""
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(trials):
            t0 = time.perf_counter()
            trial = study.ask(dists)
            study.tell(trial, objective(trial))
            times.append(time.perf_counter() - t0)
    return 1000 * np.asarray(times)


def _history_objective(shift: np.ndarray) -> Any:
    """A study's objective over a space with a log float, an int, a categorical and a
    parameter that exists for one choice only (define-by-run); ``shift`` moves its optimum."""

    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        layers = trial.suggest_int("layers", 1, 8)
        kind = trial.suggest_categorical("kind", ["linear", "tree", "net"])
        value = (np.log10(lr) + 2 + shift[0]) ** 2 + (layers - 4 - 2 * shift[1]) ** 2 / 8 + 0.4 * (kind != "net")
        if kind == "tree":
            value += (trial.suggest_float("leaf", 0.0, 1.0) - 0.5 - 0.2 * shift[2]) ** 2
        return float(value)

    return objective


def history_scale(n_studies: int = 200, n_trials: int = 100, trials: int = 200, seed: int = 0) -> pd.DataFrame:
    """#15's scale: ``n_studies`` finished studies of ``n_trials`` random-search trials each
    (related objectives, see :func:`_history_objective`); the seconds
    ``KnowledgeBase.from_studies`` takes on them, then ``MetaSampler(knowledge=...)``'s
    milliseconds per trial (ask + tell) on a new study of ``trials`` trials, next to TPE's."""
    from tuner.sampler import MetaSampler
    from warmstart import KnowledgeBase

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = np.random.default_rng(seed)
    studies = []
    for i in range(n_studies):
        study = optuna.create_study(study_name=f"past-{i}", sampler=optuna.samplers.RandomSampler(seed=i))
        study.optimize(_history_objective(rng.normal(size=3)), n_trials=n_trials)
        studies.append(study)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        kb = KnowledgeBase.from_studies(studies)
        fit_s = time.perf_counter() - t0
    objective = _history_objective(rng.normal(size=3))
    rows = []
    for name, sampler in (("MetaSampler(history)", MetaSampler(knowledge=kb, seed=seed)),
                          ("TPESampler", optuna.samplers.TPESampler(seed=seed))):
        ms = _ms_per_trial(optuna.create_study(sampler=sampler), objective, trials)
        rows.append({"sampler": name, "history": f"{n_studies} studies x {n_trials} trials",
                     "fit s": round(fit_s, 1) if name.startswith("Meta") else float("nan"),
                     "ms/trial at 50": float(np.median(ms[40:60])), f"ms/trial at {trials}": float(np.median(ms[-20:]))})
    return pd.DataFrame(rows)
