"""The knowledge a sampler draws on: which knowledge spaces it may use, the knowledge bases
themselves (bundled, a folder, or an object; loaded once), and the user's history of
finished studies joined to them (read once per sampler, not per trial)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from optuna.storages import BaseStorage
from optuna.study import Study

from warmstart.history import studies_to_metadataset
from warmstart.kb_io import bundled_root, bundled_spaces, feature_names_of, space_of

logger = logging.getLogger(__name__)


class KnowledgeSource:
    """Knowledge bases by space, loaded lazily and cached (thread-safe, picklable).

    ``knowledge``: None (bundled), False (none), a folder path or a KnowledgeBase;
    ``space``: restricts to one built-in space; ``history``: an Optuna storage URL, a
    storage or studies (checked by ``warmstart.history.checked_source``)."""

    def __init__(self, knowledge: Any, space: str | None, history: str | BaseStorage | Sequence[Study] | None,
                 task_type: str | None) -> None:
        self.knowledge, self.space, self.history, self.task_type = knowledge, space, history, task_type
        self._kbs: dict[str, Any] = {}
        self._history_md: Any = None
        self._derived_md: Any = None
        self._studies: list[Any] | None = None
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        if self._derived_md:  # a derived space lives in a per-process registry
            from warmstart.spaces import register_space

            register_space(self._derived_md[1])

    def candidate_spaces(self) -> list[str]:
        """Spaces this source has knowledge for (restricted to ``space`` if given): the
        bundled or given knowledge's, and the space of the history's own studies."""
        if self.knowledge is False:
            return []
        if self.space is not None:
            return [self.space]
        if isinstance(self.knowledge, (str, Path)):
            out = [space_of(self.knowledge)]
        elif self.knowledge is not None:
            out = [self.knowledge.space_name]
        else:
            out = bundled_spaces(self.task_type)
        derived = self._derived()
        return out + ([derived[1].name] if derived is not None else [])

    def missing_metafeatures(self, metafeatures: Mapping[str, float]) -> list[str]:
        """The meta-features every candidate knowledge base reads and ``metafeatures``
        lacks (those of the first candidate), or ``[]`` when one of them finds all it
        reads. Reads only the knowledge bases' descriptions: cheap at construction."""
        if self.knowledge is False or self.history is not None:
            return []  # no knowledge, or knowledge of studies that may carry no meta-features
        if self.knowledge is None:
            wanted = [feature_names_of(bundled_root() / s) for s in
                      ([self.space] if self.space is not None else bundled_spaces(self.task_type))
                      if (bundled_root() / s / "kb.json").exists()]
        elif isinstance(self.knowledge, (str, Path)):
            wanted = [feature_names_of(self.knowledge)]
        else:
            wanted = [list(getattr(self.knowledge, "feature_names", None) or [])]
        lacking = [[n for n in names if n not in metafeatures] for names in wanted]
        return [] if not lacking or any(not m for m in lacking) else lacking[0]

    def _derived(self) -> tuple[Any, Any] | None:
        """(MetaDataset, space) of the history studies that no built-in space describes
        (any parameter names), or None (no history, or fewer than 3 such studies)."""
        with self._lock:
            if self._derived_md is None:
                self._derived_md = False
                if self.history is not None:
                    from warmstart.history import is_learn2tune_study
                    from warmstart.study_knowledge import studies_metadataset

                    studies = self.studies()
                    others = [s for s in studies if not is_learn2tune_study(s.user_attrs)]
                    try:
                        self._derived_md = studies_metadataset(others)
                    except ValueError as exc:
                        self._derived_md = False
                        if others or not studies:  # not a history of built-in spaces only
                            n = len(studies)
                            where = (self.history if isinstance(self.history, str)
                                     else f"{n} stud{'y' if n == 1 else 'ies'}")
                            logger.warning("MetaSampler: history (%s) not learned from: %s", where,
                                           exc if studies else "it holds no study")
            return self._derived_md or None

    def studies(self) -> list[Any]:
        """The history's studies (read once)."""
        with self._lock:
            if self._studies is None:
                from warmstart.history import load_studies

                self._studies = load_studies(self.history) if self.history is not None else []
            return self._studies

    def kb(self, space: str) -> Any:
        """The knowledge base of ``space`` (with the history joined), loaded once."""
        with self._lock:
            if space in self._kbs:
                return self._kbs[space]
            from warmstart import KnowledgeBase

            derived = self._derived()
            if derived is not None and space == derived[1].name:
                from warmstart.study_knowledge import fit_on

                self._kbs[space] = fit_on(*derived)
                return self._kbs[space]
            arg = self.knowledge
            if arg is None:
                kb = KnowledgeBase.default(space)
            elif isinstance(arg, (str, Path)):
                kb = KnowledgeBase.load(arg)
            else:
                kb = arg
            if kb.space_name != space:
                raise ValueError(f"knowledge is for space {kb.space_name!r}, but the study uses {space!r}")
            if self.history is not None:
                kb = kb.with_history(self.history_metadataset())
            self._kbs[space] = kb
            return kb

    def history_metadataset(self) -> Any:
        """The history as a MetaDataset (read once)."""
        with self._lock:
            if self._history_md is None:
                self._history_md = studies_to_metadataset(self.studies())
            return self._history_md
