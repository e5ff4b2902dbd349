"""KnowledgeBase and the MAML surrogate on synthetic task families (fast, controlled)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import MF_NAMES, SPACE
from tuner.bench.knowledge import train_from_scratch
from warmstart import KnowledgeBase, KnowledgeBaseError, spaces, zero_shot
from warmstart.maml import K_SLOPE, MAMLConfig, MAMLEnsemble
from warmstart.scores import copula, spearman
from warmstart.surrogate import encode_configs


@pytest.fixture(scope="module")
def kb(small_kb):
    return small_kb


def _mf(values) -> pd.Series:
    return pd.Series(dict(zip(MF_NAMES, [*values, 2.0][: len(MF_NAMES)])))


def test_copula_normalization():
    z = copula(np.array([0.9, 0.5, 0.7, 0.7]))
    assert z[0] > z[2] == z[3] > z[1]
    np.testing.assert_allclose(z.mean(), 0.0, atol=1e-12)


def test_learned_metric_finds_the_informative_meta_features(kb):
    top2 = set(np.array(kb.feature_names)[np.argsort(-kb.weights)[:2]])
    assert top2 == {"NumberOfInstances", "ClassEntropy"}


def test_warm_start_beats_random_and_ignoring_metafeatures(family, kb):
    md, configs, enc, _ = family
    rng = np.random.default_rng(5)
    sp = spaces.get_search_space(SPACE)
    gains_meta, gains_random = [], []
    for _ in range(10):
        mf = rng.random(len(MF_NAMES))
        centre = np.full(enc.shape[1], 0.5)
        centre[0], centre[1] = 0.2 + 0.6 * mf[0], 0.2 + 0.6 * mf[1]

        def score(c, centre=centre):
            e = encode_configs(sp, [c])[0]
            return -((e - centre) ** 2 * np.linspace(3, 1, enc.shape[1])).sum()

        ws = kb.warm_start(_mf(mf), n=3)
        assert len(ws) == 3 and len({json.dumps(c, sort_keys=True) for c in ws}) == 3
        gains_meta.append(max(score(c) for c in ws))
        gains_random.append(np.mean([max(score(configs[i]) for i in rng.choice(len(configs), 3)) for _ in range(50)]))
    assert np.mean(gains_meta) > np.mean(gains_random)


def test_bandwidth_is_chosen_by_local_cross_validation(family, kb):
    """Where meta-features locate each task's optimum (the synthetic family), the warm
    start's kernel is sharp; with the meta-features shuffled across tasks (they say nothing
    any more), it is broad: the held-out known tasks tell which works."""
    from warmstart.portfolio import BANDWIDTH_CANDIDATES
    from warmstart.portfolio import kernel_weights as _kernel

    md = family[0]
    rng = np.random.default_rng(3)
    queries = [_mf(rng.random(len(MF_NAMES))) for _ in range(8)]

    def chosen(base):
        return [base.bandwidth(q) for q in queries]

    sharp = chosen(kb)
    assert np.median(sharp) <= 5 and 0 not in sharp, sharp
    tasks = md.tasks.copy()
    cols = [c for c in tasks.columns if c.startswith("mf:")]
    tasks[cols] = tasks[cols].to_numpy()[rng.permutation(len(tasks))]
    from warmstart import MetaDataset

    shuffled = KnowledgeBase.fit(MetaDataset(tasks, md.evaluations), SPACE, random_state=0,
                                 maml={"members": 1, "meta_iterations": 5}, n_xgb=1)
    broad = chosen(shuffled)
    assert all(k == 0 or k >= 10 for k in broad), broad
    # the table is per knowledge base, cached, and every candidate is a valid kernel
    t = zero_shot.bandwidth_table(kb)
    assert t.shape == (len(kb.task_ids), len(BANDWIDTH_CANDIDATES)) and (t >= 0).all()
    assert zero_shot.bandwidth_table(kb) is t
    for k in BANDWIDTH_CANDIDATES:
        w = _kernel(np.array([0.3, 0.1, 0.5]), k)
        assert w.sum() == pytest.approx(1.0) and w[1] == w.max()
    # an explicit k overrides the choice; a bad one is refused by name
    q = queries[0]
    assert kb.warm_start(q, n=3, k=0, first="portfolio") == kb.warm_start(None, n=3)
    for bad in (-1, 2.5, "5"):
        with pytest.raises(ValueError, match="k must be None"):
            kb.warm_start(q, n=3, k=bad)


def test_the_knowledge_reads_only_scale_free_meta_features(family):
    """A column's units (metres or centimetres) must not move the warm start: XGBoost and
    the random forest are invariant to them, the raw moments of the columns are not. Even
    where such a meta-feature varies between the known tasks and tracks their optima, the
    knowledge base leaves it out, and a dataset in other units gets the same task vector
    and the same warm start."""
    import metafeatures

    md = family[0]
    tasks = md.tasks.copy()
    # scale-dependent by definition, and here it even tracks where each task's optimum is
    tasks["mf:MeanMeansOfNumericAtts"] = 1000.0 * tasks["mf:NumberOfInstances"]
    tasks["mf:MaxStdDevOfNumericAtts"] = np.linspace(1.0, 50.0, len(tasks))
    kb = KnowledgeBase.fit(type(md)(tasks, md.evaluations), SPACE, random_state=0,
                           maml={"members": 1, "meta_iterations": 20})
    flags = metafeatures.list_features().set_index("name")["scale_free"]
    assert kb.feature_names and all(flags[n] for n in kb.feature_names)
    assert "NumberOfInstances" in kb.feature_names and "MeanMeansOfNumericAtts" not in kb.feature_names
    mf = _mf([0.3, 0.6, 0.5, 0.5, 0.5, 0.5])
    metres = pd.concat([mf, pd.Series({"MeanMeansOfNumericAtts": 300.0, "MaxStdDevOfNumericAtts": 4.0})])
    centimetres = pd.concat([mf, pd.Series({"MeanMeansOfNumericAtts": 30000.0, "MaxStdDevOfNumericAtts": 400.0})])
    np.testing.assert_array_equal(kb.task_vector(metres), kb.task_vector(centimetres))
    assert kb.warm_start(metres, n=5) == kb.warm_start(centimetres, n=5)


def test_similar_tasks(kb, family):
    md = family[0]
    mf = md.metafeatures().iloc[3]
    sim = kb.similar_tasks(mf, k=3)
    assert list(sim.columns) == ["task_id", "name", "distance"]
    assert sim["task_id"].iloc[0] == md.metafeatures().index[3]
    assert sim["distance"].is_monotonic_increasing


def test_adapt_predict_and_guard(kb, family):
    md, configs, enc, _ = family
    mf = md.metafeatures().iloc[0]
    y = md.evaluations[md.evaluations.task_id == "task0"]["roc_auc"].to_numpy()
    sur = kb.adapt(mf, configs[:20], y[:20])
    mean, std = sur.predict(configs[20:])
    assert mean.shape == std.shape == (len(configs) - 20,)
    assert (std > 0).all()
    assert spearman(mean, y[20:]) > 0.5
    # the cached prediction at the observations equals a fresh one
    np.testing.assert_allclose(sur.predict_observed(), sur.predict(configs[:20])[0], rtol=1e-6, atol=1e-6)
    assert len(kb.adapt(mf, [], []).predict_observed()) == 0
    assert len(kb.adapt(mf, configs[:20], y[:20], steps=0).predict(configs[20:])[0]) == len(configs) - 20
    with pytest.raises(ValueError, match="steps must be None or an int >= 0"):
        kb.adapt(mf, configs[:20], y[:20], steps=-1)
    # scores that contradict the prior: the guard lowers its weight and says why
    bad = kb.adapt(mf, configs[:20], -y[:20])
    assert bad.prior_weight < 0.5 and "ranks the 20 observed trials poorly" in bad.diagnostics["reason"]
    assert bad.prior_weight < sur.prior_weight
    with pytest.raises(ValueError, match="one score per config"):
        kb.adapt(mf, configs[:3], [0.1])
    with pytest.raises(ValueError, match="metafeatures lacks"):
        kb.warm_start(pd.Series({"NumberOfInstances": 1.0}))


def test_save_load_round_trip_and_safety(kb, family, tmp_path):
    md, configs = family[0], family[1]
    kb.save(tmp_path / "kb")
    back = KnowledgeBase.load(tmp_path / "kb")
    mf = md.metafeatures().iloc[1]
    assert back.warm_start(mf, 4) == kb.warm_start(mf, 4)
    y = np.linspace(0, 1, 10)
    np.testing.assert_allclose(back.adapt(mf, configs[:10], y).predict(configs[10:20])[0],
                               kb.adapt(mf, configs[:10], y).predict(configs[10:20])[0], rtol=1e-5)
    # a corrupt file is named
    path = tmp_path / "kb"
    (path / "scores.parquet").write_bytes(b"garbage")
    with pytest.raises(KnowledgeBaseError, match="scores.parquet"):
        KnowledgeBase.load(path)


def test_a_save_replaces_an_earlier_folder_whole_and_an_interrupted_one_keeps_it(kb, tmp_path, monkeypatch):
    """Saving file by file over an earlier knowledge base left a mix of both when stopped
    half-way (neither loadable), and files of the earlier one stayed behind."""
    import warmstart.kb_io as kb_io

    folder = tmp_path / "kb"
    kb.save(folder)
    (folder / "xgb_99.json").write_text("{}")  # a file the new knowledge base does not have
    kb.save(folder)
    assert not (folder / "xgb_99.json").exists()
    before = {f.name: f.read_bytes() for f in folder.iterdir()}

    def stopped(kb, path):  # noqa: ANN001, ANN202
        (path / "kb.json").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(kb_io, "_write", stopped)
    with pytest.raises(KeyboardInterrupt):
        kb.save(folder)
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb"]  # no temporary folder left
    KnowledgeBase.load(folder)
    # what the user keeps is never mixed into: a file, or a folder of other things
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("a,b")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="is a file"):
        kb.save(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="other files and no kb.json"):
        kb.save(tmp_path / "mine")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["data.csv"]


class _Evil:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def _refresh_checksums(folder):
    """What a careful attacker (or another tool) does after editing a folder."""
    from warmstart.kb_io import CHECKSUMS, _sha256

    names = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != CHECKSUMS)
    (folder / CHECKSUMS).write_text(json.dumps({n: _sha256(folder / n) for n in names}))


def saved_without(kb, folder, key):
    """``kb`` saved as a version without ``key`` in kb.json would have saved it, then loaded."""
    kb.save(folder)
    meta = json.loads((folder / "kb.json").read_text())
    meta.pop(key)
    (folder / "kb.json").write_text(json.dumps(meta))
    _refresh_checksums(folder)
    return KnowledgeBase.load(folder)


def test_loading_never_runs_code(kb, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    kb.save(tmp_path / "kb")
    (tmp_path / "kb" / "maml.pt").write_bytes(pickle.dumps({"x": _Evil()}))
    _refresh_checksums(tmp_path / "kb")
    with pytest.raises(KnowledgeBaseError, match="maml.pt") as info:
        KnowledgeBase.load(tmp_path / "kb")
    assert not (tmp_path / "PWNED").exists()
    # torch's advice to load with weights_only=False is not passed on to the user
    assert "weights_only" not in str(info.value)


def test_every_file_is_verified_kb_json_included(kb, tmp_path):
    kb.save(tmp_path / "kb")
    folder = tmp_path / "kb"
    meta = json.loads((folder / "kb.json").read_text())
    meta["weights"] = [0.0] * len(meta["weights"])  # an edit that would load fine
    (folder / "kb.json").write_text(json.dumps(meta))
    with pytest.raises(KnowledgeBaseError, match="kb.json.*corrupt"):
        KnowledgeBase.load(folder)
    kb.save(folder)
    (folder / "checksums.json").unlink()  # the checksum list removed
    with pytest.raises(KnowledgeBaseError, match="no checksums"):
        KnowledgeBase.load(folder)
    kb.save(folder)
    sums = json.loads((folder / "checksums.json").read_text())
    del sums["scores.parquet"]  # one entry removed
    (folder / "checksums.json").write_text(json.dumps(sums))
    with pytest.raises(KnowledgeBaseError, match="does not cover scores.parquet"):
        KnowledgeBase.load(folder)


def test_mismatched_space_signature_and_version_are_refused(kb, tmp_path):
    kb.save(tmp_path / "kb")
    meta_path = tmp_path / "kb" / "kb.json"
    meta = json.loads(meta_path.read_text())
    meta["space_signature"] = "000000000000"
    meta_path.write_text(json.dumps(meta))
    _refresh_checksums(tmp_path / "kb")
    with pytest.raises(KnowledgeBaseError, match="signature"):
        KnowledgeBase.load(tmp_path / "kb")
    meta["format"] = 99
    meta_path.write_text(json.dumps(meta))
    _refresh_checksums(tmp_path / "kb")
    with pytest.raises(KnowledgeBaseError, match="format"):
        KnowledgeBase.load(tmp_path / "kb")
    meta["format"] = 2
    meta["space_signature"] = kb.space_signature
    meta["feature_names"] = ["not.a.feature"]
    meta_path.write_text(json.dumps(meta))
    _refresh_checksums(tmp_path / "kb")
    with pytest.raises(KnowledgeBaseError, match="other feature list"):
        KnowledgeBase.load(tmp_path / "kb")


def test_fit_errors(family):
    md = family[0]
    with pytest.raises(ValueError, match="no evaluations of space 'svc'"):
        KnowledgeBase.fit(md, "svc")
    with pytest.raises(ValueError, match="unknown space"):
        KnowledgeBase.fit(md, "nope")


# ----------------------------------------------------------------- MAML on a task family
def _smooth_family(n: int, rng: np.random.Generator, d: int = 6, n_points: int = 128):
    """Randomly shifted and scaled smooth functions sharing a common structure."""
    base_c = np.linspace(0.25, 0.75, d)
    base_a = np.linspace(0.5, 3.0, d)
    tasks = []
    for _ in range(n):
        c = base_c + rng.normal(scale=0.15, size=d)
        a = base_a * rng.uniform(0.5, 1.5, d)
        scale, shift, phase = rng.uniform(0.1, 10), rng.normal(scale=5), rng.uniform(0, 6)
        x = rng.random((n_points, d))
        y = scale * (-(a * (x - c) ** 2).sum(1) + 0.3 * np.sin(6 * x[:, 0] + phase)) + shift
        tasks.append((x, y))
    return tasks


@pytest.mark.slow
def test_maml_adaptation_beats_scratch_and_no_adaptation_on_a_task_family():
    # 60 held-out tasks x 3 draws of the K observations: the effect at K = 5 is a few
    # hundredths of Spearman, so fewer draws would test the noise, not the method
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train = _smooth_family(100, rng)
    test = _smooth_family(60, rng, n_points=300)
    cfg = MAMLConfig(members=2, meta_iterations=200)  # the shipped kind: context adaptation
    ens = MAMLEnsemble(6, cfg, seed=0).meta_train(train)
    for K in (5, 20):
        res = {"adapted": [], "scratch": [], "no_adapt": []}
        for t, (x, y) in enumerate(test):
            for draw in range(3):
                idx = rng.permutation(len(y))
                s, q = idx[:K], idx[K:]
                res["adapted"].append(spearman(ens.adapt(x[s], y[s]).predict(x[q])[0], y[q]))
                res["no_adapt"].append(spearman(ens.adapt(x[:0], y[:0]).predict(x[q])[0], y[q]))
                if draw == 0 and t < 20:  # far behind: 20 tasks show it
                    net = train_from_scratch(x[s], y[s], 6, cfg)
                    with torch.no_grad():
                        pred = net(torch.as_tensor(x[q], dtype=torch.float32)).numpy()
                    res["scratch"].append(spearman(pred, y[q]))
        # adapted predictions always rank (never constant): no NaN to skip
        assert np.isfinite(res["adapted"]).all()
        means = {k: float(np.mean(v)) for k, v in res.items()}
        assert means["adapted"] > means["scratch"], (K, means)
        assert means["adapted"] > means["no_adapt"], (K, means)


def test_maml_config_is_validated():
    with pytest.raises(ValueError, match="adapt must be"):
        MAMLConfig(adapt="weights")
    with pytest.raises(ValueError, match="context_dim >= 1"):
        MAMLConfig(context_dim=0, adapt="context")
    with pytest.raises(ValueError, match="inner_loss"):
        MAMLConfig(inner_loss="mae")
    MAMLConfig(context_dim=0, adapt="all")  # plain MAML, no context
    # zero members fitted five (the command line read 0 as "not given"); now refused
    for bad in ({"members": 0}, {"meta_iterations": -1}, {"members": 2.5}, {"inner_lr": 0.0},
                {"k_min": 5, "k_max": 3}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            MAMLConfig(**bad)
    MAMLConfig(members=np.int64(2), meta_lr=np.float32(1e-3))  # numpy numbers are numbers


def test_context_adaptation_changes_only_the_context():
    ens = MAMLEnsemble(5, MAMLConfig(members=2, context_dim=3, adapt="context"), seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 5)), rng.random(12)
    m = ens.members[0]
    xs, ys = torch.as_tensor(x.astype(np.float32)), torch.as_tensor(copula(y).astype(np.float32))
    p = m.adapt_params(m.params, m.log_lr, xs, ys, 3, first_order=True)
    assert not torch.equal(p["context"], m.params["context"])  # the context moved
    for k in m.params:
        if k != "context":
            assert torch.equal(p[k], m.params[k])  # the weights did not
    # batched inference: the first layer's input weights and every later layer unchanged
    # (the adapted context is folded into the first layer's bias)
    adapted, before = ens.adapt(x, y), ens._stacked()
    assert torch.equal(adapted._params[0], before[1][:, :, :-3])
    assert not torch.allclose(adapted._params[1], before[2])
    for a, b in zip(adapted._params[2:], before[3:]):
        assert torch.equal(a, b)


def test_knowledge_saved_before_the_context_still_loads():
    # such a state has no context tensor and its config lacks the new fields
    old = MAMLEnsemble(7, MAMLConfig(members=2, context_dim=0, adapt="all"), seed=0)
    cfg = {k: v for k, v in old.config_dict().items() if k not in ("context_dim", "adapt")}
    back = MAMLEnsemble.from_state(7, cfg, old.state_dict())
    assert back.cfg.adapt == "all" and back.cfg.context_dim == 0
    xq = np.random.default_rng(0).random((4, 7))
    np.testing.assert_allclose(back.adapt(xq[:0], np.zeros(0)).predict(xq)[0],
                               old.adapt(xq[:0], np.zeros(0)).predict(xq)[0])


def test_maml_second_and_first_order_both_train():
    rng = np.random.default_rng(1)
    train = _smooth_family(20, rng)
    for first_order in (False, True):
        cfg = MAMLConfig(members=1, meta_iterations=30, first_order=first_order)
        ens = MAMLEnsemble(6, cfg, seed=0).meta_train(train)
        assert np.isfinite(ens.history[0])
        clone = ens.clone()
        x, y = train[0]
        clone.adapt(x[:10], y[:10])
        for k, v in ens.members[0].params.items():
            assert torch.equal(v, clone.members[0].params[k])  # adapt never mutates


@pytest.mark.parametrize("adapt", ["context", "all"])
def test_batched_member_adaptation_equals_each_member_adapted_alone(adapt):
    # inference adapts all members at once on stacked parameters; it must compute exactly
    # what each member's own torch.func inner loop computes
    ens = MAMLEnsemble(7, MAMLConfig(members=3, inner_steps=4, adapt=adapt), seed=1)
    for i, m in enumerate(ens.members):  # a learned dependence of the step on K
        m.log_lr[K_SLOPE] = torch.tensor(0.3 * (i - 1))
    rng = np.random.default_rng(0)
    x, y, xq = rng.random((20, 7)), rng.random(20), rng.random((30, 7))
    adapted = ens.adapt(x, y)
    xs = torch.as_tensor(x.astype(np.float32))
    ys = torch.as_tensor(copula(y).astype(np.float32))
    raw = (adapted.predict_members(xq) - adapted._b[:, None]) / adapted._a[:, None]
    for i, m in enumerate(ens.members):
        p = m.adapt_params(m.params, m.log_lr, xs, ys, 4, first_order=True)
        ref = m._f(p, torch.as_tensor(xq.astype(np.float32))).detach().numpy()
        np.testing.assert_allclose(raw[i], ref, atol=1e-4)
    # no observations: the meta-trained members, unchanged and unscaled
    plain = ens.adapt(x[:0], y[:0]).predict_members(xq)
    ref0 = ens.members[0]._f(ens.members[0].params, torch.as_tensor(xq.astype(np.float32)))
    np.testing.assert_allclose(plain[0], ref0.detach().numpy(), atol=1e-6)


def test_quantile_scaler_matches_per_column_interpolation():
    from warmstart.scaling import QuantileScaler

    rng = np.random.default_rng(0)
    train = rng.random((60, 12))
    train[:, :5] = rng.integers(0, 3, (60, 5))  # plateaus of tied grid values
    train[:, 5] = 1.0  # a constant column
    scaler = QuantileScaler.fit(pd.DataFrame(train, columns=[f"f{i}" for i in range(12)]))
    x = np.vstack([rng.random((40, 12)) * 1.4 - 0.2, rng.integers(-1, 4, (40, 12)), train[:5]])
    qs = np.linspace(0, 1, scaler.grid.shape[0])
    expected = np.empty_like(x)
    for j in range(x.shape[1]):
        g = scaler.grid[:, j]
        lo = np.interp(x[:, j], g, qs, left=0.0, right=1.0)
        hi = 1.0 - np.interp(-x[:, j], -g[::-1], qs, left=0.0, right=1.0)
        expected[:, j] = 0.5 * (lo + hi)
    np.testing.assert_allclose(scaler.transform_array(x), expected, atol=1e-12)
    assert np.isnan(scaler.transform_array(np.full((1, 12), np.nan))).all()


def test_leave_tasks_out_evaluation_on_chosen_folds(family):
    from tuner.bench.knowledge import evaluate_knowledge, summarize, task_folds

    md = family[0]
    res = evaluate_knowledge(md, SPACE, n_folds=4, only_folds=[1], repeats=1,
                             fit_kwargs={"maml": {"members": 1, "meta_iterations": 30}, "n_xgb": 1})
    # only the chosen fold's tasks, each evaluated by a knowledge base that never saw it
    assert sorted(res["task_id"]) == sorted(task_folds(md, 4, seed=0)[1])
    # the optimum moves with the meta-features: meta-learned warm starts beat random ones
    assert res["regret@5_meta"].mean() < res["regret@5_random"].mean()
    assert np.isfinite(res[[c for c in res if c.startswith("spearman_")]].to_numpy()).all()
    summary = summarize(res)
    assert {"median", "mean"} <= set(summary.columns)
    # the safety net and the first configurations are reported
    assert summary.loc["distinct first configurations (meta)", "median"] == res["first_config"].nunique() >= 1
    assert summary.loc["tasks given the safety start", "median"] == res["safety_net"].sum()
    unsafe = ~res["safety_net"]
    assert (res.loc[unsafe, "regret@1_meta"] == res.loc[unsafe, "regret@1_kernel"]).all()
    # a table that holds every known configuration values every pick; the summary says how many
    full = res[res["complete_table"]]
    assert len(full) >= 1 and (full[["valued@10_meta", "valued@10_kernel", "valued@10_global"]] == 10).all().all()
    assert summary.loc["tasks whose table holds every known configuration", "median"] == len(full)
    assert summary.loc["regret@10_meta (complete tables)", "mean"] == pytest.approx(full["regret@10_meta"].mean())


def test_pairwise_spearman_equals_the_pairwise_loop_with_gaps_ties_and_constants():
    from warmstart.scores import pairwise_spearman

    rng = np.random.default_rng(3)
    s = np.round(rng.normal(size=(30, 25)), 1)  # rounding makes ties
    s[rng.random(s.shape) < 0.25] = np.nan  # many different evaluated-column patterns
    s[:8] = s[0]  # a block of tasks with the same pattern
    s[5, np.isfinite(s[5])] = 0.7  # a constant row
    s[9, 12:] = np.nan  # a row sharing few columns with the others
    rho = pairwise_spearman(s, min_shared=6)
    assert np.allclose(rho, rho.T, equal_nan=True)
    for i in range(len(s)):
        for j in range(len(s)):
            both = np.isfinite(s[i]) & np.isfinite(s[j])
            want = spearman(s[i, both], s[j, both]) if both.sum() >= 6 else np.nan
            assert np.isnan(rho[i, j]) == np.isnan(want), (i, j)
            if np.isfinite(want):
                assert rho[i, j] == pytest.approx(want, abs=1e-12)
    assert np.isnan(rho[5]).all() and np.isfinite(rho[0, 1:5]).all()


def test_fill_gaps_predicts_every_gap_or_only_candidate_columns_beyond_the_budget():
    from warmstart.cross_task import fill_gaps

    class Mean:  # a stand-in member: predicts the first config feature
        def predict(self, X):
            return X[:, -1]

    rng = np.random.default_rng(0)
    n, m = 6, 40
    scores = np.full((n, m), np.nan)
    for i in range(n):  # every task evaluated its own 8 configurations (as studies do)
        scores[i, i * 6:i * 6 + 8] = rng.normal(size=8)
    enc = np.arange(m, dtype=float)[:, None] / 100
    tm = np.zeros((n, 2))
    full = fill_gaps([Mean()], tm, scores, enc)
    gaps = ~np.isfinite(scores)
    assert np.isfinite(full).all() and np.array_equal(full[~gaps], scores[~gaps])
    assert np.allclose(full[gaps], np.broadcast_to(enc[:, 0], (n, m))[gaps])
    part = fill_gaps([Mean()], tm, scores, enc, budget=10)
    top = {int(j) for i in range(n) for j in np.argsort(-np.nan_to_num(scores[i], nan=-np.inf))[:5]}
    assert np.array_equal(part[~gaps], scores[~gaps]) and np.isfinite(part).all()
    for j in range(m):
        col = gaps[:, j]
        if j in top:  # a candidate: predicted where the task lacks it
            assert np.allclose(part[col, j], enc[j, 0])
        else:  # elsewhere: the task's worst known score
            assert np.allclose(part[col, j], np.nanmin(scores[col], axis=1))


def test_warm_start_begins_with_the_first_pick_for_this_dataset_then_the_portfolio(kb):
    from warmstart.portfolio import greedy_portfolio, kernel_weights

    rng = np.random.default_rng(11)
    firsts = set()
    for _ in range(8):
        mf = _mf(rng.random(len(MF_NAMES)))
        ws = kb.warm_start(mf, n=4)
        j = zero_shot.first_pick(kb, kb.task_vector(mf))  # the gain members' argmax
        assert kb.gain_models and ws[0] == kb.configs[j]
        firsts.add(j)
        # the rest: the kernel portfolio continued from that pick
        d = kb.distances(mf)
        rest = greedy_portfolio(kb.filled, kernel_weights(d, kb.bandwidth(mf)), 4, start=[j])
        assert ws == [kb.configs[i] for i in rest] and len({json.dumps(c) for c in ws}) == 4
        # first="portfolio": the kernel portfolio alone
        own = greedy_portfolio(kb.filled, kernel_weights(d, kb.bandwidth(mf)), 4)
        assert kb.warm_start(mf, n=4, first="portfolio") == [kb.configs[i] for i in own]
    assert len(firsts) > 1  # datasets that differ get different first configurations
    with pytest.raises(ValueError, match="first must be"):
        kb.warm_start(mf, first="xgboost")


def test_portfolio_ties_go_to_the_most_robust_configuration_not_the_first_column():
    """Once a configuration good everywhere is chosen, every task's own best reduces the
    regret equally (knowledge of studies without meta-features): the tie goes to the column
    with the best weighted score, wherever it sits in the column order."""
    from warmstart.portfolio import greedy_portfolio

    # column 0: good everywhere; columns 1-3: each one task's best, else poor or fair
    S = np.array([[2.5, 3.0, 0.0, 0.0],
                  [2.5, 0.0, 3.0, 1.6],
                  [2.5, 1.0, 1.5, 3.0]])
    w = np.full(3, 1 / 3)
    assert greedy_portfolio(S, w, 2) == [0, 3]  # 1, 2, 3 tie; 3 scores best on average
    assert greedy_portfolio(S[:, [0, 3, 2, 1]], w, 2) == [0, 1]  # the same column, moved
    S[0, 2] = 0.5  # now column 2 is the most robust of the three
    assert greedy_portfolio(S, w, 2) == [0, 2]


def test_weighted_l1_is_the_weighted_sum_of_absolute_differences():
    from warmstart.similarity import weighted_l1

    rng = np.random.default_rng(0)
    a, b = rng.random((5, 7)), rng.random((4, 7))
    w = np.array([0.0, 0.3, 0.0, 0.2, 0.0, 0.5, 0.0])  # sparse, as learned weights are
    brute = np.array([[sum(w[f] * abs(x[f] - y[f]) for f in range(7)) for y in b] for x in a])
    np.testing.assert_allclose(weighted_l1(a, b, w), brute, rtol=1e-12)
    assert weighted_l1(a, b, np.zeros(7)).shape == (5, 4) and not weighted_l1(a, b, np.zeros(7)).any()
