"""What a user met on messy data and mistakes: each case reproduced, with what it must do
now (a clear sentence and exit code 2, a note, or the right result)."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import optuna
import pandas as pd
import pytest

from tuner.cli import build_parser, main


def _table(path, n=90, seed=0, **extra):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["label"] = np.where(df["a"] + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    df["value"] = df["a"] * 2 + rng.normal(size=n)
    for k, v in extra.items():
        df[k] = v
    df.to_csv(path, index=False)
    return path


def _tune(tmp_path, data, *more, out="run"):
    return main(["tune", str(data), "--target", "label", "--trials", "2", "--cv", "2", "--quiet",
                 "--out", str(tmp_path / out), *more])


# ----------------------------------------------------------------- wrong results, silently
def test_1_rerun_with_other_settings_does_not_continue_the_study(tmp_path, capsys):
    data = _table(tmp_path / "d.csv", label2=np.where(np.arange(90) % 3 == 0, "u", "v"))
    assert _tune(tmp_path, data) == 0
    capsys.readouterr()
    for change, flag in ((["--metric", "accuracy"], "--metric"), (["--cv", "3"], "--cv"),
                         (["--seed", "1"], "--seed")):
        assert _tune(tmp_path, data, *change) == 2, change
        err = capsys.readouterr().err
        assert flag in err and "--study-name" in err, err
    other = main(["tune", str(data), "--target", "label2", "--trials", "2", "--cv", "2", "--quiet",
                  "--out", str(tmp_path / "run")])
    assert other == 2
    assert "--target" in capsys.readouterr().err
    # a separate study is one flag away
    assert _tune(tmp_path, data, "--metric", "accuracy", "--study-name", "acc") == 0


def test_2_models_without_knowledge_say_so(tmp_path, capsys, caplog):
    data = _table(tmp_path / "d.csv")
    assert _tune(tmp_path, data, "--model", "svm") == 0
    out = capsys.readouterr().out
    assert "no bundled knowledge for svc: tuning with TPE" in " ".join(out.split())
    assert "learn2tune" not in out.split("best of")[1].split("\n")[2]  # the row is TPE's
    assert "TPE (no knowledge" in out
    from sklearn.svm import SVC

    from tuner import MetaSampler, MetaSearchCV

    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    with pytest.warns(UserWarning, match="no bundled knowledge for svc"):
        MetaSearchCV(SVC(), n_trials=2, cv=2, random_state=0).fit(X, y)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tuner.sampler"):
        study = optuna.create_study(sampler=MetaSampler(seed=0))
        study.optimize(lambda t: t.suggest_float("my_own_param", 0, 1), n_trials=3)
    assert sum("no knowledge covers" in r.message for r in caplog.records) == 1  # once per study


def test_3_metric_is_stamped_only_when_declared():
    from sklearn.datasets import load_breast_cancer

    from tuner import MetaSampler
    from warmstart.history import ATTR_METAFEATURES, ATTR_METRIC

    X, y = load_breast_cancer(return_X_y=True)

    def objective(trial):
        return trial.suggest_float("learning_rate", 1e-3, 1.0, log=True) + trial.suggest_int("max_depth", 1, 12)

    for metric in (None, "log_loss"):
        study = optuna.create_study(sampler=MetaSampler(X=X[:200], y=y[:200], seed=0, metric=metric))
        study.optimize(objective, n_trials=2)
        assert ATTR_METAFEATURES in study.user_attrs
        assert study.user_attrs.get(ATTR_METRIC) == metric


def test_4_rebuild_with_another_protocol_is_refused(tmp_path):
    from warmstart.build import build

    _table(tmp_path / "t.csv")
    (tmp_path / "suite.yaml").write_text("tasks:\n  - {file: t.csv, target: label, task_type: classification}\n")
    build(tmp_path, ["logistic-regression"], 2, tmp_path / "out", folds=3)
    for kwargs, name in (({"folds": 4}, "folds"), ({"folds": 3, "seed": 1}, "seed"),
                         ({"folds": 3, "max_rows": 50}, "max_rows")):
        with pytest.raises(ValueError, match=f"made with {name}="):
            build(tmp_path, ["logistic-regression"], 2, tmp_path / "out", **kwargs)
    # the same protocol resumes (nothing new to do)
    assert build(tmp_path, ["logistic-regression"], 2, tmp_path / "out", folds=3).evaluations == 0


# ----------------------------------------------------------------- real files that cannot be tuned
def test_5_6_trailing_commas_and_infinities_are_handled_with_a_note(tmp_path, capsys):
    path = tmp_path / "messy.csv"
    df = pd.read_csv(_table(tmp_path / "d.csv"))
    df.loc[3, "b"] = np.inf
    lines = df.to_csv(index=False).splitlines()
    path.write_text("\n".join(line + "," for line in lines) + "\n")  # a trailing comma on each line
    assert _tune(tmp_path, path) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "no value at all" in out and "infinite values are treated as missing" in out
    assert main(["metafeatures", str(path), "--target", "label", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["features"]["NumberOfInstances"] == 90.0
    assert "no value at all" in captured.err


def test_7_identifiers_dates_and_text_are_pointed_out_and_droppable(tmp_path, capsys):
    n = 90
    rng = np.random.default_rng(1)
    data = _table(tmp_path / "d.csv", n=n, customer_id=np.arange(1000, 1000 + n),
                  signup=pd.date_range("2020-01-01", periods=n).astype(str),
                  comment=[f"free text number {rng.integers(1e9)}" for _ in range(n)])
    assert _tune(tmp_path, data) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "'customer_id' looks like a different value in every row" in out
    assert "'signup' looks like dates" in out
    assert "--drop customer_id" in out
    assert _tune(tmp_path, data, "--drop", "customer_id", "signup", "comment", out="dropped") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "looks like" not in out and "dropped 3 columns as asked" in out
    # a semicolon file is read without --sep (sniffed), and --sep names it explicitly
    semi = tmp_path / "semi.csv"
    pd.read_csv(_table(tmp_path / "e.csv")).to_csv(semi, sep=";", index=False)
    assert _tune(tmp_path, semi, out="semi") == 0
    assert _tune(tmp_path, semi, "--sep", ";", out="semi2") == 0


def test_8_column_names_with_brackets_are_printed_as_written(tmp_path, capsys):
    data = _table(tmp_path / "d.csv", **{"weight[kg]": np.arange(90) % 7, "b[/x]": np.arange(90) % 5})
    assert main(["tune", str(data), "--target", "b[/x]", "--trials", "1", "--cv", "2", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    assert main(["tune", str(data), "--target", "weight[x]"]) == 2
    assert "weight[x]" in capsys.readouterr().err
    assert main(["metafeatures", str(data), "--target", "label", "--drop", "weight[kg]"]) == 0
    assert "weight[kg]" in capsys.readouterr().err


# ----------------------------------------------------------------- tracebacks where a sentence belongs
def test_9_bad_storages_are_one_line_errors(tmp_path, capsys):
    data = _table(tmp_path / "d.csv")
    for url, expected in (("not-a-url", "not a database URL"),
                          ("postgresql+pg8000://u:p@localhost/db", "needs the pg8000 driver"),
                          (f"sqlite:///{tmp_path}/missing/folder/x.db", "cannot open the SQLite")):
        assert _tune(tmp_path, data, "--storage", url) == 2, url
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) <= 3, err


def test_10_ctrl_c_keeps_the_finished_trials(tmp_path, capsys, monkeypatch):
    from tuner.cli import tune

    data = _table(tmp_path / "d.csv")
    calls = {"n": 0}
    original = tune._progress.__call__

    def interrupt(self, study, trial):
        original(self, study, trial)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(tune._progress, "__call__", interrupt)
    code = main(["tune", str(data), "--target", "label", "--trials", "6", "--cv", "2", "--quiet",
                 "--out", str(tmp_path / "o")])
    assert code == 130
    out = capsys.readouterr().out
    assert "rerun the same command to continue" in " ".join(out.split())
    assert len(pd.read_csv(tmp_path / "o" / "trials.csv")) == 2
    assert (tmp_path / "o" / "best_params.json").exists() and (tmp_path / "o" / "history.png").exists()
    monkeypatch.undo()
    assert main(["tune", str(data), "--target", "label", "--trials", "3", "--cv", "2", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    assert "2 trials already finished" in capsys.readouterr().out


@pytest.mark.parametrize("text,expected", [
    ("", "is empty"),
    ("tasks: [\n  {file: t.csv\n", "line"),
    ("tasks:\n  - {file: t.csv, target: label, task_type: classification, dorp: [a]}\n", "unknown key 'dorp'"),
    ("tasks:\n  - {file: t.csv, target: label, task_type: clasification}\n", "task_type 'clasification'"),
    ("tasks: []\n", "non-empty list"),
    ("tasks:\n  - {file: t.csv, task_type: classification}\n", "missing 'target'"),
    ("taks:\n  - {file: t.csv}\n", "unknown key 'taks'"),
])
def test_11_bad_suite_files_fail_loudly(tmp_path, capsys, text, expected):
    _table(tmp_path / "t.csv")
    (tmp_path / "suite.yaml").write_text(text)
    code = main(["build", "--suite", str(tmp_path), "--space", "logistic-regression", "--configs", "2",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert expected in err and "suite.yaml" in err, err


def test_11_a_suite_without_a_task_for_the_space_fails(tmp_path, capsys):
    _table(tmp_path / "t.csv")
    (tmp_path / "suite.yaml").write_text("tasks:\n  - {file: t.csv, target: value, task_type: regression}\n")
    code = main(["build", "--suite", str(tmp_path), "--space", "logistic-regression", "--configs", "2",
                 "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    assert "no task for --space logistic-regression" in " ".join(capsys.readouterr().err.split())


def test_12_tiny_or_broken_tables_get_the_right_message(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("a,b,label\n1,2,yes\n")
    (tmp_path / "header.csv").write_text("a,b,label\n")
    (tmp_path / "nan.csv").write_text("a,b,label\n1,2,\n3,4,\n5,6,\n")
    (tmp_path / "inf.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i * 0.5}\n" for i in range(20))
                                      + "7,1,inf\n")
    data = _table(tmp_path / "d.csv")
    cases = [
        (["tune", str(tmp_path / "one.csv"), "--target", "label"], "1 usable rows, fewer than --cv 5"),
        (["tune", str(tmp_path / "header.csv"), "--target", "label"], "a header but no rows"),
        (["tune", str(tmp_path / "nan.csv"), "--target", "label"], "has no value in any of the 3 rows"),
        (["tune", str(data), "--target", "label", "--cv", "500"], "fewer than --cv 500 folds"),
        (["tune", str(data), "--target", "label", "--task", "regression"], "is not numeric"),
        (["tune", str(tmp_path / "inf.csv"), "--target", "label"], "'label' holds 1 infinite value(s)"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = " ".join(capsys.readouterr().err.split())
        assert expected in err and "fewer than 2 classes" not in err, (argv, err)


def test_13_a_missing_knowledge_folder_stops_at_once(tmp_path, capsys):
    from tuner import MetaSampler

    data = _table(tmp_path / "d.csv")
    assert _tune(tmp_path, data, "--knowledge", str(tmp_path / "nowhere")) == 2
    assert "not a knowledge-base folder" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="not a knowledge-base folder"):
        MetaSampler(knowledge=str(tmp_path / "nowhere"))
    with pytest.raises(TypeError, match="knowledge must be"):
        MetaSampler(knowledge=42)


def test_14_one_loader_and_one_set_of_rules(tmp_path, capsys):
    path = tmp_path / "d.csv"
    df = pd.read_csv(_table(path))
    df.loc[:4, "label"] = np.nan
    df.to_csv(path, index=False)
    assert main(["metafeatures", str(path), "--target", "label", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["features"]["NumberOfInstances"] == 85.0
    assert "dropped 5 rows whose target is missing" in captured.err
    assert main(["metafeatures", "sklearn:wine", "--target", "target", "--json"]) == 0
    capsys.readouterr()
    for command in ("tune", "metafeatures"):
        with pytest.raises(SystemExit) as exc:
            main([command, str(path)])
        assert exc.value.code == 2


# ----------------------------------------------------------------- polish
def test_every_subcommand_has_an_example_and_every_option_a_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        assert "example" in (p.epilog or ""), name
        missing = [a.option_strings or a.dest for a in p._actions if not a.help and a.dest != "help"]
        assert not missing, (name, missing)


def test_boundary_values_are_the_bounds_as_written():
    from optuna.distributions import FloatDistribution

    from tuner.mapping import into, plain_value

    d = FloatDistribution(0.001, 1.0, log=True)
    assert plain_value(d, 0.0010000000000000002) == 0.001
    assert into(d, 0.0009999999999999998) == 0.001
    assert plain_value(d, 0.5) == 0.5


def test_a_multi_objective_study_is_refused_without_a_running_trial():
    from tuner import MetaSampler

    study = optuna.create_study(directions=["maximize", "minimize"], sampler=MetaSampler(seed=0))
    with pytest.raises(ValueError, match="multi-objective"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]


def test_16_the_demo_says_what_it_does_before_the_refit(capsys, monkeypatch):
    from warmstart import KnowledgeBase

    def stop(*args, **kwargs):
        raise RuntimeError("stopped after the first line")

    monkeypatch.setattr(KnowledgeBase, "fit", stop)
    with pytest.raises(RuntimeError, match="stopped"):
        main(["demo"])
    assert "refitting the bundled knowledge base" in capsys.readouterr().out


def test_19_a_wrong_history_is_refused_by_name_and_creates_no_file(tmp_path, capsys):
    """A typo in the history's SQLite path made an empty database file there and tuned
    without the history, silently; other wrong values failed at the first trial."""
    from tuner import MetaSampler
    from warmstart import KnowledgeBase

    missing = tmp_path / "typo.db"
    for bad, error, said in [(f"sqlite:///{missing}", ValueError, "no database file"),
                             ("nonsense://x", ValueError, "not a storage URL"),
                             (str(missing), ValueError, f"sqlite:///{missing}"),  # a path, not a URL
                             ("postgresql+nodriver://u@h/db", ValueError, "not a storage URL"),
                             (42, TypeError, "got int"), (["past"], TypeError, "optuna.Study")]:
        with pytest.raises(error, match=said) as info:
            MetaSampler(history=bad)
        assert "history" in str(info.value)
        with pytest.raises(error, match=said) as info:
            KnowledgeBase.from_studies(bad)
        assert "studies" in str(info.value)
    import importlib.util

    if importlib.util.find_spec("pg8000") is None:  # a storage whose database driver is missing
        with pytest.raises(ValueError, match="install that database's Python driver") as info:
            MetaSampler(history="postgresql+pg8000://user@host/db")
        assert "history='postgresql+pg8000" in str(info.value)
    assert main(["fit-kb", "--metadata", "default", "--history", f"sqlite:///{missing}",
                 "--out", str(tmp_path / "kb")]) == 2
    assert "no database file" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "kb").exists()
    # an Optuna storage object is a history too
    storage = optuna.storages.InMemoryStorage()
    for i in range(3):
        past = optuna.create_study(storage=storage, study_name=f"past-{i}")
        past.optimize(lambda t, i=i: (t.suggest_float("x", 0, 1) - 0.2 * i) ** 2, n_trials=10)
    with pytest.raises(ValueError, match="matches none of the 3 studies"):  # it said "0 of the 0 given"
        KnowledgeBase.from_studies(storage, pattern="lgbm-.*")
    study = optuna.create_study(sampler=MetaSampler(history=storage, seed=0))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.2) ** 2, n_trials=1)
    assert study.trials[0].system_attrs["learn2tune:proposed_by"] == "warm_start"


def test_20_a_metric_of_the_other_task_is_refused_before_any_trial(tmp_path, capsys):
    """`--metric r2` on a class label scored predicted labels as numbers (a wrong result,
    silently); `--metric roc_auc` on a numeric target failed every trial."""
    data = _table(tmp_path / "d.csv")
    assert _tune(tmp_path, data, "--metric", "r2") == 2
    err = capsys.readouterr().err
    assert "'r2' scores regression" in err and "classification metric" in err
    assert main(["tune", str(data), "--target", "value", "--trials", "2", "--cv", "2", "--quiet",
                 "--metric", "roc_auc", "--out", str(tmp_path / "reg")]) == 2
    assert "'roc_auc' scores classification" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "reg").exists()  # nothing written
    assert _tune(tmp_path, data, "--metric", "balanced_accuracy") == 0


def test_21_fit_kb_checks_its_arguments_before_the_fit(tmp_path, capsys, monkeypatch):
    """`fit-kb --out FILE` failed with a FileExistsError traceback after the whole fit;
    `--members 0` fitted five members (0 read as "not given")."""
    from warmstart import KnowledgeBase

    def never(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the fit ran")

    monkeypatch.setattr(KnowledgeBase, "fit", never)
    (tmp_path / "f.txt").write_text("mine")
    assert main(["fit-kb", "--out", str(tmp_path / "f.txt")]) == 2
    assert "is a file" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.md").write_text("mine")
    assert main(["fit-kb", "--out", str(tmp_path / "d")]) == 2
    assert "other files and no kb.json" in capsys.readouterr().err
    for option, value, said in [("--members", "0", "must be >= 1, got 0"), ("--iterations", "x", "expected an integer"),
                                ("--seed", "-1", "must be >= 0")]:
        with pytest.raises(SystemExit):
            main(["fit-kb", "--out", str(tmp_path / "kb"), option, value])
        assert f"argument {option}: {said}" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # it failed in joblib after the study was created
        main(["tune", "x.csv", "--target", "y", "--jobs", "0"])
    assert "argument --jobs: 0 workers means nothing" in capsys.readouterr().err
    for argv in (["bench", "tuning", "--trials", "0"], ["demo", "--cv", "1"], ["build", "--suite", "default",
                 "--space", "svc", "--configs", "2", "--folds", "1", "--out", str(tmp_path / "b")]):
        with pytest.raises(SystemExit):
            main(argv)
        assert "must be >= " in capsys.readouterr().err
    assert (tmp_path / "f.txt").read_text() == "mine" and not (tmp_path / "b").exists()


def test_22_sampler_arguments_are_checked_when_the_sampler_is_made():
    """`MetaSampler(base_sampler="tpe")` failed at the first trial with an AttributeError;
    `seed=1.5` and `seed=-1` failed with numpy's words, not naming the argument."""
    from tuner import MetaSampler

    with pytest.raises(TypeError, match="base_sampler must be an optuna sampler.*got str"):
        MetaSampler(base_sampler="tpe")
    for bad in (1.5, -1, 2**32, True):
        with pytest.raises(ValueError, match="seed must be None or an int"):
            MetaSampler(seed=bad)
    MetaSampler(seed=np.int64(3), base_sampler=optuna.samplers.RandomSampler(seed=0))  # fine


