"""Other ways of ranking the configurations for the first trial, leave-one-family-out.

For every held-out task of a ``learn2tune bench tuning`` run (its fold knowledge bases and
folds; regret from the cached grid of :mod:`tuner.bench.analysis.zero_shot`, which must
have run first), the regret at the configuration each way ranks first: the shipped
cross-task regressor, XGBoost rankers and top-weighted regressors trained on the same
(task, configuration) rows, and blends with the kernel-weighted portfolio score::

    python -m tuner.bench.analysis.first_pick bench-runs/tuning-lofo5
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.bench.analysis.zero_shot import _splits, grid_regrets
from warmstart import KnowledgeBase, MetaDataset
from warmstart.portfolio import kernel_weights
from warmstart.surrogate import encode_configs

#: the cross-task members' own XGBoost settings, for like-for-like alternatives
PARAMS = dict(n_estimators=150, max_depth=6, learning_rate=0.08, subsample=0.8, colsample_bytree=0.8,
              min_child_weight=5, tree_method="hist", n_jobs=1, random_state=0)


def _z(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / max(float(a.std()), 1e-12)


def _alternatives(kb: KnowledgeBase, enc: np.ndarray) -> dict:
    """Models trained on the knowledge base's evaluated (task, configuration) rows."""
    import xgboost

    ti, ci = np.nonzero(np.isfinite(kb.scores))
    X, y = np.hstack([kb.task_matrix[ti], enc[ci]]), kb.scores[ti, ci]
    frac = np.zeros_like(y)  # each row's rank fraction within its task (1: the task's best)
    for t in np.unique(ti):
        m = ti == t
        frac[m] = (y[m].argsort().argsort() + 0.5) / m.sum()
    order = np.argsort(ti, kind="stable")
    Xo, qid = X[order], ti[order]
    levels = np.minimum((frac[order] * 5).astype(int), 4)
    top = np.where(frac[order] > 0.9, 3, np.where(frac[order] > 0.75, 1, 0))
    return {
        "XGBRanker rank:pairwise on the copula scores":
            xgboost.XGBRanker(objective="rank:pairwise", **PARAMS).fit(Xo, y[order], qid=qid),
        "XGBRanker rank:ndcg, 5 relevance levels":
            xgboost.XGBRanker(objective="rank:ndcg", **PARAMS).fit(Xo, levels, qid=qid),
        "XGBRanker rank:ndcg, top 10% / top 25% levels":
            xgboost.XGBRanker(objective="rank:ndcg", **PARAMS).fit(Xo, top, qid=qid),
        "regressor on 'in the task's top 10%'": xgboost.XGBRegressor(**PARAMS).fit(X, (frac > 0.9).astype(float)),
        "regressor, top 20% weighted x5": xgboost.XGBRegressor(**PARAMS).fit(X, y, sample_weight=1 + 4 * (frac > 0.8)),
    }


def main(bench_dir: str) -> None:
    warnings.simplefilter("ignore")
    bench = Path(bench_dir)
    space = json.loads((bench / "protocol.json").read_text())["space"]
    md = MetaDataset.default().filter(space=space)
    G = grid_regrets(bench, space, md, None).set_index("task_id")
    mf_all = md.metafeatures()
    rows = []
    for fi, (kb_dir, held) in enumerate(_splits(bench, md, None)):
        kb = KnowledgeBase.load(kb_dir)
        enc = encode_configs(kb.space, kb.configs)
        models = _alternatives(kb, enc)
        for tid in held:
            reg = G.loc[tid, [f"r{j}" for j in range(len(kb.configs))]].to_numpy(np.float64)
            mf = mf_all.loc[tid]
            v = kb.task_vector(mf)
            members = kb.cross_task_members(v, enc)
            mu, sd = members.mean(axis=0), members.std(axis=0)
            robust = kernel_weights(kb.distances(mf), kb.bandwidth(mf)) @ kb.filled
            top10 = np.argsort(-robust)[:10]
            picks = {"shipped: cross-task regressor, argmax of the members' mean": np.argmax(mu)}
            X = np.hstack([np.repeat(v[None, :], len(enc), axis=0), enc])
            picks.update({name: np.argmax(m.predict(X)) for name, m in models.items()})
            picks["members' mean - 0.5 std"] = np.argmax(mu - 0.5 * sd)
            picks["the regressor's best among the portfolio's 10 most robust"] = top10[np.argmax(mu[top10])]
            picks["z(regressor) + 0.25 z(kernel-weighted score)"] = np.argmax(_z(mu) + 0.25 * _z(robust))
            picks["kernel-weighted score alone"] = np.argmax(robust)
            picks["per-task best (oracle)"] = np.argmin(reg)
            rows += [{"task_id": tid, "way": w, "regret@1": reg[int(j)]} for w, j in picks.items()]
        print(f"fold {fi} done", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).groupby("way", sort=False)["regret@1"].agg(["median", "mean"])
    print(f"{len(rows) // len(table)} held-out tasks\n\n| way of ranking | median regret@1 | mean |\n|---|---|---|")
    for way, r in table.iterrows():
        print(f"| {way} | {r['median']:.4f} | {r['mean']:.4f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-runs/tuning-full")
