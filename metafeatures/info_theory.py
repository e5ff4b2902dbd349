"""Information-theoretic meta-features (entropies in bits, on the shared subsample).

Numeric columns are discretized once (equal-frequency bins, ``floor(m ** (1/3))`` bins
for ``m`` subsample rows, the convention pymfe uses); a missing value is a value of its
own. For regression the target is discretized the same way, so every feature here is
defined for both task types.

* OpenML-named features (``ClassEntropy``, ``MeanAttributeEntropy``,
  ``MeanMutualInformation``, ``EquivalentNumberOfAtts``, ``MeanNoiseToSignalRatio`` and
  their summaries) are computed over the **nominal** input attributes and the class,
  for classification only; they are undefined on all-numeric data.
* ``info.*`` features use **all** attributes (numeric ones discretized), which is what
  pymfe's ``attr_ent``, ``mut_inf``, ``eq_num_attr`` and ``ns_ratio`` compute.
"""

from __future__ import annotations

import numpy as np

from ._prepare import Prepared
from ._registry import FeatureSpec, summarize, summary_specs

GROUP = "information"

_OM_WHICH = ("mean", "min", "q1", "median", "q3", "max")
OM_ENT = summary_specs("", GROUP, "entropies of the nominal attributes", openml_stem="AttributeEntropy", which=_OM_WHICH, scale_free=True, task="classification")
OM_MI = summary_specs("", GROUP, "mutual information of nominal attributes with the class", openml_stem="MutualInformation", which=_OM_WHICH, scale_free=True, task="classification")
ENT = summary_specs("info.attr_entropy", GROUP, "entropies of all attributes (numeric discretized)", scale_free=True, which=("mean", "sd", "min", "median", "max"))
MI = summary_specs("info.mutual_info", GROUP, "mutual information of each attribute with the target", scale_free=True, which=("mean", "sd", "min", "median", "max"))


def _s(name: str, desc: str, openml: bool = False, task: str = "any") -> FeatureSpec:
    return FeatureSpec(name, GROUP, desc, "medium", name if openml else "", True, task)


FEATURES: list[FeatureSpec] = [
    _s("ClassEntropy", "entropy of the class distribution (bits)", openml=True, task="classification"),
    *OM_ENT,
    *OM_MI,
    _s("EquivalentNumberOfAtts", "ClassEntropy / MeanMutualInformation (nominal attributes)", openml=True, task="classification"),
    _s("MeanNoiseToSignalRatio", "(MeanAttributeEntropy - MeanMutualInformation) / MeanMutualInformation (nominal attributes)", openml=True, task="classification"),
    _s("info.target_entropy", "entropy of the target (classes, or discretized regression target)"),
    _s("info.target_entropy_normalized", "target entropy / log2(number of target values)"),
    *ENT,
    *MI,
    _s("info.joint_entropy.mean", "mean joint entropy of each attribute with the target"),
    _s("info.eq_num_attr", "target entropy * attributes / sum of mutual information (pymfe eq_num_attr)"),
    _s("info.ns_ratio", "(sum attribute entropy - sum mutual information) / sum mutual information (pymfe ns_ratio)"),
    _s("info.mutual_info_share_top", "share of the total mutual information carried by the best attribute"),
    _s("info.uncertainty_coef.max", "max over attributes of mutual information / target entropy"),
]


def _entropy_of_codes(codes: np.ndarray) -> float:
    counts = np.bincount(codes)
    counts = counts[counts > 0].astype(np.float64)
    probs = counts / counts.sum()
    return float(-(probs * np.log2(probs)).sum())


def _attr_stats(disc: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entropy, mutual information with ``y`` and joint entropy, per column of ``disc``."""
    ny = int(y.max()) + 1
    h_y = _entropy_of_codes(y)
    d = disc.shape[1]
    ent = np.empty(d)
    mi = np.empty(d)
    joint = np.empty(d)
    for j in range(d):
        col = disc[:, j]
        ent[j] = _entropy_of_codes(col)
        joint[j] = _entropy_of_codes(col * ny + y)
        mi[j] = max(ent[j] + h_y - joint[j], 0.0)
    return ent, mi, joint


def _cat_codes(cat: np.ndarray) -> np.ndarray:
    """Categorical codes with missing (-1) as a value of its own, non-negative."""
    return np.where(cat < 0, cat.max(axis=0, initial=0) + 1, cat) if cat.size else cat


def compute(p: Prepared) -> dict[str, float]:
    nan = float("nan")
    out: dict[str, float] = {}
    y = p.y_disc
    h_y = _entropy_of_codes(y)
    n_values = np.unique(y).size
    out["info.target_entropy"] = h_y
    out["info.target_entropy_normalized"] = h_y / np.log2(n_values) if n_values > 1 else nan

    cat = _cat_codes(p.cat)
    disc_all = np.hstack([p.disc_num, cat]) if cat.size else p.disc_num
    if disc_all.shape[1]:
        ent, mi, joint = _attr_stats(disc_all, y)
        out.update(summarize(ent, [s.name for s in ENT]))
        out.update(summarize(mi, [s.name for s in MI]))
        out["info.joint_entropy.mean"] = float(joint.mean())
        total_mi = mi.sum()
        out["info.eq_num_attr"] = h_y * mi.size / total_mi if total_mi > 0 else nan
        out["info.ns_ratio"] = (ent.sum() - total_mi) / total_mi if total_mi > 0 else nan
        out["info.mutual_info_share_top"] = mi.max() / total_mi if total_mi > 0 else nan
        out["info.uncertainty_coef.max"] = mi.max() / h_y if h_y > 0 else nan
    else:  # pragma: no cover - X always has at least one column
        for s in ENT + MI:
            out[s.name] = nan

    om_names = [s.name for s in OM_ENT] + [s.name for s in OM_MI]
    if p.task == "classification":
        out["ClassEntropy"] = h_y
        if cat.size:
            ent_c, mi_c, _ = _attr_stats(cat, y)
            out.update(summarize(ent_c, [s.name for s in OM_ENT]))
            out.update(summarize(mi_c, [s.name for s in OM_MI]))
            mean_mi = float(mi_c.mean())
            out["EquivalentNumberOfAtts"] = h_y / mean_mi if mean_mi > 0 else nan
            out["MeanNoiseToSignalRatio"] = (
                (float(ent_c.mean()) - mean_mi) / mean_mi if mean_mi > 0 else nan
            )
        else:
            for name in om_names + ["EquivalentNumberOfAtts", "MeanNoiseToSignalRatio"]:
                out[name] = nan
    else:
        for name in om_names + ["ClassEntropy", "EquivalentNumberOfAtts", "MeanNoiseToSignalRatio"]:
            out[name] = nan
    return {k: float(v) for k, v in out.items()}
