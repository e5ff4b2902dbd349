"""The bundled meta-dataset describes exactly the data it evaluated (issue #13).

Each task row of the bundle (a task at one row fidelity) must carry the meta-features of the
rows its evaluations used: the build's own subsample of the table at that many rows, with
the build's folds and seed. The test rebuilds those rows from the suite's source for every
bundled task and recomputes the meta-features."""

from __future__ import annotations

import warnings
from functools import cache, lru_cache

import numpy as np
import pytest

import metafeatures
from warmstart import MetaDataset
from warmstart.fidelity import level_data
from warmstart.store import MF_PREFIX
from warmstart.tasks import Task, load_task, suite_specs


@cache
def _specs(suite: str) -> dict[str, dict]:
    return {s["source"]: s for s in suite_specs(suite)[0]}


@lru_cache(maxsize=8)
def _task(suite: str, source: str) -> Task:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_task(_specs(suite)[source])


def test_every_bundled_task_describes_the_rows_its_evaluations_used():
    md = MetaDataset.default()
    builds = md.manifest["builds"]
    ev = md.evaluations
    rows_evaluated = ev.groupby("task_id")["rows"].agg(["min", "max"])
    space_of = ev.drop_duplicates("task_id").set_index("task_id")["space"]
    mf_cols = [c for c in md.tasks.columns if c.startswith(MF_PREFIX)]
    assert len(md.tasks) >= 500 and len(mf_cols) >= 50
    problems = []
    for row in md.tasks.sort_values("source").to_dict("records"):
        tid = row["task_id"]
        n = int(row["n_rows"])
        lo, hi = rows_evaluated.loc[tid]
        if not lo == hi == n:
            problems.append(f"{tid}: task row says {n} rows, evaluations used {lo}..{hi}")
            continue
        build = builds[space_of[tid]]
        task = _task(build["suite"], row["source"])
        try:
            X, y = level_data(task, tid, build)
        except KeyError as exc:
            problems.append(str(exc))
            continue
        if len(y) != n:
            problems.append(f"{tid}: the build's subsample has {len(y)} rows, not {n}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh = metafeatures.extract(X, y, task=task.task_type, random_state=0)
        stored = np.array([row[c] for c in mf_cols], dtype=np.float64)
        again = fresh.reindex([c[len(MF_PREFIX):] for c in mf_cols]).to_numpy(dtype=np.float64)
        bad = ~np.isclose(stored, again, rtol=1e-6, atol=1e-9, equal_nan=True)
        if bad.any():
            names = [mf_cols[i] for i in np.flatnonzero(bad)[:3]]
            problems.append(f"{tid}: {int(bad.sum())} meta-features differ ({', '.join(names)})")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("space", ["xgboost-classifier", "xgboost-regressor"])
def test_bundled_builds_evaluate_large_tables_at_several_fidelities(space):
    md = MetaDataset.default().filter(space=space)
    tasks = md.tasks
    assert tasks["n_rows"].max() >= 20_000
    # every fidelity of a dataset names its dataset, so that leave-one-out drops them together
    multi = tasks.groupby("dataset")["n_rows"].nunique()
    assert (multi >= 3).sum() >= 5
    assert (tasks["fidelity"] <= 1.0).all() and (tasks["fidelity"] > 0).all()
