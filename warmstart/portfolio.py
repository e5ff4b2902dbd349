"""Zero-shot portfolios: a similarity kernel over known tasks, the greedy portfolio that
most reduces their similarity-weighted regret, and the choice of the kernel's bandwidth
by local leave-one-out cross-validation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: candidate ``k`` of the warm start's kernel bandwidth (distance to the k-th nearest known
#: task; 0 = every task alike), chosen per query by local cross-validation
BANDWIDTH_CANDIDATES: tuple[int, ...] = (2, 3, 5, 10, 20, 40, 0)
#: the kernel that decides which known tasks are "near" when choosing the bandwidth
DEFAULT_BANDWIDTH_K = 10
#: portfolio length the bandwidth choice is judged on (mean best-so-far regret)
BANDWIDTH_PICKS = 10
#: relative difference of regret reductions below which two configurations tie
TIE_TOLERANCE = 1e-9


def kernel_weights(d: np.ndarray, k: int) -> np.ndarray:
    """Normalized weights exp(-(d - d_min) / tau), tau = distance to the k-th nearest
    (the farthest when k exceeds the tasks); k = 0: every task alike."""
    if k == 0 or len(d) == 0:
        return np.full(len(d), 1.0 / max(len(d), 1))
    tau = max(float(np.sort(d)[max(1, min(k, len(d))) - 1]), 1e-9)
    w = np.exp(-(d - d.min()) / tau)
    return w / w.sum()


def greedy_portfolio(S: np.ndarray, w: np.ndarray, n: int, start: Sequence[int] = ()) -> list[int]:
    """Columns of S (tasks x configs, higher better) chosen greedily: each step adds the
    one that most reduces the w-weighted regret of the best chosen so far. ``start``:
    columns already chosen (the portfolio begins with them and continues from them).

    Among columns that reduce the regret equally (as every known task's own best does once
    a configuration good everywhere is chosen, in knowledge of studies without meta-features)
    the one with the best w-weighted score is taken: the most robust of them, not the first
    in the (meaningless) column order, which biased such portfolios towards small values of
    the alphabetically first parameter."""
    chosen: list[int] = [int(j) for j in start][:n]
    current = S[:, chosen].max(axis=1) if chosen else np.full(len(S), -np.inf)
    for _ in range(min(n, S.shape[1]) - len(chosen)):
        j = next_pick(S, w, current, exclude=chosen)
        chosen.append(j)
        current = np.maximum(current, S[:, j])
    return chosen


def next_pick(S: np.ndarray, w: np.ndarray, current: np.ndarray, exclude: Sequence[int] = ()) -> int:
    """The column of S (tasks x configs, higher better) that most reduces the w-weighted
    regret of ``current`` (each task's best score so far; -inf: nothing yet), columns in
    ``exclude`` left out; ties as in :func:`greedy_portfolio`."""
    best = np.maximum(S.max(axis=1), current)
    regret = (w[:, None] * (best[:, None] - np.maximum(S, current[:, None]))).sum(axis=0)
    regret[list(exclude)] = np.inf
    j = int(np.argmin(regret))
    tied = np.flatnonzero(regret <= regret[j] + TIE_TOLERANCE * max(abs(float(regret[j])), 1.0))
    if len(tied) > 1:
        j = int(tied[np.argmax(w @ S[:, tied])])
    return j


def bandwidth_table(filled: np.ndarray, truth: np.ndarray, D: np.ndarray) -> np.ndarray:
    """(tasks, candidates): each known task's leave-one-out portfolio regret (mean
    best-so-far over the first ``BANDWIDTH_PICKS`` picks) under each candidate bandwidth.

    ``filled``: tasks x configs scores with gaps filled; ``truth``: the scores each task is
    judged on; ``D``: task-to-task distances."""
    n = len(filled)
    table = np.zeros((n, len(BANDWIDTH_CANDIDATES)))
    if n < 3:
        return table
    for i in range(n):
        others = np.delete(np.arange(n), i)
        row = truth[i]
        for b, kk in enumerate(BANDWIDTH_CANDIDATES):
            picks = greedy_portfolio(filled[others], kernel_weights(D[i, others], kk), BANDWIDTH_PICKS)
            table[i, b] = np.minimum.accumulate(row.max() - row[picks]).mean()
    return table


def choose_bandwidth(d: np.ndarray, table: np.ndarray) -> int:
    """The candidate bandwidth whose leave-one-out portfolios did best on the known tasks
    near a query at distances ``d`` (weighted by the default kernel)."""
    local = kernel_weights(d, DEFAULT_BANDWIDTH_K)
    return BANDWIDTH_CANDIDATES[int(np.argmin(local @ table))]
