"""The knowledge a sampler draws on: which knowledge spaces it may use, the knowledge bases
themselves (bundled, a folder, or an object; loaded once), and the user's history of
finished studies joined to them (read once per sampler, not per trial)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optuna.study import Study

from warmstart.history import import_studies, studies_to_metadataset
from warmstart.kb_io import bundled_spaces, space_of


class KnowledgeSource:
    """Knowledge bases by space, loaded lazily and cached (thread-safe, picklable).

    ``knowledge``: None (bundled), False (none), a folder path or a KnowledgeBase;
    ``space``: restricts to one built-in space; ``history``: an Optuna storage URL or
    studies whose finished learn2tune trials join the knowledge."""

    def __init__(self, knowledge: Any, space: str | None, history: str | Sequence[Study] | None,
                 task_type: str | None) -> None:
        self.knowledge, self.space, self.history, self.task_type = knowledge, space, history, task_type
        self._kbs: dict[str, Any] = {}
        self._history_md: Any = None
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def candidate_spaces(self) -> list[str]:
        """Spaces this source has knowledge for (restricted to ``space`` if given)."""
        if self.knowledge is False:
            return []
        if self.space is not None:
            return [self.space]
        if isinstance(self.knowledge, (str, Path)):
            return [space_of(self.knowledge)]
        if self.knowledge is not None:
            return [self.knowledge.space_name]
        return bundled_spaces(self.task_type)

    def kb(self, space: str) -> Any:
        """The knowledge base of ``space`` (with the history joined), loaded once."""
        with self._lock:
            if space in self._kbs:
                return self._kbs[space]
            from warmstart import KnowledgeBase

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
                self._history_md = (import_studies(self.history) if isinstance(self.history, str)
                                    else studies_to_metadataset(self.history))
            return self._history_md
