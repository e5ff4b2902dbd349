"""MetaSampler: Optuna's generic sampler tests, warm start, surrogate phase, concurrency."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import optuna
import pytest
from optuna.testing.pytest_samplers import (
    BasicSamplerTestCase,
    RelativeSamplerTestCase,
    SingleOnlySamplerTestCase,
)

from tests.conftest import MF_NAMES
from tuner.sampler import MetaSampler
from warmstart import spaces

optuna.logging.set_verbosity(optuna.logging.WARNING)
XGB = spaces.get_space("xgboost-classifier")


@pytest.fixture(scope="module")
def kb(small_kb):
    return small_kb


def _mf(a: float = 0.5, b: float = 0.5) -> dict[str, float]:
    out = dict.fromkeys(MF_NAMES, 0.5)
    out.update({"NumberOfInstances": a, "ClassEntropy": b, "NumberOfClasses": 2.0})
    return out


def xgb_objective(trial: optuna.Trial) -> float:
    """A smooth stand-in for cross-validated XGBoost AUC over the built-in space."""
    total = 0.0
    for name in sorted(XGB):
        d = XGB[name]
        if isinstance(d, optuna.distributions.IntDistribution):
            v = trial.suggest_int(name, d.low, d.high, log=d.log)
        else:
            v = trial.suggest_float(name, d.low, d.high, log=d.log)
        total -= (spaces.to_unit(d, v) - 0.4) ** 2
    return 0.8 + 0.05 * total


# ---------------------------------------------------------------- Optuna's generic tests
class TestMetaSamplerBasic(BasicSamplerTestCase, SingleOnlySamplerTestCase):
    """Default configuration with knowledge: parameters it does not know go to TPE."""

    @pytest.fixture
    def sampler(self, kb):
        return lambda: MetaSampler(metafeatures=_mf(), knowledge=kb, seed=0)


class TestMetaSamplerRelative(RelativeSamplerTestCase):
    """Relative sampling: unknown spaces go to a relative base sampler."""

    @pytest.fixture
    def sampler(self, kb):
        base = optuna.samplers.TPESampler(multivariate=True, n_startup_trials=0, seed=0)
        return lambda: MetaSampler(metafeatures=_mf(), knowledge=kb, base_sampler=base, seed=0)


# ---------------------------------------------------------------- warm start
def test_warm_start_from_the_first_trial_without_space(kb):
    sampler = MetaSampler(metafeatures=_mf(0.2, 0.8), knowledge=kb, n_warm_start=4, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(xgb_objective, n_trials=6)
    expected = kb.warm_start(_mf(0.2, 0.8), n=4)
    for trial, config in zip(study.trials[:4], expected):
        for k, v in config.items():
            assert trial.params[k] == pytest.approx(v)
        assert trial.system_attrs["learn2tune:proposed_by"] == "warm_start"
    assert study.trials[4].system_attrs["learn2tune:proposed_by"] in ("surrogate", "base_sampler")
    # the study now carries what makes it meta-data for the next one
    assert study.user_attrs["learn2tune:space"] == "xgboost-classifier"
    assert study.user_attrs["learn2tune:metafeatures"]["ClassEntropy"] == 0.8


def test_the_warm_start_follows_the_study_values_from_its_fourth_trial(kb):
    from warmstart.warm_follow import FOLLOW_FROM, next_warm_config

    static = kb.warm_start(_mf(0.2, 0.8), n=10)
    decided = {}
    for sign in (1.0, -1.0):  # the same dataset, values in opposite orders
        sampler = MetaSampler(metafeatures=_mf(0.2, 0.8), knowledge=kb, n_warm_start=10, seed=0)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(lambda t, s=sign: s * xgb_objective(t), n_trials=10)
        configs = [t.system_attrs["learn2tune:warm_start_config"] for t in study.trials]
        values = np.array([t.value for t in study.trials])
        assert configs[:FOLLOW_FROM] == static[:FOLLOW_FROM]
        for i in range(FOLLOW_FROM, 9):  # each later one: the next pick given the trials before it
            assert configs[i] == next_warm_config(kb, _mf(0.2, 0.8), configs[:i], values[:i])
        assert len({json.dumps(c, sort_keys=True) for c in configs[:9]}) == 9
        assert configs[9] is None  # the last one refines the best so far (below)
        decided[sign] = configs
    assert decided[1.0] != decided[-1.0]


def test_the_warm_starts_last_trial_refines_the_best_so_far(kb):
    from tuner.gp import REFINE_HALF_WIDTH
    from tuner.warm_start import REFINE_MIN_TRIALS

    n = REFINE_MIN_TRIALS
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(
        metafeatures=_mf(0.2, 0.8), knowledge=kb, n_warm_start=n, seed=0))
    study.optimize(xgb_objective, n_trials=n + 1)
    by = [t.system_attrs.get("learn2tune:proposed_by") for t in study.trials]
    assert by[:n] == ["warm_start"] * (n - 1) + ["warm_start_refine"]
    assert by[n] in ("surrogate", "base_sampler")
    best = max(study.trials[:n - 1], key=lambda t: t.value)
    known = {json.dumps(t.system_attrs["learn2tune:warm_start_config"], sort_keys=True) for t in study.trials[:n - 1]}
    refined = study.trials[n - 1]
    assert refined.params != best.params and json.dumps(refined.params, sort_keys=True) not in known
    for name, d in XGB.items():  # within the box around the best trial before it (an int: rounded)
        v = refined.params[name]
        gap = abs(spaces.to_unit(d, v) - spaces.to_unit(d, best.params[name]))
        step = 0.0
        if isinstance(d, optuna.distributions.IntDistribution):
            step = max(abs(spaces.to_unit(d, w) - spaces.to_unit(d, v)) for w in (max(v - 1, d.low), min(v + 1, d.high)))
        assert gap <= REFINE_HALF_WIDTH + step + 1e-6, name
    # shorter warm starts, and warm starts without meta-features, take known configurations only
    # and so does the warm start alone (the surrogate phase off: the ablation)
    for kwargs in ({"metafeatures": _mf(0.2, 0.8), "n_warm_start": n - 1}, {"n_warm_start": n},
                   {"metafeatures": _mf(0.2, 0.8), "n_warm_start": n, "surrogate_phase": False}):
        study = optuna.create_study(direction="maximize", sampler=MetaSampler(knowledge=kb, seed=0, **kwargs))
        study.optimize(xgb_objective, n_trials=kwargs["n_warm_start"])
        assert {t.system_attrs.get("learn2tune:proposed_by") for t in study.trials} == {"warm_start"}


def test_enqueued_trials_come_first_and_are_not_overridden(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=3, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    mine = {k: (d.low if not isinstance(d, optuna.distributions.CategoricalDistribution) else d.choices[0])
            for k, d in XGB.items()}
    study.enqueue_trial(mine)
    study.optimize(xgb_objective, n_trials=4)
    assert study.trials[0].params == mine
    expected = kb.warm_start(_mf(), n=3)
    for trial, config in zip(study.trials[1:4], expected):
        assert trial.params["max_depth"] == config["max_depth"]


def test_one_sampler_warm_starts_every_study_it_drives(kb):
    # the sampler remembers per study when its warm start is over; a second study (even
    # in a new in-memory storage that may reuse the first one's id) starts from slot 0
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=2, seed=0)
    expected = kb.warm_start(_mf(), n=2)
    for _ in range(2):
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(xgb_objective, n_trials=4)
        assert [t.system_attrs.get("learn2tune:proposed_by") for t in study.trials[:2]] == ["warm_start"] * 2
        assert study.trials[0].params["max_depth"] == expected[0]["max_depth"]
        assert all("learn2tune:warm_start_index" not in t.system_attrs for t in study.trials[2:])
        # a trial enqueued after the warm start is taken as given
        study.enqueue_trial({"max_depth": 3})
        study.optimize(xgb_objective, n_trials=1)
        assert study.trials[-1].params["max_depth"] == 3
        del study


def test_unknown_parameters_go_to_the_base_sampler_and_narrow_ranges_are_mapped(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=3, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial):
        depth = trial.suggest_int("max_depth", 2, 6)  # narrower than 1..12: mapped
        lr = trial.suggest_float("learning_rate", 1e-3, 1.0, log=True)
        extra = trial.suggest_float("my_own_knob", 0.0, 1.0)  # unknown: TPE
        return -abs(depth - 4) - abs(np.log10(lr) + 1) - extra

    study.optimize(objective, n_trials=12)
    for t in study.trials:
        assert 2 <= t.params["max_depth"] <= 6 and isinstance(t.params["max_depth"], int)
        assert 0.0 <= t.params["my_own_knob"] <= 1.0
    expected = kb.warm_start(_mf(), n=3)
    assert study.trials[0].params["learning_rate"] == pytest.approx(expected[0]["learning_rate"])
    assert study.trials[0].params["max_depth"] == min(max(expected[0]["max_depth"], 2), 6)


def test_no_knowledge_behaves_like_the_base_sampler():
    a = optuna.create_study(sampler=MetaSampler(knowledge=False, seed=3))
    b = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
    f = lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2 + t.suggest_int("n", 0, 4)  # noqa: E731
    a.optimize(f, n_trials=15)
    b.optimize(f, n_trials=15)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


def test_multi_objective_is_a_clear_error(kb):
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=MetaSampler(metafeatures=_mf(), knowledge=kb))
    with pytest.raises(ValueError, match="multi-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


def test_constraints_are_warned_about(kb):
    with pytest.warns(UserWarning, match="ignore constraints_func"):
        MetaSampler(knowledge=kb, constraints_func=lambda t: [0.0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="both X and y"):
        MetaSampler(X=np.ones((3, 2)))
    with pytest.raises(ValueError, match="unknown space"):
        MetaSampler(space="nope")
    with pytest.raises(ValueError, match="n_warm_start"):
        MetaSampler(n_warm_start=-1)


# ---------------------------------------------------------------- surrogate phase
def test_surrogate_phase_improves_over_warm_start_and_values_are_valid(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=3, seed=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(xgb_objective, n_trials=15)
    proposers = [t.system_attrs.get("learn2tune:proposed_by") for t in study.trials]
    assert proposers[:3] == ["warm_start"] * 3
    assert "surrogate" in proposers[3:]
    for t in study.trials:
        for k, v in t.params.items():
            d = XGB[k]
            assert d._contains(d.to_internal_repr(v))
            assert type(v) in (int, float)
    keys = [json.dumps(t.params, sort_keys=True) for t in study.trials]
    assert len(set(keys)) == len(keys)


def test_failed_and_pruned_trials(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=2, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial):
        v = xgb_objective(trial)
        if trial.number % 4 == 1:
            raise RuntimeError("boom")
        if trial.number % 4 == 2:
            trial.report(v, 0)
            raise optuna.TrialPruned()
        return v

    study.optimize(objective, n_trials=12, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.FAIL in states and optuna.trial.TrialState.PRUNED in states
    from tuner.mapping import observations

    configs, scores, running = observations(study, sorted(XGB))
    n_complete = states.count(optuna.trial.TrialState.COMPLETE)
    n_pruned = states.count(optuna.trial.TrialState.PRUNED)
    assert len(scores) == n_complete + n_pruned  # pruned: last reported value; failed: ignored
    assert not running and np.isfinite(scores).all()


# ---------------------------------------------------------------- reproducibility
def test_seeded_runs_reproduce_and_reseed_changes_them(kb):
    def run(seed, reseed=False):
        sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=2, seed=seed)
        if reseed:
            sampler.reseed_rng()
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.optimize(xgb_objective, n_trials=8)
        return [t.params for t in study.trials]

    assert run(5) == run(5)
    assert run(5)[2:] != run(5, reseed=True)[2:]


def test_sampler_pickles(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, seed=0)
    back = pickle.loads(pickle.dumps(sampler))
    study = optuna.create_study(direction="maximize", sampler=back)
    study.optimize(xgb_objective, n_trials=3)


SCRIPT = r"""
import json, sys, optuna
sys.path.insert(0, {root!r})
from tests.conftest import synthetic_family
from tests.tuner.test_sampler import xgb_objective, _mf
from tuner.sampler import MetaSampler
from warmstart import KnowledgeBase
optuna.logging.set_verbosity(optuna.logging.WARNING)
kb = KnowledgeBase.load({kb!r})
study = optuna.create_study(direction="maximize", sampler=MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=2, seed=11))
study.optimize(xgb_objective, n_trials=6)
print(json.dumps([t.params for t in study.trials], sort_keys=True))
"""


@pytest.mark.slow
def test_seeded_runs_reproduce_in_separate_processes(kb, tmp_path):
    from pathlib import Path

    kb.save(tmp_path / "kb")
    root = str(Path(__file__).resolve().parents[2])
    code = SCRIPT.format(root=root, kb=str(tmp_path / "kb"))
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert outs[0] == outs[1] and outs[0].strip()


# ---------------------------------------------------------------- concurrency and storages
def test_threads_do_not_duplicate_proposals(kb):
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=4, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(xgb_objective, n_trials=16, n_jobs=2)
    keys = [json.dumps(t.params, sort_keys=True) for t in study.trials]
    assert len(set(keys)) == len(keys) == 16
    ws = [t.system_attrs.get("learn2tune:warm_start_index") for t in study.trials]
    ws = [w for w in ws if w is not None]
    assert sorted(ws) == list(range(4))  # each warm-start slot taken exactly once


WORKER = r"""
import sys, optuna
sys.path.insert(0, {root!r})
from tests.tuner.test_sampler import xgb_objective, _mf
from tuner.sampler import MetaSampler
from warmstart import KnowledgeBase
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage = {storage}
kb = KnowledgeBase.load({kb!r})
study = optuna.load_study(study_name="shared", storage=storage,
                          sampler=MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=3, seed=int(sys.argv[1])))