@pytest.mark.parametrize("kind", ["float", "labels", "frame"])
def test_23_a_missing_target_is_refused_before_the_search(kind):
    """A NaN in y let every configuration fail in every fold, then raised the estimator's
    own error (XGBoost: 'Check failed: valid') after the whole search."""
    from sklearn.linear_model import LogisticRegression, Ridge

    from tuner import MetaSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    if kind == "float":
        y, est = np.where(np.arange(60) % 20 == 3, np.nan, X[:, 0]), Ridge()
    elif kind == "labels":
        y, est = pd.Series(np.where(X[:, 0] > 0, "a", "b"), dtype=object).where(np.arange(60) % 20 != 3), LogisticRegression()
    else:
        y, est = pd.DataFrame({"t": np.where(np.arange(60) % 20 == 3, np.nan, X[:, 0])}), Ridge()
    search = MetaSearchCV(est, {"alpha" if kind != "labels" else "C": optuna.distributions.FloatDistribution(0.1, 10)},
                          n_trials=2, cv=3, warm_start=False)
    with pytest.raises(ValueError, match=r"y contains 3 missing values \(first rows: \[3, 23, 43\]\)"):
        search.fit(X, y)
    assert not hasattr(search, "study_")


def test_24_counts_flags_and_meta_features_of_the_sampler_are_checked():
    """`n_candidates="100"` failed with Python's "'<' not supported", `n_candidates=100.5`
    and `residual_gp="no"` were taken, `n_warm_start=np.int64(3)` was refused and
    `n_warm_start=True` taken; meta-features given as a list failed with dict()'s words, and
    a meta-feature vector holding a nan tuned from "the nearest task" at distance nan."""
    import metafeatures
    from tuner import MetaSampler
    from warmstart import KnowledgeBase

    for kwargs, said in [({"n_candidates": "100"}, "n_candidates must be an int >= 10"),
                         ({"n_candidates": 100.5}, "n_candidates must be an int >= 10"),
                         ({"n_warm_start": True}, "n_warm_start must be None or an int >= 0"),
                         ({"adapt_steps": 1.0}, "adapt_steps must be None or an int >= 0")]:
        with pytest.raises(ValueError, match=said):
            MetaSampler(**kwargs)
    with pytest.raises(TypeError, match="residual_gp must be True or False, got 'no'"):
        MetaSampler(residual_gp="no")
    with pytest.raises(TypeError, match="metafeatures must map feature names to values.*got list"):
        MetaSampler(metafeatures=[1.0, 2.0])
    MetaSampler(n_warm_start=np.int64(3), n_candidates=np.int32(50), adapt_steps=np.int64(2),
                residual_gp=np.bool_(False))  # numpy numbers are fine
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    mf = metafeatures.extract(X, (X[:, 0] > 0).astype(int))
    mf.iloc[3], mf.iloc[7] = np.nan, np.inf
    with pytest.raises(ValueError, match="metafeatures has 2 missing or infinite values"):
        MetaSampler(metafeatures=mf)
    with pytest.raises(ValueError, match="metafeatures has 2 missing or infinite values"):
        KnowledgeBase.default().warm_start(mf, n=3)


