"""Make finished builds the bundled meta-dataset (run by a developer; its output is committed).

    python tools/bundle_builds.py builds/xgboost-classifier builds/xgboost-regressor \\
        builds/random-forest-classifier --out warmstart/data/default

Each build folder holds one space. The bundle is one meta-dataset: the union of the builds'
task rows (a task evaluated in two spaces has one row: the builds compute it alike, which
this checks) and one evaluations file per space; its manifest keeps every build's record
(command, versions, runs, wall time) under ``builds``. It is written next to ``--out`` and
swapped in at the end, so an interrupted run leaves the old bundle whole.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warmstart import MetaDataset, spaces  # noqa: E402
from warmstart.fidelity import level_data  # noqa: E402
from warmstart.protocol import PRIMARY_METRIC, cross_validate, task_seed  # noqa: E402
from warmstart.store import MF_PREFIX, atomic_write_parquet, atomic_write_text  # noqa: E402
from warmstart.tasks import load_task, suite_specs  # noqa: E402


def fix_recorded_rows(md: MetaDataset, record: dict, drop_stale: bool = False) -> pd.DataFrame:
    """Evaluations made before the build recorded the rows actually evaluated carry the
    nominal fidelity (2,000) where the subsample dropped a class too rare for the folds
    (1,998 rows). For each such task this re-evaluates one stored configuration on the
    build's rows, stops unless the metric is identical, and records the true count."""
    ev = md.evaluations.copy()
    n_rows = md.tasks.set_index("task_id")["n_rows"]
    source_rows = md.tasks.set_index("task_id")["source_rows"]
    wrong = sorted(set(ev.loc[ev["rows"] != ev["task_id"].map(n_rows), "task_id"]))
    if not wrong:
        return ev
    specs = {s["source"]: s for s in suite_specs(record["suite"])[0]}
    space = spaces.get_search_space(md.spaces[0])
    metric = PRIMARY_METRIC[space.task_type]
    stale: list[str] = []
    for tid in wrong:
        source = md.tasks.set_index("task_id").loc[tid, "source"]
        mine = ev[(ev["task_id"] == tid) & (ev["status"] == "ok")].iloc[0]
        task = load_task(specs[source])
        X, y = level_data(task, tid, record)
        rec = cross_validate(space, json.loads(mine["config"]), X, y, folds=int(record["folds"]),
                             seed=task_seed(source, int(record["seed"])))
        if len(y) != n_rows[tid] or abs(rec[metric] - mine[metric]) > 1e-9:
            stale.append(f"{tid}: stored {mine[metric]:.6f} on {mine['rows']} rows, now {rec[metric]:.6f} "
                         f"on {len(y)}: delete its evaluations and rerun the build")
            continue
        at = ev["task_id"] == tid
        ev.loc[at, "rows"] = int(n_rows[tid])
        ev.loc[at, "fidelity"] = int(n_rows[tid]) / float(source_rows[tid])
        print(f"  {tid}: evaluated {len(y)} rows (recorded {mine['rows']}); {metric} reproduced")
    if stale and drop_stale:
        print("  left out:\n  " + "\n  ".join(stale))
        return ev[~ev["task_id"].isin([s.split(": ")[0] for s in stale])]
    if stale:
        raise SystemExit("evaluations not made on the rows the task row describes:\n" + "\n".join(stale))
    return ev


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("builds", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--drop-stale", action="store_true",
                    help="leave out tasks whose evaluations were not made on the rows described")
    args = ap.parse_args()
    tasks, evals, records = [], [], {}
    for folder in args.builds:
        md = MetaDataset.load(folder)
        if len(md.spaces) != 1:
            raise SystemExit(f"{folder}: expected one space, found {md.spaces}")
        ok = md.evaluations[md.evaluations["status"] == "ok"]
        missing = set(ok["task_id"]) - set(md.tasks["task_id"])
        if missing:
            raise SystemExit(f"{folder}: evaluations of tasks without a task row: {sorted(missing)[:5]}")
        records.update(md.manifest.get("builds", {}))
        evals.append(fix_recorded_rows(md, records[md.spaces[0]], args.drop_stale))
        tasks.append(md.tasks[md.tasks["task_id"].isin(evals[-1]["task_id"])])
        print(f"{folder}: {md.spaces[0]}, {md.tasks['task_id'].nunique()} tasks, {len(md.evaluations)} evaluations")
    all_tasks = pd.concat(tasks, ignore_index=True)
    mf = [c for c in all_tasks.columns if c.startswith(MF_PREFIX)]
    for tid, rows in all_tasks.groupby("task_id"):
        if len(rows) > 1:
            values = rows[mf].to_numpy(dtype=np.float64)
            if not np.allclose(values, values[0], equal_nan=True, rtol=1e-9, atol=1e-12):
                raise SystemExit(f"task {tid}: its rows differ between builds")
    bundle = MetaDataset(all_tasks, pd.concat(evals, ignore_index=True))
    out = Path(args.out)
    staging = out.with_name(out.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    atomic_write_parquet(bundle.tasks, staging / "tasks" / "tasks.parquet")
    for space, part in bundle.evaluations.groupby("space", sort=True):
        part = part.dropna(axis=1, how="all").reset_index(drop=True)
        atomic_write_parquet(part, staging / "evaluations" / str(space) / "evaluations.parquet")
    manifest = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "format": 1, "builds": records,
                "bundled_from": list(args.builds)}
    atomic_write_text(json.dumps(manifest, indent=1, default=str) + "\n", staging / "manifest.json")
    if out.exists():
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old)
    else:
        staging.rename(out)
    print(f"{out}: {bundle.tasks['task_id'].nunique()} tasks, {len(bundle.evaluations)} evaluations")


if __name__ == "__main__":
    main()
