"""Where a build's evaluations run: local worker processes or a Dask cluster.

Both executors take :class:`Job` objects and yield ``(job, record)`` as evaluations finish.
Local workers run one BLAS/OpenMP thread each (a worker is one core) and a worker that
overruns the hard timeout is killed and replaced; Dask workers get the same environment.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from .protocol import cross_validate, prepare_task_data, task_seed
from .tasks import load_task
from .threads import ONE_THREAD_ENV, one_thread_env


@dataclass(frozen=True)
class Job:
    """One evaluation: a configuration of a space on a task at ``max_rows`` rows."""

    task_id: str
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
    rec["rows"] = int(len(y))  # as evaluated (a subsample may drop a class too rare for the folds)
    return rec




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
        with one_thread_env():  # a worker is one core: no BLAS/OpenMP threads
            proc.start()
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
                dashboard_address=None, env=dict(ONE_THREAD_ENV),
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
