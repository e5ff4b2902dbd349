"""Saving, loading and verifying knowledge bases; the bundled ones.

A knowledge-base folder holds ``kb.json`` (what it is: space, signature, feature list,
configurations, settings), Parquet tables, XGBoost JSON models, a torch state dict and
``checksums.json``, the SHA-256 of every other file, ``kb.json`` included. Loading
verifies every checksum, refuses a folder without them, checks that the space and the
meta-feature list are the installed ones, and never unpickles (torch loads with
``weights_only=True``).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna.distributions as od
import pandas as pd

from . import spaces as spaces_mod
from . import zero_shot
from .scaling import QuantileScaler
from .store import atomic_write_parquet, atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from .knowledge import KnowledgeBase

#: format 2: checksums of every file (kb.json included) in checksums.json
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
CHECKSUMS = "checksums.json"


class KnowledgeBaseError(ValueError):
    """A knowledge-base folder is corrupt, incomplete or does not match this installation."""


def bundled_root() -> Path:
    """The folder of the knowledge bases bundled with learn2tune."""
    return Path(str(resources.files("warmstart").joinpath("data/kb")))


def bundled_spaces(task_type: str | None = None) -> list[str]:
    """Spaces that have a bundled knowledge base (of ``task_type`` if given)."""
    root = bundled_root()
    return [n for n in spaces_mod.list_spaces(task_type) if (root / n / "kb.json").exists()]


def space_of(path: str | Path) -> str:
    """The space a saved knowledge base was fitted for (reads ``kb.json`` only)."""
    meta_path = Path(path) / "kb.json"
    if not meta_path.exists():
        raise FileNotFoundError(
            f"{str(Path(path))!r} is not a knowledge-base folder (no kb.json); pass a folder "
            "written by KnowledgeBase.save or `learn2tune fit-kb`, or knowledge=None for the "
            "bundled knowledge"
        )
    try:
        return str(json.loads(meta_path.read_text())["space"])
    except (json.JSONDecodeError, KeyError) as exc:
        raise KnowledgeBaseError(f"{str(meta_path)!r} is not a valid knowledge-base description: {exc}") from exc


def feature_names_of(path: str | Path) -> list[str]:
    """The meta-features a saved knowledge base reads (``kb.json`` only)."""
    space_of(path)  # says what is wrong with a folder that is not a knowledge base
    return [str(n) for n in json.loads((Path(path) / "kb.json").read_text()).get("feature_names", [])]


def check_destination(path: str | Path, argument: str = "path") -> Path:
    """``path`` as a place to save a knowledge base: a new or empty folder, or an earlier
    knowledge-base folder (replaced whole). A file, or a folder holding other things, is
    refused before any work (saving would mix a knowledge base into what the user keeps)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{argument}={str(path)!r} is a file; pass a folder to save the knowledge base in")
    if path.is_dir() and any(path.iterdir()) and not (path / "kb.json").exists():
        raise ValueError(
            f"{argument}={str(path)!r} is a folder with other files and no kb.json; pass a new or empty "
            "folder (or an earlier knowledge-base folder, which is replaced)"
        )
    return path