study.optimize(xgb_objective, n_trials=6)
"""


def _shared_study_check(storage_code: str, storage_obj, kb, tmp_path) -> None:
    from pathlib import Path

    kb.save(tmp_path / "kb")
    optuna.create_study(study_name="shared", storage=storage_obj, direction="maximize")
    root = str(Path(__file__).resolve().parents[2])
    code = WORKER.format(root=root, storage=storage_code, kb=str(tmp_path / "kb"))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i)]) for i in range(2)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    study = optuna.load_study(study_name="shared", storage=storage_obj)
    trials = study.get_trials()
    assert len(trials) == 12
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    keys = [json.dumps(t.params, sort_keys=True) for t in trials]
    assert len(set(keys)) == len(keys)


@pytest.mark.slow
def test_processes_share_a_sqlite_study(kb, tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    _shared_study_check(repr(url), url, kb, tmp_path)


@pytest.mark.slow
def test_processes_share_a_journal_study(kb, tmp_path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = str(tmp_path / "journal.log")
    code = f"optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend({path!r}))"
    _shared_study_check(code, JournalStorage(JournalFileBackend(path)), kb, tmp_path)


@pytest.mark.slow
def test_processes_share_a_postgresql_study(kb, tmp_path):
    import os

    url = os.environ.get("LEARN2TUNE_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL server: set LEARN2TUNE_POSTGRES_URL (.ci/run starts one)")
    pytest.importorskip("psycopg2")
    try:
        optuna.delete_study(study_name="shared", storage=url)
    except KeyError:
        pass
    _shared_study_check(repr(url), url, kb, tmp_path)


def test_residual_gp_learns_the_residuals_and_knows_where_it_is_unsure():
    from tuner.gp import residual_gp as _residual_gp
    from warmstart import spaces as sp

    ss = {"a": sp.get_space("xgboost-classifier")["subsample"], "b": sp.get_space("xgboost-classifier")["max_depth"]}
    names = ["a", "b"]
    rng = np.random.default_rng(0)
    x = rng.random((40, 2)) * 0.5  # observations in one corner
    r = np.sin(6 * x[:, 0]) + x[:, 1]
    far = np.array([[0.95, 0.95]])
    near = x[:5] + 0.01
    mean, std = _residual_gp(x, r, np.vstack([near, far]), ss, names)
    assert np.corrcoef(mean[:5], r[:5])[0, 1] > 0.9
    assert np.abs(mean[:5] - r[:5]).max() < 0.2
    assert std[-1] > 3 * std[:5].max()  # far from every observation: unsure


def test_aliases_and_wider_ranges_keep_the_knowledge(kb):
    """XGBoost's own names (eta, lambda, num_boost_round) reach the xgboost knowledge, and a
    range wider than the known one (n_estimators 50..1000 against 8..512) no longer switches
    it off: warm-start values are clipped into the user's range and later trials come from
    the surrogate, always inside the user's distributions."""
    sampler = MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=3, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial):
        eta = trial.suggest_float("eta", 1e-3, 1.0, log=True)
        rounds = trial.suggest_int("num_boost_round", 50, 1000, log=True)
        lam = trial.suggest_float("lambda", 1e-8, 100.0, log=True)
        depth = trial.suggest_int("max_depth", 1, 12)
        return -abs(np.log10(eta) + 1) - abs(np.log(rounds) - 5) - 0.01 * abs(np.log10(lam)) - abs(depth - 4)

    study.optimize(objective, n_trials=10)
    expected = kb.warm_start(_mf(), n=3)
    first = study.trials[0].params
    assert first["eta"] == pytest.approx(expected[0]["learning_rate"])
    assert first["num_boost_round"] == min(max(expected[0]["n_estimators"], 50), 1000)
    proposers = [t.system_attrs.get("learn2tune:proposed_by") for t in study.trials]
    assert proposers[:3] == ["warm_start"] * 3
    assert "surrogate" in proposers[3:]
    for t in study.trials:
        assert 50 <= t.params["num_boost_round"] <= 1000 and 1e-3 <= t.params["eta"] <= 1.0
    from optuna.distributions import FloatDistribution, IntDistribution

    from tuner.mapping import canonical, usable

    assert canonical("xgboost-classifier", "eta") == "learning_rate"
    assert canonical("random-forest-classifier", "eta") == "eta"
    assert usable(IntDistribution(8, 512, log=True), IntDistribution(50, 1000))
    assert not usable(IntDistribution(8, 512), IntDistribution(600, 1000))
    assert not usable(IntDistribution(8, 512), FloatDistribution(8, 512))


