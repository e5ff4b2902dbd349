"""``learn2tune bench knowledge`` and ``bench maml``: a knowledge base held out task by task,
and its timings.

Leave-one-task-out evaluation of a knowledge base on a meta-dataset.

For each held-out task T, a knowledge base is fitted without T and without any task that
shares T's fingerprint. With ``n_folds`` set, tasks are held out in ``n_folds`` groups
instead of one at a time (each knowledge base then also misses T's group-mates: less
training data, never more, so the numbers can only be pessimistic); ``n_folds=None`` is
exact leave-one-task-out.

Reported per held-out task:

* ``regret@1/5/10``: normalized regret of the best of the first 1, 5, 10 warm-start
  configurations, ``(y_max - best) / (y_max - y_median)`` clipped at 0, on T's own table,
  for the meta-learned warm start (``meta``: as ``MetaSampler`` takes it, its later trials
  following T's values, :func:`followed_warm_start`), the same similarity-weighted portfolio
  without the safety net (``kernel``), a portfolio that ignores meta-features (all tasks
  weighted alike), the estimator's defaults (t = 1) and random configurations (expected
  value); with the first configuration of ``meta`` and whether the safety net chose it;
* ``valued@10_<method>``: how many of those ten configurations T's table holds (a pick the
  table lacks counts as no value), and ``complete_table``: whether T's table holds every
  configuration the knowledge base knows. Tables evaluated at large fidelities hold only a
  share of the design, so a warm start whose picks move with the values can lose there on
  missing entries, not on worse picks; the summary also reports regret at 10 on the
  complete tables alone;
* ``spearman_K{5,20}_<model>``: rank correlation on T's unseen configurations after
  observing K random ones, for the adapted MAML surrogate, the same network without
  adaptation, the same network trained from scratch on the K points, and the cross-task
  XGBoost surrogate.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from warmstart import KnowledgeBase, MetaDataset
from warmstart.scores import copula, metric_sign, normalized_regret, spearman
from warmstart.surrogate import encode_configs
from warmstart.warm_follow import next_warm_config

from .folds import holdout_fingerprints, task_folds

logger = logging.getLogger(__name__)


def evaluate_knowledge(
    md: MetaDataset,
    space: str,
    *,
    n_folds: int | str | None = 10,
    ks: tuple[int, ...] = (5, 20),
    repeats: int = 3,
    random_state: int = 0,
    fit_kwargs: dict | None = None,
    progress: Callable[[int, int], None] | None = None,
    only_folds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per held-out task (see the module docstring). ``only_folds``: evaluate
    only these fold indices (for quick comparisons of variants)."""
    md = md.filter(space=space)
    ev = md.evaluations
    folds = task_folds(md, n_folds, seed=random_state)
    rows = []
    for fi, held in enumerate(folds):
        if only_folds is not None and fi not in only_folds:
            continue
        held_fps = holdout_fingerprints(md, held)
        t0 = time.perf_counter()
        kb = KnowledgeBase.fit(md, space, random_state=random_state,
                               exclude_fingerprints=held_fps, **(fit_kwargs or {}))
        fit_s = time.perf_counter() - t0
        sp = kb.space
        mf_all = md.metafeatures()
        sign = metric_sign(kb.metric)
        for tid in held:
            sub = ev[(ev["task_id"] == tid) & (ev["status"] == "ok")]
            if len(sub) < 25:
                continue
            y = sign * sub[kb.metric].to_numpy(np.float64)
            keys = sub["config"].astype(str).tolist()
            table = dict(zip(keys, y))
            y_max, y_ref = float(np.max(y)), float(np.median(y))
            mf = mf_all.loc[tid]
            row: dict = {"task_id": tid, "n_evals": len(y), "kb_fit_seconds": fit_s}
            portfolio = followed_warm_start(kb, mf, table, n=10)
            kernel = kb.warm_start(mf, n=10, k=kb.bandwidth(mf))  # the portfolio without the safety net
            glob = kb.warm_start(None, n=10)
            nov = kb.novelty(mf)
            row.update(first_config=json.dumps(portfolio[0], sort_keys=True), safety_net=bool(nov["safety_net"]),
                       family_quantile=nov["family_quantile"])
            dflt = table.get(json.dumps(kb.space.defaults(), sort_keys=True), np.nan)
            row["regret@1_defaults"] = normalized_regret(dflt, y_max, y_ref) if np.isfinite(dflt) else np.nan
            row["complete_table"] = all(json.dumps(c, sort_keys=True) in table for c in kb.configs)
            for name, configs in (("meta", portfolio), ("kernel", kernel), ("global", glob)):
                vals = [table.get(json.dumps(c, sort_keys=True), np.nan) for c in configs]
                row[f"valued@10_{name}"] = int(np.isfinite(vals[:10]).sum())
                for t in (1, 5, 10):
                    best = np.nanmax(vals[:t]) if np.isfinite(vals[:t]).any() else np.nan
                    row[f"regret@{t}_{name}"] = normalized_regret(best, y_max, y_ref)
            rng = np.random.default_rng(random_state)
            for t in (1, 5, 10):
                sims = [normalized_regret(np.max(rng.choice(y, t, replace=False)), y_max, y_ref) for _ in range(200)]
                row[f"regret@{t}_random"] = float(np.mean(sims))
            configs = [json.loads(k) for k in keys]
            enc = encode_configs(sp, configs)
            v = kb.task_vector(mf)
            x_all = kb.maml_inputs(enc, v)
            for K in ks:
                acc: dict[str, list[float]] = {"maml": [], "no_adapt": [], "scratch": [], "xgb": [], "hybrid": []}
                for r in range(repeats):
                    idx = np.random.default_rng(random_state + 31 * r + K).permutation(len(y))
                    s, q = idx[:K], idx[K:]
                    sur = kb.adapt(mf, [configs[i] for i in s], y[s])
                    acc["hybrid"].append(spearman(sur.predict(enc[q])[0], y[q]))
                    adapted = kb.maml.adapt(x_all[s], y[s])
                    acc["maml"].append(spearman(adapted.predict(x_all[q])[0], y[q]))
                    acc["no_adapt"].append(spearman(kb.maml.adapt(x_all[:0], y[:0]).predict(x_all[q])[0], y[q]))
                    net = train_from_scratch(x_all[s], y[s], x_all.shape[1], kb.maml.cfg, seed=r)
                    import torch

                    with torch.no_grad():
                        pred = net(torch.as_tensor(x_all[q], dtype=torch.float32)).numpy()
                    acc["scratch"].append(spearman(pred, y[q]))
                    xm = kb.cross_task_members(v, enc[q]).mean(axis=0)
                    acc["xgb"].append(spearman(xm, y[q]))
                for name, vals in acc.items():
                    row[f"spearman_K{K}_{name}"] = float(np.nanmean(vals))
            rows.append(row)
        if progress is not None:
            progress(fi + 1, len(folds))
    return pd.DataFrame(rows)


