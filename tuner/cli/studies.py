"""The study behind ``learn2tune tune``: its storage, opened with one-line errors, and the
settings that define it, recorded so that a rerun never mixes incomparable trials."""

from __future__ import annotations

import warnings
from typing import Any


def open_storage(url: str) -> Any:
    """An Optuna storage for ``url``, or a one-line error that says how to fix it."""
    import optuna

    if not url.startswith(("sqlite:", "postgresql", "mysql")):
        if "://" not in url:
            raise ValueError(f"--storage {url!r} is not a database URL; use e.g. sqlite:///study.db "
                             "or postgresql://USER:PASSWORD@HOST/DATABASE")
        raise ValueError(f"--storage {url!r}: unsupported database; use sqlite:///PATH, "
                         "postgresql://... or mysql://...")
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=60, grace_period=180)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy and driver errors become one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = url.split("@")[-1]
        if isinstance(exc, ImportError) or "Failed to import DB access module" in first:
            scheme = url.split(":", 1)[0]
            driver = scheme.split("+", 1)[1] if "+" in scheme else {
                "postgresql": "psycopg2", "mysql": "mysqlclient"}.get(scheme, scheme)
            hint = ("pip install 'learn2tune[postgres]'" if driver in ("psycopg2", "psycopg2-binary")
                    else f"pip install {driver}")
            raise ValueError(f"--storage {where!r} needs the {driver} driver: {hint}") from None
        if url.startswith("sqlite"):
            raise ValueError(f"cannot open the SQLite study database {where!r} ({first}); check that "
                             "its folder exists and is writable, or pass --out/--storage elsewhere") from None
        raise ValueError(f"cannot open --storage {where!r} ({first}); check the URL, the server and "
                         "the credentials") from None


#: what makes two runs the same study; a rerun must match it to continue the study
DEFINITION_ATTR = "learn2tune:definition"
_DEFINITION_FLAGS = {"target": "--target", "task": "--task", "space": "--model", "metric": "--metric",
                     "cv": "--cv", "seed": "--seed", "data": "data"}


def check_definition(study: Any, definition: dict, storage_url: str) -> None:
    """Refuse to continue a study that was run with other settings."""
    old = study.user_attrs.get(DEFINITION_ATTR)
    if old is None:
        if any(True for _ in study.get_trials(deepcopy=False)):
            raise ValueError(
                f"study {study.study_name!r} in {storage_url} holds trials of unknown settings "
                "(made before learn2tune recorded them); pass --study-name NEW or --out DIR to "
                "start a separate study"
            )
        study.set_user_attr(DEFINITION_ATTR, definition)
        return
    for key, flag in _DEFINITION_FLAGS.items():
        if old.get(key) != definition.get(key):
            was, now = old.get(key), definition.get(key)
            what = ("on other data (the file's content or --drop changed)" if key == "data"
                    else f"with {flag} {was} (this run: {flag} {now})")
            raise ValueError(
                f"study {study.study_name!r} in {storage_url} was run {what}; "
                f"its trials are not comparable with this run. Rerun with the same settings to "
                f"continue it, or pass --study-name NEW (or --out DIR) to start a separate study."
            )
