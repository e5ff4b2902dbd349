"""The surrogate adapted to one study, and the encoding of configurations it reads.

A :class:`Surrogate` is what :meth:`KnowledgeBase.adapt` returns: the MAML members adapted
to the study's observed trials plus the cross-task XGBoost members mapped onto the
observed scale. It owns the encoding of configurations: callers hand it configurations
(dicts, or columns of values), never encoded rows of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import CategoricalDistribution

from .checks import check_count
from .spaces import SearchSpace, to_unit, to_unit_array

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

Configs = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any] | np.ndarray] | np.ndarray


def encode_configs(space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Configs as rows of numbers: numeric parameters on the unit interval (log scale
    where the distribution is log; a value beyond the space's range sits at its edge, where
    the knowledge ends), categorical parameters one-hot."""
    cols: list[np.ndarray] = []
    for p in space.params:
        dist = space.distributions[p]
        try:
            if isinstance(dist, CategoricalDistribution):
                idx = np.array([dist.choices.index(c[p]) for c in configs], dtype=np.int64)
                cols.append(np.eye(len(dist.choices))[idx])
            else:
                unit = to_unit_array(dist, np.array([c[p] for c in configs], dtype=np.float64))
                cols.append(np.clip(unit, 0.0, 1.0)[:, None])  # beyond the known range: its edge
        except (KeyError, ValueError, TypeError):
            raise ValueError(_encoding_error(space, configs, p)) from None
    if not cols:
        return np.zeros((len(configs), 0))
    return np.hstack(cols).astype(np.float64)


def _encoding_error(space: SearchSpace, configs: Sequence[Mapping[str, Any]], p: str) -> str:
    """What is wrong with parameter ``p`` of ``configs`` in ``space``, in words."""
    dist = space.distributions[p]
    for i, c in enumerate(configs):
        if p not in c:
            return (f"configuration {i} lacks {p!r}: knowledge of {space.name!r} reads full "
                    f"configurations of its parameters {list(space.params)}")
        if isinstance(dist, CategoricalDistribution) and c[p] not in dist.choices:
            return f"configuration {i} has {p}={c[p]!r}, not one of the choices {list(dist.choices)}"
    return f"configurations give {p!r} values that are not numbers (e.g. {configs[0][p]!r})"


def encode_columns(space: SearchSpace, columns: Mapping[str, Sequence[Any] | np.ndarray],
                   defaults: Mapping[str, Any] | None = None) -> np.ndarray:
    """:func:`encode_configs` of configurations given as columns (``{param: values}``,
    all of one length); parameters without a column take ``defaults`` (the estimator's
    defaults unless given)."""
    defaults = space.defaults() if defaults is None else defaults
    n = len(next(iter(columns.values()))) if columns else 0
    cols = []
    for p in space.params:
        kd = space.distributions[p]
        if isinstance(kd, CategoricalDistribution):
            values = columns[p] if p in columns else [defaults[p]] * n
            idx = np.array([kd.choices.index(v) for v in values], dtype=np.int64)
            cols.append(np.eye(len(kd.choices))[idx])
        elif p in columns:
            unit = to_unit_array(kd, np.asarray(columns[p], dtype=np.float64))
            cols.append(np.clip(unit, 0.0, 1.0)[:, None])  # beyond the known range: its edge
        else:
            cols.append(np.full((n, 1), to_unit(kd, defaults[p])))
    return np.hstack(cols) if cols else np.zeros((n, 0))


def encode(space: SearchSpace, configs: Configs) -> np.ndarray:
    """Configurations in any of the accepted forms (see :class:`Surrogate`) as encoded rows."""
    if isinstance(configs, np.ndarray):
        return configs
    if isinstance(configs, Mapping):
        return encode_columns(space, configs)
    return encode_configs(space, configs)


def encoded_width(space: SearchSpace) -> int:
    """Number of columns of :func:`encode_configs` for ``space``."""
    return sum(
        len(d.choices) if isinstance(d, CategoricalDistribution) else 1
        for d in space.distributions.values()
    )