def test_25_knowledge_base_queries_check_their_arguments():
    """`warm_start(n=-2)` returned nothing and `similar_tasks(k=-1)` every task but the
    farthest, silently; `n=2.5` failed in a slice; a configuration lacking a parameter
    failed with `KeyError: 'colsample_bytree'`; a regression knowledge base warm-started a
    classification dataset (from its defaults: "far from everything") without a word."""
    import metafeatures
    from warmstart import KnowledgeBase

    kb = KnowledgeBase.default()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    mf = metafeatures.extract(X, (X[:, 0] > 0).astype(int))
    for bad in (-2, 2.5, "3", True):
        with pytest.raises(ValueError, match="n must be an int >= 0"):
            kb.warm_start(mf, n=bad)
        with pytest.raises(ValueError, match="k must be an int >= 0"):
            kb.similar_tasks(mf, k=bad)
    assert kb.warm_start(mf, n=0) == [] and len(kb.similar_tasks(mf, k=np.int64(2))) == 2
    configs = kb.warm_start(mf, n=2)
    partial = [{k: v for k, v in c.items() if k != "subsample"} for c in configs]
    with pytest.raises(ValueError, match="configuration 0 lacks 'subsample': knowledge of 'xgboost-classifier'"):
        kb.adapt(mf, partial, [0.8, 0.7])
    with pytest.raises(ValueError, match="metafeatures describe a classification task.*xgboost-regressor"):
        KnowledgeBase.default("xgboost-regressor").warm_start(mf, n=2)
    from tuner import MetaSampler

    with pytest.raises(ValueError, match="space='xgboost-regressor' is a space of regression.*classification task"):
        MetaSampler(metafeatures=mf, space="xgboost-regressor")  # it failed at trial 1


