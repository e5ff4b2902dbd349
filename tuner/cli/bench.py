"""``learn2tune bench``: the benchmarks that print tables (see BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .arguments import int_at_least, positive_int
from .output import emit_markdown, markdown, print_table


def parse_folds(value: str):  # noqa: ANN201 - int | str | None
    from ..bench.folds import parse_folds as parse

    return parse(value)


def protocol_name(value: str) -> str:
    """How a report names its protocol."""
    folds = parse_folds(value)
    if folds is None:
        return "leave-one-task-out"
    if isinstance(folds, str) and folds.startswith("family"):
        k = folds.partition(":")[2]
        return f"leave-families-out ({k} folds of whole families)" if k else "leave-one-family-out"
    k = folds if isinstance(folds, int) else (folds.partition(":")[2] or "5")
    return f"random {k}-fold task folds (in-family)"


def _maml_overrides(args: argparse.Namespace) -> dict:
    """MAML settings of the per-fold knowledge bases: the shipped ones unless overridden."""
    out = {}
    if args.members is not None:
        out["members"] = args.members
    if args.iterations is not None:
        out["meta_iterations"] = args.iterations
    return out


@contextlib.contextmanager
def _progress_bar(what: str, first: str) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar over held-out tasks; yields the callback the benchmark calls after
    each task (``first``: what runs before the first task is done)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]bench {what}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[last]}"), TimeElapsedColumn()) as bar:
        handle = bar.add_task("tasks", total=None, last=first)

        def on_progress(done: int, total: int, last: str) -> None:
            bar.update(handle, completed=done, total=total, last=last)

        yield on_progress


def _run_tuning(args: argparse.Namespace, bt: Any, out: Any, methods: list[str]) -> Any:
    """``bench tuning``'s run, with a progress bar."""
    kb_kwargs = ({"maml": {"members": 1, "meta_iterations": 30}, "n_xgb": 1} if args.quick else
                 {"maml": _maml_overrides(args)})
    with _progress_bar("tuning", "fitting per-fold knowledge bases") as on_progress:
        res = bt.run(
            out, metadata=args.metadata, space=args.space, methods=methods,
            trials=args.trials if not args.quick else 15, seeds=args.seeds if not args.quick else 1,
            folds=parse_folds(args.folds), max_tasks=args.max_tasks if not args.quick else 3,
            tasks=args.tasks or None, kb_kwargs=kb_kwargs, workers=args.workers,
            objective="real" if args.real else "surrogate", progress=on_progress,
            test_metadata=args.test_metadata,
            max_known_tasks=args.max_known_tasks if not args.quick else (args.max_known_tasks or 60),
        )
    return res


