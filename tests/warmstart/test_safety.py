"""The warm start's safety net: calibrated on held-out families, applied to far datasets."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest

from tests.conftest import MF_NAMES
from tests.warmstart.test_knowledge import saved_without
from warmstart import KnowledgeBase, zero_shot
from warmstart.portfolio import bandwidth_table
from warmstart.safety import calibrate, defaults_index, family_quantile, safety_start


def _families(far_likes_defaults: bool):
    """Four families clustered together that like config 1, two families far from
    everything (and from each other) whose best configuration is config 0 (the defaults)
    when ``far_likes_defaults``, else config 1 as well."""
    rng = np.random.default_rng(0)
    centers = [0.0, 0.3, 0.6, 0.9, 20.0, 45.0]
    pos, groups, rows = [], [], []
    for f, c in enumerate(centers):
        for _ in range(4):
            pos.append(c + rng.normal(scale=0.05))
            groups.append(f"F{f}")
            row = rng.normal(scale=0.1, size=6)
            far = f >= 4
            if far and far_likes_defaults:
                row[0], row[1] = 2.0, -2.0
            else:
                row[1], row[0] = 2.0, -1.0
            rows.append(row)
    pos = np.array(pos)
    D = np.abs(pos[:, None] - pos[None, :])
    S = np.array(rows)
    return S, D, groups


def test_calibration_finds_the_distance_beyond_which_the_defaults_do_better():
    S, D, groups = _families(far_likes_defaults=True)
    out = calibrate(S, S, D, groups, bandwidth_table(S, S, D), default_j=0)
    assert out["threshold"] is not None and out["gain"] > 0 and out["tasks_above"] >= 5
    q = np.array([family_quantile(np.where(np.array(groups) != g, D[i], np.inf).min(), out["family_quantiles"])
                  for i, g in enumerate(groups)])
    near, far = q[:16], q[16:]
    # on a 21-point quantile grid the nearest far task and the farthest near one may share
    # a quantile: every far task is above the threshold, (almost) no near one
    assert far.min() >= out["threshold"] and (near < out["threshold"]).mean() >= 0.9


def test_no_threshold_when_the_safety_start_never_helps():
    S, D, groups = _families(far_likes_defaults=False)
    out = calibrate(S, S, D, groups, bandwidth_table(S, S, D), default_j=0)
    assert out["threshold"] is None and out["gain"] == 0.0
    # one family only: nothing to hold out
    assert calibrate(S, S, D, ["A"] * len(S), bandwidth_table(S, S, D), 0)["threshold"] is None


def test_safety_start_puts_the_defaults_first_then_what_is_good_everywhere():
    S, _, _ = _families(far_likes_defaults=False)
    assert safety_start(S, 3, default_j=4)[:2] == [4, 1]
    assert safety_start(S, 3, default_j=None)[0] == 1
    assert len(set(safety_start(S, 6, default_j=1))) == 6
    assert defaults_index([{"a": 1}, {"a": 2, "b": 0.5}], {"b": 0.5, "a": 2}) == 1
    assert defaults_index([{"a": 1}], {"a": 3}) is None


def _mf(values) -> pd.Series:
    return pd.Series(dict(zip(MF_NAMES, [*values, 2.0][: len(MF_NAMES)])))


def test_knowledge_base_applies_reports_and_saves_its_safety_net(small_kb, tmp_path):
    kb = copy.copy(small_kb)
    assert set(kb.safety) >= {"family_quantiles", "threshold"}  # calibrated by fit
    mf = _mf(np.random.default_rng(1).random(len(MF_NAMES)))
    kb.safety = dict(small_kb.safety, threshold=None)
    nov = kb.novelty(mf)
    assert nov["safety_net"] is False and 0.0 <= nov["family_quantile"] <= 1.0
    kernel = kb.warm_start(mf, n=5)
    kb.safety = dict(small_kb.safety, threshold=0.0)  # every dataset counts as far
    assert kb.novelty(mf)["safety_net"] is True
    safe = kb.warm_start(mf, n=5)
    j = zero_shot.defaults_index_of(kb)
    # the first pick stays (it does not depend on the net); the safety start follows it
    first = zero_shot.first_pick(kb, kb.task_vector(mf))
    rest = [i for i in safety_start(kb.filled, 5, j) if i != first]
    assert safe == [kb.configs[i] for i in [first, *rest][:5]] and safe[0] == kernel[0]
    assert safe[1:] != kernel[1:]
    alone = kb.warm_start(mf, n=5, first="portfolio")  # no first pick: the safety start alone
    assert alone == [kb.configs[i] for i in safety_start(kb.filled, 5, j)]
    if j is None:
        assert alone == kb.warm_start(None, n=5)
    # an explicit bandwidth asks for the kernel portfolio: no safety net
    assert kb.warm_start(mf, n=5, k=kb.bandwidth(mf)) == kernel
    kb.save(tmp_path / "kb")
    back = KnowledgeBase.load(tmp_path / "kb")
    assert back.safety["threshold"] == 0.0 and back.warm_start(mf, n=5) == safe


def test_knowledge_saved_before_the_safety_net_loads_without_one(small_kb, tmp_path):
    back = saved_without(small_kb, tmp_path / "kb", "safety")
    assert back.safety == {} and back.novelty(_mf(np.random.default_rng(2).random(len(MF_NAMES))))["safety_net"] is False


@pytest.mark.parametrize("families", [None, "given"])
def test_recalibration_from_task_ids_or_given_families(small_kb, families):
    kb = copy.copy(small_kb)
    fams = [f"fam{i % 4}" for i in range(len(kb.task_ids))] if families else None
    out = kb.calibrate_safety(fams)
    assert out is kb.safety and len(out["family_quantiles"]) == 21
    with pytest.raises(ValueError, match="one family per task"):
        kb.calibrate_safety(["a", "b"])


def test_the_bandwidth_table_is_saved_once_and_recomputed_where_missing_or_stale(small_kb, tmp_path, monkeypatch):
    kb = copy.copy(small_kb)
    table = zero_shot.bandwidth_table(kb)
    kb.save(tmp_path / "kb")
    calls = []
    real = zero_shot.loo_bandwidth_table
    monkeypatch.setattr(zero_shot, "loo_bandwidth_table", lambda *a: calls.append(1) or real(*a))
    back = KnowledgeBase.load(tmp_path / "kb")
    assert np.array_equal(zero_shot.bandwidth_table(back), table) and calls == []  # taken as saved
    mf = _mf(np.random.default_rng(3).random(len(MF_NAMES)))
    assert back.warm_start(mf, n=5) == kb.warm_start(mf, n=5) and calls == []
    # saved before the table was kept: computed at first use, the same table
    old = saved_without(small_kb, tmp_path / "old", "bandwidth_table")
    assert np.array_equal(zero_shot.bandwidth_table(old), table) and calls == [1]
    # a table of other candidates (another version's) is not taken
    fresh = copy.copy(back)
    fresh._bw_cache = None
    zero_shot.keep_bandwidth_table(fresh, {"candidates": [1, 2], "table": table.tolist()})
    assert fresh._bw_cache is None
    zero_shot.keep_bandwidth_table(fresh, {"candidates": list(zero_shot.BANDWIDTH_CANDIDATES), "table": table[:-1].tolist()})
    assert fresh._bw_cache is None
    # the knowledge's arrays replaced (studies added): the kept table no longer applies
    back.filled = back.filled.copy()
    zero_shot.bandwidth_table(back)
    assert calls == [1, 1]


def test_the_bandwidth_table_is_not_taken_for_arrays_that_reuse_a_freed_ones_address(small_kb, monkeypatch):
    kb = copy.copy(small_kb)
    kb._bw_cache = None
    kb.filled = small_kb.filled.copy()  # held by this knowledge base alone
    table = zero_shot.bandwidth_table(kb)
    calls = []
    real = zero_shot.loo_bandwidth_table
    monkeypatch.setattr(zero_shot, "loo_bandwidth_table", lambda *a: calls.append(1) or real(*a))
    # other knowledge in arrays made after the old ones were dropped: CPython may hand a new
    # array the address (id) of a freed one, so the cache must not key on ids
    values = kb.filled[::-1].tolist()
    kb.filled = None
    kb.filled = np.array(values)
    again = zero_shot.bandwidth_table(kb)
    assert calls == [1]
    truth = np.where(np.isfinite(kb.scores), kb.scores, kb.filled)
    assert np.array_equal(again, real(kb.filled, truth, kb._distances(kb.task_matrix)))
    assert not np.array_equal(again, table)
    # a knowledge base sent to another process (pickled) keeps its table
    back = pickle.loads(pickle.dumps(kb))
    assert np.array_equal(zero_shot.bandwidth_table(back), again) and calls == [1]
