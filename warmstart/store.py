"""``MetaDataset``: tasks and evaluations of prior tuning runs, stored as Parquet.

Layout of a meta-dataset folder (written by builds, by :meth:`MetaDataset.save` and by
study imports)::

    manifest.json                       what made it (command, versions, times)
    tasks/*.parquet                     one row per task: identity + meta-features
    evaluations/<space>/*.parquet       one row per evaluated configuration

Every file is written atomically (a hidden temporary file in the same folder, then an
``os.replace``), so a reader never sees a half-written file and a killed writer leaves
only hidden temporary files, which readers ignore. Rows are keyed by
``(task_id, space, config_id)``; loading drops duplicate keys (keeping the first).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TASK_COLUMNS = ("task_id", "fingerprint", "source", "name", "task_type", "n_rows", "n_features")
EVAL_COLUMNS = ("task_id", "space", "space_signature", "config_id", "config", "fit_seconds", "status", "error")
EVAL_KEY = ["task_id", "space", "config_id"]
MF_PREFIX = "mf:"


class MetaDatasetError(ValueError):
    """A meta-dataset file is missing, corrupt or inconsistent."""


def param_columns(space: Any, config: dict[str, Any]) -> dict[str, Any]:
    """``param_<name>`` columns of a config: numbers as numbers, anything else as text."""
    out = {}
    for p in space.params:
        v = config[p]
        out[f"param_{p}"] = v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
    return out


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` atomically (temporary file + rename, fsynced)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    df.to_parquet(tmp, index=False, compression="zstd")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_text(text: str, path: Path) -> None:
    """Write text to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_parquets(files: Iterable[Path], required: Iterable[str], what: str) -> list[pd.DataFrame]:
    frames = []
    for f in files:
        try:
            df = pd.read_parquet(f)
        except FileNotFoundError:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised with the file's name
            raise MetaDatasetError(
                f"cannot read {str(f)!r}: {exc}. The file is corrupt; delete it and rerun "
                "the build command to recompute what it held."
            ) from exc
        try:
            _check_columns(df, required, what)
        except MetaDatasetError as exc:
            raise MetaDatasetError(f"{str(f)!r}: {exc}") from exc
        frames.append(df)
    return frames


