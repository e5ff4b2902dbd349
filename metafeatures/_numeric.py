"""Numeric kernels shared by the prepared form and the feature groups: content hashes,
equal-frequency discretization and blocked column statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _equal_frequency_bins(col: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-frequency discretization of one column (NaN -> its own bin ``n_bins``).

    Bin edges are the ``1/k, 2/k, ..., 1`` quantiles (linear interpolation);
    duplicate edges collapse (constant columns give one bin)."""
    out = np.full(col.shape[0], n_bins, dtype=np.int64)
    ok = ~np.isnan(col)
    if not ok.any():
        return out
    v = col[ok]
    edges = np.quantile(v, np.linspace(0.0, 1.0, n_bins + 1)[1:])
    edges = np.unique(edges)
    out[ok] = np.digitize(v, edges, right=True)
    return out


BLOCK = 16  # columns processed together: bounded temporaries, vectorized quantiles


def _disc_dtype(n_bins: int) -> type:
    return np.uint8 if n_bins < 255 else np.int32


def discretize(num: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-frequency discretization of every column (see :func:`_equal_frequency_bins`),
    computed by blocks of columns (one quantile pass per block when it has no NaN)."""
    out = np.empty(num.shape, dtype=_disc_dtype(n_bins))
    probs = np.linspace(0.0, 1.0, n_bins + 1)[1:]
    for s in range(0, num.shape[1], BLOCK):
        block = num[:, s : s + BLOCK]
        if block.size and not np.isnan(block).any():
            edges = np.quantile(block, probs, axis=0)
            for j in range(block.shape[1]):
                out[:, s + j] = np.digitize(block[:, j], np.unique(edges[:, j]), right=True)
        else:
            for j in range(block.shape[1]):
                out[:, s + j] = _equal_frequency_bins(block[:, j], n_bins)
    return out


def centered_gram(x: np.ndarray, mean: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """``(x - mean)' (x - mean)`` computed by blocks of columns (no centered copy); with
    ``scale``, of ``(x - mean) / scale`` (columns of very large values do not overflow)."""
    d = x.shape[1]
    out = np.empty((d, d))
    scale = np.ones(d) if scale is None else scale
    blocks = [(s, min(s + BLOCK, d)) for s in range(0, d, BLOCK)]
    for i, (a0, a1) in enumerate(blocks):
        xa = (x[:, a0:a1] - mean[a0:a1]) / scale[a0:a1]
        for b0, b1 in blocks[i:]:
            xb = xa if b0 == a0 else (x[:, b0:b1] - mean[b0:b1]) / scale[b0:b1]
            g = xa.T @ xb
            out[a0:a1, b0:b1] = g
            out[b0:b1, a0:a1] = g.T
    return out


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A bijective 64-bit mixer (SplitMix64 finalizer), vectorized."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64, copy=True)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def _hash_values(values: np.ndarray) -> np.ndarray:
    """Per-element content hash (uint64), independent of position."""
    return pd.util.hash_array(values, categorize=False)


def _hash_floats(values: np.ndarray) -> np.ndarray:
    """Per-element content hash of float64 values (uint64): -0.0 and 0.0 hash alike."""
    v = np.ascontiguousarray(values, dtype=np.float64) + 0.0
    return _splitmix64(v.view(np.uint64))
