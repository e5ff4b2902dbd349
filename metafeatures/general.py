"""General meta-features: sizes, types, missing values, class balance.

Computed on the full data (counts are cheap). OpenML counts the target as one of a
dataset's features (``NumberOfFeatures`` of iris is 5); the OpenML-named features here
follow that definition, the ``general.*`` ones count input columns only.
"""

from __future__ import annotations

import numpy as np

from ._prepare import Prepared
from ._registry import FeatureSpec, summarize, summary_specs

GROUP = "general"


def _s(name: str, desc: str, openml: bool = False, task: str = "any") -> FeatureSpec:
    return FeatureSpec(
        name, GROUP, desc, "low", openml_name=name if openml else "", scale_free=True, task=task
    )


FEATURES: list[FeatureSpec] = [
    _s("NumberOfInstances", "number of rows", openml=True),
    _s("NumberOfFeatures", "number of attributes, the target included (OpenML)", openml=True),
    _s("NumberOfNumericFeatures", "numeric attributes, the target included (OpenML)", openml=True),
    _s("NumberOfSymbolicFeatures", "nominal attributes, the target included (OpenML)", openml=True),
    _s("NumberOfBinaryFeatures", "attributes with exactly 2 distinct values, the target included (OpenML)", openml=True),
    _s("PercentageOfNumericFeatures", "100 * NumberOfNumericFeatures / NumberOfFeatures", openml=True),
    _s("PercentageOfSymbolicFeatures", "100 * NumberOfSymbolicFeatures / NumberOfFeatures", openml=True),
    _s("PercentageOfBinaryFeatures", "100 * NumberOfBinaryFeatures / NumberOfFeatures", openml=True),
    _s("Dimensionality", "NumberOfFeatures / NumberOfInstances", openml=True),
    _s("NumberOfMissingValues", "missing (or infinite) cells in X", openml=True),
    _s("PercentageOfMissingValues", "100 * missing cells / (rows * attributes)", openml=True),
    _s("NumberOfInstancesWithMissingValues", "rows with at least one missing value", openml=True),
    _s("PercentageOfInstancesWithMissingValues", "100 * rows with missing values / rows", openml=True),
    _s("NumberOfClasses", "distinct classes (0 for regression)", openml=True),
    _s("MajorityClassSize", "rows of the most frequent class", openml=True, task="classification"),
    _s("MinorityClassSize", "rows of the least frequent class", openml=True, task="classification"),
    _s("MajorityClassPercentage", "100 * MajorityClassSize / rows", openml=True, task="classification"),
    _s("MinorityClassPercentage", "100 * MinorityClassSize / rows", openml=True, task="classification"),
    _s("general.log_instances", "natural log of the number of rows"),
    _s("general.log_features", "natural log of the number of input columns"),
    _s("general.log_inst_to_attr", "log(rows / input columns)"),
    _s("general.features_with_missing_share", "share of input columns with missing values"),
    _s("general.categorical_share", "share of input columns that are categorical"),
    _s("general.class_imbalance_ratio", "majority class size / minority class size", task="classification"),
    _s("general.class_balance_entropy", "class entropy / log2(classes): 1 for balanced classes", task="classification"),
    *[
        FeatureSpec(s.name, s.group, s.description, s.cost, s.openml_name, True, s.task)
        for s in summary_specs(
            "general.cat_levels", GROUP, "distinct levels of categorical columns",
            which=("mean", "sd", "min", "max"),
        )
    ],
]


def compute(p: Prepared) -> dict[str, float]:
    n, d = p.n_rows, p.n_features
    is_clf = p.task == "classification"
    target_binary = is_clf and p.n_classes == 2
    n_feat_om = d + 1
    n_num_om = p.n_numeric + (0 if is_clf else 1)
    n_sym_om = p.n_categorical + (1 if is_clf else 0)
    n_bin_om = p.n_binary + (1 if target_binary else 0)
    out: dict[str, float] = {
        "NumberOfInstances": n,
        "NumberOfFeatures": n_feat_om,
        "NumberOfNumericFeatures": n_num_om,
        "NumberOfSymbolicFeatures": n_sym_om,
        "NumberOfBinaryFeatures": n_bin_om,
        "PercentageOfNumericFeatures": 100.0 * n_num_om / n_feat_om,
        "PercentageOfSymbolicFeatures": 100.0 * n_sym_om / n_feat_om,
        "PercentageOfBinaryFeatures": 100.0 * n_bin_om / n_feat_om,
        "Dimensionality": n_feat_om / n,
        "NumberOfMissingValues": p.n_missing,
        "PercentageOfMissingValues": 100.0 * p.n_missing / (n * d),
        "NumberOfInstancesWithMissingValues": p.n_rows_with_missing,
        "PercentageOfInstancesWithMissingValues": 100.0 * p.n_rows_with_missing / n,
        "NumberOfClasses": p.n_classes,
        "general.log_instances": float(np.log(n)),
        "general.log_features": float(np.log(d)),
        "general.log_inst_to_attr": float(np.log(n / d)),
        "general.features_with_missing_share": p.n_cols_with_missing / d,
        "general.categorical_share": p.n_categorical / d,
    }
    nan = float("nan")
    if is_clf:
        cc = p.class_counts.astype(np.float64)
        probs = cc / cc.sum()
        ent = float(-(probs * np.log2(probs)).sum())
        out.update(
            {
                "MajorityClassSize": cc[0],
                "MinorityClassSize": cc[-1],
                "MajorityClassPercentage": 100.0 * cc[0] / n,
                "MinorityClassPercentage": 100.0 * cc[-1] / n,
                "general.class_imbalance_ratio": cc[0] / cc[-1],
                "general.class_balance_entropy": ent / np.log2(cc.size),
            }
        )
    else:
        for k in (
            "MajorityClassSize",
            "MinorityClassSize",
            "MajorityClassPercentage",
            "MinorityClassPercentage",
            "general.class_imbalance_ratio",
            "general.class_balance_entropy",
        ):
            out[k] = nan
    names = [s.name for s in FEATURES if s.name.startswith("general.cat_levels")]
    out.update(summarize(p.cat_levels, names))
    return {k: float(v) for k, v in out.items()}
