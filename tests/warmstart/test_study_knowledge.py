"""Knowledge learned from a user's own finished studies, on a search space of their own."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from warmstart import KnowledgeBase
from warmstart.study_spaces import merge_distributions

optuna.logging.set_verbosity(optuna.logging.ERROR)


def related_objective(shift: float):
    """A family of related tasks: the best depth and rate move a little with ``shift``;
    ``drop`` exists only for the 'dart' booster (a conditional parameter)."""
    def f(trial: optuna.Trial) -> float:
        depth = trial.suggest_int("depth", 1, 16)
        rate = trial.suggest_float("rate", 1e-4, 1.0, log=True)
        booster = trial.suggest_categorical("booster", ["gbtree", "dart", "linear"])
        v = -((depth - 6 - shift) ** 2) / 20 - (np.log10(rate) + 1.5 + 0.3 * shift) ** 2
        if booster == "dart":
            v += 0.3 * trial.suggest_float("drop", 0.0, 0.5)
        elif booster == "linear":
            v -= 1.0
        return v

    return f


@pytest.fixture(scope="module")
def history():
    out = []
    for i in range(5):
        s = optuna.create_study(direction="maximize", study_name=f"past-{i}",
                                sampler=optuna.samplers.TPESampler(seed=i))
        s.optimize(related_objective(np.random.default_rng(i).normal(scale=0.5)), n_trials=30)
        out.append(s)
    return out


@pytest.fixture(scope="module")
def kb(history):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KnowledgeBase.from_studies(history, maml={"members": 1, "meta_iterations": 40})


def test_the_space_is_derived_from_the_studies_and_the_warm_start_is_good(kb):
    assert kb.space_name.startswith("studies-")
    assert set(kb.space.distributions) == {"depth", "rate", "booster", "drop"}
    first = kb.warm_start(None, n=3)
    f = related_objective(0.0)
    values = [f(optuna.trial.FixedTrial(c)) for c in first]
    rng = np.random.default_rng(0)
    random = [f(optuna.trial.FixedTrial({"depth": int(rng.integers(1, 17)),
                                         "rate": float(10 ** rng.uniform(-4, 0)),
                                         "booster": str(rng.choice(["gbtree", "dart", "linear"])),
                                         "drop": float(rng.uniform(0, 0.5))})) for _ in range(200)]
    assert max(values) > np.quantile(random, 0.95)  # better than 95% of random configurations
    # no estimator defaults and a grid of every trial: no safety net; the MAML network reads
    # the cross-task prior
    assert kb.safety["threshold"] is None and kb.maml_prior_input


def test_a_knowledge_base_of_studies_saves_and_loads(kb, tmp_path):
    kb.save(tmp_path / "kb")
    again = KnowledgeBase.load(tmp_path / "kb")
    assert again.space_name == kb.space_name
    assert again.warm_start(None, n=2) == kb.warm_start(None, n=2)
    assert again.task_matrix.shape == kb.task_matrix.shape
    # past the warm start on the loaded knowledge (a knowledge base without meta-features
    # loaded with no known task, and its surrogate phase failed on every trial)
    from tuner import MetaSampler

    study = optuna.create_study(direction="maximize", sampler=MetaSampler(knowledge=again, n_warm_start=2, seed=0))
    study.optimize(related_objective(0.0), n_trials=5)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 5
    assert {t.system_attrs.get("learn2tune:proposed_by") for t in study.trials[2:]} <= {"surrogate", "base_sampler"}


def test_the_surrogate_phase_models_conditional_parameters(kb):
    """``drop`` exists only when ``booster`` is 'dart': after the warm start the surrogate
    phase proposes it with the rest (it is in the relative search space) instead of leaving
    it to the base sampler's independent draw; a trial that does not set it ignores it."""
    from tuner import MetaSampler

    class Spy(optuna.samplers.TPESampler):
        def __init__(self, seed: int) -> None:
            super().__init__(seed=seed)
            self.independent: list[tuple[int, str]] = []

        def sample_independent(self, study, trial, name, dist):  # noqa: ANN001, ANN201
            self.independent.append((trial.number, name))
            return super().sample_independent(study, trial, name, dist)

    spy = Spy(seed=0)
    sampler = MetaSampler(knowledge=kb, n_warm_start=2, seed=0, base_sampler=spy)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial({"depth": 6, "rate": 0.03, "booster": "dart", "drop": 0.4})
    study.enqueue_trial({"depth": 6, "rate": 0.03, "booster": "gbtree"})
    study.optimize(related_objective(0.0), n_trials=14)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 14
    relative = sampler.infer_relative_search_space(study, study.trials[-1])
    assert {"depth", "rate", "booster", "drop"} <= set(relative)
    by_surrogate = [t for t in study.trials if t.system_attrs.get("learn2tune:proposed_by") == "surrogate"]
    assert by_surrogate and any("drop" in t.params for t in by_surrogate)
    assert not [(n, p) for n, p in spy.independent if p == "drop" and n in {t.number for t in by_surrogate}]
    for t in study.trials:
        assert ("drop" in t.params) == (t.params["booster"] == "dart")


