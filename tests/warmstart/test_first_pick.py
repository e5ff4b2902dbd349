"""The first configuration of a warm start: normalized gains, and the members that rank on them."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import MF_NAMES, SPACE
from warmstart import KnowledgeBase, MetaDataset, spaces, zero_shot
from warmstart.scores import GAIN_FLOOR, normalized_regret, task_gain_matrix, task_score_matrix


def _evals(values: dict[str, list[float]], configs: list[str], status: dict | None = None) -> pd.DataFrame:
    rows = []
    for tid, vals in values.items():
        for i, (c, v) in enumerate(zip(configs, vals)):
            if np.isnan(v):
                continue
            st = (status or {}).get((tid, i), "ok")
            rows.append({"task_id": tid, "config": c, "roc_auc": v, "status": st})
    return pd.DataFrame(rows)


def test_gain_is_one_minus_the_normalized_regret_and_aligned_with_the_score_matrix():
    configs = [json.dumps({"x": i}) for i in range(5)]
    ev = _evals({"a": [0.9, 0.8, 0.7, 0.6, 0.5], "b": [0.6, 0.6, np.nan, 0.7, -5.0],
                 "c": [0.5, 0.5, 0.5, 0.5, 0.4]}, configs, status={("a", 4): "failed"})
    scores, kept, grid = task_score_matrix(ev, ["a", "b", "c"], "roc_auc", 3)
    gains = task_gain_matrix(ev, kept, "roc_auc")
    assert gains.shape == scores.shape and np.array_equal(np.isnan(gains), np.isnan(scores))
    a = gains[kept.index("a")]
    # task a: best 0.9, median of the successful 0.75
    np.testing.assert_allclose(a[:4], [1 - normalized_regret(v, 0.9, 0.75) for v in (0.9, 0.8, 0.7, 0.6)])
    assert a[4] == GAIN_FLOOR  # failed
    b = gains[kept.index("b")]
    assert b[3] == 1.0 and np.isnan(b[2]) and b[4] == GAIN_FLOOR  # a disaster is floored
    # task c: its median is its best, so its range is the scale
    np.testing.assert_allclose(gains[kept.index("c")], [1, 1, 1, 1, 0])
    # lower-is-better metrics are turned around
    ev_loss = ev.rename(columns={"roc_auc": "log_loss"}).assign(log_loss=lambda d: -d["log_loss"])
    np.testing.assert_allclose(task_gain_matrix(ev_loss, kept, "log_loss"), gains)


@pytest.fixture(scope="module")
def hedge_kb():
    """Two kinds of task the meta-features cannot tell apart: on 60% configuration 1 is
    best and configuration 2 a close second; on 40% configuration 2 is best and
    configuration 1 second, far behind. Configuration 1 ranks better on average,
    configuration 2 falls short less."""
    sp = spaces.get_search_space(SPACE)
    configs = [sp.defaults()] + spaces.sobol_configs(sp, 19, seed=0)
    keys = [json.dumps(c, sort_keys=True) for c in configs]
    rng = np.random.default_rng(0)
    tasks, values = [], {}
    for t in range(40):
        rest = np.sort(rng.uniform(0.0, 0.1, len(configs) - 2))[::-1]
        if t % 5 < 3:
            v = np.r_[0.5, 1.0, 0.98, 0.5 + rest[1:]]
        else:
            v = np.r_[0.25, 0.3, 1.0, 0.2 + rest[1:]]
        v[3:] = np.minimum(v[3:], v[1:3].min() - 0.01)
        values[f"t{t}"] = list(v)
        mf = rng.random(len(MF_NAMES))
        mf[-1] = 2.0
        tasks.append({"task_id": f"t{t}", "fingerprint": f"fp{t}", "source": f"t{t}", "name": f"t{t}",
                      "task_type": "classification", "n_rows": 100, "n_features": 3,
                      **{f"mf:{n}": x for n, x in zip(MF_NAMES, mf)}})
    ev = _evals(values, keys).assign(space=SPACE, space_signature=sp.signature, fit_seconds=0.1, error="",
                                      config_id=lambda d: d["config"].map({k: i for i, k in enumerate(keys)}))
    kb = KnowledgeBase.fit(MetaDataset(pd.DataFrame(tasks), ev), SPACE, random_state=0,
                           maml={"members": 1, "meta_iterations": 5}, n_xgb=2)
    return kb, configs


def test_the_first_pick_falls_short_least_where_the_copula_members_pick_the_best_ranked(hedge_kb):
    kb, configs = hedge_kb
    rng = np.random.default_rng(1)
    enc = kb._encode(kb.configs)
    for _ in range(5):
        mf = pd.Series(dict(zip(MF_NAMES, [*rng.random(len(MF_NAMES) - 1), 2.0])))
        v = kb.task_vector(mf)
        copula_pick = kb.configs[int(np.argmax(kb.cross_task_members(v, enc).mean(axis=0)))]
        assert copula_pick == configs[1]
        assert kb.warm_start(mf, n=1, k=5)[0] == configs[2]
        assert kb.configs[zero_shot.first_pick(kb, v)] == configs[2]


def test_gain_members_survive_a_save_and_older_folders_fall_back(hedge_kb, tmp_path):
    kb, configs = hedge_kb
    kb.save(tmp_path / "kb")
    meta = json.loads((tmp_path / "kb" / "kb.json").read_text())
    assert meta["n_gain"] == 2
    back = KnowledgeBase.load(tmp_path / "kb")
    mf = pd.Series(dict(zip(MF_NAMES, [0.5] * (len(MF_NAMES) - 1) + [2.0])))
    v = kb.task_vector(mf)
    enc = kb._encode(kb.configs)
    for a, b in zip(kb.gain_models, back.gain_models):
        np.testing.assert_allclose(a.predict(np.hstack([np.repeat(v[None], len(enc), 0), enc])),
                                   b.predict(np.hstack([np.repeat(v[None], len(enc), 0), enc])))
    # a knowledge base without gain members (saved before they existed) picks by the copula members
    old = copy.copy(kb)
    old.gain_models = []
    assert zero_shot.first_pick(old, v) == int(np.argmax(kb.cross_task_members(v, enc).mean(axis=0)))