def save(kb: KnowledgeBase, path: str | Path) -> None:
    """Write ``kb`` to a folder (see the module docstring): into a temporary folder beside
    it, then swapped in, so an interrupted save leaves the earlier folder as it was."""
    import shutil
    import uuid

    path = check_destination(path)
    if kb.maml is None or kb.scaler is None:
        raise KnowledgeBaseError("cannot save an unfitted knowledge base")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        _write(kb, tmp)
        if path.exists():
            old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            path.replace(old)
            tmp.replace(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.replace(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write(kb: KnowledgeBase, path: Path) -> None:
    import torch

    for i, m in enumerate(kb.xgb_models):
        m.save_model(str(path / f"xgb_{i}.json"))
    for i, m in enumerate(kb.gain_models):
        m.save_model(str(path / f"gain_{i}.json"))
    torch.save(kb.maml.state_dict(), path / "maml.pt")
    cols = [str(i) for i in range(len(kb.configs))]
    atomic_write_parquet(
        pd.DataFrame({"task_id": kb.task_ids, "name": kb.task_names, "fingerprint": kb.fingerprints}),
        path / "tasks.parquet",
    )
    atomic_write_parquet(pd.DataFrame(kb.task_matrix, columns=kb.feature_names), path / "task_matrix.parquet")
    atomic_write_parquet(pd.DataFrame(kb.scores, columns=cols), path / "scores.parquet")
    atomic_write_parquet(pd.DataFrame(kb.filled, columns=cols), path / "filled.parquet")
    atomic_write_parquet(pd.DataFrame(kb.scaler.grid, columns=kb.feature_names), path / "scaler.parquet")
    meta = {
        "format": FORMAT_VERSION,
        "learn2tune_version": _version(),
        "space": kb.space_name,
        "space_signature": kb.space_signature,
        "task_type": kb.task_type,
        "metric": kb.metric,
        "feature_names": kb.feature_names,
        "feature_list_hash": _feature_list_hash(),
        "weights": kb.weights.tolist(),
        "embed_idx": kb.embed_idx.tolist(),
        "maml_prior_input": kb.maml_prior_input,
        "configs": kb.configs,
        "nn_distance_quantiles": kb.nn_distance_quantiles.tolist(),
        "safety": kb.safety,
        # the warm start's bandwidth table, computed once (seconds) rather than at every load
        "bandwidth_table": zero_shot.saved_bandwidth_table(kb),
        "maml": {"in_dim": kb.maml.in_dim, "config": kb.maml.config_dict(), "seed": kb.maml.seed},
        "n_xgb": len(kb.xgb_models),
        "n_gain": len(kb.gain_models),
        # a space derived from studies travels with its knowledge
        "space_distributions": ({k: od.distribution_to_json(v) for k, v in kb.space.distributions.items()}
                                if kb.space_name not in spaces_mod.SPACES else None),
        "random_state": kb.random_state,
        "info": kb.info,
    }
    atomic_write_text(json.dumps(meta, indent=1, default=float), path / "kb.json")
    files = sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != CHECKSUMS)
    atomic_write_text(json.dumps({name: _sha256(path / name) for name in files}, indent=1), path / CHECKSUMS)


def verify(path: str | Path) -> dict:
    """Check every file of a knowledge-base folder against its checksum; returns the
    parsed ``kb.json``. Raises :class:`KnowledgeBaseError` naming what is wrong."""
    path = Path(path)
    meta_path = path / "kb.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{str(meta_path)!r} not found: not a knowledge-base folder")
    sums_path = path / CHECKSUMS
    sums: dict | None = None
    if sums_path.exists():
        try:
            sums = json.loads(sums_path.read_text())
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(f"{str(sums_path)!r} is not valid JSON: {exc}") from exc
        if "kb.json" not in sums:
            raise KnowledgeBaseError(f"{str(sums_path)!r} has no checksum of kb.json: the folder was altered")
        _check(path, "kb.json", sums["kb.json"])
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise KnowledgeBaseError(f"{str(meta_path)!r} is not valid JSON: {exc}") from exc
    if meta.get("format") not in READABLE_FORMATS:
        raise KnowledgeBaseError(
            f"{str(meta_path)!r} has format {meta.get('format')!r}; this learn2tune reads "
            f"formats {READABLE_FORMATS}. Refit it with this version."
        )
    if sums is None:
        if meta.get("format") == 1 and meta.get("checksums"):
            sums = meta["checksums"]  # older saves: the checksums live in kb.json
        else:
            raise KnowledgeBaseError(
                f"{str(path)!r} has no checksums ({CHECKSUMS} is missing): its files cannot be "
                "verified. Restore the folder from where it came, or refit and save it again."
            )
    for name in ("kb.json", "tasks.parquet", "task_matrix.parquet", "scores.parquet", "filled.parquet",
                 "scaler.parquet", "maml.pt", *(f"xgb_{i}.json" for i in range(int(meta.get("n_xgb", 0))))):
        if name not in sums and not (name == "kb.json" and meta.get("format") == 1):
            raise KnowledgeBaseError(f"the checksum list of {str(path)!r} does not cover {name}: the folder was altered")
    for name, digest in sums.items():
        if name != "kb.json":
            _check(path, name, digest)
    return meta


def _check(path: Path, name: str, digest: str) -> None:
    f = path / name
    if not f.exists():
        raise KnowledgeBaseError(f"knowledge-base file {str(f)!r} is missing")
    if _sha256(f) != digest:
        raise KnowledgeBaseError(f"knowledge-base file {str(f)!r} is corrupt (checksum mismatch)")


