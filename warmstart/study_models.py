"""Per-study models of knowledge learned from studies, and the warm start they drive.

In knowledge learned from a user's own studies (:mod:`warmstart.study_knowledge`) each
study's trials sit at configurations of their own: no other study evaluated them. The
cross-task fill of the score matrix then says the same about every study away from its own
trials, so a portfolio can only take each study's own best, in an order nothing relates
to the new study. Here each past study gets a model of its own (a Gaussian process on its
copula scores, :mod:`warmstart.gaussian_process`), which gives:

* **a fill of the matrix** over the configurations that were good on some study (each
  study's top ``TOP_SHARE``): the greedy portfolio then takes configurations good on many
  studies, and spreads over the rest;
* **a central first pick**: the candidate with the least weighted sum of distances to the
  candidates of every study (each study weighted alike; :func:`central_candidate`), where the
  good regions of the past studies overlap. Held out study by study it was better as a
  first trial than the configuration the fill rates best on average (an argmax over
  predictions, which lands on extremes where the studies disagree), with related and with
  shuffled histories alike;
* **weights from the new study's own trials** (as RGPE weighs its members): the share of
  pairs of the new study's observations each past study's model puts in the wrong order;
  ``w ~ exp(-(loss - min loss) / RANK_TEMPERATURE)``. From ``RANKED_FROM`` observations the
  warm start's next configuration is the one that most reduces the regret weighted so
  (:func:`next_warm_config`): the later warm-start trials follow the studies that rank this
  one's trials right.

Only knowledge without meta-features uses them (a study described by meta-features has a
distance to the new dataset already).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import CategoricalDistribution

from .gaussian_process import GPFit, fit_gp
from .portfolio import greedy_portfolio, next_pick
from .surrogate import encode_configs

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

#: each study's best share of its own configurations are the warm start's candidates
TOP_SHARE, MIN_TOP = 0.25, 5
#: temperature of the ranking weights (share of discordant pairs)
RANK_TEMPERATURE = 0.2
#: observations of the new study before its warm start follows the ranking weights
RANKED_FROM = 2


class StudyModels:
    """A GP per past study of a knowledge base, and its candidate configurations."""

    def __init__(self, kb: KnowledgeBase) -> None:
        space = kb.space
        scores = kb.scores
        enc = encode_configs(space, kb.configs)
        self.fits: list[GPFit] = []
        share: dict[int, float] = {}  # candidate column -> its studies' weight
        for row in scores:
            seen = np.flatnonzero(np.isfinite(row))
            self.fits.append(fit_gp(enc[seen], row[seen]))
            top = max(MIN_TOP, int(np.ceil(TOP_SHARE * len(seen))))
            picked = seen[np.argsort(-row[seen], kind="stable")[:top]]
            for j in picked:
                share[int(j)] = share.get(int(j), 0.0) + 1.0 / len(picked)
        #: the candidate configurations (columns of ``kb.configs``)
        self.columns = np.array(sorted(share), dtype=int)
        #: the first pick: the candidate most central among every study's candidates
        self.central = central_candidate(enc[self.columns], np.array([share[int(j)] for j in self.columns]))
        own = scores[:, self.columns]
        #: (studies, candidates): each study's own scores, its model's mean elsewhere
        self.filled = np.where(np.isfinite(own), own, self.predict(enc[self.columns]))
        self._choices = {p: d.choices for p, d in space.distributions.items()
                         if isinstance(d, CategoricalDistribution)}
        self._keys = {json.dumps(kb.configs[j], sort_keys=True): i for i, j in enumerate(self.columns)}

    def predict(self, enc: np.ndarray, studies: Sequence[int] | None = None) -> np.ndarray:
        """(studies, rows): each study's model mean at the encoded configurations (all
        studies, or those listed)."""
        fits = self.fits if studies is None else [self.fits[i] for i in studies]
        return np.vstack([f.mean(enc) for f in fits]) if len(enc) and fits else np.zeros((len(fits), len(enc)))

    def rank_weights(self, enc: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Normalized weights of the past studies from how well their models order the new
        study's ``values`` (higher better) at the encoded configurations ``enc``."""
        pred = self.predict(enc)
        i, j = np.triu_indices(len(values), k=1)
        dy = np.sign(values[i] - values[j])
        keep = dy != 0
        if not keep.any():
            return np.full(len(self.fits), 1.0 / len(self.fits))
        dp = np.sign(pred[:, i[keep]] - pred[:, j[keep]])
        loss = (dp * dy[keep] < 0).mean(axis=1)
        w = np.exp(-(loss - loss.min()) / RANK_TEMPERATURE)
        return w / w.sum()

    def encodable(self, configs: Sequence[Mapping[str, Any]]) -> list[int]:
        """Indices of ``configs`` whose categorical values the space knows."""
        return [i for i, c in enumerate(configs) if all(c.get(p) in ch for p, ch in self._choices.items())]


