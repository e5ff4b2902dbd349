"""Offline meta-dataset builds: every (task, configuration) of a suite, evaluated and stored.

A build is resumable and crash-safe. Each finished evaluation is written at once as its
own small Parquet part (atomically); when every configuration of a (task, space) is done,
its parts are compacted into one file and then removed. ``kill -9`` therefore loses at
most the evaluations in flight, and running the same command again skips every
``(task_id, space, config_id)`` already on disk.

Executors: local worker processes (default; a worker that overruns the hard timeout is
killed and replaced) or a Dask cluster (``scheduler="tcp://..."`` or ``dask_local=N``).
Seeds derive from the task id and the build seed, so results do not depend on the
executor or the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from .evaluate import PRIMARY_METRIC, cross_validate, prepare_task_data, task_seed
from .store import MF_PREFIX, atomic_write_parquet, atomic_write_text, param_columns
from .tasks import Task, load_task, suite_specs

logger = logging.getLogger(__name__)


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


def _key(task_id: str) -> str:
    return hashlib.sha1(task_id.encode()).hexdigest()[:16]


def library_versions() -> dict[str, str]:
    """Versions of the libraries that determine evaluation results."""
    import sklearn
    import xgboost

    from . import __version__

    return {
        "learn2tune": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "xgboost": xgboost.__version__,
    }


# --------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class Job:
    task_spec: dict
    base: str | None
    space: str
    config_id: int
    config: dict
    folds: int
    seed: int
    max_rows: int | None
    timeout: float | None


_TASK_CACHE: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}


def run_job(job: Job) -> dict[str, Any]:
    """Evaluate one job (runs in a worker). Returns the evaluation record."""
    tid = job.task_spec["source"]
    seed = task_seed(tid, job.seed)
    cache_key = f"{tid}|{job.folds}|{job.max_rows}|{job.seed}"
    if cache_key not in _TASK_CACHE:
        if len(_TASK_CACHE) > 8:
            _TASK_CACHE.clear()
        task = load_task(job.task_spec, Path(job.base) if job.base else None)
        _TASK_CACHE[cache_key] = prepare_task_data(
            task.X, task.y, task.task_type, folds=job.folds, max_rows=job.max_rows, seed=seed
        )
    X, y = _TASK_CACHE[cache_key]
    space = spaces_mod.get_search_space(job.space)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = cross_validate(space, job.config, X, y, folds=job.folds, seed=seed, timeout=job.timeout)
    return rec


_ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _worker_main(conn: Any) -> None:  # pragma: no cover - runs in a child process
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            rec = run_job(job)
        except Exception as exc:  # noqa: BLE001 - reported as a failed evaluation
            rec = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[-500:], "fit_seconds": 0.0}
        conn.send(rec)


class LocalExecutor:
    """Worker processes with a hard per-job time limit (overrunning workers are killed)."""

    def __init__(self, workers: int, hard_timeout: float | None):
        self.n = max(1, int(workers))
        self.hard_timeout = hard_timeout
        self.ctx = mp.get_context("spawn")

    def _spawn(self) -> tuple[Any, Any]:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child,), daemon=True)
        saved = {k: os.environ.get(k) for k in _ONE_THREAD_ENV}
        os.environ.update(_ONE_THREAD_ENV)  # a worker is one core: no BLAS/OpenMP threads
        try:
            proc.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        child.close()
        return proc, parent

    def run(self, jobs: Iterable[Job]) -> Iterable[tuple[Job, dict]]:
        """Yield (job, record) as workers finish. Each worker holds up to two jobs (one
        running, one queued in its pipe) so it never waits for the parent between jobs."""
        from collections import deque

        jobs = iter(jobs)
        workers = [self._spawn() for _ in range(self.n)]
        queues: list[deque] = [deque() for _ in range(self.n)]  # (job, start time or None)
        exhausted = False

        def feed(i: int) -> None:
            nonlocal exhausted
            while not exhausted and len(queues[i]) < 2:
                job = next(jobs, None)
                if job is None:
                    exhausted = True
                    return
                workers[i][1].send(job)
                queues[i].append([job, time.perf_counter() if not queues[i] else None])

        try:
            for i in range(self.n):
                feed(i)
            while any(queues):
                conns = {workers[i][1]: i for i in range(self.n) if queues[i]}
                ready = wait(list(conns), timeout=1.0)
                for conn in ready:
                    i = conns[conn]
                    job, _ = queues[i].popleft()
                    try:
                        rec = conn.recv()
                    except (EOFError, OSError):
                        rec = {"status": "failed", "error": "worker process died", "fit_seconds": 0.0}
                        lost = [q[0] for q in queues[i]]
                        queues[i].clear()
                        workers[i] = self._spawn()
                        for j in lost:  # the queued jobs died with the worker: resend them
                            workers[i][1].send(j)
                            queues[i].append([j, None])
                    if queues[i] and queues[i][0][1] is None:
                        queues[i][0][1] = time.perf_counter()
                    yield job, rec
                    feed(i)
                if self.hard_timeout:
                    now = time.perf_counter()
                    for i in range(self.n):
                        if not queues[i] or queues[i][0][1] is None:
                            continue
                        job, t0 = queues[i][0]
                        if now - t0 > self.hard_timeout:
                            proc, _ = workers[i]
                            proc.kill()
                            proc.join()
                            queues[i].popleft()
                            lost = [q[0] for q in queues[i]]
                            queues[i].clear()
                            workers[i] = self._spawn()
                            for j in lost:
                                workers[i][1].send(j)
                                queues[i].append([j, None])
                            if queues[i]:
                                queues[i][0][1] = time.perf_counter()
                            yield job, {
                                "status": "timeout",
                                "error": f"killed after {self.hard_timeout:.0f} s",
                                "fit_seconds": now - t0,
                            }
                            feed(i)
        finally:
            for _proc, conn in workers:
                try:
                    conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            for proc, _ in workers:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()


class DaskExecutor:
    """Jobs on a Dask cluster (an existing scheduler, or a LocalCluster started here)."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        self.scheduler = scheduler
        self.local_workers = local_workers

    def run(self, jobs: Iterable[Job]) -> Iterable[tuple[Job, dict]]:
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.scheduler:
            client = Client(self.scheduler)
        else:
            cluster = LocalCluster(
                n_workers=self.local_workers or 1, threads_per_worker=1, processes=True,
                dashboard_address=None, env=dict(_ONE_THREAD_ENV),
            )
            client = Client(cluster)
        try:
            jobs = list(jobs)
            window = max(4, 4 * len(client.scheduler_info().get("workers", {})) or 4)
            it = iter(jobs)
            futures = {}
            for job in it:
                futures[client.submit(run_job, job, pure=False)] = job
                if len(futures) >= window:
                    break
            ac = as_completed(list(futures))
            for fut in ac:
                job = futures.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001
                    rec = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[-500:], "fit_seconds": 0.0}
                yield job, rec
                nxt = next(it, None)
                if nxt is not None:
                    f = client.submit(run_job, nxt, pure=False)
                    futures[f] = nxt
                    ac.add(f)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