def load(cls: type[KnowledgeBase], path: str | Path) -> KnowledgeBase:
    """Load a folder written by :func:`save` into a new ``cls`` instance."""
    import torch

    path = Path(path)
    meta = verify(path)
    meta_path = path / "kb.json"
    if meta.get("space_distributions") and meta["space"] not in spaces_mod.SPACES:
        from .study_spaces import study_space

        study_space({k: od.json_to_distribution(v) for k, v in meta["space_distributions"].items()})
    space = spaces_mod.get_search_space(meta["space"])
    if meta["space_signature"] != space.signature:
        raise KnowledgeBaseError(
            f"{str(meta_path)!r} was fitted for space {meta['space']!r} with signature "
            f"{meta['space_signature']}, but the installed space has signature "
            f"{space.signature}: its distributions changed. Refit the knowledge base."
        )
    import metafeatures

    known = set(metafeatures.list_features()["name"])
    unknown = [n for n in meta["feature_names"] if n not in known]
    if unknown:
        raise KnowledgeBaseError(
            f"{str(meta_path)!r} uses meta-features {unknown[:5]} that this version of "
            "metafeatures does not compute (other feature list). Refit the knowledge base."
        )
    kb = cls()
    kb.space_name, kb.space_signature = meta["space"], meta["space_signature"]
    kb.task_type, kb.metric = meta["task_type"], meta["metric"]
    kb.feature_names = list(meta["feature_names"])
    kb.weights = np.asarray(meta["weights"], dtype=np.float64)
    kb.embed_idx = np.asarray(meta["embed_idx"], dtype=int)
    kb.maml_prior_input = bool(meta.get("maml_prior_input", False))  # saved before it existed: no
    kb.configs = meta["configs"]
    kb.nn_distance_quantiles = np.asarray(meta["nn_distance_quantiles"])
    kb.safety = dict(meta.get("safety") or {})  # saved before the safety net: none
    kb.random_state = meta.get("random_state", 0)
    kb.info = meta.get("info", {})
    try:
        tasks = pd.read_parquet(path / "tasks.parquet")
        kb.task_ids = tasks["task_id"].tolist()
        kb.task_names = tasks["name"].tolist()
        kb.fingerprints = tasks["fingerprint"].tolist()
        # a table without columns (knowledge of studies without meta-features) keeps no rows
        matrix = pd.read_parquet(path / "task_matrix.parquet")[kb.feature_names].to_numpy(np.float64)
        kb.task_matrix = matrix if kb.feature_names else np.zeros((len(kb.task_ids), 0))
        kb.scores = pd.read_parquet(path / "scores.parquet").to_numpy(np.float64)
        kb.filled = pd.read_parquet(path / "filled.parquet").to_numpy(np.float64)
        kb.scaler = QuantileScaler(kb.feature_names, pd.read_parquet(path / "scaler.parquet")[kb.feature_names].to_numpy())
    except (OSError, KeyError, ValueError) as exc:
        raise KnowledgeBaseError(f"cannot read the tables of {str(path)!r}: {exc}") from exc
    # knowledge bases saved before the first-pick members have none (n_gain absent)
    kb.xgb_models = [_load_xgb(path / f"xgb_{i}.json") for i in range(meta["n_xgb"])]
    kb.gain_models = [_load_xgb(path / f"gain_{i}.json") for i in range(meta.get("n_gain", 0))]
    try:
        state = torch.load(path / "maml.pt", weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name, without torch's advice
        raise KnowledgeBaseError(
            f"cannot read {str(path / 'maml.pt')!r} as plain tensors ({type(exc).__name__}); it "
            "holds something other than the state dict learn2tune writes, and loading it could "
            "run code. Refit the knowledge base or restore the folder from where it came."
        ) from None

    from .maml import MAMLEnsemble

    zero_shot.keep_bandwidth_table(kb, meta.get("bandwidth_table"))  # saved before it was kept: none
    mm = meta["maml"]
    try:
        kb.maml = MAMLEnsemble.from_state(mm["in_dim"], mm["config"], state, seed=mm["seed"])
    except ValueError as exc:
        raise KnowledgeBaseError(f"{str(path / 'maml.pt')!r}: {exc}") from exc
    return kb


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _feature_list_hash() -> str:
    import metafeatures

    names = "\n".join(metafeatures.list_features()["name"])
    return hashlib.sha256(names.encode()).hexdigest()[:12]


def _version() -> str:
    from . import __version__

    return __version__


def _load_xgb(file: Path) -> Any:
    import xgboost

    m = xgboost.XGBRegressor(n_jobs=1)
    try:
        m.load_model(str(file))
    except xgboost.core.XGBoostError as exc:
        raise KnowledgeBaseError(f"cannot read {str(file)!r}: {exc}") from exc
    return m
