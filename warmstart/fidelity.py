"""Row fidelities of a build: which row counts a table is evaluated at, the task id of
each, and which configurations each larger fidelity evaluates.

A table is evaluated at each row count below its size (a seeded, stratified subsample) and
in full (up to the build's ``max_rows``). Each fidelity is a task of its own
(``SOURCE@ROWS`` unless it is the whole table) with the meta-features of its rows; all
share the table's fingerprint, so leave-one-out drops them together. The first fidelity
evaluates every configuration; each larger one evaluates, as successive halving does, the
best ``1/halving`` of the previous fidelity's configurations, a random share of the others
(so the knowledge also sees poor configurations on big data) and the estimator's defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .tasks import Task


def parse_fidelities(value: str | Sequence[int | str] | None) -> list[int | str] | None:
    """``"2000,6000,full"`` -> ``[2000, 6000, "full"]`` (validated, increasing)."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    out: list[int | str] = []
    for v in items:
        if isinstance(v, str) and v.lower() == "full":
            out.append("full")
            continue
        try:
            n = int(v)
        except (TypeError, ValueError):
            raise ValueError(
                f"fidelities: {v!r} is neither a row count nor 'full'; write e.g. 2000,6000,20000,full"
            ) from None
        if n < 50:
            raise ValueError(f"fidelities: {n} rows is too few to cross-validate; use 50 or more")
        out.append(n)
    nums = [v for v in out if v != "full"]
    if not out or nums != sorted(set(nums)) or out.count("full") > 1 or ("full" in out and out[-1] != "full"):
        raise ValueError(
            f"fidelities={value!r}: give increasing row counts, optionally ending with 'full' "
            "(e.g. 2000,6000,20000,full)"
        )
    return out


@dataclass(frozen=True)
class Level:
    """One fidelity of a task: its id in the meta-dataset and the rows it evaluates."""

    task_id: str
    rows: int
    index: int


def task_levels(task: Task, n_rows: int, fidelities: list[int | str] | None,
                max_rows: int | None) -> list[Level]:
    """The fidelities a task is evaluated at (``n_rows``: rows after dropping rare classes).

    Without fidelities there is one level, the table capped at ``max_rows``, with the
    task's own id (the format of builds made before fidelities existed)."""
    cap = n_rows if max_rows is None else min(n_rows, max_rows)
    if fidelities is None:
        return [Level(task.task_id, cap, 0)]
    sizes = sorted({min(int(f), cap) for f in fidelities if f != "full"}
                   | ({cap} if "full" in fidelities else set()))
    return [Level(task.task_id if rows == n_rows else f"{task.task_id}@{rows}", rows, i)
            for i, rows in enumerate(sizes)]


def select_configs(previous: pd.DataFrame, metric: str, n_configs: int, *, halving: float,
                   random_share: float, min_configs: int, seed: int) -> list[int]:
    """Config ids for the next fidelity: the best of the previous one, a random share of
    the rest, and the defaults (config 0). Deterministic for a given ``seed``."""
    ok = previous[(previous["status"] == "ok") & previous[metric].notna()]
    ranked = ok.sort_values([metric, "config_id"], ascending=[False, True])["config_id"].astype(int).tolist()
    n_keep = min(len(ranked), max(min_configs, math.ceil(n_configs / halving)))
    n_random = int(round(n_keep * random_share))
    chosen = ranked[: n_keep - n_random]
    rest = [c for c in ranked if c not in chosen]
    rng = np.random.default_rng(seed)
    if rest and n_random:
        chosen += [int(c) for c in rng.choice(rest, size=min(n_random, len(rest)), replace=False)]
    if 0 not in chosen:
        chosen.append(0)
    return sorted(chosen)


def level_data(task: Task, task_id: str, build: Mapping[str, Any]) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows and encoded target that a build evaluated for ``task_id``, one fidelity of
    ``task`` (``build``: the build's record in a meta-dataset's manifest: its folds, seed,
    fidelities and row cap). A fidelity asks for a row count of the usable table; the
    subsample may then drop a class too rare for the folds, so the count recorded can be
    smaller than the one in the id. Raises ``KeyError`` if the build makes no such level."""
    from .protocol import prepare_task_data, task_seed

    folds, seed = int(build["folds"]), task_seed(task.task_id, int(build["seed"]))
    usable = len(prepare_task_data(task.X, task.y, task.task_type, folds=folds, max_rows=None, seed=seed)[1])
    fidelities = build.get("fidelities")
    levels = {lv.task_id: lv.rows for lv in task_levels(task, usable, fidelities, build.get("max_rows"))}
    if task_id not in levels:
        raise KeyError(f"the build makes no fidelity {task_id!r} of {task.task_id!r}; it makes {sorted(levels)}")
    return prepare_task_data(task.X, task.y, task.task_type, folds=folds, max_rows=levels[task_id], seed=seed)