def _visible_parquets(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(
        p for p in folder.rglob("*.parquet") if not any(part.startswith(".") for part in p.parts[-3:])
    )


class MetaDataset:
    """Tasks (identity + meta-features) and evaluations (config, metrics, status, time).

    Parameters
    ----------
    tasks : pandas.DataFrame
        At least ``task_id, fingerprint, source, name, task_type, n_rows, n_features``,
        then one ``mf:<name>`` column per meta-feature.
    evaluations : pandas.DataFrame
        At least ``task_id, space, space_signature, config_id, config`` (JSON of the
        configuration), one ``param_<name>`` column per hyperparameter, one column per
        metric, ``fit_seconds, status, error``.
    manifest : dict, optional
        Provenance (command, versions, wall time...).
    """

    def __init__(
        self, tasks: pd.DataFrame, evaluations: pd.DataFrame, manifest: dict | None = None
    ) -> None:
        _check_columns(tasks, TASK_COLUMNS, "tasks")
        _check_columns(evaluations, EVAL_COLUMNS, "evaluations")
        self.tasks = tasks.drop_duplicates("task_id", keep="first").reset_index(drop=True)
        self.evaluations = evaluations.drop_duplicates(EVAL_KEY, keep="first").reset_index(drop=True)
        self.manifest = dict(manifest or {})

    # ------------------------------------------------------------------ io
    @classmethod
    def load(cls, path: str | Path) -> MetaDataset:
        """Load a meta-dataset folder (see the module docstring for its layout)."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"meta-dataset folder {str(path)!r} does not exist; build one with "
                "`learn2tune build` or use MetaDataset.default()."
            )
        for attempt in range(5):
            # a running build may compact (and delete) part files while we read: relist
            try:
                task_frames = _read_parquets(_visible_parquets(path / "tasks"), TASK_COLUMNS, "tasks")
                eval_frames = _read_parquets(
                    _visible_parquets(path / "evaluations"), EVAL_COLUMNS, "evaluations"
                )
                break
            except FileNotFoundError:
                if attempt == 4:
                    raise
        tasks = pd.concat(task_frames, ignore_index=True) if task_frames else _empty(TASK_COLUMNS)
        evals = pd.concat(eval_frames, ignore_index=True) if eval_frames else _empty(EVAL_COLUMNS)
        manifest: dict = {}
        mpath = path / "manifest.json"
        if mpath.exists():
            try:
                manifest = json.loads(mpath.read_text())
            except json.JSONDecodeError as exc:
                raise MetaDatasetError(f"{str(mpath)!r} is not valid JSON: {exc}") from exc
        try:
            return cls(tasks, evals, manifest)
        except MetaDatasetError as exc:
            raise MetaDatasetError(f"in {str(path)!r}: {exc}") from exc

    @classmethod
    def default(cls) -> MetaDataset:
        """The meta-dataset bundled with learn2tune (see its manifest for how it was built)."""
        from importlib import resources

        root = resources.files("warmstart").joinpath("data/default")
        return cls.load(Path(str(root)))

    def save(self, path: str | Path) -> None:
        """Write this meta-dataset to a folder (atomic per file; existing parts kept)."""
        path = Path(path)
        tag = uuid.uuid4().hex[:8]
        atomic_write_parquet(self.tasks, path / "tasks" / f"tasks-{tag}.parquet")
        for space, part in self.evaluations.groupby("space", sort=True):
            part = part.dropna(axis=1, how="all")
            atomic_write_parquet(part, path / "evaluations" / str(space) / f"evaluations-{tag}.parquet")
        if self.manifest:
            atomic_write_text(json.dumps(self.manifest, indent=1, default=str), path / "manifest.json")

    # ------------------------------------------------------------------ views
    def filter(self, space: str | None = None, task_ids: Iterable[str] | None = None) -> MetaDataset:
        """Only the evaluations of ``space`` (and the tasks that have some), or of tasks."""
        ev = self.evaluations
        tasks = self.tasks
        if space is not None:
            ev = ev[ev["space"] == space]
            tasks = tasks[tasks["task_id"].isin(ev["task_id"].unique())]
        if task_ids is not None:
            ids = set(task_ids)
            ev = ev[ev["task_id"].isin(ids)]
            tasks = tasks[tasks["task_id"].isin(ids)]
        empty = [c for c in ev.columns if c not in EVAL_COLUMNS and ev[c].isna().all()]
        return MetaDataset(tasks, ev.drop(columns=empty), self.manifest)

    def merge(self, other: MetaDataset) -> MetaDataset:
        """Union of two meta-datasets (on key collisions, this one's rows win)."""
        tasks = pd.concat([self.tasks, other.tasks], ignore_index=True)
        evals = pd.concat([self.evaluations, other.evaluations], ignore_index=True)
        manifest = {"merged_from": [self.manifest, other.manifest]}
        return MetaDataset(tasks, evals, manifest)

    @property
    def spaces(self) -> list[str]:
        """Spaces that have evaluations."""
        return sorted(self.evaluations["space"].unique().tolist())

    def metafeatures(self) -> pd.DataFrame:
        """Task meta-features, indexed by task id, columns without the ``mf:`` prefix."""
        cols = [c for c in self.tasks.columns if c.startswith(MF_PREFIX)]
        out = self.tasks.set_index("task_id")[cols].astype(np.float64)
        out.columns = [c[len(MF_PREFIX):] for c in cols]
        return out

    def configs(self, space: str) -> list[dict[str, Any]]:
        """Parsed configurations of the evaluations of ``space`` (row order)."""
        ev = self.evaluations[self.evaluations["space"] == space]
        return [json.loads(c) for c in ev["config"]]

    def __repr__(self) -> str:
        return (
            f"MetaDataset({len(self.tasks)} tasks, {len(self.evaluations)} evaluations, "
            f"spaces={self.spaces})"
        )


def _empty(columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _check_columns(df: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise MetaDatasetError(
            f"{what} table lacks required columns {missing}; it was not written by "
            "learn2tune or is from an incompatible version."
        )


# ----------------------------------------------------------------- a build's part files
# While a build runs, every evaluation is its own part file
# ``evaluations/<space>/_parts/<task key>-<config id>.parquet``; when a (task, space) is
# complete its parts are merged into ``evaluations/<space>/<task key>.parquet``, and a
# finished build is compacted into one file per space (see ``compact``).
def task_key(task_id: str) -> str:
    """The file-name key of a task id."""
    return hashlib.sha1(task_id.encode()).hexdigest()[:16]


def part_path(out: Path, space: str, task_id: str, config_id: int) -> Path:
    """Where one evaluation of a running build is written."""
    return Path(out) / "evaluations" / space / "_parts" / f"{task_key(task_id)}-{int(config_id)}.parquet"


def read_space_evaluations(out: Path, space: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Every evaluation of ``space`` on disk in a build folder (merged files and parts)."""
    if columns is not None:  # the key is always read: duplicates are dropped by it
        columns = list(dict.fromkeys(["task_id", "config_id", *columns]))
    frames = [pd.read_parquet(f, columns=columns) for f in _visible_parquets(Path(out) / "evaluations" / space)]
    if not frames:
        return _empty(columns or EVAL_COLUMNS)
    return pd.concat(frames, ignore_index=True).drop_duplicates(["task_id", "config_id"], keep="first")


def done_keys(out: Path, space: str) -> tuple[dict[str, set[int]], set[str]]:
    """Config ids on disk per task key (parts and compacted files, whatever their names)."""
    done: dict[str, set[int]] = {}
    compacted: set[str] = set()
    folder = out / "evaluations" / space
    if not folder.exists():
        return done, compacted
    for f in folder.glob("*.parquet"):
        if f.name.startswith("."):
            continue
        df = pd.read_parquet(f, columns=["task_id", "config_id"])
        for tid, ids in df.groupby("task_id")["config_id"]:
            key = task_key(str(tid))
            done.setdefault(key, set()).update(int(i) for i in ids)
            compacted.add(key)
    parts = folder / "_parts"
    if parts.exists():
        for f in parts.glob("*.parquet"):
            if f.name.startswith("."):
                continue
            key, _, cid = f.stem.rpartition("-")
            done.setdefault(key, set()).add(int(cid))
    return done, compacted


def tasks_on_disk(out: Path) -> dict[str, tuple[str, int]]:
    """Task ids with a row on disk: the meta-feature signature each was computed with
    (``""`` for rows written before signatures were recorded) and the rows it describes."""
    folder = out / "tasks"
    if not folder.exists():
        return {}
    ids: dict[str, tuple[str, int]] = {}
    for f in sorted(folder.glob("*.parquet"), key=lambda f: f.name == "tasks.parquet", reverse=True):
        if not f.name.startswith("."):  # the merged file first: a task's own file is its newest row
            df = pd.read_parquet(f)
            sig = df["mf_signature"].astype(str) if "mf_signature" in df else pd.Series([""] * len(df))
            ids.update(zip(df["task_id"].astype(str), zip(sig, df["n_rows"].astype(int))))
    return ids


def evaluated_rows(out: Path, space: str) -> dict[str, set[int]]:
    """The row counts each task's evaluations on disk were made at (evaluations that did
    not record them are left out)."""
    try:
        ev = read_space_evaluations(out, space, columns=["rows"])
    except (KeyError, ValueError, OSError):  # files written before rows were recorded
        return {}
    ev = ev[ev["rows"].notna()]
    return {str(t): {int(r) for r in g} for t, g in ev.groupby("task_id")["rows"]}


def set_aside(out: Path, space: str, task_id: str, rows: int) -> int:
    """Move the evaluations of ``task_id`` recorded at another row count than ``rows`` (made
    on another subsample of its data, or recorded as the rows asked for before builds
    recorded the rows evaluated) to ``evaluations/<space>/.stale/``: kept on disk, no
    longer read. Each file is copied there before it is rewritten without them (a crash in
    between leaves a copy, never a loss). Returns how many were moved."""
    folder = Path(out) / "evaluations" / space
    stale = folder / ".stale" / f"{task_key(task_id)}.parquet"
    moved = 0
    for f in _visible_parquets(folder):
        df = pd.read_parquet(f)
        if "rows" not in df:
            continue
        bad = (df["task_id"].astype(str) == task_id) & df["rows"].notna() & (df["rows"] != rows)
        if not bad.any():
            continue
        stale.parent.mkdir(parents=True, exist_ok=True)
        kept = [pd.read_parquet(stale)] if stale.exists() else []
        both = pd.concat([*kept, df[bad]], ignore_index=True)  # a rerun after a crash: once
        atomic_write_parquet(both.drop_duplicates(["task_id", "config_id", "rows"]), stale)
        if bad.all():
            f.unlink()
        else:
            atomic_write_parquet(df[~bad].reset_index(drop=True), f)
        moved += int(bad.sum())
    return moved


def compact(out: str | Path) -> None:
    """Merge a finished build's files: one tasks file, one file per space.

    Crash-safe: the merged file is written atomically before the files it replaces are
    removed (a crash in between leaves duplicates, which loading drops)."""
    out = Path(out)
    # one row per task file first, the merged file last: a task's own file is its newest row
    files = sorted((f for f in (out / "tasks").glob("*.parquet") if not f.name.startswith(".")),
                   key=lambda f: (f.name == "tasks.parquet", f.name))
    if len(files) > 1:
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        df = df.drop_duplicates("task_id").sort_values("task_id").reset_index(drop=True)
        target = out / "tasks" / "tasks.parquet"
        atomic_write_parquet(df, target)
        for f in files:
            if f != target:
                f.unlink()
    for folder in sorted(p for p in (out / "evaluations").glob("*") if p.is_dir()):
        if (folder / "_parts").exists() and any((folder / "_parts").glob("*.parquet")):
            continue  # unfinished: leave it to the build
        files = [f for f in folder.glob("*.parquet") if not f.name.startswith(".")]
        if len(files) <= 1:
            continue
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        df = df.drop_duplicates(["task_id", "config_id"]).sort_values(["task_id", "config_id"])
        target = folder / "evaluations.parquet"
        atomic_write_parquet(df.reset_index(drop=True), target)
        for f in files:
            if f != target:
                f.unlink()


def count_on_disk(out: Path, space: str) -> dict[str, int]:
    folder = out / "evaluations" / space
    files = _visible_parquets(folder)  # not the temporary files, nor the set-aside ones
    if not files:
        return {}
    status = pd.concat([pd.read_parquet(f, columns=["status"]) for f in files])["status"]
    return {str(k): int(v) for k, v in status.value_counts().items()}


def compact_task(out: Path, space: str, key: str) -> None:
    folder = out / "evaluations" / space
    part_files = sorted((folder / "_parts").glob(f"{key}-*.parquet"))
    target = folder / f"{key}.parquet"
    frames = [pd.read_parquet(f) for f in part_files]
    if target.exists():
        frames.insert(0, pd.read_parquet(target))
    if not frames:
        return
    df = pd.concat(frames, ignore_index=True).drop_duplicates(["config_id"], keep="first")
    df = df.sort_values("config_id").reset_index(drop=True)
    atomic_write_parquet(df, target)
    for f in part_files:
        f.unlink(missing_ok=True)


def clean_tmp(out: Path) -> None:
    for f in out.rglob(".tmp-*"):
        try:
            f.unlink()
        except OSError:
            pass
