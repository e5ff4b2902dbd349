"""``KnowledgeBase``: what is learned from a meta-dataset for one search space.

Scores of different tasks live on different scales, so everything here learns on
**per-task Gaussian-copula-normalized scores** (``Phi^-1`` of mid-ranks, see
:func:`warmstart._common.copula`): only the order of a task's configurations matters.

Three families of meta-learning:

1. **Metric-based.** Meta-features are scaled to [0, 1] by their empirical distribution
   over the training tasks (a min-max scaling of ranks, robust to heavy tails), and task
   distance is a weighted L1 distance. The weights are *learned*: non-negative least
   squares so that the weighted distance between two tasks predicts how differently they
   rank the configurations (``1 - Spearman`` of their scores on shared configurations).
   The **zero-shot portfolio** for a new task is built greedily, each step adding the
   configuration that most reduces the similarity-weighted regret over the known tasks
   (a kernel ``exp(-d / d_k)``, ``d_k`` the distance to the k-th nearest task: near tasks
   dominate, far ones still break ties; a hard k-nearest cut gave worse portfolios after
   5-10 trials in leave-tasks-out runs, see BENCHMARKS.md).
2. **Cross-task surrogate.** An ensemble of XGBoost regressors on (scaled meta-features,
   encoded config) -> normalized score; bootstrap over tasks gives the spread.
3. **Optimization-based.** The torch MAML surrogate (:mod:`warmstart.maml`) adapted in a
   few gradient steps to the study's observed trials (by default only its learned task
   context moves, CAVIA-style: see that module).

**Negative-transfer guard.** :meth:`KnowledgeBase.adapt` measures how well the prior
(the meta-trained network before adaptation) ranks the observed trials, and how far the
task is from every known task; when the prior disagrees with the observations or the task
is out of distribution, the prior's weight drops, the surrogate's spread widens, and the
reason is logged and returned in ``surrogate.diagnostics``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from ._common import copula, encode_configs, order_keeping_affine, spearman
from .evaluate import PRIMARY_METRIC
from .maml import MAMLConfig, MAMLEnsemble
from .store import MetaDataset, atomic_write_parquet, atomic_write_text

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MIN_EVALS = 10


#: candidate ``k`` of the warm start's kernel bandwidth (distance to the k-th nearest known
#: task; 0 = every task alike), chosen per query by local cross-validation
BANDWIDTH_CANDIDATES: tuple[int, ...] = (2, 3, 5, 10, 20, 40, 0)
#: the kernel that decides which known tasks are "near" when choosing the bandwidth
DEFAULT_BANDWIDTH_K = 10


def _kernel(d: np.ndarray, k: int) -> np.ndarray:
    """Normalized weights exp(-(d - d_min) / tau), tau = distance to the k-th nearest
    (the farthest when k exceeds the tasks); k = 0: every task alike."""
    if k == 0 or len(d) == 0:
        return np.full(len(d), 1.0 / max(len(d), 1))
    tau = max(float(np.sort(d)[max(1, min(k, len(d))) - 1]), 1e-9)
    w = np.exp(-(d - d.min()) / tau)
    return w / w.sum()


def _greedy_portfolio(S: np.ndarray, w: np.ndarray, n: int) -> list[int]:
    """Columns of S (tasks x configs, higher better) chosen greedily: each step adds the
    one that most reduces the w-weighted regret of the best chosen so far."""
    best = S.max(axis=1)
    chosen: list[int] = []
    current = np.full(len(S), -np.inf)
    for _ in range(min(n, S.shape[1])):
        regret = (w[:, None] * (best[:, None] - np.maximum(S, current[:, None]))).sum(axis=0)
        regret[chosen] = np.inf
        j = int(np.argmin(regret))
        chosen.append(j)
        current = np.maximum(current, S[:, j])
    return chosen


class KnowledgeBaseError(ValueError):
    """A knowledge-base folder is corrupt, incomplete or does not match this installation."""


# ----------------------------------------------------------------------------- scaler
class QuantileScaler:
    """Maps each meta-feature to [0, 1] by its empirical CDF over the training tasks."""

    def __init__(self, names: list[str], grid: np.ndarray) -> None:
        self.names = names
        self.grid = grid  # (n_quantiles, n_features), column-wise sorted

    @classmethod
    def fit(cls, frame: pd.DataFrame, n_quantiles: int = 101) -> QuantileScaler:
        qs = np.linspace(0, 1, n_quantiles)
        grid = np.quantile(frame.to_numpy(np.float64), qs, axis=0)
        return cls(list(frame.columns), grid)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.transform_array(frame[self.names].to_numpy(np.float64))

    def transform_array(self, x: np.ndarray) -> np.ndarray:
        """``x`` is ``(n, n_features)`` in :attr:`names` order. A value on a plateau of
        repeated grid values maps to the plateau's mid-point; NaN stays NaN."""
        qs = np.linspace(0, 1, self.grid.shape[0])
        lo = _interp_columns(x, self.grid, qs)
        hi = 1.0 - _interp_columns(-x, -self.grid[::-1], qs)
        return 0.5 * (lo + hi)


