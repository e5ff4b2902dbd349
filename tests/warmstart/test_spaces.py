"""Built-in search spaces: the exact XGBoost space, signatures, unit mapping, builders."""

from __future__ import annotations

import numpy as np
import pytest
from optuna.distributions import FloatDistribution, IntDistribution

from warmstart import spaces


def test_xgboost_space_is_exactly_the_specified_one():
    expected = {
        "n_estimators": IntDistribution(8, 512, log=True),
        "learning_rate": FloatDistribution(1e-3, 1.0, log=True),
        "max_depth": IntDistribution(1, 12),
        "min_child_weight": FloatDistribution(1.0, 128.0, log=True),
        "subsample": FloatDistribution(0.5, 1.0),
        "colsample_bytree": FloatDistribution(0.3, 1.0),
        "reg_lambda": FloatDistribution(1e-3, 1e3, log=True),
        "reg_alpha": FloatDistribution(1e-3, 1e3, log=True),
    }
    for name in ("xgboost-classifier", "xgboost-regressor"):
        assert spaces.get_space(name) == expected
        s = spaces.get_search_space(name)
        assert s.fixed == {"tree_method": "hist", "n_jobs": 1, "random_state": 0}


def test_every_space_builds_and_fits_its_defaults_and_a_sobol_config():
    from sklearn.datasets import make_classification, make_regression

    Xc, yc = make_classification(80, 5, random_state=0)
    Xr, yr = make_regression(80, 5, random_state=0)
    import pandas as pd

    for name in spaces.list_spaces():
        s = spaces.get_search_space(name)
        X, y = (Xc, yc) if s.task_type == "classification" else (Xr, yr)
        for config in [s.defaults(), spaces.sobol_configs(s, 2, seed=1)[1]]:
            s.validate(config)
            model = s.build(config)
            model.fit(pd.DataFrame(X), y)
            assert np.asarray(model.predict(pd.DataFrame(X))).shape == (80,)


def test_signatures_are_stable_and_change_with_distributions():
    sig = spaces.space_signature("xgboost-classifier")
    assert sig == spaces.space_signature("xgboost-classifier")
    assert len({spaces.space_signature(n) for n in spaces.list_spaces()}) == len(spaces.list_spaces())
    s = spaces.get_search_space("ridge")
    changed = spaces.SearchSpace(s.name, s.task_type, {"alpha": FloatDistribution(1e-3, 1e4, log=True)},
                                 s.fixed, s.builder)
    assert changed.signature != s.signature


def test_unit_mapping_round_trips_and_stays_inside():
    rng = np.random.default_rng(0)
    for name in spaces.list_spaces():
        s = spaces.get_search_space(name)
        for dist in s.distributions.values():
            for u in rng.random(20):
                v = spaces.from_unit(dist, u)
                assert dist._contains(dist.to_internal_repr(v))
                assert 0.0 <= spaces.to_unit(dist, v) <= 1.0
                back = spaces.from_unit(dist, spaces.to_unit(dist, v))
                assert back == pytest.approx(v, rel=1e-12) if isinstance(v, float) else back == v


def test_sobol_configs_are_deterministic_and_spread():
    s = spaces.get_search_space("xgboost-classifier")
    a = spaces.sobol_configs(s, 64, seed=0)
    assert a == spaces.sobol_configs(s, 64, seed=0)
    assert a != spaces.sobol_configs(s, 64, seed=1)
    depths = {c["max_depth"] for c in a}
    assert depths == set(range(1, 13))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown space 'xgb'"):
        spaces.get_space("xgb")
    s = spaces.get_search_space("ridge")
    with pytest.raises(ValueError, match="does not define"):
        s.build({"alpha": 1.0, "beta": 2})
    with pytest.raises(ValueError, match="outside"):
        s.validate({"alpha": 1e9})


def test_match_space():
    assert spaces.match_space(spaces.get_space("svc")) == "svc"
    assert spaces.match_space({"C": FloatDistribution(1, 2)}) is None


def test_configurations_of_the_bundled_meta_dataset_are_reproduced_exactly():
    """The manifest's commands must regenerate the same configurations, bit for bit."""
    import json

    from warmstart import MetaDataset

    md = MetaDataset.default()
    for name, build in md.manifest["builds"].items():
        s = spaces.get_search_space(name)
        configs = [s.defaults()] + spaces.sobol_configs(s, build["n_configs"], seed=build["seed"])
        ev = md.evaluations[md.evaluations["space"] == name]
        stored = ev.drop_duplicates("config_id").sort_values("config_id")["config"].tolist()
        assert stored == [json.dumps(c, sort_keys=True) for c in configs], name
