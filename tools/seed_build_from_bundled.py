"""Start a fidelity build from the bundled meta-dataset's evaluations (run once by a developer).

    python tools/seed_build_from_bundled.py SPACE OUT [--check N]

The bundled builds evaluated every task at a 2,000-row cap (``--folds 3 --seed 0``). A
fidelity build whose first fidelity is 2,000 rows, with the same folds, seed and Sobol
configurations, evaluates exactly those rows with exactly those folds: a table of at most
2,000 usable rows is its own task, a larger one becomes the task ``SOURCE@2000``. This
copies those evaluations into OUT under the ids the fidelity build uses (adding ``rows``
and ``fidelity``), so that the build skips them; the build then computes every task's
meta-features on the rows evaluated and adds the larger fidelities. ``--check N``
re-evaluates N stored evaluations with the build's code and stops if any metric differs.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warmstart import MetaDataset, spaces  # noqa: E402
from warmstart.build import evaluated_data, task_levels  # noqa: E402
from warmstart.protocol import PRIMARY_METRIC, cross_validate, task_seed  # noqa: E402
from warmstart.store import atomic_write_parquet  # noqa: E402
from warmstart.tasks import load_task, suite_specs  # noqa: E402

BASE_ROWS = 2000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("space")
    ap.add_argument("out")
    ap.add_argument("--check", type=int, default=3)
    args = ap.parse_args()
    md = MetaDataset.default().filter(space=args.space)
    build = md.manifest["builds"][args.space]
    assert build["max_rows"] == BASE_ROWS and build["seed"] == 0, build
    folds = int(build["folds"])
    specs, base = suite_specs(build["suite"])
    by_source = {s["source"]: s for s in specs}
    ev = md.evaluations.copy()
    new_ids, rows, fids = {}, {}, {}
    rng = np.random.default_rng(0)
    checked = 0
    for tid in md.tasks["task_id"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            task = load_task(by_source[tid], base)
            X_all, _ = evaluated_data(task, folds=folds, rows=None, seed=0)
        n = len(X_all)
        level = task_levels(task, n, [BASE_ROWS, "full"], None)[0]
        assert level.rows == min(n, BASE_ROWS)
        new_ids[tid], rows[tid], fids[tid] = level.task_id, level.rows, level.rows / n
        if checked < args.check and rng.random() < 0.2:
            X, y = evaluated_data(task, folds=folds, rows=level.rows, seed=0)
            sub = ev[ev["task_id"] == tid].iloc[0]
            space = spaces.get_search_space(args.space)
            import json

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rec = cross_validate(space, json.loads(sub["config"]), X, y, folds=folds,
                                     seed=task_seed(tid, 0))
            metric = PRIMARY_METRIC[space.task_type]
            diff = abs(rec[metric] - sub[metric])
            print(f"check {tid} config {sub['config_id']}: stored {sub[metric]:.12f} now {rec[metric]:.12f}")
            if diff > 1e-9:
                raise SystemExit(f"{tid}: the build's protocol no longer reproduces the stored value")
            checked += 1
    ev["rows"] = ev["task_id"].map(rows).astype(np.int64)
    ev["fidelity"] = ev["task_id"].map(fids).astype(np.float64)
    ev["task_id"] = ev["task_id"].map(new_ids)
    out = Path(args.out) / "evaluations" / args.space / "seeded-from-bundled.parquet"
    atomic_write_parquet(ev.reset_index(drop=True), out)
    moved = sum(1 for k, v in new_ids.items() if k != v)
    print(f"{len(ev)} evaluations of {len(new_ids)} tasks -> {out} ({moved} renamed SOURCE@{BASE_ROWS})")
    pd.set_option("display.width", 200)


if __name__ == "__main__":
    main()
