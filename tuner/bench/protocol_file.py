"""The protocol file of a resumable benchmark run: the arguments its parts came from.

A run keeps its finished parts in a folder next to ``protocol.json``; a rerun into the same
folder resumes only if it asks for the same protocol (mixing parts of different runs would
compare numbers that do not compare)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from warmstart.store import atomic_write_text


def keep_protocol(folder: Path, protocol: dict[str, Any]) -> None:
    """Write ``protocol`` to ``folder/protocol.json``, or raise if the folder holds a run
    with another one (naming the first argument that differs and the fix)."""
    path = Path(folder) / "protocol.json"
    new = json.loads(json.dumps(protocol))
    if path.exists():
        old = json.loads(path.read_text())
        if old != new:
            diff = next(k for k in [*new, *old] if old.get(k) != new.get(k))
            raise ValueError(f"{str(folder)!r} holds a run with {diff}={old.get(diff)!r}; this run asks for "
                             f"{diff}={new.get(diff)!r}: its results are not comparable. Use another --out.")
    atomic_write_text(json.dumps(protocol, indent=1), path)
