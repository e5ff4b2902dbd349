"""What the first trial could know: the first-pick members trained on other inputs,
leave-one-family-out, up to an upper bound that reads the held-out task's own scores.

For every held-out task of a ``learn2tune bench tuning`` run (its fold knowledge bases and
folds; regret from the cached grid of :mod:`tuner.bench.analysis.zero_shot`, which must
have run first), the regret at the configuration each way ranks first:

- the shipped first-pick members, and the same members refitted (a check: same picks);
- members on fewer meta-features: those the learned task metric weighs, the size and shape
  of the table only (rows, features, classes, categorical share, balance, missing values),
  size and shape plus the landmarkers; each also with shallower trees;
- the mean gain of the nearest known tasks by size and shape;
- **an upper bound for landmarkers of the tuned model itself**: members that also read the
  task's normalized gain at 1, 3 or 5 fixed configurations (chosen on the known tasks:
  the best on average, then the least correlated with those chosen). Known tasks give
  their measured gains; the held-out task gives its gains *at full fidelity* (its objective
  model's), which no landmarker computed on a subsample could beat. Next to it, the best
  of those fixed configurations (what evaluating them as trials would give)::

    python -m tuner.bench.analysis.zero_shot bench-runs/tuning-lofo           # the grid of regrets
    python -m tuner.bench.analysis.first_pick_inputs bench-runs/tuning-lofo [TASKS_FILE]

With ``TASKS_FILE`` (task ids, whitespace-separated) the table is printed for those tasks
as well (e.g. the tables of 5,000+ rows).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.bench.analysis.first_pick import PARAMS
from tuner.bench.analysis.zero_shot import _splits, grid_regrets
from warmstart import KnowledgeBase, MetaDataset
from warmstart.cross_task import cross_task_raw
from warmstart.scores import GAIN_FLOOR, task_gain_matrix
from warmstart.surrogate import encode_configs

#: the size and shape of a table
SIZE = ["general.log_instances", "general.log_features", "general.log_inst_to_attr", "NumberOfClasses",
        "general.categorical_share", "general.class_imbalance_ratio", "MinorityClassPercentage",
        "PercentageOfMissingValues"]
LANDMARKERS = [f"landmark.{m}.{s}" for m in ("1nn", "stump", "lda", "naive_bayes", "tree3", "random_node")
               for s in ("accuracy", "kappa")] + [f"target.landmark.{m}.r2" for m in ("1nn", "stump", "linear", "tree3")]
SHALLOW = dict(max_depth=3, min_child_weight=20, n_estimators=200)
N_MEMBERS = 3  # as the shipped first-pick members


def _members(X: np.ndarray, y: np.ndarray, **over: Any) -> list[Any]:
    import xgboost

    params = {**PARAMS, **over}
    return [xgboost.XGBRegressor(**{**params, "random_state": m}).fit(X, y) for m in range(N_MEMBERS)]


def _predict(members: list[Any], rows: np.ndarray, enc: np.ndarray) -> np.ndarray:
    """Mean prediction at every configuration (``enc``) for each row of task inputs (the
    knowledge base's own reader of its members, :func:`warmstart.cross_task.cross_task_raw`)."""
    return np.array([cross_task_raw(members, np.repeat(r[None, :], len(enc), axis=0), enc).mean(axis=0)
                     for r in rows])


def landmark_configs(gains: np.ndarray, n: int) -> list[int]:
    """``n`` columns of ``gains`` (tasks x configurations) among the 40 most evaluated: the
    best on average, then each time the one least correlated with those chosen."""
    cover = np.isfinite(gains).mean(axis=0)
    pool = np.where(cover >= np.sort(cover)[-min(40, len(cover))])[0]
    corr = np.abs(pd.DataFrame(gains[:, pool]).corr().to_numpy())
    chosen = [int(np.argmax(np.nanmean(gains[:, pool], axis=0)))]
    while len(chosen) < min(n, len(pool)):
        worst = np.nanmax(corr[:, chosen], axis=1)
        worst[chosen] = np.inf
        chosen.append(int(np.argmin(worst)))
    return [int(pool[c]) for c in chosen]


def fold_scores(kb: KnowledgeBase, evaluations: pd.DataFrame, held_vectors: np.ndarray,
                held_regrets: np.ndarray) -> tuple[dict[str, np.ndarray], list[int]]:
    """Each way's predicted score (held-out tasks x configurations), and the landmark columns."""
    gains = task_gain_matrix(evaluations[evaluations["task_id"].isin(kb.task_ids)], kb.task_ids, kb.metric)
    if gains.shape != kb.scores.shape:
        raise RuntimeError(f"gains {gains.shape} do not match the knowledge base's scores {kb.scores.shape}")
    enc = encode_configs(kb.space, kb.configs)
    ti, ci = np.nonzero(np.isfinite(gains))
    pos = {n: i for i, n in enumerate(kb.feature_names)}
    sets = {"every meta-feature": list(range(len(pos))),
            "the metric's weighted meta-features": [int(i) for i in np.nonzero(kb.weights > 0)[0]],
            "size and shape": [pos[n] for n in SIZE if n in pos],
            "size, shape and landmarkers": [pos[n] for n in SIZE + LANDMARKERS if n in pos]}
    out = {"shipped": _predict(kb.gain_models, held_vectors, enc) if kb.gain_models else None}
    for name, cols in sets.items():
        for depth, over in (("", {}), (", shallow", SHALLOW)):
            members = _members(np.hstack([kb.task_matrix[ti][:, cols], enc[ci]]), gains[ti, ci], **over)
            out[f"{name}{depth}"] = _predict(members, held_vectors[:, cols], enc)
    size = sets["size and shape"]
    for k in (10, 30):
        near = [np.argsort(np.abs(kb.task_matrix[:, size] - v[size]).sum(axis=1))[:k] for v in held_vectors]
        out[f"mean gain of the {k} nearest by size and shape"] = np.array(
            [np.nan_to_num(np.nanmean(gains[nn], axis=0), nan=GAIN_FLOOR) for nn in near])
    marks = landmark_configs(gains, 5)
    for n in (1, 3, 5):
        known = gains[:, marks[:n]]
        members = _members(np.hstack([kb.task_matrix[ti], known[ti], enc[ci]]), gains[ti, ci])
        held = np.maximum(1.0 - held_regrets[:, marks[:n]], GAIN_FLOOR)  # full fidelity: an upper bound
        out[f"upper bound: also its gains at {n} fixed configurations"] = _predict(
            members, np.hstack([held_vectors, held]), enc)
    return {k: v for k, v in out.items() if v is not None}, marks


def table(df: pd.DataFrame, seed: int = 0) -> str:
    """Median / mean regret per way, with 95% paired bootstrap intervals against the shipped pick."""
    piv = df.pivot(index="task_id", columns="way", values="regret@1")
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(piv), len(piv)) for _ in range(2000)]
    lines = [f"{len(piv)} held-out tasks\n",
             "| first configuration | median | mean | distinct | median - shipped [95%] | better / worse |",
             "|---|---|---|---|---|---|"]
    base = piv["shipped"].to_numpy()
    for way in df["way"].unique():
        r = piv[way].to_numpy()
        q = np.quantile([np.median(r[i]) - np.median(base[i]) for i in draws], [0.025, 0.975])
        d = r - base
        n_first = df.loc[df["way"] == way, "first"].nunique()
        lines.append(f"| {way} | {np.median(r):.4f} | {r.mean():.4f} | {n_first if n_first > 1 else ''} | "
                     f"[{q[0]:+.3f}, {q[1]:+.3f}] | {(d < -1e-9).sum()} / {(d > 1e-9).sum()} |")
    return "\n".join(lines)


