"""Compare MAML surrogate variants on some leave-tasks-out folds of the bundled meta-data.

For each variant (a JSON dict of ``MAMLConfig`` fields, on top of 3 members x 200
iterations unless given) and each held-out task of the chosen folds: Spearman on the task's
other evaluations after K = 5 and 20 random observations, adapted and not adapted (3
repeats). Prints median and mean over tasks::

    python benchmarks/analysis/maml_variants.py \\
        '{"all": {"adapt": "all"}, "ctx8": {"context_dim": 8, "adapt": "context"}}' 0,1
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

from warmstart import KnowledgeBase, MetaDataset
from warmstart._common import encode_configs, spearman
from warmstart.evaluation import task_folds

SPACE = "xgboost-classifier"


def main(variants: dict, fold_ids: list[int]) -> None:
    warnings.simplefilter("ignore")
    md = MetaDataset.default().filter(space=SPACE)
    ev, mf_all = md.evaluations, md.metafeatures()
    folds = task_folds(md, 5, seed=0)
    for name, cfg in variants.items():
        rows, t0 = [], time.time()
        for fi in fold_ids:
            held = folds[fi]
            fps = md.tasks.loc[md.tasks.task_id.isin(held), "fingerprint"].tolist()
            kb = KnowledgeBase.fit(md, SPACE, exclude_fingerprints=fps, n_xgb=1,
                                   maml={"members": 3, "meta_iterations": 200, **cfg})
            for tid in held:
                sub = ev[(ev.task_id == tid) & (ev.status == "ok")]
                y = sub[kb.metric].to_numpy(float)
                enc = encode_configs(kb._space(), [json.loads(c) for c in sub.config])
                x = kb._maml_inputs(enc, kb._task_vector(mf_all.loc[tid]))
                row = {}
                for K in (5, 20):
                    a, b = [], []
                    for rep in range(3):
                        idx = np.random.default_rng(31 * rep + K).permutation(len(y))
                        s, q = idx[:K], idx[K:]
                        a.append(spearman(kb.maml.adapt(x[s], y[s]).predict(x[q])[0], y[q]))
                        b.append(spearman(kb.maml.adapt(x[:0], y[:0]).predict(x[q])[0], y[q]))
                    row[f"K{K}_adapt"], row[f"K{K}_noad"] = np.nanmean(a), np.nanmean(b)
                rows.append(row)
        df = pd.DataFrame(rows)
        print(name, "median", df.median().round(4).to_dict(), "mean", df.mean().round(4).to_dict(),
              f"{time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), [int(f) for f in sys.argv[2].split(",")])