def followed_warm_start(kb: KnowledgeBase, mf: pd.Series, table: dict[str, float], n: int = 10) -> list[dict]:
    """The ``n`` warm-start configurations ``MetaSampler`` takes on a task whose values
    (higher better) are ``table`` (configuration JSON -> value): the fixed portfolio's
    first ones, then each next pick following the values seen so far
    (:func:`warmstart.warm_follow.next_warm_config`; a configuration the table lacks
    counts as not seen)."""
    fixed = kb.warm_start(mf, n=n)
    taken: list[dict] = []
    for i in range(n):
        vals = np.array([table.get(json.dumps(c, sort_keys=True), np.nan) for c in taken])
        nxt = next_warm_config(kb, mf, taken, vals) if i else None
        if nxt is None:
            rest = [c for c in fixed if c not in taken]
            if not rest:
                break
            nxt = rest[0]
        taken.append(nxt)
    return taken


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Median and mean over held-out tasks of every reported column."""
    cols = [c for c in results.columns if c.startswith(("regret@", "spearman_", "valued@"))]
    out = pd.DataFrame({"median": results[cols].median(), "mean": results[cols].mean()})
    if "complete_table" in results:  # picks a partial table lacks count as no value: see the module docstring
        full = results[results["complete_table"].astype(bool)]
        for c in (c for c in cols if c.startswith("regret@10_")):
            out.loc[f"{c} (complete tables)"] = [full[c].median(), full[c].mean()]
        out.loc["tasks whose table holds every known configuration"] = [len(full), np.nan]
    if "first_config" in results:  # counts: in the median column
        out.loc["distinct first configurations (meta)"] = [results["first_config"].nunique(), np.nan]
        out.loc["tasks given the safety start"] = [int(results["safety_net"].sum()), np.nan]
    return out


def train_from_scratch(
    x: np.ndarray, y: np.ndarray, in_dim: int, cfg: Any = None, steps: int = 200,
    seed: int = 0,
) -> Any:
    """The same network trained from a random init on ``(x, copula(y))`` only (baseline)."""
    import torch

    from warmstart.maml import MLP, MAMLConfig
    from warmstart.threads import one_torch_thread

    cfg = cfg or MAMLConfig()
    torch.manual_seed(seed)
    net = MLP(in_dim, cfg.hidden, cfg.layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xs = torch.as_tensor(np.asarray(x, np.float32))
    ys = torch.as_tensor(copula(np.asarray(y, np.float64)).astype(np.float32))
    with one_torch_thread():
        for _ in range(steps):
            opt.zero_grad()
            loss = ((net(xs) - ys) ** 2).mean()
            loss.backward()
            opt.step()
    return net


def timings(kb, repeats: int = 20) -> pd.DataFrame:  # noqa: ANN001
    """Milliseconds of warm_start, and of adapt + predict on 2,000 candidates after 10 and
    50 observations, for a fitted knowledge base (median of ``repeats``)."""
    from warmstart import spaces
    from warmstart.surrogate import encode_configs

    sp = spaces.get_search_space(kb.space_name)
    rng = np.random.default_rng(0)
    mf = pd.Series(dict(zip(kb.feature_names, kb.scaler.grid[50])))
    cands = encode_configs(sp, spaces.sobol_configs(sp, 2048, seed=3)[:2000])
    rows = []
    t = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        kb.warm_start(mf, n=10)
        t.append(time.perf_counter() - t0)
    rows.append({"operation": "warm_start(n=10)", "ms (median)": 1000 * float(np.median(t))})
    for k in (10, 50):
        obs = kb.configs[:k]
        y = rng.random(k)
        t = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            sur = kb.adapt(mf, obs, y)
            sur.predict(cands)
            t.append(time.perf_counter() - t0)
        rows.append({"operation": f"adapt({k} obs) + predict(2000)", "ms (median)": 1000 * float(np.median(t))})
    return pd.DataFrame(rows)


def fit_time(metadata: str, space: str, members: int = 5, iterations: int = 300) -> pd.DataFrame:
    """Seconds to fit a knowledge base (MAML meta-training separately)."""
    from warmstart import KnowledgeBase, MetaDataset

    md = MetaDataset.default() if metadata == "default" else MetaDataset.load(metadata)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kb = KnowledgeBase.fit(md, space, maml={"members": members, "meta_iterations": iterations})
    total = time.perf_counter() - t0
    return pd.DataFrame([
        {"step": "MAML meta-training", "seconds": kb.info["maml_seconds"]},
        {"step": "whole fit (scaler, metric, XGBoost, MAML)", "seconds": total},
    ]), kb