def main(bench_dir: str, tasks_file: str | None = None) -> None:
    warnings.simplefilter("ignore")
    bench = Path(bench_dir)
    space = json.loads((bench / "protocol.json").read_text())["space"]
    md = MetaDataset.default().filter(space=space)
    grid = grid_regrets(bench, space, md, None).set_index("task_id")
    mf_all, ev = md.metafeatures(), md.evaluations
    rows = []
    for fi, (kb_dir, held) in enumerate(_splits(bench, md, None)):
        kb = KnowledgeBase.load(kb_dir)
        regrets = np.vstack([grid.loc[t, [f"r{j}" for j in range(len(kb.configs))]].to_numpy(np.float64)
                             for t in held])
        scores, marks = fold_scores(kb, ev, np.vstack([kb.task_vector(mf_all.loc[t]) for t in held]), regrets)
        for h, tid in enumerate(held):
            for way, s in scores.items():
                j = int(np.argmax(s[h]))
                rows.append({"task_id": tid, "way": way, "first": j, "regret@1": regrets[h, j]})
            for n in (1, 3, 5):
                rows.append({"task_id": tid, "way": f"the best of those {n} fixed configurations (as {n} trials)",
                             "first": -1, "regret@1": regrets[h, marks[:n]].min()})
            rows.append({"task_id": tid, "way": "per-task best (oracle)", "first": int(np.argmin(regrets[h])),
                         "regret@1": regrets[h].min()})
        print(f"fold {fi} done (fixed configurations {marks})", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    df.to_parquet(bench / "first_pick_inputs.parquet")
    print(table(df))
    if tasks_file:
        wanted = set(Path(tasks_file).read_text().split())
        print("\n" + table(df[df["task_id"].isin(wanted)]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-runs/tuning-lofo", sys.argv[2] if len(sys.argv) > 2 else None)
