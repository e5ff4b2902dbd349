"""``learn2tune metafeatures``: the meta-features of a table."""

from __future__ import annotations

import argparse
import json
import sys

from .output import console


def _cmd_metafeatures(args: argparse.Namespace) -> int:
    import metafeatures
    from warmstart.tasks import read_table

    df = read_table(args.file)
    if args.target not in df.columns:
        raise SystemExit(
            f"error: --target {args.target!r} is not a column of {args.file}; "
            f"columns are {list(df.columns)[:20]}"
        )
    y = df.pop(args.target)
    groups = args.groups.split(",") if args.groups else "all"
    mf = metafeatures.extract(
        df, y, task=args.task, groups=groups, random_state=args.random_state,
        max_rows=args.max_rows,
    )
    if args.json:
        payload = {
            "task": mf.attrs["task"],
            "undefined": mf.attrs["undefined"],
            "features": {k: float(v) for k, v in mf.items()},
        }
        sys.stdout.write(json.dumps(payload, indent=1) + "\n")
        return 0
    from rich.table import Table

    info = metafeatures.list_features().set_index("name")
    table = Table(title=f"{args.file}: {mf.attrs['task']}, {len(mf)} meta-features")
    table.add_column("feature")
    table.add_column("group")
    table.add_column("value", justify="right")
    undefined = set(mf.attrs["undefined"])
    for name, value in mf.items():
        shown = "undefined" if name in undefined else f"{value:.6g}"
        table.add_row(name, str(info.loc[name, "group"]), shown)
    console().print(table)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("metafeatures", help="meta-features of a CSV or Parquet dataset")
    p.add_argument("file", help="CSV or Parquet file")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--groups", default=None, help="comma-separated groups (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=None)
    p.set_defaults(func=_cmd_metafeatures)
