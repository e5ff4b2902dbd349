"""Offline meta-dataset builds: every (task, configuration) of a suite, evaluated and stored.

A build is resumable and crash-safe. Each finished evaluation is written at once as its
own small Parquet part (atomically); when every configuration of a (task, space) is done,
its parts are merged into one file (see :mod:`warmstart.store`). ``kill -9`` therefore
loses at most the evaluations in flight, and running the same command again skips every
``(task_id, space, config_id)`` already on disk. A rerun whose protocol (folds, seed, row
cap, fidelities) differs from the one on disk is refused: its evaluations would not be
comparable with the stored ones.

**The data described is the data evaluated.** A task's meta-features are computed on
exactly the rows its configurations were cross-validated on (after dropping classes rarer
than the folds and subsampling).

**Fidelities.** With ``fidelities=[2000, 6000, 20000, "full"]`` a table is evaluated at
each row count below its size and in full (up to ``max_rows``), each fidelity a task of its
own sharing the table's fingerprint; larger fidelities evaluate fewer configurations, as
successive halving does (see :mod:`warmstart.fidelity`).

Seeds derive from the table's source and the build seed, so results do not depend on the
executor or the number of workers.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from .executors import DaskExecutor, Job, LocalExecutor
from .fidelity import Level, parse_fidelities, select_configs, task_levels
from .protocol import (
    CLASSIFICATION_METRICS,
    PRIMARY_METRIC,
    REGRESSION_METRICS,
    library_versions,
    prepare_task_data,
    task_seed,
)
from .store import (
    MF_PREFIX,
    atomic_write_parquet,
    atomic_write_text,
    clean_tmp,
    compact,
    compact_task,
    count_on_disk,
    done_keys,
    evaluated_rows,
    param_columns,
    part_path,
    read_space_evaluations,
    set_aside,
    task_key,
    tasks_on_disk,
)
from .tasks import Task, load_task, suite_specs

logger = logging.getLogger(__name__)

#: Settings that decide what an evaluation means; a rerun must not change them.
PROTOCOL_SETTINGS = ("folds", "seed", "max_rows", "fidelities", "halving", "random_share")


@dataclass
class BuildSummary:
    """What a build did."""

    tasks: int = 0
    evaluations: int = 0
    skipped: int = 0  # already on disk
    failed: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    out: str = ""
    per_space: dict = field(default_factory=dict)


def _config_list(space: spaces_mod.SearchSpace, n_configs: int, seed: int) -> list[dict]:
    """Config 0 is the estimator's defaults; 1..n come from a scrambled Sobol sequence."""
    return [space.defaults()] + spaces_mod.sobol_configs(space, n_configs, seed=seed)


def _record_row(
    job: Job, space: spaces_mod.SearchSpace, rec: dict, seed: int, rows: int, fidelity: float,
    max_rows: int | None, versions: str,
) -> pd.DataFrame:
    row: dict[str, Any] = {
        "task_id": job.task_id,
        "space": space.name,
        "space_signature": space.signature,
        "config_id": int(job.config_id),
        "config": json.dumps(job.config, sort_keys=True),
    }
    row.update(param_columns(space, job.config))
    metrics = CLASSIFICATION_METRICS if space.task_type == "classification" else REGRESSION_METRICS
    for m in metrics:
        row[m] = float(rec.get(m, float("nan")))
    row["fit_seconds"] = float(rec.get("fit_seconds", float("nan")))
    row["status"] = rec.get("status", "failed")
    row["error"] = rec.get("error", "")
    row["seed"] = int(seed)
    row["folds"] = int(job.folds)
    row["max_rows"] = -1 if max_rows is None else int(max_rows)  # the build's cap
    row["rows"] = int(rec.get("rows", rows))
    row["fidelity"] = float(fidelity)
    row["versions"] = versions
    return pd.DataFrame([row])


def task_row(task: Task, mf: pd.Series, *, task_id: str | None = None, n_rows: int | None = None,
             source_rows: int | None = None) -> pd.DataFrame:
    """The ``tasks`` table row of ``task`` (identity and meta-features) at one fidelity:
    ``n_rows`` rows evaluated out of ``source_rows`` usable rows of the table, with the
    signature of the meta-features' revision (a rerun recomputes rows of another one)."""
    import metafeatures

    n_rows = int(len(task.y)) if n_rows is None else int(n_rows)
    source_rows = n_rows if source_rows is None else int(source_rows)
    row: dict[str, Any] = {
        "task_id": task_id or task.task_id,
        "fingerprint": task.fingerprint,
        "source": task.source,
        "name": task.name if (task_id or task.task_id) == task.task_id else f"{task.name}@{n_rows}",
        "task_type": task.task_type,
        "n_rows": n_rows,
        "n_features": int(task.X.shape[1]),
        "source_rows": source_rows,
        "fidelity": n_rows / max(source_rows, 1),
        "dataset": task.dataset,
        "family": task.family,
        "collection": task.collection,
        "mf_signature": metafeatures.signature(),
    }
    for k, v in mf.items():
        row[f"{MF_PREFIX}{k}"] = float(v)
    return pd.DataFrame([row])


