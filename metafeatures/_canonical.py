"""The canonical order of a table's columns and rows, from content hashes alone.

Meta-features must not depend on the order of the caller's rows or columns, yet the
subsamples, the folds and the landmarkers' tie-breaks read the data in some order. The
order used is computed from the content:

* a column is placed by the hash of its *value multiset*; columns holding the same values
  in other rows (binary or dummy columns with equal counts, often) are then placed by a
  hash of each value joined with the content hash of its row;
* a row is placed by its content hash mixed with the seed; rows whose hashes are equal
  but whose values differ (a row and its mirror image across two such columns) are then
  placed by their values in the canonical column order, which makes the subsample and
  the order of the rows in it exact functions of the content.
"""

from __future__ import annotations

import numpy as np

from ._numeric import _hash_floats, _hash_values, _splitmix64

_MISSING_FLOAT_HASH = np.uint64(0x5BD1E995)


def element_hashes(vals: np.ndarray, miss: np.ndarray | None) -> np.ndarray:
    """Per-element content hashes of one column (numbers, or labels as an object array
    with ``None`` for missing); ``miss`` marks missing entries (``None``: a numeric column
    without any)."""
    if vals.dtype == object:
        return _hash_values(np.where(miss, "\x00<missing>", vals).astype(object))
    h = _hash_floats(vals)
    if miss is not None:
        h[miss] = _MISSING_FLOAT_HASH
    return h


def _column_hashes(vals: np.ndarray) -> np.ndarray:
    miss = (vals == None) if vals.dtype == object else ~np.isfinite(vals)  # noqa: E711
    return element_hashes(vals, miss)


def column_order(col_hashes: list[np.uint64], cols: list[np.ndarray], row_hash: np.ndarray) -> np.ndarray:
    """Canonical order of one kind of columns: by the hash of each value multiset, ties
    broken by a hash of each value joined with its row's content hash."""
    hashes = np.array(col_hashes, dtype=np.uint64)
    tie = np.zeros(hashes.size, dtype=np.uint64)
    uniq, counts = np.unique(hashes, return_counts=True)
    tied = np.flatnonzero(np.isin(hashes, uniq[counts > 1]))
    if tied.size:
        row_mix = _splitmix64(row_hash)
        for j in tied:
            tie[j] = _splitmix64(_column_hashes(cols[j]) ^ row_mix).sum(dtype=np.uint64)
    return np.lexsort((tie, hashes))


def row_order(
    row_hash: np.ndarray,
    random_state: int,
    cap: int,
    ordered_cols: list[np.ndarray],
    y_hash: np.ndarray,
) -> np.ndarray:
    """The first ``cap`` rows in the canonical, seeded order (all rows if fewer).

    ``ordered_cols`` are the columns in their canonical order; they break ties between
    rows with equal hashes but other values (``y_hash`` last), at the subsample's edge too.
    """
    n = row_hash.size
    seed_mix = _splitmix64(np.array([np.uint64(int(random_state) & 0xFFFFFFFFFFFFFFFF)]))[0]
    key = _splitmix64(row_hash ^ seed_mix)
    if n > cap:
        kth = np.partition(key, cap - 1)[cap - 1]
        cand = np.flatnonzero(key <= kth)  # more than cap where rows tie at the edge
    else:
        cand = np.arange(n)
    cand = cand[np.argsort(key[cand], kind="stable")]
    k = key[cand]
    same = k[1:] == k[:-1]
    if same.any():
        dup = np.zeros(cand.size, dtype=bool)
        dup[1:] |= same
        dup[:-1] |= same
        rows = cand[dup]
        # np.lexsort: the last key is the primary one
        keys = [y_hash[rows]] + [_column_hashes(c[rows]) for c in reversed(ordered_cols)] + [key[rows]]
        cand[dup] = rows[np.lexsort(keys)]
    return cand[:cap]