def central_candidate(enc: np.ndarray, weights: np.ndarray) -> int:
    """The row of ``enc`` (encoded candidates) with the least ``weights``-weighted sum of
    L1 distances to every row: a medoid, robust to the outliers a mean would follow, and
    always a configuration some study tried. An L1 distance is a sum over columns, and on
    one column every row's weighted sum of distances follows from prefix sums over the
    sorted values: O(columns x rows log rows), not rows squared."""
    total = np.zeros(len(enc))
    weights = np.asarray(weights, dtype=np.float64)
    for col in np.asarray(enc, dtype=np.float64).T:
        order = np.argsort(col, kind="stable")
        v, w = col[order], weights[order]
        cw, cwv = np.cumsum(w), np.cumsum(w * v)
        below = v * cw - cwv  # sum of w_j (v - v_j) over v_j <= v
        above = (cwv[-1] - cwv) - v * (cw[-1] - cw)  # sum of w_j (v_j - v) over the rest
        total[order] += below + above
    return int(np.argmin(total))


def uses_study_models(kb: KnowledgeBase) -> bool:
    """Knowledge learned from studies that carry no meta-features."""
    return bool(kb.info.get("from_studies")) and not kb.feature_names


def study_models(kb: KnowledgeBase) -> StudyModels:
    """The per-study models of ``kb`` (fitted once, kept with it)."""
    models = getattr(kb, "_study_models", None)
    if models is None:
        models = StudyModels(kb)
        kb._study_models = models
    return models


def history_portfolio(kb: KnowledgeBase, n: int) -> list[dict[str, Any]]:
    """The zero-shot warm start of knowledge without meta-features: first the central
    candidate (:attr:`StudyModels.central`), then the greedy portfolio over the per-study
    models' fill, every study weighted alike."""
    w = np.full(len(kb.task_ids), 1.0 / len(kb.task_ids))
    m = study_models(kb)
    picks = greedy_portfolio(m.filled, w, n, start=[m.central])
    return [dict(kb.configs[m.columns[j]]) for j in picks][:n]


def next_warm_config(kb: KnowledgeBase, observed: Sequence[Mapping[str, Any]], values: np.ndarray,
                     pending: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any] | None:
    """The next warm-start configuration given the new study's ``observed`` configurations
    (full configurations in the knowledge's names) and their ``values`` (higher better),
    ``pending`` ones still running: the candidate that most reduces the regret weighted by
    :meth:`StudyModels.rank_weights`. None before ``RANKED_FROM`` usable observations or
    without meta-features-free knowledge (the static portfolio goes on)."""
    if not uses_study_models(kb):
        return None
    m = study_models(kb)
    ok = m.encodable(observed)
    if len(ok) < RANKED_FROM:
        return None
    obs = [observed[i] for i in ok]
    enc_obs = encode_configs(kb.space, obs)
    w = m.rank_weights(enc_obs, np.asarray(values, dtype=np.float64)[ok])
    waiting = [pending[i] for i in m.encodable(pending)]
    tried = [*obs, *waiting]
    enc_tried = np.vstack([enc_obs, encode_configs(kb.space, waiting)]) if waiting else enc_obs
    current = m.predict(enc_tried).max(axis=1)
    taken = [m._keys[k] for k in (json.dumps(dict(c), sort_keys=True) for c in tried) if k in m._keys]
    for i in taken:  # a candidate tried: its own scores, not its model's mean
        current = np.maximum(current, m.filled[:, i])
    if len(taken) >= len(m.columns):
        return None
    return dict(kb.configs[m.columns[next_pick(m.filled, w, current, exclude=taken)]])

