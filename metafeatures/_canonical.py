"""The canonical order of a table's columns and rows, from content hashes alone.

Meta-features must not depend on the order of the caller's rows or columns, yet the
subsamples, the folds and the landmarkers' tie-breaks read the data in some order. The
order used is computed from the content:

* a column is placed by the hash of the multiset of its (value, target) pairs (values as
  ranks, see below); columns holding the same pairs in other rows (binary or dummy columns
  with equal counts, often) are then placed by a hash of each value joined with the
  content hash of its row;
* columns still tied after that, holding other values (a table symmetric under swapping
  two columns of each of two kinds, say, where the swap of one pair must go with the swap
  of the other), are placed by refining column and row hashes through each other until
  they stop splitting, then singling out one column of the first tied class and refining
  again (individualization and refinement, as graph canonization does): which member is
  singled out does not matter where the tied columns are images of each other under a
  symmetry of the table, as in every case met so far;
* numbers are hashed by their rank in their column, so that none of this moves when a
  column changes units; columns whose ranks agree everywhere (``x`` and ``exp(x)``) are
  placed by their values, so that which of them a cut keeps (the landmarkers' first 100
  columns, say) does not follow the caller's column order;
* a row is placed by its content hash mixed with the seed; rows whose hashes are equal
  but whose values differ (a row and its mirror image across two such columns) are then
  placed by their values in the canonical column order, which makes the subsample and
  the order of the rows in it exact functions of the content.
"""

from __future__ import annotations

import numpy as np

from ._numeric import _hash_floats, _hash_values, _splitmix64

_MISSING_FLOAT_HASH = np.uint64(0x5BD1E995)
_INDIVIDUAL = np.uint64(0x9E3779B97F4A7C15)


def element_hashes(vals: np.ndarray, miss: np.ndarray | None, by_rank: bool = True) -> np.ndarray:
    """Per-element content hashes of one column (numbers, or labels as an object array
    with ``None`` for missing); ``miss`` marks missing entries (``None``: a numeric column
    without any).

    A number is hashed by its rank among the column's distinct values, not by its value:
    a column in other units (``x * 100``, ``x + 273.15``, any increasing transform) hashes
    alike, so the canonical order, the subsample and the landmarkers' folds do not move
    when the units do. ``by_rank=False`` hashes the values themselves (one sort per column
    less: tables past ``RANK_CELLS`` cells)."""
    if vals.dtype == object:
        return _hash_values(np.where(miss, "\x00<missing>", vals).astype(object))
    h = _hash_floats(dense_ranks(vals, miss) if by_rank else vals)
    if miss is not None:
        h[miss] = _MISSING_FLOAT_HASH
    return h


def dense_ranks(vals: np.ndarray, miss: np.ndarray | None) -> np.ndarray:
    """Rank of each value among the column's distinct present values (0, 1, ...; equal
    values share a rank, -0.0 ranks with 0.0), as float64; missing entries get -1."""
    ranks = np.full(vals.shape, -1.0)
    present = slice(None) if miss is None else ~miss
    ranks[present] = np.unique(vals[present], return_inverse=True)[1].reshape(-1)
    return ranks


def value_hash(vals: np.ndarray) -> np.uint64:
    """A hash of a numeric column's present values themselves (not their ranks): the last
    tie-break between columns whose ranks agree everywhere."""
    present = vals[np.isfinite(vals)]
    with np.errstate(over="ignore"):
        return _splitmix64(np.array([_hash_floats(present).sum(dtype=np.uint64)]))[0]


def _column_hashes(vals: np.ndarray, by_rank: bool) -> np.ndarray:
    miss = (vals == None) if vals.dtype == object else ~np.isfinite(vals)  # noqa: E711
    return element_hashes(vals, miss, by_rank)


def column_orders(
    kinds: list[tuple[list[np.uint64], list[np.ndarray]]], row_hash: np.ndarray, by_rank: bool = True
) -> list[np.ndarray]:
    """Canonical order of the columns of each kind (numeric, categorical: ``(column keys,
    columns)``, a key hashing the multiset of a column's (value, target) pairs): by that
    key, ties broken by a hash of each value joined with its row's content hash, residual
    ties by :func:`_individualize`, columns whose ranks agree everywhere by their values
    (:func:`value_hash`)."""
    keys, elems, values = [], [], []
    for col_hashes, cols in kinds:
        hashes = np.array(col_hashes, dtype=np.uint64)
        tie = np.zeros(hashes.size, dtype=np.uint64)
        uniq, counts = np.unique(hashes, return_counts=True)
        tied = np.flatnonzero(np.isin(hashes, uniq[counts > 1]))
        elem: dict[int, np.ndarray] = {}  # element hashes of the tied columns, kept for the residual ties
        if tied.size:
            row_mix = _splitmix64(row_hash)
            for j in tied:
                elem[int(j)] = _column_hashes(cols[j], by_rank)
                tie[j] = _splitmix64(elem[int(j)] ^ row_mix).sum(dtype=np.uint64)
        keys.append((hashes, tie))
        elems.append(elem)
        values.append(np.array([value_hash(cols[j]) if by_rank and j in elem and cols[j].dtype != object else 0
                                for j in range(hashes.size)], dtype=np.uint64))
    refined = [np.zeros(h.size, dtype=np.uint64) for h, _ in keys]
    if any(_residual_ties(h, t, e) for (h, t), e in zip(keys, elems)):
        refined = _individualize(keys, [cols for _, cols in kinds], elems, row_hash, by_rank)
    return [np.lexsort((v, r, t, h)) for (h, t), r, v in zip(keys, refined, values)]