# --------------------------------------------------------------------------- build
def _config_list(space: spaces_mod.SearchSpace, n_configs: int, seed: int) -> list[dict]:
    """Config 0 is the estimator's defaults; 1..n come from a scrambled Sobol sequence."""
    return [space.defaults()] + spaces_mod.sobol_configs(space, n_configs, seed=seed)


def _record_row(
    task_id: str, space: spaces_mod.SearchSpace, config_id: int, config: dict, rec: dict,
    seed: int, folds: int, max_rows: int | None, versions: str,
) -> pd.DataFrame:
    row: dict[str, Any] = {
        "task_id": task_id,
        "space": space.name,
        "space_signature": space.signature,
        "config_id": int(config_id),
        "config": json.dumps(config, sort_keys=True),
    }
    row.update(param_columns(space, config))
    metrics = (
        ("roc_auc", "accuracy", "balanced_accuracy", "log_loss")
        if space.task_type == "classification"
        else ("r2", "rmse", "mae")
    )
    for m in metrics:
        row[m] = float(rec.get(m, float("nan")))
    row["fit_seconds"] = float(rec.get("fit_seconds", float("nan")))
    row["status"] = rec.get("status", "failed")
    row["error"] = rec.get("error", "")
    row["seed"] = int(seed)
    row["folds"] = int(folds)
    row["max_rows"] = -1 if max_rows is None else int(max_rows)
    row["versions"] = versions
    return pd.DataFrame([row])


def task_row(task: Task, mf: pd.Series) -> pd.DataFrame:
    """The ``tasks`` table row of ``task`` (identity and meta-features)."""
    row: dict[str, Any] = {
        "task_id": task.task_id,
        "fingerprint": task.fingerprint,
        "source": task.source,
        "name": task.name,
        "task_type": task.task_type,
        "n_rows": int(len(task.y)),
        "n_features": int(task.X.shape[1]),
    }
    for k, v in mf.items():
        row[f"{MF_PREFIX}{k}"] = float(v)
    return pd.DataFrame([row])


