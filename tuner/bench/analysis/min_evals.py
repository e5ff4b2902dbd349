"""Should a knowledge base learn from tasks with fewer evaluations? (a probe, 2026-12-02)

A fidelity build evaluates the largest fidelities of a table on few configurations (the
survivors of successive halving, at least 8), while ``KnowledgeBase.fit`` learns only from
tasks with ``MIN_EVALS`` (10) evaluations: the largest levels are left out. This runs
``bench knowledge`` leave-one-family-out (8 folds of families) with several thresholds and
prints paired differences over the held-out tasks (held-out tasks need 25 evaluations, so
every variant is scored on the same tasks)::

    python -m tuner.bench.analysis.min_evals builds/xgboost-regressor xgboost-regressor 10,8
"""

from __future__ import annotations

import logging
import sys
import warnings

import numpy as np
import pandas as pd

import warmstart.knowledge as knowledge
from tuner.bench.knowledge import evaluate_knowledge
from warmstart import MetaDataset

MEASURES = ("regret@1_meta", "regret@1_kernel", "regret@5_meta", "regret@10_meta",
            "spearman_K5_hybrid", "spearman_K20_maml", "spearman_K20_xgb", "spearman_K20_hybrid")


def main(metadata: str, space: str, thresholds: list[int]) -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
    runs = {}
    for n in thresholds:
        knowledge.MIN_EVALS = n
        runs[n] = evaluate_knowledge(md, space, n_folds="family:8", repeats=3).set_index("task_id")
    base = runs[thresholds[0]]
    rng = np.random.default_rng(0)
    for n in thresholds[1:]:
        print(f"MIN_EVALS {n} against {thresholds[0]} on {len(base)} held-out tasks "
              "(median / mean; mean paired difference, 95% bootstrap interval)")
        for m in MEASURES:
            a, b = base[m], runs[n][m].reindex(base.index)
            ok = a.notna() & b.notna()
            d = (b - a)[ok].to_numpy()
            boot = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
            lo, hi = np.quantile(boot, [0.025, 0.975])
            print(f"  {m:22s} {a[ok].median():.4f} / {a[ok].mean():.4f} -> {b[ok].median():.4f} / "
                  f"{b[ok].mean():.4f}   {d.mean():+.4f} [{lo:+.4f}, {hi:+.4f}]")
    pd.set_option("display.width", 200)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")])
