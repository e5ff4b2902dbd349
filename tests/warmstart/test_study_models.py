"""Per-study models of knowledge learned from studies without meta-features: the warm start
follows the past studies that rank the new study's own trials right."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest

from tuner import MetaSampler
from warmstart import KnowledgeBase
from warmstart.study_models import (
    history_portfolio,
    next_warm_config,
    study_models,
    uses_study_models,
)

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(best_x: float):
    """Two families of tasks: the best ``x`` is 0.2 in one and 0.8 in the other."""
    def f(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        return -((x - best_x) ** 2) - 0.5 * (y - 0.5) ** 2 - (0.05 if kind == "b" else 0.0)

    return f


@pytest.fixture(scope="module")
def kb():
    studies = []
    for i, best_x in enumerate([0.2, 0.2, 0.2, 0.8, 0.8, 0.8]):
        s = optuna.create_study(direction="maximize", study_name=f"past-{i}",
                                sampler=optuna.samplers.TPESampler(seed=i))
        s.optimize(objective(best_x), n_trials=30)
        studies.append(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KnowledgeBase.from_studies(studies, maml={"members": 1, "meta_iterations": 20})


def _observe(best_x: float, xs: list[float]) -> tuple[list[dict], np.ndarray]:
    configs = [{"x": x, "y": 0.5, "kind": "a"} for x in xs]
    return configs, np.array([objective(best_x)(optuna.trial.FixedTrial(c)) for c in configs])


def test_the_weights_go_to_the_studies_that_rank_the_new_trials_right(kb):
    assert uses_study_models(kb)
    models = study_models(kb)
    assert models is study_models(kb)  # fitted once
    configs, values = _observe(0.8, [0.1, 0.5, 0.9])
    from warmstart.surrogate import encode_configs

    w = models.rank_weights(encode_configs(kb.space, configs), values)
    assert w.sum() == pytest.approx(1.0)
    assert w[3:].sum() > 0.95  # the studies whose best x is 0.8
    # every past study's own best configuration is a candidate of the warm start
    own_best = np.nanargmax(np.where(np.isfinite(kb.scores), kb.scores, -np.inf), axis=1)
    assert set(own_best.tolist()) <= set(models.columns.tolist())
    assert len(models.columns) < len(kb.configs)  # and not every configuration tried


@pytest.mark.parametrize("best_x", [0.2, 0.8])
def test_the_next_warm_start_configuration_follows_the_new_study(kb, best_x):
    configs, values = _observe(best_x, [0.5, 0.05, 0.95])
    pick = next_warm_config(kb, configs, values)
    assert abs(pick["x"] - best_x) < 0.15, pick
    # before two observations: nothing to rank, the static portfolio goes on
    assert next_warm_config(kb, configs[:1], values[:1]) is None


def test_the_zero_shot_portfolio_is_distinct_and_starts_with_the_robust_pick(kb):
    from warmstart.portfolio import greedy_portfolio

    picks = history_portfolio(kb, 6)
    assert len(picks) == 6 and len({tuple(sorted(p.items())) for p in picks}) == 6
    # the first is central among the past studies' good configurations: where every study
    # agrees (y near 0.5, kind "a") it takes their choice, where they split (x at 0.2 or
    # 0.8) it lies between the two groups, not at either extreme of the space
    assert picks[0]["kind"] == "a" and abs(picks[0]["y"] - 0.5) < 0.15, picks[0]
    assert 0.15 < picks[0]["x"] < 0.85, picks[0]
    assert picks[0] == kb.configs[study_models(kb).columns[study_models(kb).central]]
    alike = np.full(len(kb.task_ids), 1.0 / len(kb.task_ids))
    m = study_models(kb)
    assert [kb.configs[m.columns[j]] for j in greedy_portfolio(m.filled, alike, 6, start=[m.central])] == picks
    assert kb.warm_start(None, n=6) == picks


def test_the_central_candidate_is_a_weighted_medoid():
    from warmstart.study_models import central_candidate

    line = np.array([[0.0], [0.1], [0.2], [0.3], [1.0]])
    assert central_candidate(line, np.ones(5)) == 2  # the middle point, not pulled by the outlier
    # each study weighs alike: a study with many candidates near 1.0 does not outvote two
    # studies with one candidate each at 0.0 and 0.1 once its candidates share one weight
    pts = np.array([[0.0], [0.1], [0.95], [0.97], [0.99], [1.0]])
    assert central_candidate(pts, np.ones(6)) in (2, 3)
    assert central_candidate(pts, np.array([1.0, 1.0, 0.25, 0.25, 0.25, 0.25])) == 1
    # the same as the weighted sums of pairwise L1 distances, computed directly (with
    # one-hot columns and ties, as encoded categorical parameters give)
    rng = np.random.default_rng(0)
    cloud = np.hstack([rng.random((300, 3)), np.eye(3)[rng.integers(0, 3, 300)]])
    w = rng.random(300)
    direct = np.abs(cloud[:, None, :] - cloud[None, :, :]).sum(axis=2) @ w
    assert central_candidate(cloud, w) == int(np.argmin(direct))


def test_meta_sampler_follows_the_new_study_during_the_warm_start(kb):
    first_ranked = {}
    for best_x, mf in ((0.2, None), (0.8, {"NumberOfInstances": 500.0})):
        # a dataset's meta-features say nothing to knowledge without them: the same warm start
        study = optuna.create_study(direction="maximize",
                                    sampler=MetaSampler(knowledge=kb, metafeatures=mf, n_warm_start=6, seed=0))
        study.optimize(objective(best_x), n_trials=6)
        # the two static picks are the same for both; the third follows the first two's values
        first_ranked[best_x] = study.trials[2].params["x"]
        assert abs(first_ranked[best_x] - best_x) < 0.15, (best_x, first_ranked)
        # later ones hedge as the weights say: the best so far is near this study's optimum
        assert abs(study.best_params["x"] - best_x) < 0.15
        for t in study.trials:  # every warm-start trial took the configuration decided for it
            decided = t.system_attrs["learn2tune:warm_start_config"]
            assert t.params == {k: decided[k] for k in t.params}


def test_the_gaussian_process_fits_and_knows_where_it_is_unsure():
    from warmstart.gaussian_process import fit_gp

    rng = np.random.default_rng(0)
    a = rng.random((40, 2)) * 0.5  # data in one corner
    fit = fit_gp(a, np.sin(4 * a[:, 0]) - a[:, 1])
    near, far = np.array([[0.25, 0.25]]), np.array([[1.0, 1.0]])
    mean, std = fit.predict(np.vstack([near, far]))
    assert mean[0] == pytest.approx(np.sin(1.0) - 0.25, abs=0.05)
    assert std[1] > 5 * std[0]
    assert np.allclose(fit.mean(np.vstack([near, far])), mean)



def test_a_sampler_with_study_models_pickles_mid_study(kb):
    import pickle

    sampler = MetaSampler(knowledge=kb, n_warm_start=4, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective(0.8), n_trials=3)
    again = pickle.loads(pickle.dumps(sampler))
    study.sampler = again
    study.optimize(objective(0.8), n_trials=2)
    assert len(study.trials) == 5 and again._kb(kb.space_name) is not None
    # the unpickled sampler decided the last warm-start slot from the study's own trials
    assert study.trials[3].system_attrs["learn2tune:proposed_by"] == "warm_start"
    assert study.trials[3].params == {k: study.trials[3].system_attrs["learn2tune:warm_start_config"][k]
                                      for k in study.trials[3].params}


def test_threads_never_take_the_same_warm_start_configuration(kb):
    import json

    for seed in range(3):
        study = optuna.create_study(direction="maximize", sampler=MetaSampler(knowledge=kb, seed=seed))
        study.optimize(objective(0.8), n_trials=10, n_jobs=3)
        warm = [json.dumps(t.params, sort_keys=True) for t in study.trials
                if t.system_attrs.get("learn2tune:proposed_by") == "warm_start"]
        assert len(warm) == 10 and len(set(warm)) == 10


def test_processes_sharing_a_storage_never_take_the_same_warm_start_configuration(kb, monkeypatch):
    """Two samplers (as two processes would have, each with its own lock) on one storage:
    a slow decision gives the other every chance to decide the same configuration, unless
    it waits for the earlier trial's decision."""
    import json
    import threading
    import time

    import tuner.warm_start as ws

    decide = ws.next_warm_config

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        time.sleep(0.2)
        return decide(*args, **kwargs)

    monkeypatch.setattr(ws, "next_warm_config", slow)
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(direction="maximize", storage=storage, study_name="shared",
                                sampler=MetaSampler(knowledge=kb, seed=0))
    first.optimize(objective(0.8), n_trials=3)  # past the slots that decide alone
    second = optuna.load_study(study_name="shared", storage=storage, sampler=MetaSampler(knowledge=kb, seed=1))
    workers = [threading.Thread(target=s.optimize, args=(objective(0.8),), kwargs={"n_trials": 3})
               for s in (first, second)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    warm = [json.dumps(t.params, sort_keys=True) for t in first.trials
            if t.system_attrs.get("learn2tune:proposed_by") == "warm_start"]
    assert len(warm) == 9 and len(set(warm)) == 9


@pytest.mark.parametrize(("completed", "slot_written"), [(2, True), (1, True), (2, False)])
def test_a_dead_process_trial_holds_the_warm_start_up_only_briefly(kb, monkeypatch, completed, slot_written):
    """A warm-start trial left running undecided (its process died) delays later trials by
    at most ``DECIDE_WAIT``; they still take warm-start configurations. They wait for it
    whether or not enough trials have completed to rank by (the decision it would have
    made could have been a ranked one), and whether or not its slot was written yet."""
    import time

    import tuner.warm_start as ws

    monkeypatch.setattr(ws, "DECIDE_WAIT", 0.1)
    study = optuna.create_study(direction="maximize", sampler=MetaSampler(knowledge=kb, seed=0))
    study.optimize(objective(0.8), n_trials=completed)
    dead = study._storage.create_new_trial(study._study_id)  # a slot never decided
    if slot_written:
        study._storage.set_trial_system_attr(dead, ws.ATTR_INDEX, completed)
    t0 = time.perf_counter()
    study.optimize(objective(0.8), n_trials=2)
    assert time.perf_counter() - t0 >= 2 * ws.DECIDE_WAIT  # each waited for it, then went on
    later = study.trials[completed + 1:]
    assert [t.system_attrs.get("learn2tune:proposed_by") for t in later] == ["warm_start"] * 2


HISTORY_WORKER = r"""
import sys, optuna
sys.path.insert(0, {root!r})
from tests.warmstart.test_study_models import objective
from tuner import MetaSampler
from warmstart import KnowledgeBase
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="shared", storage={url!r},
                          sampler=MetaSampler(knowledge=KnowledgeBase.load({kb!r}), seed=int(sys.argv[1])))
study.optimize(objective(0.8), n_trials=5)
"""


@pytest.mark.slow
def test_processes_sharing_a_sqlite_study_take_distinct_warm_start_configurations(kb, tmp_path):
    """Three processes, one SQLite study, knowledge learned from studies: every trial runs
    and the ten warm-start trials are ten configurations."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    kb.save(tmp_path / "kb")
    url = f"sqlite:///{tmp_path / 's.db'}"
    optuna.create_study(study_name="shared", storage=url, direction="maximize")
    root = str(Path(__file__).resolve().parents[2])
    code = HISTORY_WORKER.format(root=root, url=url, kb=str(tmp_path / "kb"))
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i)]) for i in range(3)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    trials = optuna.load_study(study_name="shared", storage=url).get_trials()
    assert len(trials) == 15 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    warm = [json.dumps(t.params, sort_keys=True) for t in trials
            if t.system_attrs.get("learn2tune:proposed_by") == "warm_start"]
    assert len(warm) == 10 and len(set(warm)) == 10


@pytest.mark.parametrize("best_x", [0.2, 0.8])
def test_the_guard_judges_the_knowledge_adapted_to_the_study(kb, best_x):
    """The past studies disagree (half want x = 0.2, half 0.8): adapted to a new study's
    trials the knowledge ranks its held-out trials right whichever half it belongs to, and
    the guard trusts it; values that nothing explains (shuffled) are distrusted."""
    xs = list(np.linspace(0.02, 0.98, 12))
    configs, values = _observe(best_x, xs)
    sur = kb.adapt(kb.neutral_metafeatures(), configs, values)
    assert sur.diagnostics["cv_rank_correlation"] > 0.5 and sur.prior_weight == 1.0
    shuffled = np.random.default_rng(0).permutation(values)
    bad = kb.adapt(kb.neutral_metafeatures(), configs, shuffled)
    assert bad.diagnostics["cv_rank_correlation"] < 0.3 and bad.prior_weight < 1.0
    assert "cross-validated Spearman" in bad.diagnostics["reason"]
