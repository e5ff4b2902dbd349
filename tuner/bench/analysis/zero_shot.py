"""Why the zero-shot goal is (not) met: ways of choosing the first configuration, compared.

For held-out tasks of a ``learn2tune bench tuning`` run (its fold knowledge bases, its
folds and its objective models, so the regret is the benchmark's own), the regret after
1, 5 and 10 warm-start trials for several ways of choosing them, plus the best fixed
configuration in hindsight and the per-task best. Every task of the run's folds is
analysed (not only the ones the run tuned); each task's regret at every known
configuration is cached in ``BENCH_DIR/zero_shot_regrets.parquet``::

    python -m tuner.bench.analysis.zero_shot bench-runs/tuning-lofo            # its folds
    python -m tuner.bench.analysis.zero_shot bench-runs/tuning-keel bench-runs/build-keel  # --test-metadata run
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.bench.folds import task_folds, task_table
from tuner.bench.tuning import TaskObjective
from warmstart import KnowledgeBase, MetaDataset
from warmstart.portfolio import greedy_portfolio, kernel_weights
from warmstart.surrogate import encode_configs

N_PICKS = 10  # portfolio length compared (regret@1, @5, @10)


def _splits(bench_dir: Path, md: MetaDataset, test_md: MetaDataset | None) -> list[tuple[Path, list[str]]]:
    if test_md is not None:
        return [(bench_dir / "kb" / "train", list(test_md.tasks["task_id"]))]
    folds = json.loads((bench_dir / "protocol.json").read_text())["folds"]
    return [(bench_dir / "kb" / f"fold{i}", held) for i, held in enumerate(task_folds(md, folds, seed=0))
            if (bench_dir / "kb" / f"fold{i}").exists()]


def grid_regrets(bench_dir: Path, space: str, md: MetaDataset, test_md: MetaDataset | None) -> pd.DataFrame:
    """Each held-out task's regret at every configuration of its fold's knowledge base
    (one row per task: fold, task_id, r0, r1, ...), cached."""
    cache = bench_dir / "zero_shot_regrets.parquet"
    done = pd.read_parquet(cache) if cache.exists() else pd.DataFrame()
    have = set(done["task_id"]) if len(done) else set()
    tmd = test_md if test_md is not None else md
    rows = []
    for fi, (kb_dir, held) in enumerate(_splits(bench_dir, md, test_md)):
        todo = [t for t in held if t not in have]
        if not todo:
            continue
        kb = KnowledgeBase.load(kb_dir)
        grid = encode_configs(kb.space, kb.configs)
        for tid in todo:
            f = TaskObjective(tmd, tid, space, kb.metric)
            reg = [f.regret(v) for v in f.model.predict(grid)]
            rows.append({"fold": fi, "task_id": tid, **{f"r{j}": r for j, r in enumerate(reg)}})
        print(f"fold {fi}: {len(todo)} tasks", file=sys.stderr, flush=True)
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        rows = []
        done.to_parquet(cache)
    return done


def ways(kb: KnowledgeBase, mf: pd.Series) -> dict[str, list[int]]:
    """Portfolios (column indices of ``kb.configs``) chosen by each way compared."""
    d = kb.distances(mf)
    fam = np.array(kb.safety.get("groups", kb.task_ids))
    _, inv, counts = np.unique(fam, return_inverse=True, return_counts=True)
    v = kb.task_vector(mf)
    grid = encode_configs(kb.space, kb.configs)
    xgb = kb.cross_task_members(v, grid).mean(axis=0)
    first = int(np.argmax(xgb))
    k = kb.bandwidth(mf)
    wk = kernel_weights(d, k)
    out = {
        "shipped (KnowledgeBase.warm_start)": [kb.configs.index(c) for c in kb.warm_start(mf, n=N_PICKS)],
        "kernel, no safety net": greedy_portfolio(kb.filled, wk, N_PICKS),
        "all tasks alike": greedy_portfolio(kb.filled, np.full(len(d), 1 / len(d)), N_PICKS),
        "all families alike": greedy_portfolio(kb.filled, 1.0 / counts[inv], N_PICKS),
        "kernel / family size": greedy_portfolio(kb.filled, wk / counts[inv], N_PICKS),
        "XGBoost argmax": [first],
    }
    out["XGBoost first, then kernel portfolio"] = greedy_portfolio(kb.filled, wk, N_PICKS, start=[first])
    z = (xgb - xgb.mean()) / max(xgb.std(), 1e-12)  # the surrogate's row on the copula scale
    for a in (0.5, 0.75):
        S = np.vstack([kb.filled, z[None, :]])
        out[f"surrogate as a task, weight {a}"] = greedy_portfolio(S, np.append((1 - a) * wk, a), N_PICKS)
    if kb.maml is not None:
        prior = kb.prior_predict(mf, kb.configs)
        out["MAML prior argmax"] = [int(np.argmax(prior))]
        out["MAML + XGBoost argmax"] = [int(np.argmax(prior + xgb))]
    return out


def main(bench_dir: str, test_metadata: str | None = None) -> None:
    warnings.simplefilter("ignore")
    bench = Path(bench_dir)
    space = json.loads((bench / "protocol.json").read_text())["space"]
    md = MetaDataset.default().filter(space=space)
    test_md = None if test_metadata is None else MetaDataset.load(test_metadata).filter(space=space)
    G = grid_regrets(bench, space, md, test_md)
    tmd = test_md if test_md is not None else md
    mf_all = tmd.metafeatures()
    fam = task_table(tmd).set_index("task_id")["family"]
    rows = []
    splits = _splits(bench, md, test_md)
    for fi, (kb_dir, held) in enumerate(splits):
        kb = KnowledgeBase.load(kb_dir)
        for tid in held:
            reg = G.loc[G.task_id == tid, [f"r{j}" for j in range(len(kb.configs))]].to_numpy()[0]
            for name, chosen in ways(kb, mf_all.loc[tid]).items():
                row = {"task_id": tid, "family": fam[tid], "way": name, "first": chosen[0]}
                for t in (1, 5, 10):
                    row[f"regret@{t}"] = reg[chosen[:t]].min() if len(chosen) >= t else np.nan
                rows.append(row)
            rows.append({"task_id": tid, "family": fam[tid], "way": "per-task best (oracle)", "regret@1": reg.min()})
        print(f"fold {fi} done", file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    df.to_parquet(bench / "zero_shot_ways.parquet")  # per task and way, for slicing
    table = df.groupby("way", sort=False)[["regret@1", "regret@5", "regret@10"]].agg(["median", "mean"])
    print(f"{df.task_id.nunique()} held-out tasks, {len(splits)} knowledge bases\n")
    print("| way | " + " | ".join(f"{a} {b}" for a, b in table.columns) + " |")
    print("|---" * (len(table.columns) + 1) + "|")
    for way, vals in table.iterrows():
        print(f"| {way} | " + " | ".join("" if np.isnan(x) else f"{x:.4f}" for x in vals) + " |")
    firsts = df.dropna(subset=["first"]).groupby("way", sort=False)["first"].nunique()
    print("\ndistinct first configurations: " + ", ".join(f"{w} {n}" for w, n in firsts.items()))
    R = G.drop(columns=["fold", "task_id"]).to_numpy()
    j = int(np.argmin(np.median(R, 0)))
    print(f"\nbest fixed configuration in hindsight: median regret {np.median(R[:, j]):.4f}, "
          f"mean {R[:, j].mean():.4f} (config {j} of {R.shape[1]})")
    by = df[df.way != "per-task best (oracle)"].groupby(["family", "way"], sort=False)["regret@1"].median().unstack(1)
    by.insert(0, "tasks", df.groupby("family").task_id.nunique())
    print("\nregret@1 median by family\n")
    by = by.sort_values("tasks", ascending=False)
    print("| family | " + " | ".join(by.columns) + " |\n" + "|---" * (len(by.columns) + 1) + "|")
    for f, vals in by.iterrows():
        print(f"| {f} | {int(vals.iloc[0])} | " + " | ".join(f"{x:.3f}" for x in vals.iloc[1:]) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-runs/tuning-full",
         sys.argv[2] if len(sys.argv) > 2 else None)