def evaluated_data(task: Task, *, folds: int, rows: int | None, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows and encoded target that a build evaluates for ``task`` at ``rows`` rows."""
    return prepare_task_data(task.X, task.y, task.task_type, folds=folds, max_rows=rows,
                             seed=task_seed(task.task_id, seed))


def _check_protocol(manifest: dict, spaces: Sequence[str], settings: dict, out: Path) -> None:
    """Refuse a rerun that would mix evaluations made under another protocol."""
    for s in spaces:
        old = manifest.get("builds", {}).get(s)
        if not old:
            continue
        for key in PROTOCOL_SETTINGS:
            before = old.get(key)
            if key in ("fidelities", "halving", "random_share") and key not in old:
                before = None if key == "fidelities" else settings[key]
            if before != settings[key]:
                raise ValueError(
                    f"{str(out)!r} holds a build of {s!r} made with {key}={before!r}; this run asks "
                    f"for {key}={settings[key]!r}, and the stored evaluations would not be comparable. "
                    f"Rerun with {key}={before!r} to resume it, or choose another --out for a new build."
                )


def build(
    suite: str | Path,
    spaces: Sequence[str],
    n_configs: int,
    out: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    max_rows: int | None = 5000,
    fidelities: str | Sequence[int | str] | None = None,
    halving: float = 3.0,
    random_share: float = 0.25,
    min_configs: int = 8,
    timeout: float | None = 120.0,
    folds: int = 5,
    seed: int = 0,
    max_tasks: int | None = None,
    command: str | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
) -> BuildSummary:
    """Build (or resume) a meta-dataset.

    Parameters
    ----------
    suite : "default" or path
        The task suite (see :mod:`warmstart.tasks`).
    spaces : list of str
        Built-in space names; each runs on the suite's tasks of its task type.
    n_configs : int
        Sobol configurations per (task, space), plus the estimator's defaults.
    out : path
        Output folder; an existing build there is resumed.
    tasks : list of str, optional
        Only these task names or sources.
    workers, scheduler, dask_local :
        Local worker processes (default), or a Dask scheduler address, or a Dask
        ``LocalCluster`` with that many workers.
    max_rows : int, optional
        Row cap per task (stratified subsample); with fidelities, the cap of ``"full"``.
    fidelities : str or list, optional
        Row counts to evaluate each table at, optionally ending with ``"full"``
        (``"2000,6000,20000,full"``); see the module docstring. None: one level per task.
    halving, random_share, min_configs :
        Each larger fidelity evaluates ``max(min_configs, n / halving)`` configurations of
        the previous one's ``n``, ``random_share`` of them drawn at random.
    timeout : float, optional
        Seconds per evaluation; overrunning evaluations are recorded as ``timeout``.
    folds, seed : int
        Cross-validation folds and the build seed.
    max_tasks : int, optional
        Only the first ``max_tasks`` tasks per space (after filtering).
    progress : callable, optional
        Called as ``progress(done, total, info)`` after each evaluation; ``total`` grows
        as larger fidelities are scheduled.
    """
    for name in spaces:
        spaces_mod.get_search_space(name)  # validates the name
    if n_configs < 1:
        raise ValueError(f"n_configs must be >= 1, got {n_configs}")
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if sum(x is not None for x in (scheduler, dask_local)) > 1:
        raise ValueError("pass at most one of scheduler= and dask_local=")
    if halving <= 1:
        raise ValueError(f"halving must be > 1, got {halving}")
    if not 0 <= random_share < 1:
        raise ValueError(f"random_share must be in [0, 1), got {random_share}")
    fids = parse_fidelities(fidelities)

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    clean_tmp(out)
    specs, base = suite_specs(suite)
    wanted = set(tasks) if tasks else None
    versions = library_versions()
    versions_json = json.dumps(versions, sort_keys=True)
    summary = BuildSummary(out=str(out))

    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    settings = {
        "suite": str(suite), "n_configs": n_configs, "folds": folds, "seed": seed,
        "max_rows": max_rows, "fidelities": fids, "halving": halving, "random_share": random_share,
        "min_configs": min_configs, "timeout": timeout,
        "tasks": list(tasks) if tasks else None, "max_tasks": max_tasks,
    }
    _check_protocol(manifest, spaces, settings, out)
    manifest.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    manifest["format"] = 2
    builds = manifest.setdefault("builds", {})
    for s in spaces:
        entry = builds.setdefault(s, {})
        entry.update(settings)
        entry["signature"] = spaces_mod.space_signature(s)
        entry["command"] = command or entry.get("command", "")
        entry["versions"] = versions
    manifest["primary_metric"] = PRIMARY_METRIC
    atomic_write_text(json.dumps(manifest, indent=1), manifest_path)

    task_objs, levels, skipped_tasks = _prepare_tasks(
        specs, base, spaces, out, wanted=wanted, max_tasks=max_tasks, folds=folds, seed=seed,
        max_rows=max_rows, fidelities=fids,
    )
    summary.tasks = len(task_objs)
    if not task_objs and not wanted:
        have = sorted({str(sp["task_type"]) for sp in specs})
        need = sorted({spaces_mod.get_search_space(s).task_type for s in spaces})
        raise ValueError(
            f"suite {str(suite)!r} has no task for --space {', '.join(spaces)} ({'/'.join(need)}): its "
            f"tasks are {'/'.join(have) or 'none'}"
            + (f"; skipped: {skipped_tasks}" if skipped_tasks else "; choose a space of that task type")
        )
    if wanted:
        found = {t.name for _, t in task_objs} | {t.source for _, t in task_objs}
        missing = sorted(wanted - found)
        if missing:
            raise ValueError(f"tasks {missing} are not in suite {str(suite)!r} (or have another task type)")

    hard = (timeout * 1.5 + 30.0) if timeout else None
    executor: LocalExecutor | DaskExecutor
    if scheduler or dask_local:
        executor = DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    else:
        executor = LocalExecutor(workers, hard)
    configs_by_space = {s: _config_list(spaces_mod.get_search_space(s), n_configs, seed) for s in spaces}
    n_levels = max((len(v) for v in levels.values()), default=0)
    done_n, total = 0, 0
    for stage in range(n_levels):
        jobs, remaining = _stage_jobs(
            stage, spaces, task_objs, levels, configs_by_space, out, summary, base=base,
            folds=folds, seed=seed, timeout=timeout, halving=halving,
            random_share=random_share, min_configs=min_configs,
        )
        total += len(jobs)
        rows_of = {lv.task_id: (lv.rows, n) for (tid, n), lvs in levels.items() for lv in lvs}
        for job, rec in executor.run(jobs):
            space = spaces_mod.get_search_space(job.space)
            rows, n = rows_of[job.task_id]
            row = _record_row(job, space, rec, task_seed(job.task_spec["source"], job.seed), rows,
                              rows / max(n, 1), max_rows, versions_json)
            atomic_write_parquet(row, part_path(out, job.space, job.task_id, job.config_id))
            done_n += 1
            summary.evaluations += 1
            st = rec.get("status")
            if st == "failed":
                summary.failed += 1
            elif st == "timeout":
                summary.timeouts += 1
            summary.per_space[job.space] = summary.per_space.get(job.space, 0) + 1
            key = task_key(job.task_id)
            remaining[(job.space, key)] -= 1
            if remaining[(job.space, key)] == 0:
                compact_task(out, job.space, key)
            if progress is not None:
                progress(done_n, total, {"task": job.task_id, "space": job.space, "status": st})
    compact(out)
    summary.seconds = time.perf_counter() - start
    manifest = json.loads(manifest_path.read_text())
    run = {k: v for k, v in asdict(summary).items() if k != "out"}
    run["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    run["skipped_tasks"] = skipped_tasks
    run["workers"] = "dask:" + str(scheduler or dask_local) if (scheduler or dask_local) else workers
    for s in spaces:
        entry = manifest["builds"][s]
        entry.setdefault("runs", []).append(run)
        entry["wall_seconds_total"] = float(sum(r.get("seconds", 0.0) for r in entry["runs"]))
        entry["evaluations_on_disk"] = count_on_disk(out, s)
    atomic_write_text(json.dumps(manifest, indent=1), manifest_path)
    return summary


def _prepare_tasks(
    specs: list[dict], base: Path | None, spaces: Sequence[str], out: Path, *, wanted: set | None,
    max_tasks: int | None, folds: int, seed: int, max_rows: int | None,
    fidelities: list[int | str] | None,
) -> tuple[list[tuple[dict, Task]], dict[tuple[str, int], list[Level]], dict[str, str]]:
    """Load the suite's tasks, decide their fidelities and write each fidelity's task row
    (meta-features of exactly the rows it evaluates) once."""
    import metafeatures

    task_objs: list[tuple[dict, Task]] = []
    levels: dict[tuple[str, int], list[Level]] = {}
    seen_fp: set[str] = set()
    types_needed = {spaces_mod.get_search_space(s).task_type for s in spaces}
    on_disk = tasks_on_disk(out)
    seen_rows = {s: evaluated_rows(out, s) for s in spaces}
    skipped: dict[str, str] = {}
    per_type: dict[str, int] = {}
    for spec in specs:
        if spec["task_type"] not in types_needed:
            continue
        if wanted and spec.get("name") not in wanted and spec["source"] not in wanted:
            continue
        if max_tasks is not None and per_type.get(spec["task_type"], 0) >= max_tasks:
            continue
        task = load_task(spec, base)
        fp = task.fingerprint
        if fp in seen_fp:
            logger.info("skipping %s: same fingerprint as an earlier task", task.task_id)
            continue
        seen_fp.add(fp)
        X_all, _ = evaluated_data(task, folds=folds, rows=None, seed=seed)
        n_usable = len(X_all)
        task_levels_ = task_levels(task, n_usable, fidelities, max_rows)
        try:
            for lv in task_levels_:
                X, y = evaluated_data(task, folds=folds, rows=lv.rows, seed=seed)
                for s in spaces:  # recorded at other rows than these: set aside, redone
                    if seen_rows[s].get(lv.task_id, set()) - {len(y)}:
                        n = set_aside(out, s, lv.task_id, len(y))
                        logger.warning("%s: %d evaluations recorded at another row count set aside", lv.task_id, n)
                if on_disk.get(lv.task_id) == (metafeatures.signature(), len(y)):
                    continue  # written by this revision of the meta-features, of these rows
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mf = metafeatures.extract(X, y, task=task.task_type, random_state=0)
                atomic_write_parquet(
                    task_row(task, mf, task_id=lv.task_id, n_rows=len(y), source_rows=n_usable),
                    out / "tasks" / f"{task_key(lv.task_id)}.parquet",
                )
        except (ValueError, TypeError) as exc:
            logger.warning("skipping task %s: meta-features failed: %s", task.task_id, exc)
            skipped[task.task_id] = str(exc)
            continue
        per_type[task.task_type] = per_type.get(task.task_type, 0) + 1
        task_objs.append((spec, task))
        levels[(task.task_id, n_usable)] = task_levels_
    return task_objs, levels, skipped


def _stage_jobs(
    stage: int, spaces: Sequence[str], task_objs: list[tuple[dict, Task]],
    levels: dict[tuple[str, int], list[Level]], configs_by_space: dict[str, list[dict]], out: Path,
    summary: BuildSummary, *, base: Path | None, folds: int, seed: int, timeout: float | None,
    halving: float, random_share: float, min_configs: int,
) -> tuple[list[Job], dict[tuple[str, str], int]]:
    """The evaluations of one fidelity stage that are not on disk yet (task-major)."""
    jobs: list[Job] = []
    remaining: dict[tuple[str, str], int] = {}
    by_id = {tid: lvs for (tid, _), lvs in levels.items()}
    for sname in spaces:
        space = spaces_mod.get_search_space(sname)
        configs = configs_by_space[sname]
        done, _ = done_keys(out, sname)
        stored = read_space_evaluations(out, sname) if stage > 0 else None
        for spec, task in task_objs:
            lvs = by_id[task.task_id]
            if task.task_type != space.task_type or stage >= len(lvs):
                continue
            lv = lvs[stage]
            if stage == 0:
                wanted_ids = list(range(len(configs)))
            else:
                prev = lvs[stage - 1]
                assert stored is not None
                wanted_ids = select_configs(
                    stored[stored["task_id"] == prev.task_id], PRIMARY_METRIC[space.task_type],
                    len(configs), halving=halving ** stage, random_share=random_share,
                    min_configs=min_configs, seed=task_seed(lv.task_id, seed),
                )
            key = task_key(lv.task_id)
            have = done.get(key, set())
            todo = [i for i in wanted_ids if i not in have]
            summary.skipped += len(wanted_ids) - len(todo)
            if not todo:
                parts = out / "evaluations" / sname / "_parts"
                if parts.exists() and any(parts.glob(f"{key}-*.parquet")):
                    compact_task(out, sname, key)
                continue
            remaining[(sname, key)] = len(todo)
            for i in todo:
                jobs.append(Job(lv.task_id, spec, str(base) if base else None, sname, i, configs[i],
                                folds, seed, lv.rows, timeout))
    return jobs, remaining
