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
    for cmd in ("metafeatures", "build", "import-studies", "fit-kb", "bench", "demo"):
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
    with pytest.raises(SystemExit, match="--target 'nope'"):
        main(["metafeatures", str(tmp_path / "d.csv"), "--target", "nope"])
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
