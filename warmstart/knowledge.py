"""``KnowledgeBase``: what is learned from a meta-dataset for one search space.

Scores of different tasks live on different scales, so everything here learns on
**per-task Gaussian-copula-normalized scores** (``Phi^-1`` of mid-ranks, see
:func:`warmstart.scores.copula`): only the order of a task's configurations matters.

Three families of meta-learning:

1. **Metric-based.** Scaled meta-features (:mod:`warmstart.scaling`), a learned task
   distance (:mod:`warmstart.similarity`) and the zero-shot warm start
   (:mod:`warmstart.zero_shot`): a portfolio with its bandwidth chosen by local
   cross-validation (:mod:`warmstart.portfolio`).
2. **Cross-task surrogate.** An ensemble of XGBoost regressors on (scaled meta-features,
   encoded config) -> normalized score; bootstrap over tasks gives the spread.
3. **Optimization-based.** The torch MAML surrogate (:mod:`warmstart.maml`) adapted in a
   few gradient steps to the study's observed trials (by default only its learned task
   context moves, CAVIA-style: see that module); :meth:`KnowledgeBase.adapt` returns it as
   a :class:`~warmstart.surrogate.Surrogate`, weighed by the negative-transfer guard
   (:mod:`warmstart.guard`). Saving and loading: :mod:`warmstart.kb_io`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metafeatures import task_of

from . import spaces as spaces_mod
from . import zero_shot
from .checks import check_count, check_finite
from .cross_task import cross_task_raw, fill_gaps, fit_cross_task
from .guard import nearest_distance_quantiles, novelty_of
from .kb_io import KnowledgeBaseError, bundled_root, bundled_spaces
from .protocol import PRIMARY_METRIC
from .safety import calibrate, family_quantile
from .scaling import QuantileScaler
from .scores import task_gain_matrix, task_score_matrix
from .similarity import learn_metric_weights, weighted_l1
from .surrogate import Configs, Surrogate, encode, encode_configs

if TYPE_CHECKING:  # pragma: no cover
    from .maml import MAMLConfig, MAMLEnsemble
    from .store import MetaDataset

logger = logging.getLogger(__name__)

MIN_EVALS = 10

__all__ = ["KnowledgeBase", "KnowledgeBaseError", "Surrogate", "MIN_EVALS"]


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
        self.gain_models: list[Any] = []  # cross-task members on the normalized-gain scale: the first pick
        self.embed_idx: np.ndarray = np.zeros(0, dtype=int)
        self.maml_prior_input: bool = False  # the MAML network reads the cross-task prior
        self.maml: MAMLEnsemble | None = None
        self.nn_distance_quantiles: np.ndarray = np.zeros(0)
        self.safety: dict = {}  # the warm start's safety net (see warmstart.safety)
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
        prior_input: bool = True,
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
        prior_input : bool
            The MAML network also reads the cross-task surrogate's prediction (out of fold
            while meta-training; see :mod:`warmstart.maml_data`).
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

        evaluated = set(ev["task_id"])
        task_ids = [t for t in md.tasks["task_id"] if t in evaluated]
        scores, task_ok, configs = task_score_matrix(ev, task_ids, kb.metric, MIN_EVALS)
        if len(task_ok) < 3:
            raise ValueError(
                f"space {space!r} has only {len(task_ok)} tasks with >= {MIN_EVALS} "
                "usable evaluations; a knowledge base needs at least 3"
            )
        kb.scores, kb.configs = scores, configs
        tasks = md.tasks.set_index("task_id").loc[task_ok]
        kb.task_ids = task_ok
        kb.task_names = tasks["name"].astype(str).tolist()
        kb.fingerprints = tasks["fingerprint"].astype(str).tolist()

        # meta-features: defined, non-constant, scale-free columns of the current feature
        # list (a column's units, e.g. metres or centimetres, must not move the warm start:
        # the tuned models are invariant to them, the raw moments of the columns are not)
        import metafeatures

        current = metafeatures.list_features()
        wanted = current.loc[current["task"].isin(["any", kb.task_type]) & current["scale_free"], "name"].tolist()
        mf = md.metafeatures().loc[task_ok]
        names = [n for n in wanted if n in mf.columns and np.ptp(mf[n].to_numpy(np.float64)) > 0]
        kb.feature_names = names
        kb.scaler = QuantileScaler.fit(mf[names])
        kb.task_matrix = kb.scaler.transform(mf[names])

        kb._learn_weights()
        kb._fit_xgb(space_obj, n_xgb, task_gain_matrix(ev, task_ok, kb.metric))
        kb._fill_scores(space_obj)
        kb.nn_distance_quantiles = nearest_distance_quantiles(kb._distances(kb.task_matrix))
        families = kb.calibrate_safety(tasks["family"].astype(str).tolist() if "family" in tasks else None)["groups"]
        kb._fit_maml(space_obj, maml, use_metafeatures, families, prior_input)
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
        self.weights = learn_metric_weights(self.task_matrix, self.scores, MIN_EVALS)

    def _fit_xgb(self, space_obj: spaces_mod.SearchSpace, n_members: int, gains: np.ndarray) -> None:
        """The cross-task members on copula scores, and the first-pick members on normalized
        gains (:func:`warmstart.scores.task_gain_matrix`; :mod:`warmstart.zero_shot`)."""
        enc = encode_configs(space_obj, self.configs)
        self.xgb_models = fit_cross_task(self.task_matrix, self.scores, enc, n_members, self.random_state)
        self.gain_models = fit_cross_task(self.task_matrix, gains, enc, n_members, self.random_state, bootstrap=False)

    def cross_task_members(self, task_vector: np.ndarray, enc: np.ndarray, models: list[Any] | None = None) -> np.ndarray:
        """Raw predictions (members x configs) of the cross-task XGBoost members (or of
        ``models``, e.g. :attr:`gain_models`) for one task (a :meth:`task_vector`) at
        encoded configurations."""
        members = self.xgb_models if models is None else models
        return cross_task_raw(members, np.repeat(task_vector[None, :], len(enc), axis=0), enc)

    def cross_task_predict(self, metafeatures: pd.Series | Mapping[str, float], configs: Configs) -> np.ndarray:
        """Mean prediction of the cross-task XGBoost surrogate (copula scale, unadapted)."""
        v = self.task_vector(metafeatures)
        return self.cross_task_members(v, self._encode(configs)).mean(axis=0)

    def prior_predict(self, metafeatures: pd.Series | Mapping[str, float], configs: Configs) -> np.ndarray:
        """Mean prediction of the meta-trained MAML surrogate before any adaptation."""
        if self.maml is None:
            raise KnowledgeBaseError("knowledge base has no MAML surrogate")
        x = self.maml_inputs(self._encode(configs), self.task_vector(metafeatures))
        return self.maml.adapt(x[:0], np.zeros(0)).predict(x)[0]

    def _fill_scores(self, space_obj: spaces_mod.SearchSpace) -> None:
        self.filled = fill_gaps(self.xgb_models, self.task_matrix, self.scores, encode_configs(space_obj, self.configs))

    def calibrate_safety(self, families: Sequence[str] | None = None) -> dict:
        """(Re)calibrate the warm start's safety net on held-out families (:mod:`warmstart.safety`);
        ``families``: each known task's family or source (default: the task ids)."""
        from .sources import family

        groups = [family(str(f)) if ":" in str(f) else str(f) for f in (families or self.task_ids)]
        if len(groups) != len(self.task_ids):
            raise ValueError(f"families has {len(groups)} entries for {len(self.task_ids)} known tasks; "
                             "pass one family per task (task_ids order) or None")
        truth = np.where(np.isfinite(self.scores), self.scores, self.filled)
        # studies' spaces (no defaults; a grid of every trial) get no safety net
        self.safety = (calibrate(self.filled, truth, self._distances(self.task_matrix), groups,
                                 zero_shot.bandwidth_table(self), zero_shot.defaults_index_of(self))
                       if self.space_name in spaces_mod.SPACES else {"threshold": None, "groups": groups})
        return self.safety

    def _fit_maml(self, space_obj, maml_cfg, use_metafeatures: bool, groups: list[str], prior_input: bool) -> None:
        from dataclasses import replace

        from .maml import MAMLConfig, MAMLEnsemble
        from .maml_data import training_tasks

        cfg = maml_cfg if isinstance(maml_cfg, MAMLConfig) else MAMLConfig(**(maml_cfg or {}))
        n_embed = min(8, len(self.feature_names)) if use_metafeatures else 0
        self.embed_idx = np.argsort(-self.weights)[:n_embed].astype(int)
        self.maml_prior_input = bool(prior_input and self.xgb_models)
        enc = encode_configs(space_obj, self.configs)
        tasks = training_tasks(self, enc, groups)
        self.maml = MAMLEnsemble(tasks[0][0].shape[1], replace(cfg, embed_dim=n_embed), seed=self.random_state)
        self.maml.meta_train(tasks)

    # ------------------------------------------------------------------ queries
    @property
    def space(self) -> spaces_mod.SearchSpace:
        """The search space this knowledge is about."""
        return spaces_mod.get_search_space(self.space_name)

    def _encode(self, configs: Configs) -> np.ndarray:
        return encode(self.space, configs)

    def neutral_metafeatures(self) -> dict[str, float]:
        """Meta-features of a typical known task (the median of every scaled feature,
        mapped back): a stand-in when a study has no dataset description."""
        assert self.scaler is not None
        med = np.median(self.task_matrix, axis=0)
        row = self.scaler.inverse_transform(med[None, :])[0]
        return {n: float(v) for n, v in zip(self.feature_names, row)}

    def task_vector(self, metafeatures: pd.Series | Mapping[str, float]) -> np.ndarray:
        """A dataset's meta-features as this knowledge base sees them (scaled, its
        feature list)."""
        if self.scaler is None:
            raise KnowledgeBaseError("knowledge base is not fitted")
        missing = [n for n in self.feature_names if n not in metafeatures]
        if missing:
            raise ValueError(
                f"metafeatures lacks {len(missing)} features this knowledge base uses "
                f"(e.g. {missing[:3]}); pass the output of metafeatures.extract(X, y)."
            )
        mine, theirs = getattr(self.space, "task_type", None), task_of(metafeatures)
        if mine in ("classification", "regression") and theirs and mine != theirs:
            raise ValueError(f"metafeatures describe a {theirs} task, and this knowledge base knows "
                             f"{mine} ({self.space_name}); use the knowledge of a {theirs} space")
        row = np.array([metafeatures[n] for n in self.feature_names], dtype=np.float64)
        check_finite(dict(zip(self.feature_names, row)))
        return self.scaler.transform_array(row[None, :])[0]

    def _distances(self, rows: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
        return weighted_l1(rows, self.task_matrix if against is None else against, self.weights)

    def similar_tasks(self, metafeatures: pd.Series | Mapping[str, float], k: int = 5) -> pd.DataFrame:
        """The ``k`` known tasks nearest to a dataset with these meta-features."""
        check_count("k", k, 0, what=" (tasks to return)")
        d = self.distances(metafeatures)
        order = np.argsort(d, kind="stable")[:k]  # ties: the first known
        return pd.DataFrame({"task_id": [self.task_ids[i] for i in order],
                             "name": [self.task_names[i] for i in order], "distance": d[order]})

    def warm_start(
        self, metafeatures: pd.Series | Mapping[str, float] | None, n: int = 10, k: int | None = None,
        first: str = "surrogate",
    ) -> list[dict[str, Any]]:
        """Configurations to try first, best first: the one the cross-task first-pick
        members rank best for these meta-features (on normalized gains;
        ``first="surrogate"``; ``"portfolio"``: the portfolio's own first), then a greedy
        portfolio (each step adds the config that most reduces the similarity-weighted
        regret over the known tasks). The kernel's bandwidth is the distance to the
        ``k``-th nearest known task; ``k=None`` chooses it by local cross-validation
        (:mod:`warmstart.portfolio`) and applies the safety net (:mod:`warmstart.safety`,
        :meth:`novelty`): far from every known task, the first pick is followed by the
        defaults and the configurations good everywhere. ``metafeatures=None``: tasks
        alike. Knowledge
        of studies without meta-features: :func:`warmstart.study_models.history_portfolio`.
        See :mod:`warmstart.zero_shot`."""
        return zero_shot.warm_start(self, metafeatures, n, k, first)

    def distances(self, metafeatures: pd.Series | Mapping[str, float]) -> np.ndarray:
        """Learned distance from a dataset to every known task (``task_ids`` order)."""
        return self._distances(self.task_vector(metafeatures)[None, :])[0]

    def novelty(self, metafeatures: pd.Series | Mapping[str, float]) -> dict[str, Any]:
        """How far a dataset is from every known task: ``nearest_distance``,
        ``distance_quantile`` (1.0: farther than any known task is from its nearest
        neighbour), ``nearest_task`` (see :func:`warmstart.guard.novelty_of`),
        ``family_quantile`` (the same distance among held-out families' distances to the
        nearest other family, :mod:`warmstart.safety`) and ``safety_net`` (whether
        :meth:`warm_start` starts from the most robust configurations for it)."""
        v = self.task_vector(metafeatures)
        out = novelty_of(self, v)
        d = self._distances(v[None, :])[0]
        out["family_quantile"] = family_quantile(float(d.min()), self.safety.get("family_quantiles", []))
        out["safety_net"] = zero_shot.safety_on(self, d)
        return out

    def bandwidth(self, metafeatures: pd.Series | Mapping[str, float]) -> int:
        """The ``k`` :meth:`warm_start` chooses for this dataset (``k=None``)."""
        return zero_shot.choose_k(self, self.distances(metafeatures))

    def with_history(self, history: MetaDataset) -> KnowledgeBase:
        """A copy that also knows the tasks of ``history`` (e.g. the user's own finished
        studies) for similarity and warm starts (see :func:`warmstart.history.merge_history`)."""
        from .history import merge_history

        return merge_history(self, history)

    def maml_inputs(self, configs: Configs, task_vector: np.ndarray, cross_task: np.ndarray | None = None) -> np.ndarray:
        """Inputs of the MAML network (:mod:`warmstart.maml_data`); ``cross_task``:
        :meth:`cross_task_members` at these configurations, if already computed."""
        from .maml_data import inputs

        return inputs(self, self._encode(configs), task_vector, cross_task)

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
        from .surrogate import adapt_surrogate

        return adapt_surrogate(self, metafeatures, observed_configs, observed_scores, steps)

    @classmethod
    def from_studies(cls, studies: Any, *, pattern: str | None = None, maml: dict | None = None,
                     random_state: int = 0) -> KnowledgeBase:
        """Learn from finished Optuna studies on any search space (a storage URL or storage, with an
        optional regular expression ``pattern`` on study names, or a list of studies); see
        :mod:`warmstart.study_knowledge`."""
        from .study_knowledge import fit_from_studies

        return fit_from_studies(studies, pattern=pattern, maml=maml, random_state=random_state)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the knowledge base to a folder (JSON, Parquet, XGBoost JSON, torch state,
        checksums of every file); see :mod:`warmstart.kb_io`."""
        from . import kb_io

        kb_io.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> KnowledgeBase:
        """Load a folder written by :meth:`save`, verifying every file's checksum. Never
        unpickles: torch tensors are loaded with ``weights_only=True`` and models from
        XGBoost JSON."""
        from . import kb_io

        return kb_io.load(cls, path)

    @classmethod
    def default(cls, space: str = "xgboost-classifier") -> KnowledgeBase:
        """The knowledge base bundled with learn2tune for ``space`` (trained offline on
        the bundled meta-dataset)."""
        if space not in bundled_spaces():
            raise ValueError(
                f"no bundled knowledge base for space {space!r}; bundled: {bundled_spaces()}. "
                "Fit one with KnowledgeBase.fit(MetaDataset.load(...), space=...)."
            )
        return cls.load(bundled_root() / space)

    def __repr__(self) -> str:
        return (
            f"KnowledgeBase(space={self.space_name!r}, tasks={len(self.task_ids)}, "
            f"configs={len(self.configs)}, features={len(self.feature_names)})"
        )
