"""Paired comparison of one method against the others in a results file (one row per task,
method, seed and t, as ``bench history --out`` writes it) or a ``bench tuning`` run folder, seeds
averaged first: 95% bootstrap intervals over tasks of the median and of the mean
difference at each budget::

    python -m tuner.bench.analysis.paired_methods RESULTS.parquet meta-history [5,10,20,50]
    python -m tuner.bench.analysis.paired_methods A.parquet:meta-history B.parquet:meta-history

The second form pairs a method of one file with a method of another (the same tasks and
seeds: e.g. the code before and after a change).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from tuner.bench.tuning_report import _mean_diff_ci, _median_diff_ci


def results(source: str) -> pd.DataFrame:
    """The rows of a results parquet file, or of a ``bench tuning`` run folder's parts."""
    if Path(source).is_dir():
        parts = sorted(p for p in (Path(source) / "parts").glob("*--*--*.parquet"))
        return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return pd.read_parquet(source)


def curves(res: pd.DataFrame, method: str, source: str = "the results") -> pd.DataFrame:
    """Tasks x t: a method's regret, seeds averaged."""
    res = res[res["method"] == method]
    if res.empty:
        raise ValueError(f"{source} has no results of method {method!r}")
    return res.groupby(["task_id", "t"])["regret"].mean().unstack()


def compare(a: pd.DataFrame, b: pd.DataFrame, budgets: list[int]) -> list[str]:
    """Table rows of a - b at each budget (tasks in both)."""
    common = a.index.intersection(b.index)
    rows = []
    for t in budgets:
        x, y = a.loc[common, t].to_numpy(), b.loc[common, t].to_numpy()
        d = x - y
        lo, hi = _median_diff_ci(x, y)
        mlo, mhi = _mean_diff_ci(d)
        rows.append(f"| {t} | [{lo:+.3f}, {hi:+.3f}] | {d.mean():+.4f} [{mlo:+.3f}, {mhi:+.3f}] | "
                    f"{(d < -1e-12).sum()} / {(d > 1e-12).sum()} |")
    return rows


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        if len(argv) < 2 and not (argv and argv[0] in ("-h", "--help")):
            raise SystemExit("error: pass RESULTS METHOD or FILE:METHOD FILE:METHOD (see above)")
        return
    budgets = [int(b) for b in argv[2].split(",")] if len(argv) > 2 and argv[2][0].isdigit() else [5, 10, 20, 50]
    header = ("| t | first minus second: median difference | mean difference | tasks better / worse |\n"
              "|---|---|---|---|")
    if ":" in argv[0]:  # FILE:METHOD FILE:METHOD
        (pa, ma), (pb, mb) = (s.rsplit(":", 1) for s in argv[:2])
        print(f"{ma} ({pa}) minus {mb} ({pb}), seeds averaged first\n\n{header}")
        print("\n".join(compare(curves(results(pa), ma, pa), curves(results(pb), mb, pb), budgets)))
        return
    path, method = argv[0], argv[1]
    res = results(path)
    a = curves(res, method, path)
    for other in sorted(set(res["method"]) - {method}):
        print(f"\n{method} minus {other} ({path}), seeds averaged first\n\n{header}")
        print("\n".join(compare(a, curves(res, other, path), budgets)))


if __name__ == "__main__":
    main(sys.argv[1:])