def test_26_describe_study_names_a_wrong_study():
    """`describe_study("my-study", X, y)` computed the meta-features, then failed with
    `'str' object has no attribute 'set_user_attr'`."""
    from tuner import describe_study

    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(TypeError, match=r"study must be an optuna.Study \(optuna.load_study.*got str"):
        describe_study("my-study", X, (X[:, 0] > 0).astype(int))


def test_27_meta_features_the_knowledge_cannot_read_are_refused_when_the_sampler_is_made():
    """`MetaSampler(metafeatures={"a": 1.0})` was accepted and failed at the first trial of
    the study, after the user's objective had been set up (and, with several workers, in
    each of them). A mapping lacking what every candidate knowledge base reads is refused at
    once; one knowledge base that finds all it reads is enough."""
    import metafeatures
    from tuner import MetaSampler
    from warmstart import KnowledgeBase

    for kwargs in ({}, {"space": "xgboost-classifier"}, {"knowledge": KnowledgeBase.default()}):
        with pytest.raises(ValueError, match=r"metafeatures lacks \d+ meta-features the knowledge reads"):
            MetaSampler(metafeatures={"a": 1.0}, **kwargs)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    mf = metafeatures.extract(X, (X[:, 0] > 0).astype(int))
    with pytest.raises(ValueError, match=r"e\.g\. \['NumberOfInstances'"):
        MetaSampler(metafeatures=mf.drop("NumberOfInstances"), space="xgboost-classifier")
    MetaSampler(metafeatures=mf)  # the output of extract: every bundled classifier knowledge reads it
    MetaSampler(metafeatures={"a": 1.0}, knowledge=False)  # no knowledge: nothing to read


