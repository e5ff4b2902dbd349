"""Compare MAML surrogate variants on some leave-tasks-out folds of the bundled meta-data.

For each variant (a JSON dict of ``MAMLConfig`` fields, on top of 3 members x 200
iterations unless given), :func:`tuner.bench.knowledge.evaluate_knowledge` on the chosen
folds (5-fold split); prints the median and mean over held-out tasks of the MAML
surrogate's Spearman, adapted and not adapted, after K = 5 and 20 observations::

    python -m tuner.bench.analysis.maml_variants \\
        '{"all": {"adapt": "all"}, "ctx8": {"context_dim": 8, "adapt": "context"}}' 0,1
"""

from __future__ import annotations

import json
import sys
import time
import warnings

from tuner.bench.knowledge import evaluate_knowledge
from warmstart import MetaDataset

COLUMNS = ["spearman_K5_maml", "spearman_K5_no_adapt", "spearman_K20_maml", "spearman_K20_no_adapt"]


def main(variants: dict, fold_ids: list[int]) -> None:
    warnings.simplefilter("ignore")
    md = MetaDataset.default()
    for name, cfg in variants.items():
        t0 = time.time()
        res = evaluate_knowledge(md, "xgboost-classifier", n_folds=5, only_folds=fold_ids,
                                 fit_kwargs={"n_xgb": 1, "maml": {"members": 3, "meta_iterations": 200, **cfg}})
        print(name, "median", res[COLUMNS].median().round(4).to_dict(),
              "mean", res[COLUMNS].mean().round(4).to_dict(), f"{time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), [int(f) for f in sys.argv[2].split(",")])