@dataclass
class Surrogate:
    """A surrogate adapted to one study: ``predict(configs) -> (mean, std)`` on the scale
    of the observed scores' copula (so the best observed value is comparable).

    ``configs`` may be a list of configuration dicts, columns of values
    (``{param: array}``; parameters left out take the estimator's defaults), or rows
    already encoded by :func:`encode_configs`."""

    kb: KnowledgeBase
    adapted: Any
    task_vector: np.ndarray
    diagnostics: dict = field(default_factory=dict)
    xgb_affine: list = field(default_factory=list)
    #: (MAML inputs, raw cross-task predictions) at the observations adapted to, kept so
    #: predictions there need not be recomputed (raw is None when not computed)
    observed: tuple = field(default=(None, None), repr=False)

    @property
    def prior_weight(self) -> float:
        """1 when the meta-knowledge is trusted, towards 0 when the guard distrusts it."""
        return float(self.diagnostics.get("prior_weight", 1.0))

    def encode(self, configs: Configs) -> np.ndarray:
        """Rows of numbers the members read (see the class docstring for ``configs``)."""
        return encode(self.kb.space, configs)

    def _xgb_members(self, raw: np.ndarray) -> np.ndarray:
        return np.stack([a * r + b for (a, b), r in zip(self.xgb_affine, raw)])

    def predict_members(self, configs: Configs) -> np.ndarray:
        """Per-member predictions: the adapted MAML members, then the cross-task XGBoost
        members mapped onto the observed scale by a least-squares affine fit."""
        enc = self.encode(configs)
        # the cross-task members' predictions: the MAML network's prior input and members
        raw = self.kb.cross_task_members(self.task_vector, enc) if self.kb.xgb_models else None
        members = [self.adapted.predict_members(self.kb.maml_inputs(enc, self.task_vector, cross_task=raw))]
        if raw is not None and self.xgb_affine:
            members.append(self._xgb_members(raw))
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
                enc = x[:, : encoded_width(self.kb.space)]
                raw = self.kb.cross_task_members(self.task_vector, enc)
            members.append(self._xgb_members(raw))
        return np.vstack(members).mean(axis=0)

    def predict(self, configs: Configs) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the normalized score of each config."""
        preds = self.predict_members(configs)
        mean, std = preds.mean(axis=0), preds.std(axis=0)
        # distrusted prior: widen the spread so acquisition explores
        std = std + (1.0 - self.prior_weight) + 0.05
        return mean, std


def adapt_surrogate(kb: KnowledgeBase, metafeatures: Any, observed_configs: Sequence[Mapping[str, Any]],
                    observed_scores: Sequence[float], steps: int | None) -> Surrogate:
    """:meth:`KnowledgeBase.adapt`: the MAML members adapted to a study's observed trials,
    the cross-task XGBoost members mapped onto the observed scale (never inverted), and the
    negative-transfer guard's verdict."""
    from .guard import assess_transfer
    from .kb_io import KnowledgeBaseError
    from .scores import copula, order_keeping_affine

    if kb.maml is None:
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
    v = kb.task_vector(metafeatures)
    enc = encode_configs(kb.space, configs) if configs else np.zeros((0, 0))
    observed_raw = kb.cross_task_members(v, enc) if kb.xgb_models and configs else None
    x = kb.maml_inputs(enc, v, cross_task=observed_raw) if configs else np.zeros((0, kb.maml.in_dim))
    check_count("steps", steps, 0, optional=True)
    adapted = kb.maml.adapt(x, y, steps=steps)
    diag = assess_transfer(kb, v, x, y, steps)
    affine = []
    if kb.xgb_models:
        if observed_raw is not None and len(y) >= 2 and np.ptp(y) > 0:
            # as for the MAML members: never invert the learned order
            a, b = order_keeping_affine(observed_raw, copula(y))
            affine = list(zip(a.tolist(), b.tolist()))
        else:
            affine = [(1.0, 0.0)] * len(kb.xgb_models)
    return Surrogate(kb, adapted, v, diag, affine, observed=(x, observed_raw))