def test_28_an_svm_on_several_classes_gets_a_metric_it_can_be_scored_on(tmp_path, capsys):
    """`learn2tune tune --model svm` on a 3-class target scored every trial with one-vs-rest
    AUC, which reads class probabilities an SVC does not have: every configuration failed in
    every fold and the run ended with no result. The default is accuracy there; a metric
    the model cannot be scored on is refused before any trial, naming the fix."""
    data = _table(tmp_path / "d.csv", label3=np.arange(90) % 3)
    run = ["tune", str(data), "--target", "label3", "--trials", "2", "--cv", "2", "--quiet"]
    assert main([*run, "--model", "svm", "--out", str(tmp_path / "a")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "metric accuracy" in out and "failed" not in out
    assert len(pd.read_csv(tmp_path / "a" / "trials.csv")) == 2
    for metric in ("roc_auc_ovr", "neg_log_loss"):
        assert main([*run, "--model", "svm", "--metric", metric, "--out", str(tmp_path / metric)]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert f"--metric '{metric}' reads predict_proba, which svc does not have" in err and "accuracy" in err
    # two classes: AUC from the SVC's decision function, as before; other models keep the AUC default
    assert main(["tune", str(data), "--target", "label", "--trials", "2", "--cv", "2", "--quiet",
                 "--model", "svm", "--out", str(tmp_path / "b")]) == 0
    assert "metric roc_auc" in " ".join(capsys.readouterr().out.split())
    assert main([*run, "--model", "linear", "--no-warm-start", "--out", str(tmp_path / "c")]) == 0
    assert "metric roc_auc_ovr_weighted" in " ".join(capsys.readouterr().out.split())
