"""Compact a stopped (not running!) build so that it can be committed and resumed elsewhere.

    python tools/checkpoint_build.py builds/xgboost-classifier

Merges the part files of unfinished (task, fidelity) pairs into their task files and every
task row into one tasks file (a build writes one small Parquet file per row and per
evaluation while it runs; hundreds of one-row files weigh tens of MB). A rerun of the
build command resumes exactly where it stopped: it counts merged files like parts.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from warmstart.store import compact, compact_task  # noqa: E402


def main(out: str) -> None:
    root = Path(out)
    for space_dir in sorted(p for p in (root / "evaluations").glob("*") if p.is_dir()):
        keys = {f.stem.rpartition("-")[0] for f in (space_dir / "_parts").glob("*.parquet")}
        for key in sorted(keys):
            compact_task(root, space_dir.name, key)
        print(f"{space_dir.name}: merged the parts of {len(keys)} unfinished tasks")
    compact(root)
    print(f"compacted {root}")


if __name__ == "__main__":
    main(sys.argv[1])
