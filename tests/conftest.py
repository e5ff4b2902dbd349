"""Shared fixtures: a small synthetic meta-dataset and a knowledge base fitted on it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

SPACE = "xgboost-classifier"
MF_NAMES = ["NumberOfInstances", "ClassEntropy", "stat.cor_abs.mean", "landmark.1nn.accuracy",
            "info.mutual_info.mean", "MeanSkewnessOfNumericAtts", "NumberOfClasses"]


def synthetic_family(n_tasks: int, n_configs: int, seed: int):
    """Tasks over the XGBoost space whose optimum moves with two meta-features."""
    from warmstart import MetaDataset, spaces
    from warmstart.surrogate import encode_configs

    rng = np.random.default_rng(seed)
    sp = spaces.get_search_space(SPACE)
    configs = [sp.defaults()] + spaces.sobol_configs(sp, n_configs, seed=0)
    enc = encode_configs(sp, configs)
    base = rng.uniform(0.3, 0.7, enc.shape[1])
    tasks, evals = [], []
    for t in range(n_tasks):
        mf = rng.random(len(MF_NAMES))
        mf[-1] = 2.0  # NumberOfClasses: classification
        centre = base.copy()
        centre[0] = 0.2 + 0.6 * mf[0]
        centre[1] = 0.2 + 0.6 * mf[1]
        y = -((enc - centre) ** 2 * np.linspace(3, 1, enc.shape[1])).sum(1)
        y = 0.7 + 0.05 * y + rng.normal(scale=0.002, size=len(y))
        tid = f"task{t}"
        tasks.append({"task_id": tid, "fingerprint": f"fp{t}", "source": tid, "name": tid,
                      "task_type": "classification", "n_rows": 100, "n_features": 3,
                      **{f"mf:{n}": v for n, v in zip(MF_NAMES, mf)}})
        for i, (c, v) in enumerate(zip(configs, y)):
            evals.append({"task_id": tid, "space": SPACE, "space_signature": sp.signature,
                          "config_id": i, "config": json.dumps(c, sort_keys=True), "roc_auc": v,
                          "fit_seconds": 0.1, "status": "ok", "error": ""})
    return MetaDataset(pd.DataFrame(tasks), pd.DataFrame(evals)), configs, enc, base


@pytest.fixture(scope="session")
def family():
    return synthetic_family(40, 64, seed=0)


@pytest.fixture(scope="session")
def small_kb(family):
    from warmstart import KnowledgeBase

    md = family[0]
    return KnowledgeBase.fit(md, SPACE, random_state=0, maml={"members": 2, "meta_iterations": 120})
