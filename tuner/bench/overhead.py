"""``learn2tune bench overhead``: sampler milliseconds per trial (ask + tell)."""

from __future__ import annotations

import time
import warnings

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
    rows = []
    for name, make in samplers.items():
        study = optuna.create_study(direction="maximize", sampler=make())
        times = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(trials):
                t0 = time.perf_counter()
                trial = study.ask(dists)
                value = -sum((spaces.to_unit(dists[k], v) - 0.4) ** 2 for k, v in trial.params.items())
                study.tell(trial, value)
                times.append(time.perf_counter() - t0)
        ms = 1000 * np.asarray(times)
        rows.append({"sampler": name, "ms/trial at 50": float(np.median(ms[40:60])),
                     f"ms/trial at {trials}": float(np.median(ms[-20:]))})
    return pd.DataFrame(rows)
