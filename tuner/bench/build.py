"""``learn2tune bench build``: evaluations per second, 1 vs 2 workers, local and Dask."""

from __future__ import annotations

import tempfile
import time

import pandas as pd


def run(space: str = "xgboost-classifier", n_tasks: int = 6, n_configs: int = 15,
        folds: int = 3, max_rows: int = 2000) -> pd.DataFrame:
    """The same tasks and configurations built three ways, from scratch each time."""
    from warmstart.build import build

    rows = []
    for label, kw in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                      ("Dask LocalCluster, 2 workers", {"dask_local": 2})):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            s = build("default", [space], n_configs, tmp, max_tasks=n_tasks, folds=folds,
                      max_rows=max_rows, **kw)
            dt = time.perf_counter() - t0
        rows.append({"executor": label, "evaluations": s.evaluations, "seconds": round(dt, 1),
                     "eval/s": round(s.evaluations / dt, 2)})
    base = rows[0]["eval/s"]
    for r in rows:
        r["speed-up vs 1 worker"] = round(r["eval/s"] / base, 2)
    return pd.DataFrame(rows)
