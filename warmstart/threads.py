"""Running on one thread: tiny matrices gain nothing from BLAS, OpenMP or torch threads,
and spinning threads cost a lot when the cores are shared (build workers, benchmark
workers, the sampler's proposals, MAML adaptation)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: environment of a process that must use one core (set before numpy/torch load)
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_CONTROLLER: list[Any] = []


@contextmanager
def one_thread_env() -> Iterator[None]:
    """``ONE_THREAD_ENV`` set while child processes are started, then restored."""
    saved = {k: os.environ.get(k) for k in ONE_THREAD_ENV}
    os.environ.update(ONE_THREAD_ENV)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def pin_process_to_one_thread() -> None:
    """For a worker process's initializer: one BLAS/OpenMP thread, one torch thread."""
    os.environ.update(ONE_THREAD_ENV)
    import torch

    torch.set_num_threads(1)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread in this block (one ``threadpoolctl`` controller per
    process: inspecting the loaded libraries costs milliseconds, limiting does not)."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch on one intra-op thread in this block, the caller's setting restored after."""
    import torch

    saved = torch.get_num_threads()
    if saved != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if saved != 1:
            torch.set_num_threads(saved)
