"""``learn2tune build``: build or resume an offline meta-dataset."""

from __future__ import annotations

import argparse
import shlex

from .arguments import int_at_least, positive_int
from .output import console


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

    out = console()
    command = "learn2tune " + " ".join(shlex.quote(a) for a in args._argv)
    columns = (
        TextColumn("[bold]build"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.2f} eval/s"), TimeElapsedColumn(), TimeRemainingColumn(),
    )
    import time

    t0 = time.perf_counter()
    with Progress(*columns, console=out, transient=False, disable=args.quiet) as progress:
        bar = progress.add_task("build", total=None, rate=0.0)

        def on_progress(done: int, total: int, info: dict) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress.update(bar, completed=done, total=total, rate=rate)

        summary = build(
            args.suite, args.space, args.configs, args.out, tasks=args.tasks,
            workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local,
            max_rows=args.max_rows if args.max_rows > 0 else None,
            fidelities=args.fidelities, halving=args.halving, min_configs=args.min_configs,
            timeout=args.timeout if args.timeout > 0 else None, folds=args.folds,
            seed=args.seed, max_tasks=args.max_tasks, command=command, progress=on_progress,
        )
    out.print(
        f"[bold green]done[/]: {summary.tasks} tasks, {summary.evaluations} new evaluations "
        f"({summary.skipped} already on disk), {summary.failed} failed, "
        f"{summary.timeouts} timed out, {summary.seconds:.1f} s -> {summary.out}"
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from warmstart.spaces import list_spaces

    p = sub.add_parser("build", help="build or resume an offline meta-dataset", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  learn2tune build --suite default --space xgboost-classifier --configs 128 --out runs/xgb\n"
                              "  learn2tune build --suite my-suite/ --space random-forest-regressor --configs 64 \\\n"
                              "      --fidelities 2000,6000,full --max-rows 50000 --workers 2 --out runs/rf")
    p.add_argument("--suite", default="default", help="'default' or a suite folder/file")
    p.add_argument("--space", action="append", required=True, choices=list_spaces(),
                   help="search space (repeat for several)")
    p.add_argument("--configs", type=positive_int, required=True, help="Sobol configs per task (plus defaults)")
    p.add_argument("--out", required=True, help="output folder (an existing build is resumed)")
    p.add_argument("--tasks", nargs="*", default=None, help="only these task names or sources")
    p.add_argument("--max-tasks", type=positive_int, default=None, help="only the first N tasks per task type")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=positive_int, default=1, help="local worker processes")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://HOST:PORT")
    g.add_argument("--dask-local", type=positive_int, default=None, help="start a Dask LocalCluster of N workers")
    p.add_argument("--max-rows", type=int_at_least(0), default=5000,
                   help="row cap per task (0: none); with --fidelities, the cap of 'full'")
    p.add_argument("--fidelities", default=None, metavar="ROWS,...",
                   help="evaluate each table at these row counts, e.g. 2000,6000,20000,full: "
                        "every configuration at the first, successive halving above it")
    p.add_argument("--halving", type=float, default=3.0,
                   help="with --fidelities: each larger fidelity keeps 1/HALVING of the configurations")
    p.add_argument("--min-configs", type=positive_int, default=8, metavar="N",
                   help="with --fidelities: every larger fidelity evaluates at least N configurations "
                        "(default 8); raising it on a finished build adds evaluations at the large "
                        "fidelities and keeps the others")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per evaluation (0: none)")
    p.add_argument("--folds", type=int_at_least(2), default=5, help="cross-validation folds per evaluation (default 5)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="build seed: subsamples, folds, configurations")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_build)
