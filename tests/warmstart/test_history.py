"""Finished Optuna studies with learn2tune's attributes become meta-data."""

from __future__ import annotations

import optuna
import pytest

from warmstart import MetaDataset, spaces
from warmstart.history import import_studies, studies_to_metadataset, study_attributes


def _study(storage: str, name: str, direction: str = "maximize", tag: bool = True) -> optuna.Study:
    study = optuna.create_study(study_name=name, storage=storage, direction=direction,
                                sampler=optuna.samplers.RandomSampler(seed=0))
    if tag:
        for k, v in study_attributes({"NumberOfInstances": 100.0, "NumberOfFeatures": 5.0},
                                     "svc", metric="roc_auc").items():
            study.set_user_attr(k, v)
    dists = spaces.get_space("svc")

    def objective(trial):
        c = trial.suggest_float("C", dists["C"].low, dists["C"].high, log=True)
        g = trial.suggest_float("gamma", dists["gamma"].low, dists["gamma"].high, log=True)
        return 0.5 + 0.01 * c / (1 + c) - 0.01 * g

    study.optimize(objective, n_trials=12)
    return study


def test_import_from_sqlite_storage(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    _study(url, "a")
    _study(url, "b", direction="minimize")
    _study(url, "untagged", tag=False)
    md = import_studies(url)
    assert len(md.tasks) == 2 and len(md.evaluations) == 24
    assert set(md.evaluations["space"]) == {"svc"}
    assert md.tasks["mf:NumberOfInstances"].tolist() == [100.0, 100.0]
    ev = md.evaluations.set_index("task_id")
    a = [t for t in md.tasks["task_id"] if t.startswith("optuna:a@")][0]
    b = [t for t in md.tasks["task_id"] if t.startswith("optuna:b@")][0]
    assert (ev.loc[a, "objective"] > 0).all() and (ev.loc[b, "objective"] < 0).all()  # minimized: negated
    md.save(tmp_path / "md")
    assert len(MetaDataset.load(tmp_path / "md").evaluations) == 24


def test_other_signature_or_mismatched_params_are_skipped(tmp_path):
    study = optuna.create_study()
    study.set_user_attr("learn2tune:metafeatures", {"NumberOfInstances": 1.0})
    study.set_user_attr("learn2tune:space", "svc")
    study.set_user_attr("learn2tune:space_signature", "stale")
    study.optimize(lambda t: t.suggest_float("C", 0.1, 1.0), n_trials=2)
    assert len(studies_to_metadataset([study]).evaluations) == 0
    with pytest.raises(ValueError, match="unknown space"):
        study_attributes({}, "nope")
