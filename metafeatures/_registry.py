"""Feature specifications and the summaries used across groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Summaries of a per-column quantity, in output order: (our suffix, OpenML prefix).
SUMMARIES: tuple[tuple[str, str], ...] = (
    ("mean", "Mean"),
    ("sd", "Stdv"),
    ("min", "Min"),
    ("q1", "Quartile1"),
    ("median", "Quartile2"),
    ("q3", "Quartile3"),
    ("max", "Max"),
)


@dataclass(frozen=True)
class FeatureSpec:
    """One meta-feature: its name, group, meaning, relative cost and OpenML name."""

    name: str
    group: str
    description: str
    cost: str  # "low" (O(n d)), "medium" (O(n d log n) or O(n d^2)), "high" (model fits)
    openml_name: str = ""
    scale_free: bool = False  # invariant to positive rescaling of numeric columns
    task: str = "any"  # "any", "classification" or "regression"


def summary_specs(
    stem: str,
    group: str,
    what: str,
    *,
    cost: str = "low",
    openml_stem: str | None = None,
    scale_free: bool = False,
    task: str = "any",
    which: tuple[str, ...] | None = None,
) -> list[FeatureSpec]:
    """Specs for the summaries (mean, sd, min, quartiles, max) of a per-column quantity.

    With ``openml_stem`` the names are OpenML's (``Mean<stem>``, ``Stdv<stem>``,
    ``Quartile1<stem>``...); otherwise ``<stem>.<summary>``.
    """
    specs = []
    for suffix, om in SUMMARIES:
        if which is not None and suffix not in which:
            continue
        name = f"{om}{openml_stem}" if openml_stem else f"{stem}.{suffix}"
        specs.append(
            FeatureSpec(
                name=name,
                group=group,
                description=f"{suffix} over {what}",
                cost=cost,
                openml_name=name if openml_stem else "",
                scale_free=scale_free,
                task=task,
            )
        )
    return specs


def summarize(values: np.ndarray, names: list[str]) -> dict[str, float]:
    """Summaries of ``values`` (NaN entries are undefined and ignored) under ``names``,
    which must follow the order of :data:`SUMMARIES` filtered to the wanted subset.
    Undefined summaries (no values; sd of one value) are NaN."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    out: dict[str, float] = {}
    suffixes = [s for s, _ in SUMMARIES]
    # names are given in SUMMARIES order; map each by position of its suffix/prefix
    for name in names:
        kind = _summary_kind(name, suffixes)
        if v.size == 0:
            out[name] = float("nan")
        elif kind == "mean":
            out[name] = float(v.mean())
        elif kind == "sd":
            with np.errstate(over="ignore"):  # an sd past 1e308 is inf, as the value is
                out[name] = float(v.std(ddof=1)) if v.size > 1 else float("nan")
        elif kind == "min":
            out[name] = float(v.min())
        elif kind == "max":
            out[name] = float(v.max())
        elif kind == "q1":
            out[name] = float(np.percentile(v, 25))
        elif kind == "median":
            out[name] = float(np.percentile(v, 50))
        elif kind == "q3":
            out[name] = float(np.percentile(v, 75))
    return out


_OPENML_PREFIX = {om: s for s, om in SUMMARIES}


def _summary_kind(name: str, suffixes: list[str]) -> str:
    tail = name.rsplit(".", 1)[-1]
    if "." in name and tail in suffixes:
        return tail
    for om, s in sorted(_OPENML_PREFIX.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(om):
            return s
    raise KeyError(f"not a summary feature name: {name!r}")
