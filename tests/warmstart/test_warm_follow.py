"""The warm start that follows the study's values (knowledge with meta-features)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import MF_NAMES, SPACE
from warmstart import KnowledgeBase, MetaDataset, spaces
from warmstart.warm_follow import (
    FOLLOW_FROM,
    agreement,
    best_expected,
    follow_weights,
    next_warm_config,
)


def test_agreement_counts_the_pairs_each_task_orders_as_the_study_did():
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [3.0, 1.0, 2.0]])
    share, pairs = agreement(scores, np.array([0.9, 0.5, 0.1]))
    assert pairs == 3
    np.testing.assert_allclose(share, [1.0, 0.0, 0.5, 2 / 3])
    # the study's own ties order nothing
    share, pairs = agreement(scores, np.array([0.5, 0.5, 0.1]))
    assert pairs == 2
    np.testing.assert_allclose(share, [1.0, 0.0, 0.5, 0.5])
    w = follow_weights(np.full(4, 0.25), scores, np.array([0.9, 0.5, 0.1]))
    assert w.sum() == pytest.approx(1.0) and w[0] > w[3] > w[2] > w[1]


def test_the_next_pick_is_the_best_weighted_score_not_taken():
    scores = np.array([[0.9, 0.1, 0.5, 0.6], [0.1, 0.9, 0.5, 0.2]])
    assert best_expected(scores, np.array([0.8, 0.2])) == 0
    assert best_expected(scores, np.array([0.2, 0.8])) == 1
    assert best_expected(scores, np.array([0.5, 0.5])) == 0  # three tie at 0.5: the first
    assert best_expected(scores, np.array([0.5, 0.5]), exclude=[0, 1]) == 2
    assert best_expected(scores, np.array([0.8, 0.2]), exclude=[0]) == 3  # not the greedy cover of task 2 (1)


@pytest.fixture(scope="module")
def two_kinds():
    """Two kinds of task that the meta-features cannot tell apart: configuration 5 is best
    on the first, configuration 9 on the second, and configurations 1-3 are mediocre on
    both, in opposite orders."""
    sp = spaces.get_search_space(SPACE)
    configs = [sp.defaults()] + spaces.sobol_configs(sp, 19, seed=0)
    keys = [json.dumps(c, sort_keys=True) for c in configs]
    rng = np.random.default_rng(0)
    tasks, rows = [], []
    for t in range(40):
        v = rng.uniform(0.1, 0.3, len(configs))
        first_kind = t % 5 < 3
        v[1:4] = [0.5, 0.45, 0.4] if first_kind else [0.4, 0.45, 0.5]
        v[5 if first_kind else 9] = 1.0
        mf = rng.random(len(MF_NAMES))
        mf[-1] = 2.0
        tasks.append({"task_id": f"t{t}", "fingerprint": f"fp{t}", "source": f"t{t}", "name": f"t{t}",
                      "task_type": "classification", "n_rows": 100, "n_features": 3,
                      **{f"mf:{n}": x for n, x in zip(MF_NAMES, mf)}})
        rows += [{"task_id": f"t{t}", "config": k, "config_id": i, "roc_auc": x, "status": "ok", "space": SPACE,
                  "space_signature": sp.signature, "fit_seconds": 0.1, "error": ""}
                 for i, (k, x) in enumerate(zip(keys, v))]
    kb = KnowledgeBase.fit(MetaDataset(pd.DataFrame(tasks), pd.DataFrame(rows)), SPACE, random_state=0,
                           maml={"members": 1, "meta_iterations": 5}, n_xgb=2)
    mf = pd.Series(dict(zip(MF_NAMES, [0.5] * (len(MF_NAMES) - 1) + [2.0])))
    return kb, configs, mf


def test_the_next_pick_follows_the_known_tasks_that_order_the_study_right(two_kinds):
    kb, configs, mf = two_kinds
    assert all(c in kb.configs for c in configs)
    tried = [configs[1], configs[2], configs[3]]
    assert next_warm_config(kb, mf, tried, np.array([0.8, 0.7, 0.6])) == configs[5]
    assert next_warm_config(kb, mf, tried, np.array([0.6, 0.7, 0.8])) == configs[9]
    # a configuration still running is not taken again: with 9 running for the second kind,
    pick = next_warm_config(kb, mf, tried, np.array([0.6, 0.7, 0.8]), pending=[configs[9]])
    assert pick not in (configs[9], *tried)
    assert pick == configs[5]  # the greedy pick serves the first kind, which still lacks its best


def test_the_greedy_picks_give_way_to_the_best_scoring_from_the_sixth_configuration_taken(two_kinds, monkeypatch):
    from warmstart import warm_follow

    kb, configs, mf = two_kinds
    calls = []
    greedy, best = warm_follow.next_pick, warm_follow.best_expected
    monkeypatch.setattr(warm_follow, "next_pick", lambda *a, **k: calls.append("greedy") or greedy(*a, **k))
    monkeypatch.setattr(warm_follow, "best_expected", lambda *a, **k: calls.append("best") or best(*a, **k))
    tried = [configs[j] for j in (1, 2, 3, 4, 6, 7)]
    values = np.array([0.6, 0.7, 0.8, 0.2, 0.3, 0.25])
    for n_taken, n_pending in ((3, 0), (4, 1), (5, 0), (5, 1), (6, 0)):
        calls.clear()
        pick = next_warm_config(kb, mf, tried[:n_taken], values[:n_taken], pending=[configs[8]] * n_pending)
        assert calls == (["greedy"] if n_taken + n_pending < warm_follow.EXPLOIT_FROM else ["best"])
        assert pick not in tried[:n_taken] and (not n_pending or pick != configs[8])


def test_the_fixed_warm_start_goes_on_until_enough_known_configurations_are_seen(two_kinds):
    kb, configs, mf = two_kinds
    tried = [configs[1], configs[2], configs[3]]
    values = np.array([0.6, 0.7, 0.8])
    assert FOLLOW_FROM == 3
    assert next_warm_config(kb, mf, tried[:2], values[:2]) is None
    assert next_warm_config(kb, None, tried, values) is None  # no meta-features: the fixed portfolio
    unknown = [{**c, "max_depth": 1000} for c in tried]  # not known configurations: nothing to rank by
    assert next_warm_config(kb, mf, unknown, values) is None
    assert next_warm_config(kb, mf, [tried[0]] * 3, values) is None  # one configuration, three times
    # far from every known family the robust start stays as it is
    far = copy.copy(kb)
    far.safety = {**kb.safety, "threshold": -1.0}
    assert next_warm_config(far, mf, tried, values) is None
