"""Finished Optuna studies as meta-data ("store, then improve").

A study driven by learn2tune carries these user attributes (``ATTR_*`` below): the
dataset's meta-features, the search space name and signature, the task type, the metric
and the learn2tune version. :func:`studies_to_metadataset` turns such studies into a
:class:`~warmstart.store.MetaDataset` whose evaluations can join a knowledge base.
:func:`load_studies` reads past studies from a storage URL, a storage or a list, after
:func:`checked_source` has refused what is not one (without creating a database).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import spaces as spaces_mod
from .scores import copula, metric_sign
from .store import MF_PREFIX, MetaDataset, param_columns

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

ATTR_METAFEATURES = "learn2tune:metafeatures"
ATTR_SPACE = "learn2tune:space"
ATTR_SIGNATURE = "learn2tune:space_signature"
ATTR_TASK_TYPE = "learn2tune:task_type"
ATTR_METRIC = "learn2tune:metric"
ATTR_VERSION = "learn2tune:version"
ATTR_FINGERPRINT = "learn2tune:fingerprint"
ATTR_NAME = "learn2tune:dataset_name"


def study_attributes(
    metafeatures: pd.Series | dict[str, float], space: str, *, metric: str | None = None,
    fingerprint: str | None = None, dataset_name: str | None = None,
) -> dict[str, Any]:
    """The user attributes that make a study importable as meta-data."""
    from . import __version__

    sp = spaces_mod.get_search_space(space)
    attrs: dict[str, Any] = {
        ATTR_METAFEATURES: {str(k): float(v) for k, v in dict(metafeatures).items()},
        ATTR_SPACE: space,
        ATTR_SIGNATURE: sp.signature,
        ATTR_TASK_TYPE: sp.task_type,
        ATTR_VERSION: __version__,
    }
    if metric:
        attrs[ATTR_METRIC] = metric
    if fingerprint:
        attrs[ATTR_FINGERPRINT] = fingerprint
    if dataset_name:
        attrs[ATTR_NAME] = dataset_name
    return attrs


def is_learn2tune_study(user_attrs: dict[str, Any]) -> bool:
    """Whether a study carries learn2tune's attributes."""
    return all(k in user_attrs for k in (ATTR_METAFEATURES, ATTR_SPACE, ATTR_SIGNATURE))


def studies_to_metadataset(studies: Iterable[Any]) -> MetaDataset:
    """Convert finished learn2tune studies (``optuna.Study`` objects) into a MetaDataset.

    Studies without learn2tune's attributes, multi-objective studies, studies of another
    space signature and trials whose parameters do not match the space are skipped. The
    objective value is stored in column ``objective`` (negated for minimized studies, so
    higher is better) and, when the study names its metric, in that metric's column.
    """
    import optuna

    task_rows, eval_rows = [], []
    for study in studies:
        attrs = study.user_attrs
        if not is_learn2tune_study(attrs) or len(study.directions) != 1:
            continue
        space_name = attrs[ATTR_SPACE]
        try:
            sp = spaces_mod.get_search_space(space_name)
        except ValueError:
            continue
        if attrs[ATTR_SIGNATURE] != sp.signature:
            continue
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        storage_id = getattr(study._storage, "url", None) or type(study._storage).__name__
        task_id = f"optuna:{study.study_name}@{hashlib.sha1(str(storage_id).encode()).hexdigest()[:8]}"
        fp = attrs.get(ATTR_FINGERPRINT) or hashlib.sha256(task_id.encode()).hexdigest()[:16]
        mf = attrs[ATTR_METAFEATURES]
        metric = attrs.get(ATTR_METRIC)
        n = 0
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            if set(t.params) != set(sp.params) or t.value is None or not np.isfinite(t.value):
                continue
            config = {p: t.params[p] for p in sp.params}
            try:
                sp.validate(config)
            except ValueError:
                continue
            row: dict[str, Any] = {
                "task_id": task_id,
                "space": space_name,
                "space_signature": sp.signature,
                "config_id": int(t.number),
                "config": json.dumps(config, sort_keys=True),
                "objective": sign * float(t.value),
                "fit_seconds": (t.duration.total_seconds() if t.duration else float("nan")),
                "status": "ok",
                "error": "",
            }
            row.update(param_columns(sp, config))
            if metric:
                row[metric] = metric_sign(metric) * row["objective"]
            eval_rows.append(row)
            n += 1
        if n:
            task_rows.append(
                {
                    "task_id": task_id,
                    "fingerprint": fp,
                    "source": f"optuna:{study.study_name}",
                    "name": attrs.get(ATTR_NAME, study.study_name),
                    "task_type": attrs.get(ATTR_TASK_TYPE, sp.task_type),
                    "n_rows": int(mf.get("NumberOfInstances", 0)),
                    "n_features": int(max(mf.get("NumberOfFeatures", 1) - 1, 0)),
                    **{f"{MF_PREFIX}{k}": float(v) for k, v in mf.items()},
                }
            )
    tasks = pd.DataFrame(task_rows) if task_rows else pd.DataFrame(
        columns=["task_id", "fingerprint", "source", "name", "task_type", "n_rows", "n_features"])
    evals = pd.DataFrame(eval_rows) if eval_rows else pd.DataFrame(
        columns=["task_id", "space", "space_signature", "config_id", "config", "fit_seconds", "status", "error"])
    return MetaDataset(tasks, evals, {"imported_from": "optuna studies"})