def _residual_ties(hashes: np.ndarray, tie: np.ndarray, elem: dict[int, np.ndarray]) -> bool:
    """Whether two columns with other values (element hashes ``elem``) share both keys."""
    groups: dict[tuple[int, int], list[int]] = {}
    for j, key in enumerate(zip(hashes.tolist(), tie.tolist())):
        groups.setdefault(key, []).append(j)
    return any(len(g) > 1 and any(not np.array_equal(elem[g[0]], elem[j]) for j in g[1:]) for g in groups.values())


def _individualize(
    keys: list[tuple[np.ndarray, np.ndarray]],
    cols_by_kind: list[list[np.ndarray]],
    elems: list[dict[int, np.ndarray]],
    row_hash: np.ndarray,
    by_rank: bool,
) -> list[np.ndarray]:
    """Per kind, a key per column that splits the columns the first two keys leave tied:
    column and row hashes refined through each other until the classes stop splitting;
    while a class holds columns with other values, its first member is singled out and
    the refinement runs again. Rows that repeat (in every column and the target) are
    refined once, counted as often as they occur."""
    H = np.column_stack([e[j] if j in e else _column_hashes(c, by_rank)
                         for cols, e in zip(cols_by_kind, elems) for j, c in enumerate(cols)])
    with np.errstate(over="ignore"):  # a row's content, to refine each distinct row once
        position = _splitmix64(np.arange(1, H.shape[1] + 1, dtype=np.uint64)) | np.uint64(1)
        content = _splitmix64(row_hash) + (H * position).sum(axis=1, dtype=np.uint64)
    _, first, counts = np.unique(content, return_index=True, return_counts=True)
    H, row_hash, counts = H[first], row_hash[first], counts.astype(np.uint64)
    kind = np.concatenate([np.full(len(cols), k, dtype=np.uint64) for k, cols in enumerate(cols_by_kind)])
    h = np.concatenate([hh for hh, _ in keys])
    t = np.concatenate([tt for _, tt in keys])
    with np.errstate(over="ignore"):
        key = _splitmix64(h ^ _splitmix64(t ^ _splitmix64(kind + np.uint64(0x51ED27))))
    key = _refine(H, counts, key, row_hash)
    for _ in range(H.shape[1]):
        members = _first_residual_class(H, key)
        if members is None:
            break
        classes = np.unique(key).size
        key[members[0]] = _splitmix64(key[members[0] : members[0] + 1] ^ _INDIVIDUAL)[0]
        key = _refine(H, counts, key, row_hash)
        if np.unique(key).size == classes + 1:
            # singling out one split off that one only: the others are taken as images of
            # each other too (one-hot columns of a balanced design), all singled out at once
            # in their current order: one refinement instead of one per column (BENCHMARKS.md,
            # session 19: 60 such columns of 120,000 distinct rows)
            rest = members[1:]
            with np.errstate(over="ignore"):
                key[rest] = _splitmix64(key[rest] ^ _splitmix64(np.arange(2, rest.size + 2, dtype=np.uint64)))
            key = _refine(H, counts, key, row_hash)
    out, start = [], 0
    for cols in cols_by_kind:
        out.append(key[start : start + len(cols)])
        start += len(cols)
    return out


def _refine(H: np.ndarray, counts: np.ndarray, key: np.ndarray, row_hash: np.ndarray) -> np.ndarray:
    """Column keys refined by the keys of the rows their values sit in, row keys by the
    keys of the columns their values sit in, until the number of column classes stays.
    ``H``: element hashes (distinct rows x columns), ``counts``: how often each row occurs."""
    classes = np.unique(key).size
    with np.errstate(over="ignore"):
        while True:
            rows = _splitmix64(_splitmix64(row_hash) + _splitmix64(H ^ key).sum(axis=1, dtype=np.uint64))
            new = (_splitmix64(H ^ rows[:, None]) * counts[:, None]).sum(axis=0, dtype=np.uint64)
            new = _splitmix64(new ^ _splitmix64(key))
            if np.unique(new).size <= classes:
                return key
            key, classes = new, np.unique(new).size


def _first_residual_class(H: np.ndarray, key: np.ndarray) -> np.ndarray | None:
    """The members of the tied class with the smallest key whose columns hold other values
    (None: every class holds copies of one column only)."""
    for k in np.unique(key):
        members = np.flatnonzero(key == k)
        if members.size > 1 and any(not np.array_equal(H[:, members[0]], H[:, j]) for j in members[1:]):
            return members
    return None


def row_order(
    row_hash: np.ndarray,
    random_state: int,
    cap: int,
    ordered_cols: list[np.ndarray],
    y_hash: np.ndarray,
    by_rank: bool = True,
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
        keys = [y_hash[rows]] + [_column_hashes(c[rows], by_rank) for c in reversed(ordered_cols)] + [key[rows]]
        cand[dup] = rows[np.lexsort(keys)]
    return cand[:cap]