def _done_keys(out: Path, space: str) -> tuple[dict[str, set[int]], set[str]]:
    """Config ids on disk per task key (parts and compacted files, whatever their names)."""
    done: dict[str, set[int]] = {}
    compacted: set[str] = set()
    folder = out / "evaluations" / space
    if not folder.exists():
        return done, compacted
    for f in folder.glob("*.parquet"):
        if f.name.startswith("."):
            continue
        df = pd.read_parquet(f, columns=["task_id", "config_id"])
        for tid, ids in df.groupby("task_id")["config_id"]:
            key = _key(str(tid))
            done.setdefault(key, set()).update(int(i) for i in ids)
            compacted.add(key)
    parts = folder / "_parts"
    if parts.exists():
        for f in parts.glob("*.parquet"):
            if f.name.startswith("."):
                continue
            key, _, cid = f.stem.rpartition("-")
            done.setdefault(key, set()).add(int(cid))
    return done, compacted


def _tasks_on_disk(out: Path) -> set[str]:
    folder = out / "tasks"
    if not folder.exists():
        return set()
    ids: set[str] = set()
    for f in folder.glob("*.parquet"):
        if not f.name.startswith("."):
            ids.update(pd.read_parquet(f, columns=["task_id"])["task_id"].astype(str))
    return ids


def compact(out: str | Path) -> None:
    """Merge a finished build's files: one tasks file, one file per space.

    Crash-safe: the merged file is written atomically before the files it replaces are
    removed (a crash in between leaves duplicates, which loading drops)."""
    out = Path(out)
    files = [f for f in (out / "tasks").glob("*.parquet") if not f.name.startswith(".")]
    if len(files) > 1:
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        df = df.drop_duplicates("task_id").sort_values("task_id").reset_index(drop=True)
        target = out / "tasks" / "tasks.parquet"
        atomic_write_parquet(df, target)
        for f in files:
            if f != target:
                f.unlink()
    for folder in sorted(p for p in (out / "evaluations").glob("*") if p.is_dir()):
        if (folder / "_parts").exists() and any((folder / "_parts").glob("*.parquet")):
            continue  # unfinished: leave it to the build
        files = [f for f in folder.glob("*.parquet") if not f.name.startswith(".")]
        if len(files) <= 1:
            continue
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        df = df.drop_duplicates(["task_id", "config_id"]).sort_values(["task_id", "config_id"])
        target = folder / "evaluations.parquet"
        atomic_write_parquet(df.reset_index(drop=True), target)
        for f in files:
            if f != target:
                f.unlink()


def _count_on_disk(out: Path, space: str) -> dict[str, int]:
    folder = out / "evaluations" / space
    files = [f for f in folder.rglob("*.parquet") if not f.name.startswith(".")]
    if not files:
        return {}
    status = pd.concat([pd.read_parquet(f, columns=["status"]) for f in files])["status"]
    return {str(k): int(v) for k, v in status.value_counts().items()}


def _compact(out: Path, space: str, key: str) -> None:
    folder = out / "evaluations" / space
    part_files = sorted((folder / "_parts").glob(f"{key}-*.parquet"))
    target = folder / f"{key}.parquet"
    frames = [pd.read_parquet(f) for f in part_files]
    if target.exists():
        frames.insert(0, pd.read_parquet(target))
    if not frames:
        return
    df = pd.concat(frames, ignore_index=True).drop_duplicates(["config_id"], keep="first")
    df = df.sort_values("config_id").reset_index(drop=True)
    atomic_write_parquet(df, target)
    for f in part_files:
        f.unlink(missing_ok=True)


