"""``learn2tune bench maml``: knowledge-base timings and leave-one-task-out quality."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd


def timings(kb, repeats: int = 20) -> pd.DataFrame:  # noqa: ANN001
    """Milliseconds of warm_start, and of adapt + predict on 2,000 candidates after 10 and
    50 observations, for a fitted knowledge base (median of ``repeats``)."""
    from warmstart import spaces
    from warmstart._common import encode_configs

    sp = spaces.get_search_space(kb.space_name)
    rng = np.random.default_rng(0)
    mf = pd.Series(dict(zip(kb.feature_names, kb.scaler.grid[50])))
    cands = encode_configs(sp, spaces.sobol_configs(sp, 2048, seed=3)[:2000])
    rows = []
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        kb.warm_start(mf, n=10)
        t.append(time.perf_counter() - t0)
    rows.append({"operation": "warm_start(n=10)", "ms (median)": 1000 * float(np.median(t))})
    for k in (10, 50):
        obs = kb.configs[:k]
        y = rng.random(k)
        t = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            sur = kb.adapt(mf, obs, y)
            sur.predict(cands)
            t.append(time.perf_counter() - t0)
        rows.append({"operation": f"adapt({k} obs) + predict(2000)", "ms (median)": 1000 * float(np.median(t))})
    return pd.DataFrame(rows)


def fit_time(metadata: str, space: str, members: int = 5, iterations: int = 300) -> pd.DataFrame:
    """Seconds to fit a knowledge base (MAML meta-training separately)."""
    from warmstart import KnowledgeBase, MetaDataset

    md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kb = KnowledgeBase.fit(md, space, maml={"members": members, "meta_iterations": iterations})
    total = time.perf_counter() - t0
    return pd.DataFrame([
        {"step": "MAML meta-training", "seconds": kb.info["maml_seconds"]},
        {"step": "whole fit (scaler, metric, XGBoost, MAML)", "seconds": total},
    ]), kb