def test_the_study_records_how_far_the_dataset_is_from_the_known_tasks(kb):
    from tuner.sampler import ATTR_NOVELTY

    near = kb.novelty(_mf(0.5, 0.5))
    far = kb.novelty({n: 1e6 for n in kb.feature_names})
    assert far["nearest_distance"] > near["nearest_distance"]
    assert far["distance_quantile"] == 1.0 and near["distance_quantile"] < 1.0
    study = optuna.create_study(direction="maximize",
                                sampler=MetaSampler(metafeatures=_mf(), knowledge=kb, n_warm_start=2, seed=0))
    study.optimize(lambda t: t.suggest_float("learning_rate", 1e-3, 1.0, log=True), n_trials=2)
    recorded, expected = study.user_attrs[ATTR_NOVELTY], kb.novelty(_mf())
    assert recorded["nearest_task"] == expected["nearest_task"]
    assert recorded["nearest_distance"] == pytest.approx(expected["nearest_distance"])
    assert recorded["distance_quantile"] == pytest.approx(expected["distance_quantile"])


@pytest.fixture(scope="module")
def own_history():
    from tests.warmstart.test_study_knowledge import related_objective

    out = []
    for i in range(4):
        s = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=i))
        s.optimize(related_objective(0.3 * i - 0.4), n_trials=20)
        out.append(s)
    return out


def test_history_of_any_space_warm_starts_a_related_study(own_history):
    """Studies with parameter names no built-in space knows: the first trials are the
    configurations that were best in them, then the surrogate learned from them proposes."""
    from tests.warmstart.test_study_knowledge import related_objective

    sampler = MetaSampler(history=own_history, seed=0, n_warm_start=2, knowledge=None)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(related_objective(0.1), n_trials=5)
    proposers = [t.system_attrs.get("learn2tune:proposed_by") for t in study.trials]
    assert proposers[:2] == ["warm_start"] * 2 and set(proposers[2:]) <= {"surrogate", "base_sampler"}
    best_past = max(t.value for s in own_history for t in s.trials)
    assert study.trials[0].value > best_past - 0.5


class TestMetaSamplerWithHistory(BasicSamplerTestCase):
    """Optuna's sampler tests with ``history=`` set (studies of a space of their own)."""

    @pytest.fixture
    def sampler(self, own_history):
        return lambda: MetaSampler(history=own_history, seed=0)