def _cmd_bench(args: argparse.Namespace) -> int:
    import platform
    import time

    import pandas as pd

    what = args.what
    md_parts: list[str] = []
    if what == "metafeatures":
        from ..bench import metafeatures as bm

        sizes = ((1_000, 20), (5_000, 20), (20_000, 50), (100_000, 100), (1_000, 2_000), (100_000, 500))
        df = bm.run(sizes=sizes if not args.quick else ((1_000, 20),),
                    extra_ours=((1_000_000, 100),) if not args.quick else ())
        title = "meta-features: learn2tune vs pymfe (general+statistical+info-theory+model-based+landmarking)"
    elif what == "build":
        from ..bench import build as bb

        df = bb.run(n_tasks=2 if args.quick else (args.max_tasks or 6),
                    n_configs=5 if args.quick else args.configs)
        title = "build throughput (same tasks and configs)"
    elif what == "maml":
        from ..bench import knowledge as bk

        fit, kb = bk.fit_time(args.metadata, args.space, members=2 if args.quick else 5,
                              iterations=50 if args.quick else 300)
        print_table(fit, "knowledge-base fit")
        df = bk.timings(kb)
        title = "knowledge-base query timings"
        md_parts.append(markdown(fit))
    elif what == "overhead":
        from ..bench import overhead as bo

        df = bo.run(trials=60 if args.quick else 200)
        print_table(df, "sampler overhead (ask + tell, trivial objective, same process)")
        md_parts.append(markdown(df))
        n_studies, n_trials = (20, 30) if args.quick else (200, 100)
        df = bo.history_scale(n_studies, n_trials, trials=60 if args.quick else 200)
        title = "learning from a history of studies: fit seconds and sampler overhead"
    elif what == "tuning":
        import json
        import shlex

        import optuna
        import pandas as pd

        from ..bench import tuning as bt
        from ..bench import tuning_report as br

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        out = Path(args.out or "bench-tuning")
        if args.methods:
            methods = args.methods.split(",")
        elif args.quick:
            methods = ["meta", "tpe", "random", "knn-tpe"]
        else:
            methods = list(bt.DEFAULT_METHODS)
        budgets = [int(b) for b in args.budgets.split(",")]
        if args.report_only:  # the parts on disk, e.g. of runs with different --seeds per method
            if not (out / "parts").is_dir():
                raise ValueError(f"--report-only: --out {str(out)!r} holds no bench tuning run (no parts/ folder); "
                                 "pass the --out of an earlier run")
            res = bt.collect(out, None, methods if args.methods else None)
            if res.empty:
                raise ValueError(f"--report-only: no results of --methods {','.join(methods)} in {str(out)!r}; "
                                 "name methods that run used")
        else:
            res = _run_tuning(args, bt, out, methods)
        budgets = [b for b in budgets if b <= int(res["t"].max())]
        info = pd.read_parquet(out / "tasks.parquet") if (out / "tasks.parquet").exists() else pd.DataFrame()
        command = "learn2tune " + " ".join(shlex.quote(a) for a in args._argv)
        run_protocol = json.loads((out / "protocol.json").read_text()) if (out / "protocol.json").exists() else {}
        folds = run_protocol.get("folds", args.folds)  # the run's, whatever --folds says now
        text = br.report(res, info, budgets, command,
                         protocol="train/test split" if run_protocol.get("test_metadata") or args.test_metadata
                         else protocol_name(folds))
        (out / "report.md").write_text(text)
        br.plot(res, out / "regret.png")
        br.plot_ranks(res, out / "rank.png")
        summ = br.summarize(res, budgets)
        for name in ("median", "mean", "rank"):
            tab = summ[name].reset_index()
            tab.columns = [str(c) for c in tab.columns]
            print_table(tab, f"{name} normalized regret by trials" if name != "rank" else "mean rank")
        print("headline:", summ["headline"])
        print(f"report: {out / 'report.md'}; plots: {out / 'regret.png'}, {out / 'rank.png'}; "
              f"raw results: {out / 'results.parquet'}")
        emit_markdown(args, [text])
        return 0
    elif what == "history":
        from ..bench import history as bh
        from ..bench import tuning_report as br

        methods = args.methods.split(",") if args.methods else list(bh.METHODS)
        parts = Path(f"{args.out}.parts") if args.out else None
        if parts is not None:
            print(f"each held-out study's rows are kept in {parts}/ as they finish: the same command "
                  f"resumes an interrupted run")
        with _progress_bar("history", "running the history's studies") as on_progress:
            res = bh.run(args.metadata, args.space, n_tasks=args.max_tasks or (4 if args.quick else 20),
                         trials=10 if args.quick else args.trials, seeds=1 if args.quick else args.seeds,
                         history_trials=15 if args.quick else 50, methods=methods,
                         unrelated=args.unrelated, peers=args.peers, parts=parts, workers=args.workers,
                         progress=on_progress)
        if args.out:
            from warmstart.store import atomic_write_parquet

            atomic_write_parquet(res, Path(args.out))
        budgets = [b for b in (1, 5, 10, 20, 30, 50) if b <= int(res["t"].max())]
        summ = br.summarize(res, budgets)
        for name in ("median", "mean"):
            tab = summ[name].reset_index()
            tab.columns = [str(c) for c in tab.columns]
            print_table(tab, f"{name} normalized regret by trials")
            md_parts.append(f"{name} normalized regret after t trials\n\n" + markdown(tab))
        df = summ["rank"].reset_index()
        df.columns = [str(c) for c in df.columns]
        title = (f"bench history: {res['task_id'].nunique()} held-out studies x {res['seed'].nunique()} seeds, "
                 f"{'unrelated (shuffled) ' if args.unrelated else ''}history of the other tasks' TPE studies; mean rank")
    elif what == "coverage":
        from ..bench.coverage import coverage
        from .knowledge import load_metadata

        md = load_metadata(args.metadata)
        fam, _ = coverage(md, args.space, by="family")
        fam_title = f"coverage of {args.space} in {args.metadata} by family (source datasets; rows as evaluated)"
        print_table(fam.astype(str), fam_title)
        md_parts.append(f"{fam_title}\n\n" + markdown(fam))
        df, counts = coverage(md, args.space)
        title = f"coverage of {args.space} in {args.metadata} (source datasets; rows as evaluated)"
        md_parts.append(markdown(pd.DataFrame([{"count": k, "value": v} for k, v in counts.items()])))
        print_table(pd.DataFrame([{"count": k, "value": f"{v:.3g}" if isinstance(v, float) else v}
                                  for k, v in counts.items()]), "headline counts")
    elif what == "knowledge":
        from tuner.bench.knowledge import evaluate_knowledge, summarize

        from .knowledge import load_metadata

        md = load_metadata(args.metadata)
        res = evaluate_knowledge(md, args.space, n_folds=parse_folds(args.folds), repeats=2 if args.quick else 3,
                                 fit_kwargs={"maml": {"members": 2, "meta_iterations": 60} if args.quick
                                             else _maml_overrides(args)})
        df = summarize(res).reset_index().rename(columns={"index": "measure"})
        title = f"knowledge base, {protocol_name(args.folds)} on {res.shape[0]} tasks"
        if args.out:
            res.to_csv(args.out, index=False)
    else:  # pragma: no cover - argparse restricts choices
        raise ValueError(what)
    print_table(df, title)
    import optuna
    import sklearn
    import torch

    md_parts.append(f"{title} ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
                    f"{__import__('os').cpu_count()} cores, optuna {optuna.__version__}, "
                    f"scikit-learn {sklearn.__version__}, torch {torch.__version__})")
    md_parts.append(markdown(df))
    emit_markdown(args, md_parts)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks that print tables", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  learn2tune bench tuning --quick --out bench-quick\n"
                              "  learn2tune bench tuning --out bench-full --workers 2 --markdown\n"
                              "  learn2tune bench knowledge --folds family\n"
                              "  learn2tune bench overhead")
    p.add_argument("what", nargs="?", default="tuning",
                   choices=["tuning", "overhead", "metafeatures", "build", "maml", "knowledge", "coverage", "history"],
                   help="which benchmark (default: tuning, the leave-one-task-out comparison)")
    p.add_argument("--metadata", default="default", help="meta-dataset folder, or 'default' (bundled)")
    p.add_argument("--space", default="xgboost-classifier", help="the space benchmarked")
    p.add_argument("--folds", default="family",
                   help="which tasks are held out together ('tuning', 'knowledge'): family (default: "
                        "leave-one-family-out, the headline), family:K (families in K folds), "
                        "random or K (random task folds: in-family interpolation), loto")
    p.add_argument("--quick", action="store_true", help="a small, fast variant")
    p.add_argument("--markdown", action="store_true", help="also print the results as markdown")
    p.add_argument("--md", default=None, help="write the markdown results to this file")
    p.add_argument("--out", default=None, help="output folder ('tuning'), CSV ('knowledge') or Parquet "
                   "file ('history': its parts, kept in OUT.parts/, let a rerun resume)")
    p.add_argument("--methods", default=None, help="comma-separated methods for 'tuning' and 'history'")
    p.add_argument("--trials", type=positive_int, default=50, help="trials per method and seed ('tuning', 'history')")
    p.add_argument("--configs", type=positive_int, default=40, help="configs per task for 'build'")
    p.add_argument("--seeds", type=positive_int, default=5, help="seeds per method ('tuning', 'history')")
    p.add_argument("--budgets", default="1,5,10,20,30,50", help="trial budgets reported ('tuning')")
    p.add_argument("--max-tasks", type=positive_int, default=None, help="only this many held-out tasks")
    p.add_argument("--report-only", action="store_true",
                   help="'tuning': write the report of the results on disk in --out, run nothing")
    p.add_argument("--max-known-tasks", type=int_at_least(3), default=None,
                   help="'tuning': each knowledge base learns from at most this many tables (a quick check; "
                        "--quick: 60)")
    p.add_argument("--tasks", nargs="*", default=None, help="only these held-out task ids ('tuning')")
    p.add_argument("--workers", type=positive_int, default=1, help="worker processes ('tuning'; 'history' with --out)")
    p.add_argument("--real", action="store_true",
                   help="'tuning': cross-validate on the tasks' data instead of a surrogate objective")
    p.add_argument("--test-metadata", default=None,
                   help="'tuning': hold out this meta-dataset's tasks (e.g. a build of the 'keel' "
                        "suite) and learn from all of --metadata, instead of leave-one-task-out")
    p.add_argument("--unrelated", action="store_true",
                   help="'history': shuffle the history studies' values (knowledge that says nothing)")
    p.add_argument("--peers", default=None,
                   help="'history': folder holding optunahub's meta_learn_tpe (or LEARN2TUNE_PEERS)")
    p.add_argument("--members", type=positive_int, default=None,
                   help="MAML members of the per-fold knowledge bases (default: as shipped)")
    p.add_argument("--iterations", type=positive_int, default=None,
                   help="MAML meta-iterations per member (default: as shipped)")
    p.set_defaults(func=_cmd_bench)
