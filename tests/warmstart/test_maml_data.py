"""The MAML network's inputs: the cross-task prior, out of fold while meta-training."""

from __future__ import annotations

import numpy as np

from tests.conftest import SPACE
from tests.warmstart.test_knowledge import saved_without
from warmstart import KnowledgeBase
from warmstart.maml_data import out_of_fold_prior
from warmstart.surrogate import encoded_width


def test_out_of_fold_prior_never_sees_the_task_it_predicts():
    rng = np.random.default_rng(0)
    n_tasks, n_configs = 30, 40
    enc = rng.random((n_configs, 3))
    T = rng.random((n_tasks, 2))
    # each task's scores are its own noise: nothing carries over between tasks
    S = rng.normal(size=(n_tasks, n_configs))
    groups = [f"g{i % 10}" for i in range(n_tasks)]
    prior = out_of_fold_prior(T, S, enc, groups, random_state=0)
    assert prior.shape == S.shape and np.isfinite(prior).all()
    # an in-sample model would reproduce the noise; out of fold it cannot
    corr = [np.corrcoef(prior[i], S[i])[0, 1] for i in range(n_tasks)]
    assert abs(float(np.mean(corr))) < 0.2
    # a single family: no fold has anything else to learn from
    assert not out_of_fold_prior(T, S, enc, ["one"] * n_tasks, random_state=0).any()


def test_network_reads_the_prior_and_the_flag_survives_save_and_load(family, tmp_path):
    md, configs = family[0], family[1]
    on = KnowledgeBase.fit(md, SPACE, random_state=0, maml={"members": 1, "meta_iterations": 20})
    off = KnowledgeBase.fit(md, SPACE, random_state=0, maml={"members": 1, "meta_iterations": 20},
                            prior_input=False)
    width = encoded_width(on.space)
    assert on.maml_prior_input and not off.maml_prior_input
    assert on.maml.in_dim == width + 1 + len(on.embed_idx)
    assert off.maml.in_dim == width + len(off.embed_idx)
    mf = md.metafeatures().iloc[0]
    v = on.task_vector(mf)
    x = on.maml_inputs(configs[:5], v)
    # the prior column is the cross-task ensemble's mean prediction
    np.testing.assert_allclose(x[:, width], on.cross_task_predict(mf, configs[:5]))
    on.save(tmp_path / "kb")
    back = KnowledgeBase.load(tmp_path / "kb")
    assert back.maml_prior_input
    y = np.linspace(0.0, 1.0, 8)
    np.testing.assert_allclose(back.adapt(mf, configs[:8], y).predict(configs[8:16])[0],
                               on.adapt(mf, configs[:8], y).predict(configs[8:16])[0], rtol=1e-5)
    # knowledge saved before the prior input existed loads without it
    old = saved_without(off, tmp_path / "old", "maml_prior_input")
    assert not old.maml_prior_input and old.maml_inputs(configs[:3], v).shape[1] == off.maml.in_dim