def test_a_conditional_parameter_with_changing_ranges_is_left_to_the_base_sampler(kb):
    """A define-by-run range (``drop``'s upper bound follows ``depth``) is not one
    distribution: it stays out of the relative search space, and every trial runs."""
    from tuner import MetaSampler

    def objective(trial: optuna.Trial) -> float:
        depth = trial.suggest_int("depth", 1, 16)
        rate = trial.suggest_float("rate", 1e-4, 1.0, log=True)
        booster = trial.suggest_categorical("booster", ["gbtree", "dart", "linear"])
        v = -((depth - 6) ** 2) / 20 - (np.log10(rate) + 1.5) ** 2
        if booster == "dart":
            v += 0.3 * trial.suggest_float("drop", 0.0, 0.5 if depth > 8 else 0.3)
        return v

    sampler = MetaSampler(knowledge=kb, n_warm_start=2, seed=1)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial({"depth": 12, "rate": 0.03, "booster": "dart", "drop": 0.4})
    study.enqueue_trial({"depth": 4, "rate": 0.03, "booster": "dart", "drop": 0.2})
    study.optimize(objective, n_trials=12)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 12
    assert "drop" not in sampler.infer_relative_search_space(study, study.trials[-1])


def test_too_few_studies_are_refused_by_name(history):
    with pytest.raises(ValueError, match="at least 3 finished"):
        KnowledgeBase.from_studies(history[:2])


def test_a_history_too_small_to_learn_from_says_why(history, caplog):
    """MetaSampler(history=...) with too few studies samples with the base sampler and
    says why the history was not used (it did so silently)."""
    import logging

    from tuner import MetaSampler

    for given, told in [(history[:1], "1 study"), ([], "it holds no study")]:
        caplog.clear()
        study = optuna.create_study(direction="maximize", sampler=MetaSampler(history=given, seed=0))
        with caplog.at_level(logging.WARNING, logger="tuner"):
            study.optimize(related_objective(0.0), n_trials=2)
        said = [r.message for r in caplog.records if "not learned from" in r.message]
        assert len(said) == 1 and told in said[0]
        assert "learn2tune:proposed_by" not in study.trials[-1].system_attrs


def test_distributions_merge_across_studies():
    assert merge_distributions([IntDistribution(1, 8), IntDistribution(4, 16)]) == IntDistribution(1, 16)
    assert merge_distributions([FloatDistribution(1e-3, 1, log=True), FloatDistribution(1e-4, 0.1, log=True)]) \
        == FloatDistribution(1e-4, 1, log=True)
    assert merge_distributions([IntDistribution(1, 8), FloatDistribution(0.5, 2.0)]) == FloatDistribution(0.5, 8)
    assert merge_distributions([CategoricalDistribution(["a", "b"]), CategoricalDistribution(["b", "c"])]) \
        == CategoricalDistribution(["a", "b", "c"])
    assert merge_distributions([CategoricalDistribution(["a"]), IntDistribution(1, 2)]) is None


def test_described_studies_are_told_apart_by_their_data(history):
    """``tuner.describe_study`` records a dataset's meta-features on a study; knowledge
    learned from such studies uses them."""
    from sklearn.datasets import load_breast_cancer, load_iris, load_wine

    from tuner import describe_study

    for study, loader in zip(history[:3], (load_iris, load_wine, load_breast_cancer)):
        X, y = loader(return_X_y=True)
        m = describe_study(study, X, y, name=loader.__name__)
        assert m["NumberOfInstances"] == len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kb = KnowledgeBase.from_studies(history[:3], maml={"members": 1, "meta_iterations": 20})
    assert len(kb.feature_names) > 0 and kb.task_names[0] == "load_iris"


def test_meta_training_scales_with_the_history():
    """A few studies are meta-trained in fewer iterations than many (each study is drawn
    about as often), between the floor and the cap; the user's own setting wins."""
    from warmstart.study_knowledge import (
        MAX_ITERATIONS,
        MIN_ITERATIONS,
        fit_on,
        meta_iterations_for,
        studies_metadataset,
    )

    sizes = [meta_iterations_for(n) for n in (3, 5, 10, 15, 19, 200)]
    assert sizes == sorted(sizes) and sizes[0] == MIN_ITERATIONS and sizes[-1] == MAX_ITERATIONS
    assert meta_iterations_for(10) < MAX_ITERATIONS
    studies = []
    for i in range(3):
        s = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=i))
        s.optimize(related_objective(0.2 * i), n_trials=12)
        studies.append(s)
    md, space = studies_metadataset(studies)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kb = fit_on(md, space, maml={"members": 1})
        assert kb.maml.cfg.meta_iterations == MIN_ITERATIONS
        kb = fit_on(md, space, maml={"members": 1, "meta_iterations": 7})
    assert kb.maml.cfg.meta_iterations == 7
