"""The ``learn2tune`` command line."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path


def _console():  # noqa: ANN202
    from rich.console import Console

    return Console()


# ----------------------------------------------------------------------- metafeatures
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
    _console().print(table)
    return 0


# ----------------------------------------------------------------------- build
def _cmd_build(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from warmstart.build import build

    console = _console()
    command = "learn2tune " + " ".join(shlex.quote(a) for a in args._argv)
    columns = (
        TextColumn("[bold]build"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.2f} eval/s"), TimeElapsedColumn(), TimeRemainingColumn(),
    )
    import time

    t0 = time.perf_counter()
    with Progress(*columns, console=console, transient=False, disable=args.quiet) as progress:
        bar = progress.add_task("build", total=None, rate=0.0)

        def on_progress(done: int, total: int, info: dict) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress.update(bar, completed=done, total=total, rate=rate)

        summary = build(
            args.suite, args.space, args.configs, args.out, tasks=args.tasks,
            workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
            max_rows=args.max_rows if args.max_rows > 0 else None,
            fidelities=args.fidelities, halving=args.halving,
            timeout=args.timeout if args.timeout > 0 else None, folds=args.folds,
            seed=args.seed, max_tasks=args.max_tasks, command=command, progress=on_progress,
        )
    console.print(
        f"[bold green]done[/]: {summary.tasks} tasks, {summary.evaluations} new evaluations "
        f"({summary.skipped} already on disk), {summary.failed} failed, "
        f"{summary.timeouts} timed out, {summary.seconds:.1f} s -> {summary.out}"
    )
    return 0


# ----------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``learn2tune``."""
    from warmstart import __version__
    from warmstart.spaces import list_spaces

    parser = argparse.ArgumentParser(
        prog="learn2tune",
        description="Meta-learned hyperparameter tuning for Optuna: build meta-datasets, "
        "compute meta-features, tune, benchmark.",
    )
    parser.add_argument("--version", action="version", version=f"learn2tune {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("metafeatures", help="meta-features of a CSV or Parquet dataset")
    p.add_argument("file", help="CSV or Parquet file")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--groups", default=None, help="comma-separated groups (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=None)
    p.set_defaults(func=_cmd_metafeatures)

    p = sub.add_parser("build", help="build or resume an offline meta-dataset")
    p.add_argument("--suite", default="default", help="'default' or a suite folder/file")
    p.add_argument("--space", action="append", required=True, choices=list_spaces(),
                   help="search space (repeat for several)")
    p.add_argument("--configs", type=int, required=True, help="Sobol configs per task (plus defaults)")
    p.add_argument("--out", required=True, help="output folder (an existing build is resumed)")
    p.add_argument("--tasks", nargs="*", default=None, help="only these task names or sources")
    p.add_argument("--max-tasks", type=int, default=None, help="only the first N tasks per task type")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=1, help="local worker processes")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://HOST:PORT")
    g.add_argument("--dask-local", type=int, default=None, help="start a Dask LocalCluster of N workers")
    p.add_argument("--max-rows", type=int, default=5000,
                   help="row cap per task (0: none); with --fidelities, the cap of 'full'")
    p.add_argument("--fidelities", default=None, metavar="ROWS,...",
                   help="evaluate each table at these row counts, e.g. 2000,6000,20000,full: "
                        "every configuration at the first, successive halving above it")
    p.add_argument("--halving", type=float, default=3.0,
                   help="with --fidelities: each larger fidelity keeps 1/HALVING of the configurations")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per evaluation (0: none)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_build)

    from . import _cli_more

    _cli_more.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``learn2tune`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = argv
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["main", "build_parser", "Path"]