def checked_source(source: Any, argument: str = "history") -> Any:
    """``source`` of past studies, checked without reading them: an Optuna storage URL
    (an SQLite file must exist: reading would create it), an Optuna storage, or studies
    (returned as a list). Anything else raises, naming ``argument`` and the fix."""
    import optuna

    if isinstance(source, optuna.storages.BaseStorage):
        return source
    if isinstance(source, str):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        try:
            url = make_url(source)
            dialect = url.get_dialect()
        except Exception as exc:  # sqlalchemy's ArgumentError, NoSuchModuleError
            hint = "one such as 'sqlite:///studies.db'"
            if "://" not in source and (Path(source).suffix in (".db", ".sqlite", ".sqlite3")
                                        or Path(source).is_file()):
                hint = f"the file's URL, 'sqlite:///{Path(source).resolve()}'"
            raise ValueError(f"{argument}={source!r} is not a storage URL Optuna can read ({exc}); pass "
                             f"{hint}, or a list of studies") from None
        try:
            dialect.import_dbapi()
        except ImportError as exc:  # the storage's database driver is not installed
            raise ValueError(f"{argument}={source!r}: Optuna cannot open a {url.get_backend_name()} storage "
                             f"here ({exc}); install that database's Python driver (pip) and retry") from None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
                and not Path(url.database).exists():
            raise ValueError(f"{argument}={source!r}: no database file {url.database!r}; pass the URL of "
                             f"the storage that holds your past studies")
        return source
    if isinstance(source, optuna.Study):
        return [source]
    try:
        studies = list(source)
    except TypeError:
        raise TypeError(f"{argument} must be an Optuna storage URL, an Optuna storage or a list of "
                        f"studies, got {type(source).__name__}") from None
    wrong = sorted({type(s).__name__ for s in studies if not isinstance(s, optuna.Study)})
    if wrong:
        raise TypeError(f"{argument} must hold optuna.Study objects (optuna.load_study(...)), got "
                        f"{', '.join(wrong)}")
    return studies


def load_studies(source: Any, pattern: str | None = None, argument: str = "history") -> list[Any]:
    """Studies from an Optuna storage URL or storage (every study, or those whose name
    matches the regular expression ``pattern``) or a list of studies (``argument``: the
    name errors give the source)."""
    import optuna

    source = checked_source(source, argument)
    if isinstance(source, (str, optuna.storages.BaseStorage)):
        every = [s.study_name for s in optuna.get_all_study_summaries(source)]
        names = [n for n in every if not pattern or re.search(pattern, n)]
        _check_matched(pattern, names, every)
        return [optuna.load_study(study_name=n, storage=source) for n in names]
    studies = [s for s in source if not pattern or re.search(pattern, s.study_name)]
    _check_matched(pattern, studies, [s.study_name for s in source])
    return studies


def _check_matched(pattern: str | None, matched: Sequence[Any], every: Sequence[str]) -> None:
    if pattern and every and not matched:
        shown = ", ".join(repr(n) for n in list(every)[:5]) + (", ..." if len(every) > 5 else "")
        raise ValueError(f"pattern={pattern!r} matches none of the {len(every)} studies ({shown}); "
                         f"pass a regular expression that some of their names contain")


def import_studies(storage: Any) -> MetaDataset:
    """Every finished learn2tune study of an Optuna storage URL (or storage, or studies),
    as a MetaDataset."""
    return studies_to_metadataset(load_studies(storage, argument="storage"))


def merge_history(kb_in: KnowledgeBase, history: MetaDataset) -> KnowledgeBase:
    """A copy that also knows the tasks of ``history`` (e.g. the user's own finished
    studies) for similarity and warm starts. Their configurations join the grid; scores
    a task lacks are filled by the cross-task surrogate. The MAML surrogate is shared."""
    import copy

    md = history.filter(space=kb_in.space_name)
    if len(md.evaluations) == 0:
        return kb_in
    metric = kb_in.metric if kb_in.metric in md.evaluations.columns else "objective"
    sign = metric_sign(metric)
    kb = copy.copy(kb_in)
    grid = {json.dumps(c, sort_keys=True): i for i, c in enumerate(kb_in.configs)}
    configs = list(kb_in.configs)
    new_rows, new_tasks, new_names, new_fps = [], [], [], []
    mf = md.metafeatures()
    for tid, sub in md.evaluations.groupby("task_id", sort=False):
        sub = sub[(sub["status"] == "ok") & sub[metric].notna()]
        if len(sub) < 3 or tid not in mf.index or tid in kb_in.task_ids:
            continue
        row: dict[int, float] = {}
        z = copula(sign * sub[metric].to_numpy(np.float64))
        for key, val in zip(sub["config"].astype(str), z):
            key = json.dumps(json.loads(key), sort_keys=True)
            if key not in grid:
                grid[key] = len(configs)
                configs.append(json.loads(key))
            row[grid[key]] = val
        new_rows.append(row)
        new_tasks.append(tid)
        name = md.tasks.set_index("task_id").loc[tid, "name"]
        new_names.append(str(name))
        new_fps.append(str(md.tasks.set_index("task_id").loc[tid, "fingerprint"]))
    if not new_rows:
        return kb_in
    frame = mf.loc[new_tasks].reindex(columns=kb_in.feature_names)
    frame = frame.fillna(0.0)
    new_matrix = kb_in.scaler.transform(frame)
    n_old, n_cfg = len(kb_in.task_ids), len(configs)
    scores = np.full((n_old + len(new_rows), n_cfg), np.nan)
    scores[:n_old, : kb_in.scores.shape[1]] = kb_in.scores
    for r, row in enumerate(new_rows):
        for j, val in row.items():
            scores[n_old + r, j] = val
    kb.configs = configs
    kb.scores = scores
    kb.task_matrix = np.vstack([kb_in.task_matrix, new_matrix])
    kb.task_ids = kb_in.task_ids + new_tasks
    kb.task_names = kb_in.task_names + new_names
    kb.fingerprints = kb_in.fingerprints + new_fps
    kb._fill_scores(kb_in.space)
    return kb