def _clean_tmp(out: Path) -> None:
    for f in out.rglob(".tmp-*"):
        try:
            f.unlink()
        except OSError:
            pass


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
        Row cap per task (stratified subsample).
    timeout : float, optional
        Seconds per evaluation; overrunning evaluations are recorded as ``timeout``.
    folds, seed : int
        Cross-validation folds and the build seed.
    max_tasks : int, optional
        Only the first ``max_tasks`` tasks per space (after filtering).
    progress : callable, optional
        Called as ``progress(done, total, info)`` after each evaluation.
    """
    for name in spaces:
        spaces_mod.get_search_space(name)  # validates the name
    if n_configs < 1:
        raise ValueError(f"n_configs must be >= 1, got {n_configs}")
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if sum(x is not None for x in (scheduler, dask_local)) > 1:
        raise ValueError("pass at most one of scheduler= and dask_local=")
    import metafeatures

    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clean_tmp(out)
    specs, base = suite_specs(suite)
    wanted = set(tasks) if tasks else None
    versions = library_versions()
    versions_json = json.dumps(versions, sort_keys=True)
    summary = BuildSummary(out=str(out))

    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    manifest["format"] = 1
    settings = {
        "suite": str(suite),
        "n_configs": n_configs,
        "folds": folds,
        "seed": seed,
        "max_rows": max_rows,
        "timeout": timeout,
        "tasks": list(tasks) if tasks else None,
        "max_tasks": max_tasks,
    }
    builds = manifest.setdefault("builds", {})
    for s in spaces:
        entry = builds.setdefault(s, {})
        entry.update(settings)
        entry["signature"] = spaces_mod.space_signature(s)
        entry["command"] = command or entry.get("command", "")
        entry["versions"] = versions
    manifest["primary_metric"] = PRIMARY_METRIC
    atomic_write_text(json.dumps(manifest, indent=1), manifest_path)

    # tasks: load, fingerprint, meta-features (once per task, written atomically)
    task_objs: list[tuple[dict, Task]] = []
    seen_fp: set[str] = set()
    types_needed = {spaces_mod.get_search_space(s).task_type for s in spaces}
    tasks_done = _tasks_on_disk(out)
    skipped_tasks: dict[str, str] = {}
    per_type_count: dict[str, int] = {}
    for spec in specs:
        if spec["task_type"] not in types_needed:
            continue
        if wanted and spec.get("name") not in wanted and spec["source"] not in wanted:
            continue
        if max_tasks is not None and per_type_count.get(spec["task_type"], 0) >= max_tasks:
            continue
        task = load_task(spec, base)
        fp = task.fingerprint
        if fp in seen_fp:
            logger.info("skipping %s: same fingerprint as an earlier task", task.task_id)
            continue
        seen_fp.add(fp)
        per_type_count[task.task_type] = per_type_count.get(task.task_type, 0) + 1
        task_objs.append((spec, task))
        tpath = out / "tasks" / f"{_key(task.task_id)}.parquet"
        if task.task_id not in tasks_done:
            import warnings

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mf = metafeatures.extract(task.X, task.y, task=task.task_type, random_state=0)
            except (ValueError, TypeError) as exc:
                logger.warning("skipping task %s: meta-features failed: %s", task.task_id, exc)
                skipped_tasks[task.task_id] = str(exc)
                task_objs.pop()
                continue
            atomic_write_parquet(task_row(task, mf), tpath)
    summary.tasks = len(task_objs)
    if wanted:
        found = {t.name for _, t in task_objs} | {t.source for _, t in task_objs}
        missing = sorted(wanted - found)
        if missing:
            raise ValueError(f"tasks {missing} are not in suite {str(suite)!r} (or have another task type)")

    # jobs: every (space, task, config) not on disk, task-major
    jobs: list[Job] = []
    configs_by_space = {}
    remaining: dict[tuple[str, str], int] = {}
    for sname in spaces:
        space = spaces_mod.get_search_space(sname)
        configs = _config_list(space, n_configs, seed)
        configs_by_space[sname] = configs
        done, compacted = _done_keys(out, sname)
        for spec, task in task_objs:
            if task.task_type != space.task_type:
                continue
            key = _key(task.task_id)
            have = done.get(key, set())
            todo = [i for i in range(len(configs)) if i not in have]
            summary.skipped += len(configs) - len(todo)
            if not todo:
                if (out / "evaluations" / sname / "_parts").exists() and any(
                    (out / "evaluations" / sname / "_parts").glob(f"{key}-*.parquet")
                ):
                    _compact(out, sname, key)
                continue
            remaining[(sname, key)] = len(todo)
            for i in todo:
                jobs.append(
                    Job(spec, str(base) if base else None, sname, i, configs[i], folds, seed,
                        max_rows, timeout)
                )
    total = len(jobs)
    hard = (timeout * 1.5 + 30.0) if timeout else None
    executor: LocalExecutor | DaskExecutor
    if scheduler or dask_local:
        executor = DaskExecutor(scheduler=scheduler, local_workers=dask_local)
    else:
        executor = LocalExecutor(workers, hard)
    done_n = 0
    for job, rec in executor.run(jobs):
        tid = job.task_spec["source"]
        key = _key(tid)
        space = spaces_mod.get_search_space(job.space)
        row = _record_row(tid, space, job.config_id, job.config, rec, task_seed(tid, job.seed),
                          job.folds, job.max_rows, versions_json)
        atomic_write_parquet(row, out / "evaluations" / job.space / "_parts" / f"{key}-{job.config_id}.parquet")
        done_n += 1
        summary.evaluations += 1
        st = rec.get("status")
        if st == "failed":
            summary.failed += 1
        elif st == "timeout":
            summary.timeouts += 1
        summary.per_space[job.space] = summary.per_space.get(job.space, 0) + 1
        remaining[(job.space, key)] -= 1
        if remaining[(job.space, key)] == 0:
            _compact(out, job.space, key)
        if progress is not None:
            progress(done_n, total, {"task": tid, "space": job.space, "status": st})
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
        entry["evaluations_on_disk"] = _count_on_disk(out, s)
    atomic_write_text(json.dumps(manifest, indent=1), manifest_path)
    return summary
