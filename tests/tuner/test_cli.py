"""The learn2tune command line: help, metafeatures, build, import-studies, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tuner.cli import main


def test_help_lists_the_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("metafeatures", "build", "import-studies", "fit-kb", "bench", "demo", "tune"):
        assert cmd in out


def test_metafeatures_json_and_table(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y"], 60),
                       "label": rng.choice(["p", "q"], 60)})
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    assert main(["metafeatures", str(tmp_path / "d.csv"), "--target", "label", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["task"] == "classification"
    assert payload["features"]["NumberOfInstances"] == 60.0
    assert main(["metafeatures", str(tmp_path / "d.parquet"), "--target", "label",
                 "--groups", "general"]) == 0
    assert "NumberOfInstances" in capsys.readouterr().out
    assert main(["metafeatures", str(tmp_path / "d.csv"), "--target", "nope"]) == 2
    assert "--target 'nope'" in capsys.readouterr().err
    assert main(["metafeatures", str(tmp_path / "missing.csv"), "--target", "label"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_build_and_import_studies(tmp_path, capsys):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=80), "label": rng.choice(["p", "q"], 80)})
    df.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "suite.yaml").write_text("tasks:\n  - {file: t.csv, target: label, task_type: classification}\n")
    code = main(["build", "--suite", str(tmp_path), "--space", "logistic-regression", "--configs", "3",
                 "--folds", "3", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 0
    assert "4 new evaluations" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["builds"]["logistic-regression"]["command"].startswith("learn2tune build")
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    import optuna

    optuna.create_study(storage=url, study_name="plain")
    assert main(["import-studies", "--storage", url, "--out", str(tmp_path / "imp")]) == 1


def _cancer_csv(path):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    df = X.iloc[::3, :8].copy()
    df["diagnosis"] = np.where(y.iloc[::3] == 1, "benign", "malignant")  # string labels
    df.to_csv(path, index=False)
    return path


def test_tune_reports_against_defaults_and_resumes(tmp_path, capsys):
    data = _cancer_csv(tmp_path / "cancer.csv")
    out = tmp_path / "run"
    args = ["tune", str(data), "--target", "diagnosis", "--trials", "3", "--cv", "2",
            "--out", str(out), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "defaults" in text and "learn2tune" in text
    # how far the data is from the known tasks
    assert "nearest known dataset:" in " ".join(text.split())
    params = json.loads((out / "best_params.json").read_text())
    assert set(params) == {"n_estimators", "learning_rate", "max_depth", "min_child_weight",
                           "subsample", "colsample_bytree", "reg_lambda", "reg_alpha"}
    assert (out / "history.png").stat().st_size > 1000
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 3 and (trials["proposed_by"] == "warm_start").all()
    # the same command with more trials continues the stored study
    assert main(args[:5] + ["5"] + args[6:]) == 0
    text = capsys.readouterr().out
    assert "3 trials already finished" in text
    assert len(pd.read_csv(out / "trials.csv")) == 5
    # nothing left to run: reports without new trials
    assert main(args[:5] + ["5"] + args[6:]) == 0
    assert "nothing to run" in capsys.readouterr().out


def test_tune_regression_with_messy_csv_and_tpe_comparison(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                       "colour": rng.choice(["red", "green", None], n)})
    df["y"] = 2 * df["x1"] - df["x2"] + rng.normal(scale=0.3, size=n)
    df.loc[::17, "y"] = np.nan
    df.loc[::11, "x2"] = np.nan
    df.to_parquet(tmp_path / "r.parquet")
    assert main(["tune", str(tmp_path / "r.parquet"), "--target", "y", "--model", "linear",
                 "--trials", "3", "--cv", "3", "--out", str(tmp_path / "o"), "--compare-tpe",
                 "--quiet", "--no-warm-start"]) == 0
    text = capsys.readouterr().out
    assert "dropped 8 rows whose target is missing" in text
    assert "ridge" in text and "TPE (same trials)" in text and "r2" in text
    assert json.loads((tmp_path / "o" / "best_params.json").read_text()).keys() == {"alpha"}


def test_tune_errors_name_the_argument(tmp_path, capsys):
    data = _cancer_csv(tmp_path / "c.csv")
    assert main(["tune", str(data), "--target", "nope"]) == 2
    assert "--target 'nope' is not a column" in capsys.readouterr().err
    assert main(["tune", str(data), "--target", "diagnosis", "--metric", "auc"]) == 2
    assert "--metric 'auc' is not a scikit-learn scorer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # refused while parsing, before the table is read
        main(["tune", str(data), "--target", "diagnosis", "--trials", "0"])
    assert exit_info.value.code == 2
    assert "argument --trials: must be >= 1, got 0" in capsys.readouterr().err
    assert main(["tune", "sklearn:nothing_here", "--target", "t"]) == 2
    assert "cannot load 'sklearn:nothing_here'" in capsys.readouterr().err
    # a continuous target forced into classification: said to be one, not "lower --cv"
    assert main(["tune", str(data), "--target", "mean radius", "--task", "classification"]) == 2
    err = capsys.readouterr().err
    assert "--target 'mean radius' holds" in err and "looks like a regression target; use --task regression" in err
    assert "lower --cv" not in err
