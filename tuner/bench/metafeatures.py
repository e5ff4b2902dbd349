"""``learn2tune bench metafeatures``: our extractor next to pymfe on the same arrays."""

from __future__ import annotations

import gc
import time
import tracemalloc
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

PYMFE_GROUPS = ["general", "statistical", "info-theory", "model-based", "landmarking"]


def make_data(n: int, d: int, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A classification problem with informative and noise columns (float64)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, size=n)
    X = rng.normal(size=(n, d))
    k = max(1, d // 4)
    X[:, :k] += y[:, None] * rng.uniform(0.2, 1.0, size=k)
    X[:, k : 2 * k] = np.exp(X[:, k : 2 * k])  # skewed columns
    return X, y


#: tables up to this many cells are timed several times (the median counts): a single run
#: of a fraction of a second is at the mercy of whatever else the machine does
SMALL_CELLS = 200_000
REPEATS = 5


def _repeats(X: np.ndarray) -> int:
    return REPEATS if X.size <= SMALL_CELLS else 1


def time_ours(X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Seconds of the full feature set (median of untraced runs) and peak traced memory
    in bytes (one more run under tracemalloc, which slows allocations down)."""
    import metafeatures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = []
        for _ in range(_repeats(X)):
            gc.collect()
            t0 = time.perf_counter()
            metafeatures.extract(X, y)
            times.append(time.perf_counter() - t0)
        dt = float(np.median(times))
        gc.collect()
        tracemalloc.start()
        metafeatures.extract(X, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return dt, float(peak)


def time_pymfe(X: np.ndarray, y: np.ndarray) -> float | None:
    """Seconds of pymfe's groups general + statistical + info-theory + model-based +
    landmarking (fit + extract; the median of as many runs as ours), or None when pymfe is
    not installed."""
    try:
        from pymfe.mfe import MFE
    except ImportError:
        return None
    times = []
    for _ in range(_repeats(X)):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mfe = MFE(groups=PYMFE_GROUPS, random_state=0)
            mfe.fit(X, y)
            mfe.extract()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(
    sizes: Sequence[tuple[int, int]] = ((1_000, 20), (20_000, 50), (100_000, 100)),
    pymfe_max_rows: int = 20_000,
    pymfe_max_cells: int = 1_000_000,
    extra_ours: Sequence[tuple[int, int]] = ((1_000_000, 100),),
) -> pd.DataFrame:
    """One row per size: our seconds, pymfe seconds, speed ratio, our peak memory."""
    rows = []
    warm_X, warm_y = make_data(300, 5)  # imports and first-call costs, outside the timings
    time_ours(warm_X, warm_y)
    time_pymfe(warm_X, warm_y)
    for n, d in list(sizes) + list(extra_ours):
        X, y = make_data(n, d)
        ours, peak = time_ours(X, y)
        ok = n <= pymfe_max_rows and n * d <= pymfe_max_cells and (n, d) in sizes
        theirs = time_pymfe(X, y) if ok else None
        rows.append(
            {
                "rows x cols": f"{n:,} x {d}",
                "learn2tune s": round(ours, 3),
                "pymfe s": round(theirs, 2) if theirs is not None else None,
                "speed ratio": round(theirs / ours, 1) if theirs is not None else None,
                "peak memory / input": round(peak / X.nbytes, 2),
            }
        )
        del X, y
        gc.collect()
    return pd.DataFrame(rows)
