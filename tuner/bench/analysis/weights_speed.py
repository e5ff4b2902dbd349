"""The task-distance weights of a knowledge base: the old loop (one Spearman correlation per
task pair) next to :func:`warmstart.similarity.learn_metric_weights` (rows ranked once per
pattern of evaluated configurations), side by side in one process on the bundled knowledge::

    python -m tuner.bench.analysis.weights_speed
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from warmstart import KnowledgeBase
from warmstart.knowledge import MIN_EVALS
from warmstart.scores import spearman
from warmstart.similarity import learn_metric_weights


def pair_loop(task_matrix: np.ndarray, scores: np.ndarray, min_shared: int) -> tuple[np.ndarray, np.ndarray]:
    """The regression's rows as they were built before (the loop alone, without the fit)."""
    n = len(task_matrix)
    xs, ys = [], []
    for i in range(n):
        for j in range(i + 1, n):
            both = np.isfinite(scores[i]) & np.isfinite(scores[j])
            if both.sum() < min_shared:
                continue
            rho = spearman(scores[i, both], scores[j, both])
            if np.isfinite(rho):
                xs.append(np.abs(task_matrix[i] - task_matrix[j]))
                ys.append(1.0 - rho)
    return np.vstack(xs), np.asarray(ys)


def main() -> None:
    warnings.simplefilter("ignore")
    print("| space | known tasks | task pairs | pair loop s | per pattern s (with the NNLS fit) | max weight difference |")
    print("|---|---|---|---|---|---|")
    for space in ("xgboost-classifier", "xgboost-regressor"):
        kb = KnowledgeBase.default(space)
        t0 = time.perf_counter()
        _, b = pair_loop(kb.task_matrix, kb.scores, MIN_EVALS)
        t_old = time.perf_counter() - t0
        t0 = time.perf_counter()
        w = learn_metric_weights(kb.task_matrix, kb.scores, MIN_EVALS)
        t_new = time.perf_counter() - t0
        print(f"| {space} | {len(kb.task_ids)} | {len(b)} | {t_old:.1f} | {t_new:.1f} | {np.abs(w - kb.weights).max():.1e} |")


if __name__ == "__main__":
    main()
