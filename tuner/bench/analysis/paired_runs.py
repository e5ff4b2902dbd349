"""Paired comparison of MetaSampler (``meta``) in two ``bench tuning`` runs on the same
tasks, seeds and fold knowledge bases (e.g. the code before and after a change)::

    python -m tuner.bench.analysis.paired_runs RUN_NEW RUN_OLD
"""

from __future__ import annotations

import sys

import pandas as pd

from tuner.bench.analysis.paired_methods import curves, results
from tuner.bench.tuning_report import _median_diff_ci


def load(d: str) -> pd.DataFrame:
    """Each task's ``meta`` regret curve (tasks x t), seeds averaged."""
    return curves(results(d), "meta", d)


def main(new_dir: str, old_dir: str) -> None:
    new, old = load(new_dir), load(old_dir)
    common = new.index.intersection(old.index)
    new, old = new.loc[common], old.loc[common]
    print(f"{len(common)} tasks, seeds averaged first")
    print("| t | new median | old median | new mean | old mean | new - old: 95% interval of the median difference | better / worse / same |")
    print("|---|---|---|---|---|---|---|")
    for t in (1, 2, 3, 5, 10, 20, 30, 50):
        a, b = new[t].to_numpy(), old[t].to_numpy()
        lo, hi = _median_diff_ci(a, b)
        d = a - b
        print(f"| {t} | {pd.Series(a).median():.4g} | {pd.Series(b).median():.4g} | {a.mean():.4g} | {b.mean():.4g} | "
              f"[{lo:+.3f}, {hi:+.3f}] | {(d < -1e-9).sum()} / {(d > 1e-9).sum()} / {(abs(d) <= 1e-9).sum()} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
