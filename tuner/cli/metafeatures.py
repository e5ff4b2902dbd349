"""``learn2tune metafeatures``: the meta-features of a table."""

from __future__ import annotations

import argparse
import json
import sys

from .arguments import int_at_least, positive_int
from .output import console


def _cmd_metafeatures(args: argparse.Namespace) -> int:
    import warnings

    from rich.markup import escape

    import metafeatures

    from .tables import load_xy

    data = load_xy(args.file, args.target, task=args.task, drop=args.drop, sep=args.sep)
    err = console(stderr=True)
    for note in data.notes:
        err.print(f"[yellow]note[/]: {escape(note)}")
    groups = args.groups.split(",") if args.groups else "all"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # infinities: already noted
        mf = metafeatures.extract(
            data.X, data.y, task=data.task, groups=groups, random_state=args.random_state,
            max_rows=args.max_rows, time_budget=args.time_budget,
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
    table = Table(title=f"{escape(str(args.file))}: {mf.attrs['task']}, {len(mf)} meta-features")
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
    p = sub.add_parser(
        "metafeatures", help="meta-features of a CSV or Parquet dataset",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Describe a table as meta-features (size, statistics, information theory, "
                    "landmarkers). The table is read as `learn2tune tune` reads it.",
        epilog="examples:\n"
               "  learn2tune metafeatures data.csv --target label\n"
               "  learn2tune metafeatures sklearn:wine --target target --json\n"
               "  learn2tune metafeatures data.tsv --target y --drop id --groups general,statistical",
    )
    p.add_argument("file", help="CSV or Parquet file, or a bundled table such as sklearn:wine")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="task type (default: inferred from the target)")
    p.add_argument("--groups", default=None,
                   help="comma-separated groups: general, statistical, information, landmarking, "
                        "target (default: all)")
    p.add_argument("--drop", nargs="+", default=None, metavar="COL", help="columns to leave out")
    p.add_argument("--sep", default=None, help="CSV field separator (default: sniffed)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--random-state", type=int_at_least(0), default=0, help="seed of the subsample and folds")
    p.add_argument("--max-rows", type=positive_int, default=None,
                   help="rows for the statistical and information groups (default 100,000)")
    p.add_argument("--time-budget", type=float, default=None,
                   help="seconds; groups that would exceed it are cut short (said in the output)")
    p.set_defaults(func=_cmd_metafeatures)
