"""One table loader for every command: a CSV/Parquet file or a bundled table, a target,
and the same rules everywhere (what is dropped, with a note; what is refused, with a
sentence that says what is wrong and how to fix it)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: a string column with more distinct values than this (and than half the rows) is text
HIGH_CARDINALITY = 1000
_ID_NAME = re.compile(r"^(id|.*[_ ]id|.*ID|uuid|key|index|row|rownames)$", re.I)


@dataclass
class Loaded:
    """A table split into features and target, and what was done to it."""

    X: pd.DataFrame
    y: pd.Series
    task: str
    classes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    suspicious: dict[str, str] = field(default_factory=dict)  # column -> why


def sniff_sep(path: Path) -> str:
    """The field separator of a text table (``,``, ``;``, tab or ``|``)."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read(file: str, sep: str | None = None) -> pd.DataFrame:
    """A table from a path (CSV with ``sep`` or a sniffed separator, or Parquet) or a
    bundled source such as ``sklearn:wine``."""
    from warmstart.tasks import load_table

    path = Path(file)
    if path.exists() and path.suffix.lower() in (".csv", ".txt", ".tsv"):
        use = sep or sniff_sep(path)
        try:
            return pd.read_csv(path, sep=use, low_memory=False)
        except pd.errors.EmptyDataError:
            raise ValueError(f"{file} is empty: no header and no rows") from None
        except pd.errors.ParserError as exc:
            raise ValueError(f"{file} cannot be read as a table separated by {use!r} ({exc}); "
                             "pass --sep to name the separator") from None
    return load_table(file)


def load_xy(file: str, target: str, *, task: str = "auto", cv: int | None = None,
            drop: list[str] | None = None, sep: str | None = None) -> Loaded:
    """Features and target of ``file`` (classes coded 0..k-1 for classification).

    ``cv``: the folds the caller will use (classes rarer than that are dropped with a note,
    and a table too small for them is refused)."""
    from metafeatures import infer_task

    df = read(file, sep)
    notes: list[str] = []
    if target not in df.columns:
        raise ValueError(f"--target {target!r} is not a column of {file}; columns are {list(df.columns)[:20]}")
    if drop:
        unknown = [c for c in drop if c not in df.columns]
        if unknown:
            raise ValueError(f"--drop {unknown} are not columns of {file}; columns are {list(df.columns)[:20]}")
        if target in drop:
            raise ValueError(f"--drop names the target {target!r}; drop feature columns only")
        df = df.drop(columns=drop)
        notes.append(f"dropped {len(drop)} columns as asked: {drop}")
    if len(df) == 0:
        raise ValueError(f"{file} has a header but no rows; there is nothing to learn from")
    empty = [c for c in df.columns if c != target and df[c].isna().all()]
    if empty:
        df = df.drop(columns=empty)
        notes.append(f"dropped {len(empty)} columns with no value at all (e.g. a trailing comma "
                     f"on every line): {[str(c) for c in empty][:5]}")
    missing = df[target].isna()
    if missing.all():
        raise ValueError(f"--target {target!r} has no value in any of the {len(df)} rows of {file}")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows whose target is missing")
        df = df.loc[~missing].reset_index(drop=True)
    y = df.pop(target)
    if df.shape[1] == 0:
        raise ValueError(f"{file} has no feature column besides the target {target!r}")
    inf_cols = [c for c in df.columns if df[c].dtype.kind == "f" and np.isinf(df[c].to_numpy()).any()]
    if inf_cols:
        df[inf_cols] = df[inf_cols].replace([np.inf, -np.inf], np.nan)
        notes.append(f"infinite values are treated as missing in {len(inf_cols)} columns: "
                     f"{[str(c) for c in inf_cols][:5]}")
    task = infer_task(y) if task == "auto" else task
    classes: list[str] = []
    if task == "regression":
        numeric = pd.to_numeric(y, errors="coerce")
        if numeric.isna().any():
            example = y[numeric.isna()].iloc[0]
            raise ValueError(
                f"--target {target!r} is not numeric (e.g. {str(example)!r}), so it cannot be "
                "regressed; use --task classification (or --task auto)"
            )
        y = numeric.astype(np.float64)
        infinite = np.isinf(y.to_numpy())
        if infinite.any():
            raise ValueError(
                f"--target {target!r} holds {int(infinite.sum())} infinite value(s), which no "
                "score can use; replace or drop those rows in the table"
            )
        _check_rows(file, len(y), cv)
    else:
        labels = y.astype(str)
        if cv is not None:
            _check_rows(file, len(labels), cv)
            counts = labels.value_counts()
            rare = counts[counts < cv]
            if len(rare):
                notes.append(f"dropped {int(rare.sum())} row(s) of {len(rare)} class(es) with fewer than "
                             f"{cv} members (stratified {cv}-fold CV needs them): {list(rare.index)[:5]}")
                keep = ~labels.isin(rare.index)
                df, labels = df.loc[keep].reset_index(drop=True), labels.loc[keep].reset_index(drop=True)
        codes = pd.Categorical(labels)
        classes = [str(c) for c in codes.categories]
        if len(classes) < 2:
            what = (f"only the class {classes[0]!r}" if classes else "no class")
            more = (f" with at least {cv} rows each (lower --cv)" if cv is not None and len(counts) > 1 else "")
            distinct = int(y.nunique())
            if distinct > max(20, 0.1 * len(y)) and pd.to_numeric(y, errors="coerce").notna().all():
                raise ValueError(
                    f"--target {target!r} holds {distinct} distinct numbers over {len(y)} rows, and "
                    f"{what} is left{more.replace(' (lower --cv)', '')}: it looks like a regression "
                    "target; use --task regression (or --task auto, which reads it)")
            raise ValueError(f"--target {target!r} has {what} left{more}; classification needs two classes")
        y = pd.Series(codes.codes.astype(np.int64), name=target)
    return Loaded(df, y, task, classes, notes, suspicious_columns(df))


def _check_rows(file: str, n: int, cv: int | None) -> None:
    if cv is not None and n < cv:
        raise ValueError(f"{file} has {n} usable rows, fewer than --cv {cv} folds; lower --cv (at most {n})")
    if n < 2:
        raise ValueError(f"{file} has {n} usable row; cross-validation needs more")


def suspicious_columns(X: pd.DataFrame) -> dict[str, str]:
    """Columns that are probably not features: identifiers (one value per row), dates, and
    free text (thousands of distinct strings). Reported, not dropped: ``--drop`` them."""
    out: dict[str, str] = {}
    n = len(X)
    for c in X.columns:
        col = X[c].dropna()
        if len(col) < 20:
            continue
        unique = col.nunique()
        is_text = col.dtype == object or pd.api.types.is_string_dtype(col.dtype)
        integer_run = (pd.api.types.is_integer_dtype(col.dtype)
                       and int(col.max()) - int(col.min()) + 1 == len(col))
        named_id = bool(_ID_NAME.match(str(c)))
        if is_text and _looks_like_dates(col):
            out[str(c)] = "dates (used as unordered text)"
        elif unique == len(col) and (is_text or integer_run or named_id):
            out[str(c)] = "a different value in every row (an identifier?)"
        elif is_text and unique > max(HIGH_CARDINALITY, n // 2):
            out[str(c)] = f"free text ({unique} distinct values)"
    return out


def _looks_like_dates(col: pd.Series) -> bool:
    import warnings

    sample = col.astype(str).head(200)
    if not sample.str.contains(r"\d", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() > 0.9)