def _interp_columns(x: np.ndarray, grid: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.interp(x[:, j], grid[:, j], qs, left=0, right=1)`` for every column ``j`` at
    once (``grid`` column-wise ascending, ties allowed)."""
    n_q = grid.shape[0]
    j = (grid[None, :, :] <= x[:, None, :]).sum(axis=1) - 1  # last grid index <= x
    inner = (j >= 0) & (j < n_q - 1)
    jc = np.clip(j, 0, n_q - 2)
    cols = np.arange(grid.shape[1])[None, :]
    g0, g1 = grid[jc, cols], grid[jc + 1, cols]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(inner, (x - g0) / np.where(g1 > g0, g1 - g0, 1.0), 0.0)
    out = np.where(j < 0, 0.0, np.where(j >= n_q - 1, 1.0, qs[jc] + frac * (qs[jc + 1] - qs[jc])))
    return np.where(np.isnan(x), np.nan, out)


# ----------------------------------------------------------------------------- surrogate
@dataclass
class Surrogate:
    """A surrogate adapted to one study: ``predict(configs) -> (mean, std)`` on the scale
    of the observed scores' copula (so the best observed value is comparable)."""

    kb: KnowledgeBase
    adapted: Any
    task_vector: np.ndarray
    diagnostics: dict = field(default_factory=dict)

    @property
    def prior_weight(self) -> float:
        """1 when the meta-knowledge is trusted, towards 0 when the guard distrusts it."""
        return float(self.diagnostics.get("prior_weight", 1.0))

    xgb_affine: list = field(default_factory=list)
    #: (MAML inputs, raw cross-task predictions) at the observations adapted to, kept so
    #: predictions there need not be recomputed (raw is None when not computed)
    observed: tuple = field(default=(None, None), repr=False)

    def predict_members(self, configs: Sequence[Mapping[str, Any]] | np.ndarray) -> np.ndarray:
        """Per-member predictions: the adapted MAML members, then the cross-task XGBoost
        members mapped onto the observed scale by a least-squares affine fit."""
        enc = configs if isinstance(configs, np.ndarray) else encode_configs(self.kb._space(), configs)
        x = self.kb._maml_inputs(enc, self.task_vector)
        members = [self.adapted.predict_members(x)]
        if self.kb.xgb_models and self.xgb_affine:
            X = self.kb._xgb_features(np.repeat(self.task_vector[None, :], len(enc), axis=0), enc)
            raw = np.stack([m.predict(X) for m in self.kb.xgb_models]).astype(np.float64)
            members.append(np.stack([a * r + b for (a, b), r in zip(self.xgb_affine, raw)]))
        return np.vstack(members)

    def predict_observed(self) -> np.ndarray:
        """Mean prediction at the observations it was adapted to (equal to ``predict`` on
        them, reusing the cross-task predictions computed during adaptation)."""
        x, raw = self.observed
        if x is None or len(x) == 0:
            return np.zeros(0)
        members = [self.adapted.predict_members(x)]
        if self.kb.xgb_models and self.xgb_affine:
            if raw is None:
                enc = x[:, : x.shape[1] - len(self.kb.embed_idx)]
                X = self.kb._xgb_features(np.repeat(self.task_vector[None, :], len(enc), axis=0), enc)
                raw = np.stack([m.predict(X) for m in self.kb.xgb_models]).astype(np.float64)
            members.append(np.stack([a * r + b for (a, b), r in zip(self.xgb_affine, raw)]))
        return np.vstack(members).mean(axis=0)

    def predict(self, configs: Sequence[Mapping[str, Any]] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the normalized score of each config."""
        preds = self.predict_members(configs)
        mean, std = preds.mean(axis=0), preds.std(axis=0)
        # distrusted prior: widen the spread so acquisition explores
        std = std + (1.0 - self.prior_weight) + 0.05
        return mean, std


# ----------------------------------------------------------------------------- KB
class KnowledgeBase:
    """Meta-knowledge for one search space (see the module docstring).

    Build with :meth:`fit`, :meth:`load` or :meth:`default`; the constructor is internal.
    """

    def __init__(self) -> None:
        self.space_name: str = ""
        self.space_signature: str = ""
        self.task_type: str = ""
        self.metric: str = ""
        self.feature_names: list[str] = []
        self.scaler: QuantileScaler | None = None
        self.weights: np.ndarray = np.zeros(0)
        self.task_ids: list[str] = []
        self.task_names: list[str] = []
        self.fingerprints: list[str] = []
        self.task_matrix: np.ndarray = np.zeros((0, 0))  # scaled meta-features per task
        self.configs: list[dict] = []  # the config grid
        self.scores: np.ndarray = np.zeros((0, 0))  # (tasks, configs) copula scores, NaN = not evaluated
        self.filled: np.ndarray = np.zeros((0, 0))  # scores with gaps filled by the XGB surrogate
        self.xgb_models: list[Any] = []
        self.embed_idx: np.ndarray = np.zeros(0, dtype=int)
        self.maml: MAMLEnsemble | None = None
        self.nn_distance_quantiles: np.ndarray = np.zeros(0)
        self.info: dict = {}
        self.random_state: int = 0
        # warm_start's leave-one-out bandwidth table, keyed by the arrays it was computed from
        self._bw_cache: tuple[tuple, np.ndarray] | None = None

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(
        cls,
        metadataset: MetaDataset,
        space: str = "xgboost-classifier",
        *,
        metric: str | None = None,
        random_state: int = 0,
        maml: MAMLConfig | dict | None = None,
        use_metafeatures: bool = True,
        n_xgb: int = 3,
        exclude_fingerprints: Sequence[str] = (),
    ) -> KnowledgeBase:
        """Learn from ``metadataset``'s evaluations of ``space``.

        Parameters
        ----------
        metadataset : MetaDataset
        space : str
            Built-in space name; evaluations of other spaces are ignored.
        metric : str, optional
            Score column (higher is better, except ``log_loss``, ``rmse``, ``mae``, which
            are negated). Default: ROC AUC for classification, R^2 for regression.
        random_state : int
        maml : MAMLConfig or dict, optional
            Hyperparameters of the MAML surrogate (``maml={"members": 3}``...).
        use_metafeatures : bool
            Feed a task embedding (the most useful scaled meta-features) to the MAML
            network, or the configuration only.
        n_xgb : int
            Members of the cross-task XGBoost ensemble.
        exclude_fingerprints : list of str
            Tasks whose fingerprint is listed are left out (leave-one-task-out evaluation).
        """
        t0 = time.perf_counter()
        space_obj = spaces_mod.get_search_space(space)
        kb = cls()
        kb.space_name, kb.space_signature = space, space_obj.signature
        kb.task_type = space_obj.task_type
        kb.metric = metric or PRIMARY_METRIC[space_obj.task_type]
        kb.random_state = int(random_state)
        md = metadataset.filter(space=space)
        if exclude_fingerprints:
            keep = md.tasks.loc[~md.tasks["fingerprint"].isin(set(exclude_fingerprints)), "task_id"]
            md = md.filter(task_ids=keep)
        ev = md.evaluations
        if len(ev) == 0:
            raise ValueError(
                f"the meta-dataset has no evaluations of space {space!r}; it has {metadataset.spaces}"
            )
        sig_bad = ev["space_signature"] != space_obj.signature
        if sig_bad.any():
            logger.warning(
                "ignoring %d evaluations made with another signature of space %s",
                int(sig_bad.sum()), space,
            )
            ev = ev[~sig_bad]
        if kb.metric not in ev.columns:
            raise ValueError(f"metric {kb.metric!r} is not a column of the evaluations")
        sign = -1.0 if kb.metric in ("log_loss", "rmse", "mae") else 1.0

        # config grid (union over tasks), score matrix in copula space
        keys = ev["config"].astype(str)
        grid_keys = sorted(keys.unique())
        col = {k: i for i, k in enumerate(grid_keys)}
        task_ids = [t for t in md.tasks["task_id"] if t in set(ev["task_id"])]
        rows, task_ok = [], []
        for tid in task_ids:
            sub = ev[ev["task_id"] == tid]
            vals = sign * sub[kb.metric].to_numpy(np.float64)
            ok = (sub["status"] == "ok").to_numpy() & np.isfinite(vals)
            if ok.sum() < MIN_EVALS or np.ptp(vals[ok]) == 0:
                continue
            # failed / timed-out configurations rank at the bottom of their task
            vals = np.where(ok, vals, np.nanmin(vals[ok]) - 1.0)
            z = copula(vals)
            row = np.full(len(grid_keys), np.nan)
            row[[col[k] for k in sub["config"].astype(str)]] = z
            rows.append(row)
            task_ok.append(tid)
        if len(task_ok) < 3:
            raise ValueError(
                f"space {space!r} has only {len(task_ok)} tasks with >= {MIN_EVALS} "
                "usable evaluations; a knowledge base needs at least 3"
            )
        kb.scores = np.vstack(rows)
        kb.configs = [json.loads(k) for k in grid_keys]
        tasks = md.tasks.set_index("task_id").loc[task_ok]
        kb.task_ids = task_ok
        kb.task_names = tasks["name"].astype(str).tolist()
        kb.fingerprints = tasks["fingerprint"].astype(str).tolist()

        # meta-features: defined, non-constant columns of the current feature list
        import metafeatures

        current = metafeatures.list_features()
        wanted = current.loc[current["task"].isin(["any", kb.task_type]), "name"].tolist()
        mf = md.metafeatures().loc[task_ok]
        names = [n for n in wanted if n in mf.columns and np.ptp(mf[n].to_numpy(np.float64)) > 0]
        kb.feature_names = names
        kb.scaler = QuantileScaler.fit(mf[names])
        kb.task_matrix = kb.scaler.transform(mf[names])

        kb._learn_weights()
        kb._fit_xgb(space_obj, n_xgb)
        kb._fill_scores(space_obj)
        kb._nn_quantiles()
        kb._fit_maml(space_obj, maml, use_metafeatures)
        kb.info = {
            "n_tasks": len(task_ok),
            "n_configs": len(kb.configs),
            "n_evaluations": int(np.isfinite(kb.scores).sum()),
            "fit_seconds": time.perf_counter() - t0,
            "maml_seconds": kb.maml.train_seconds if kb.maml else 0.0,
            "normalization": "per-task Gaussian copula of ranks",
            "metric": kb.metric,
            "top_features": [kb.feature_names[i] for i in np.argsort(-kb.weights)[:10]],
        }
        return kb

    def _learn_weights(self) -> None:
        """NNLS weights: weighted L1 meta-feature distance ~ 1 - Spearman of scores."""
        from scipy.optimize import nnls

        n = len(self.task_ids)
        pairs_x, pairs_y = [], []
        for i in range(n):
            for j in range(i + 1, n):
                both = np.isfinite(self.scores[i]) & np.isfinite(self.scores[j])
                if both.sum() < MIN_EVALS:
                    continue
                rho = spearman(self.scores[i, both], self.scores[j, both])
                if not np.isfinite(rho):
                    continue
                pairs_x.append(np.abs(self.task_matrix[i] - self.task_matrix[j]))
                pairs_y.append(1.0 - rho)
        d = len(self.feature_names)
        if len(pairs_y) < 2 * d // 3 or not pairs_y:
            self.weights = np.full(d, 1.0 / max(d, 1))
            return
        A = np.vstack(pairs_x)
        b = np.asarray(pairs_y)
        A1 = np.hstack([A, np.ones((len(b), 1))])  # intercept (non-negative too)
        # mild ridge towards uniform weights keeps rarely-informative features in play
        lam = 0.1 * len(b) / d
        A_aug = np.vstack([A1, np.sqrt(lam) * np.hstack([np.eye(d), np.zeros((d, 1))])])
        b_aug = np.concatenate([b, np.sqrt(lam) * np.full(d, b.mean() / max(A.sum(1).mean(), 1e-9))])
        w, _ = nnls(A_aug, b_aug, maxiter=50 * d)
        w = w[:d]
        self.weights = w / w.sum() if w.sum() > 0 else np.full(d, 1.0 / d)

    def _xgb_features(self, task_rows: np.ndarray, cfg_enc: np.ndarray) -> np.ndarray:
        return np.hstack([task_rows, cfg_enc])

    def _fit_xgb(self, space_obj: spaces_mod.SearchSpace, n_members: int) -> None:
        import xgboost

        enc = encode_configs(space_obj, self.configs)
        ti, ci = np.nonzero(np.isfinite(self.scores))
        X = self._xgb_features(self.task_matrix[ti], enc[ci])
        y = self.scores[ti, ci]
        rng = np.random.default_rng(self.random_state)
        n_tasks = len(self.task_ids)
        self.xgb_models = []
        for m in range(n_members):
            chosen = rng.integers(0, n_tasks, size=n_tasks)  # bootstrap over tasks
            weight = np.bincount(chosen, minlength=n_tasks)[ti].astype(np.float64)
            model = xgboost.XGBRegressor(
                n_estimators=150, max_depth=6, learning_rate=0.08, subsample=0.8,
                colsample_bytree=0.8, min_child_weight=5, tree_method="hist", n_jobs=2,
                random_state=self.random_state + m,
            )
            model.fit(X[weight > 0], y[weight > 0], sample_weight=weight[weight > 0])
            model.set_params(n_jobs=1)  # predictions are small: one thread, no oversubscription
            self.xgb_models.append(model)

    def _xgb_predict(self, task_rows: np.ndarray, cfg_enc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = self._xgb_features(task_rows, cfg_enc)
        preds = np.stack([m.predict(X) for m in self.xgb_models]).astype(np.float64)
        return preds.mean(axis=0), preds.std(axis=0)

    def _fill_scores(self, space_obj: spaces_mod.SearchSpace) -> None:
        filled = self.scores.copy()
        gaps = np.nonzero(~np.isfinite(filled))
        if gaps[0].size:
            enc = encode_configs(space_obj, self.configs)
            mean, _ = self._xgb_predict(self.task_matrix[gaps[0]], enc[gaps[1]])
            filled[gaps] = mean
        self.filled = filled

    def _nn_quantiles(self) -> None:
        d = self._distances(self.task_matrix)
        np.fill_diagonal(d, np.inf)
        self.nn_distance_quantiles = np.quantile(d.min(axis=1), np.linspace(0, 1, 21))

    def _fit_maml(self, space_obj, maml_cfg, use_metafeatures: bool) -> None:
        cfg = maml_cfg if isinstance(maml_cfg, MAMLConfig) else MAMLConfig(**(maml_cfg or {}))
        n_embed = min(8, len(self.feature_names)) if use_metafeatures else 0
        self.embed_idx = np.argsort(-self.weights)[:n_embed].astype(int)
        enc = encode_configs(space_obj, self.configs)
        tasks = []
        for i in range(len(self.task_ids)):
            ok = np.isfinite(self.scores[i])
            emb = np.repeat(self.task_matrix[i, self.embed_idx][None, :], ok.sum(), axis=0)
            tasks.append((np.hstack([enc[ok], emb]), self.scores[i, ok]))
        from dataclasses import replace

        cfg = replace(cfg, embed_dim=n_embed)
        self.maml = MAMLEnsemble(enc.shape[1] + n_embed, cfg, seed=self.random_state)
        self.maml.meta_train(tasks)

    # ------------------------------------------------------------------ queries
    def _space(self) -> spaces_mod.SearchSpace:
        return spaces_mod.get_search_space(self.space_name)

    def _task_vector(self, metafeatures: pd.Series | Mapping[str, float]) -> np.ndarray:
        if self.scaler is None:
            raise KnowledgeBaseError("knowledge base is not fitted")
        missing = [n for n in self.feature_names if n not in metafeatures]
        if missing:
            raise ValueError(
                f"metafeatures lacks {len(missing)} features this knowledge base uses "
                f"(e.g. {missing[:3]}); pass the output of metafeatures.extract(X, y)."
            )
        row = np.array([metafeatures[n] for n in self.feature_names], dtype=np.float64)
        return self.scaler.transform_array(row[None, :])[0]

    def _distances(self, rows: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
        against = self.task_matrix if against is None else against
        return (np.abs(rows[:, None, :] - against[None, :, :]) * self.weights).sum(axis=2)

    def similar_tasks(self, metafeatures: pd.Series | Mapping[str, float], k: int = 5) -> pd.DataFrame:
        """The ``k`` known tasks nearest to a dataset with these meta-features."""
        v = self._task_vector(metafeatures)
        d = self._distances(v[None, :])[0]
        order = np.argsort(d, kind="stable")[:k]
        return pd.DataFrame(
            {
                "task_id": [self.task_ids[i] for i in order],
                "name": [self.task_names[i] for i in order],
                "distance": d[order],
            }
        )

    def warm_start(
        self, metafeatures: pd.Series | Mapping[str, float] | None, n: int = 10, k: int | None = None
    ) -> list[dict[str, Any]]:
        """Configurations to try first, best first: a greedy portfolio (each step adds the
        config that most reduces the similarity-weighted regret over the known tasks).

        The similarity kernel's bandwidth is the distance to the ``k``-th nearest known task.
        ``k=None`` (default) chooses ``k`` for this query by local cross-validation: every
        known task is held out in turn and given the portfolio the other tasks would build
        for it with each candidate ``k`` (see ``BANDWIDTH_CANDIDATES``); the ``k`` whose
        portfolios did best (mean best-so-far regret over the first 10 picks) on the known
        tasks near this query wins. Where nearby tasks predict each other's best
        configurations, that is a sharp kernel; where they do not, a broad one.
        With ``metafeatures=None`` every known task counts alike."""
        if n < 1:
            return []
        if k is not None and (not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0):
            raise ValueError(f"k must be None (chosen by local cross-validation) or an int >= 0, got {k!r}")
        if metafeatures is None:
            # no meta-features: a portfolio over every known task, weighted alike
            w = np.full(len(self.task_ids), 1.0 / len(self.task_ids))
        else:
            v = self._task_vector(metafeatures)
            d = self._distances(v[None, :])[0]
            w = _kernel(d, int(self._choose_k(d) if k is None else k))
        return [dict(self.configs[j]) for j in _greedy_portfolio(self.filled, w, n)]

    def _choose_k(self, d: np.ndarray) -> int:
        """The candidate bandwidth whose leave-one-out portfolios did best on the known
        tasks near a query at distances ``d`` (weighted by the default kernel)."""
        local = _kernel(d, DEFAULT_BANDWIDTH_K)
        return BANDWIDTH_CANDIDATES[int(np.argmin(local @ self._bandwidth_table()))]

    def _bandwidth_table(self) -> np.ndarray:
        """(tasks, candidates): each known task's leave-one-out portfolio regret (copula
        scale, mean best-so-far over the first 10 picks) under each candidate bandwidth.
        Computed once per knowledge base (a fraction of a second), not stored."""
        key = (id(self.filled), id(self.scores), id(self.task_matrix), id(self.weights))
        if self._bw_cache is not None and self._bw_cache[0] == key:
            return self._bw_cache[1]
        n = len(self.task_ids)
        table = np.zeros((n, len(BANDWIDTH_CANDIDATES)))
        if n >= 3:
            D = self._distances(self.task_matrix)
            truth_all = np.where(np.isfinite(self.scores), self.scores, self.filled)
            for i in range(n):
                others = np.delete(np.arange(n), i)
                truth = truth_all[i]
                for b, kk in enumerate(BANDWIDTH_CANDIDATES):
                    picks = _greedy_portfolio(self.filled[others], _kernel(D[i, others], kk), 10)
                    table[i, b] = np.minimum.accumulate(truth.max() - truth[picks]).mean()
        self._bw_cache = (key, table)
        return table

    def with_history(self, history: MetaDataset) -> KnowledgeBase:
        """A copy that also knows the tasks of ``history`` (e.g. the user's own finished
        studies) for similarity and warm starts. Their configurations join the grid; scores
        a task lacks are filled by the cross-task surrogate. The MAML surrogate is shared."""
        import copy

        md = history.filter(space=self.space_name)
        if len(md.evaluations) == 0:
            return self
        metric = self.metric if self.metric in md.evaluations.columns else "objective"
        sign = -1.0 if metric in ("log_loss", "rmse", "mae") else 1.0
        kb = copy.copy(self)
        grid = {json.dumps(c, sort_keys=True): i for i, c in enumerate(self.configs)}
        configs = list(self.configs)
        new_rows, new_tasks, new_names, new_fps = [], [], [], []
        mf = md.metafeatures()
        for tid, sub in md.evaluations.groupby("task_id", sort=False):
            sub = sub[(sub["status"] == "ok") & sub[metric].notna()]
            if len(sub) < 3 or tid not in mf.index or tid in self.task_ids:
                continue
            row: dict[int, float] = {}
            z = copula(sign * sub[metric].to_numpy(np.float64))
            for key, val in zip(sub["config"].astype(str), z):
                key = json.dumps(json.loads(key), sort_keys=True)
                if key not in grid:
                    grid[key] = len(configs)
                    configs.append(json.loads(key))
                row[grid[key]] = val
            new_rows.append(row)
            new_tasks.append(tid)
            name = md.tasks.set_index("task_id").loc[tid, "name"]
            new_names.append(str(name))
            new_fps.append(str(md.tasks.set_index("task_id").loc[tid, "fingerprint"]))
        if not new_rows:
            return self
        frame = mf.loc[new_tasks].reindex(columns=self.feature_names)
        frame = frame.fillna(0.0)
        new_matrix = self.scaler.transform(frame)
        n_old, n_cfg = len(self.task_ids), len(configs)
        scores = np.full((n_old + len(new_rows), n_cfg), np.nan)
        scores[:n_old, : self.scores.shape[1]] = self.scores
        for r, row in enumerate(new_rows):
            for j, val in row.items():
                scores[n_old + r, j] = val
        kb.configs = configs
        kb.scores = scores
        kb.task_matrix = np.vstack([self.task_matrix, new_matrix])
        kb.task_ids = self.task_ids + new_tasks
        kb.task_names = self.task_names + new_names
        kb.fingerprints = self.fingerprints + new_fps
        kb._fill_scores(self._space())
        return kb

    def _maml_inputs(self, configs: Sequence[Mapping[str, Any]] | np.ndarray, task_vector: np.ndarray) -> np.ndarray:
        enc = configs if isinstance(configs, np.ndarray) else encode_configs(self._space(), configs)
        emb = np.repeat(task_vector[self.embed_idx][None, :], len(enc), axis=0)
        return np.hstack([enc, emb])

    def adapt(
        self,
        metafeatures: pd.Series | Mapping[str, float],
        observed_configs: Sequence[Mapping[str, Any]],
        observed_scores: Sequence[float],
        *,
        steps: int | None = None,
    ) -> Surrogate:
        """The MAML surrogate adapted to a study's observed trials (higher scores better),
        with the negative-transfer guard applied (see the module docstring).

        ``steps``: inner gradient steps (default: the meta-trained number; ``0`` keeps the
        meta-trained network, only rescaled to the observations, an ablation)."""
        if self.maml is None:
            raise KnowledgeBaseError("knowledge base has no MAML surrogate")
        y = np.asarray(observed_scores, dtype=np.float64)
        if len(observed_configs) != len(y):
            raise ValueError(
                f"observed_configs has {len(observed_configs)} entries but observed_scores "
                f"has {len(y)}; pass one score per config."
            )
        finite = np.isfinite(y)
        configs = [c for c, f in zip(observed_configs, finite) if f]
        y = y[finite]
        v = self._task_vector(metafeatures)
        x = self._maml_inputs(configs, v) if configs else np.zeros((0, self.maml.in_dim))
        if steps is not None and (not isinstance(steps, int) or steps < 0):
            raise ValueError(f"steps must be None or an int >= 0, got {steps!r}")
        adapted = self.maml.adapt(x, y, steps=steps)
        diag = self._guard(v, x, y)
        affine = []
        observed_raw = None
        if self.xgb_models:
            enc = encode_configs(self._space(), configs) if configs else np.zeros((0, 0))
            if len(y) >= 2 and np.ptp(y) > 0:
                X = self._xgb_features(np.repeat(v[None, :], len(enc), axis=0), enc)
                observed_raw = np.stack([m.predict(X).astype(np.float64) for m in self.xgb_models])
                # as for the MAML members: never invert the learned order
                a, b = order_keeping_affine(observed_raw, copula(y))
                affine = list(zip(a.tolist(), b.tolist()))
            else:
                affine = [(1.0, 0.0)] * len(self.xgb_models)
        return Surrogate(self, adapted, v, diag, affine, observed=(x, observed_raw))

    def _guard(self, v: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict:
        d_near = float(self._distances(v[None, :])[0].min())
        q = float(np.searchsorted(self.nn_distance_quantiles, d_near) / (len(self.nn_distance_quantiles) - 1))
        diag: dict[str, Any] = {"nearest_distance": d_near, "distance_quantile": min(q, 1.0)}
        weight = 1.0
        reasons = []
        if q >= 1.0:
            weight *= 0.5
            reasons.append("task is farther from every known task than any training task was")
        if len(y) >= 5 and np.ptp(y) > 0:
            prior = self.maml.adapt(x[:0], y[:0]).predict(x)[0]
            rho = spearman(prior, y)
            diag["prior_rank_correlation"] = rho
            if not np.isfinite(rho) or rho < 0.3:
                r = 0.0 if not np.isfinite(rho) else rho
                weight *= float(np.clip((r + 0.2) / 0.5, 0.0, 1.0))
                reasons.append(f"the prior ranks the {len(y)} observed trials poorly (Spearman {r:.2f})")
        diag["prior_weight"] = weight
        diag["reason"] = "; ".join(reasons)
        if reasons:
            logger.info("negative-transfer guard lowers the prior weight to %.2f: %s", weight, diag["reason"])
        return diag

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the knowledge base to a folder (JSON, Parquet, XGBoost JSON, torch state)."""
        import torch

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.maml is None or self.scaler is None:
            raise KnowledgeBaseError("cannot save an unfitted knowledge base")
        for i, m in enumerate(self.xgb_models):
            tmp = path / f".tmp-xgb_{i}.json"
            m.save_model(str(tmp))
            tmp.replace(path / f"xgb_{i}.json")
        tmp = path / ".tmp-maml.pt"
        torch.save(self.maml.state_dict(), tmp)
        tmp.replace(path / "maml.pt")
        atomic_write_parquet(
            pd.DataFrame({"task_id": self.task_ids, "name": self.task_names, "fingerprint": self.fingerprints}),
            path / "tasks.parquet",
        )
        atomic_write_parquet(pd.DataFrame(self.task_matrix, columns=self.feature_names), path / "task_matrix.parquet")
        atomic_write_parquet(pd.DataFrame(self.scores, columns=[str(i) for i in range(len(self.configs))]), path / "scores.parquet")
        atomic_write_parquet(pd.DataFrame(self.filled, columns=[str(i) for i in range(len(self.configs))]), path / "filled.parquet")
        atomic_write_parquet(pd.DataFrame(self.scaler.grid, columns=self.feature_names), path / "scaler.parquet")
        files = sorted(p.name for p in path.iterdir() if not p.name.startswith(".") and p.name != "kb.json")
        meta = {
            "format": FORMAT_VERSION,
            "learn2tune_version": _version(),
            "space": self.space_name,
            "space_signature": self.space_signature,
            "task_type": self.task_type,
            "metric": self.metric,
            "feature_names": self.feature_names,
            "feature_list_hash": _feature_list_hash(),
            "weights": self.weights.tolist(),
            "embed_idx": self.embed_idx.tolist(),
            "configs": self.configs,
            "nn_distance_quantiles": self.nn_distance_quantiles.tolist(),
            "maml": {"in_dim": self.maml.in_dim, "config": self.maml.config_dict(), "seed": self.maml.seed},
            "n_xgb": len(self.xgb_models),
            "random_state": self.random_state,
            "info": self.info,
            "checksums": {name: _sha256(path / name) for name in files},
        }
        atomic_write_text(json.dumps(meta, indent=1, default=float), path / "kb.json")

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeBase:
        """Load a folder written by :meth:`save`. Never unpickles: torch tensors are loaded
        with ``weights_only=True`` and models from XGBoost JSON."""
        import torch
        import xgboost

        path = Path(path)
        meta_path = path / "kb.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{str(meta_path)!r} not found: not a knowledge-base folder")
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{str(meta_path)!r} is not valid JSON: {exc}") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise KnowledgeBaseError(
                f"{str(meta_path)!r} has format {meta.get('format')!r}; this learn2tune reads "
                f"format {FORMAT_VERSION}. Refit it with this version."
            )
        space = spaces_mod.get_search_space(meta["space"])
        if meta["space_signature"] != space.signature:
            raise KnowledgeBaseError(
                f"{str(meta_path)!r} was fitted for space {meta['space']!r} with signature "
                f"{meta['space_signature']}, but the installed space has signature "
                f"{space.signature}: its distributions changed. Refit the knowledge base."
            )
        import metafeatures

        known = set(metafeatures.list_features()["name"])
        unknown = [n for n in meta["feature_names"] if n not in known]
        if unknown:
            raise KnowledgeBaseError(
                f"{str(meta_path)!r} uses meta-features {unknown[:5]} that this version of "
                "metafeatures does not compute (other feature list). Refit the knowledge base."
            )
        for name, digest in meta.get("checksums", {}).items():
            f = path / name
            if not f.exists():
                raise KnowledgeBaseError(f"knowledge-base file {str(f)!r} is missing")
            if _sha256(f) != digest:
                raise KnowledgeBaseError(f"knowledge-base file {str(f)!r} is corrupt (checksum mismatch)")
        kb = cls()
        kb.space_name, kb.space_signature = meta["space"], meta["space_signature"]
        kb.task_type, kb.metric = meta["task_type"], meta["metric"]
        kb.feature_names = list(meta["feature_names"])
        kb.weights = np.asarray(meta["weights"], dtype=np.float64)
        kb.embed_idx = np.asarray(meta["embed_idx"], dtype=int)
        kb.configs = meta["configs"]
        kb.nn_distance_quantiles = np.asarray(meta["nn_distance_quantiles"])
        kb.random_state = meta.get("random_state", 0)
        kb.info = meta.get("info", {})
        try:
            tasks = pd.read_parquet(path / "tasks.parquet")
            kb.task_ids = tasks["task_id"].tolist()
            kb.task_names = tasks["name"].tolist()
            kb.fingerprints = tasks["fingerprint"].tolist()
            kb.task_matrix = pd.read_parquet(path / "task_matrix.parquet")[kb.feature_names].to_numpy()
            kb.scores = pd.read_parquet(path / "scores.parquet").to_numpy(np.float64)
            kb.filled = pd.read_parquet(path / "filled.parquet").to_numpy(np.float64)
            kb.scaler = QuantileScaler(kb.feature_names, pd.read_parquet(path / "scaler.parquet")[kb.feature_names].to_numpy())
        except (OSError, KeyError, ValueError) as exc:
            raise KnowledgeBaseError(f"cannot read the tables of {str(path)!r}: {exc}") from exc
        kb.xgb_models = []
        for i in range(meta["n_xgb"]):
            m = xgboost.XGBRegressor(n_jobs=1)
            try:
                m.load_model(str(path / f"xgb_{i}.json"))
            except xgboost.core.XGBoostError as exc:
                raise KnowledgeBaseError(f"cannot read {str(path / f'xgb_{i}.json')!r}: {exc}") from exc
            kb.xgb_models.append(m)
        try:
            state = torch.load(path / "maml.pt", weights_only=True, map_location="cpu")
        except Exception as exc:  # noqa: BLE001 - re-raised with the file name
            raise KnowledgeBaseError(f"cannot read {str(path / 'maml.pt')!r}: {exc}") from exc
        mm = meta["maml"]
        try:
            kb.maml = MAMLEnsemble.from_state(mm["in_dim"], mm["config"], state, seed=mm["seed"])
        except ValueError as exc:
            raise KnowledgeBaseError(f"{str(path / 'maml.pt')!r}: {exc}") from exc
        return kb

    @classmethod
    def default(cls, space: str = "xgboost-classifier") -> KnowledgeBase:
        """The knowledge base bundled with learn2tune for ``space`` (trained offline on
        the bundled meta-dataset)."""
        from importlib import resources

        root = Path(str(resources.files("warmstart").joinpath("data/kb")))
        folder = root / space
        if not (folder / "kb.json").exists():
            available = sorted(p.name for p in root.iterdir()) if root.exists() else []
            raise ValueError(
                f"no bundled knowledge base for space {space!r}; bundled: {available}. "
                "Fit one with KnowledgeBase.fit(MetaDataset.load(...), space=...)."
            )
        return cls.load(folder)

    def __repr__(self) -> str:
        return (
            f"KnowledgeBase(space={self.space_name!r}, tasks={len(self.task_ids)}, "
            f"configs={len(self.configs)}, features={len(self.feature_names)})"
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _feature_list_hash() -> str:
    import metafeatures

    names = "\n".join(metafeatures.list_features()["name"])
    return hashlib.sha256(names.encode()).hexdigest()[:12]


def _version() -> str:
    from . import __version__

    return __version__
