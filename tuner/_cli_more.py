"""Sub-commands added by later parts of the project (tune, bench, demo, import-studies)."""

from __future__ import annotations

import argparse


def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job: ``learn2tune tune`` on a dataset bundled with scikit-learn, warm-started
    from the bundled knowledge base, compared with XGBoost's defaults and with TPE."""
    import tempfile
    import time
    import warnings

    from rich.console import Console

    from warmstart import KnowledgeBase, MetaDataset

    from . import tune

    # The bundled knowledge base has seen the bundled scikit-learn datasets: refit it
    # without the demo's dataset, so the demo shows transfer to a dataset it never saw.
    t0 = time.perf_counter()
    md = MetaDataset.default()
    held = md.tasks.loc[md.tasks["source"] == args.dataset, "fingerprint"].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kb = KnowledgeBase.fit(md, "xgboost-classifier", exclude_fingerprints=held,
                               maml={"members": 2, "meta_iterations": 150})
    Console().print(
        f"knowledge base refit on {len(kb.task_ids)} tasks of the bundled meta-dataset "
        f"{'without ' + args.dataset + ' ' if held else ''}in {time.perf_counter() - t0:.1f} s"
    )
    out = args.out or tempfile.mkdtemp(prefix="learn2tune-demo-")
    ns = argparse.Namespace(knowledge=kb,
        file=args.dataset, target="target", model="xgboost", task="auto", trials=args.trials,
        metric=None, cv=args.cv, storage=None, study_name=None, out=out, no_warm_start=False,
        compare_tpe=True, timeout=None, jobs=1, seed=args.seed, quiet=False,
    )
    return tune.run(ns)


def _load_md(where: str):  # noqa: ANN202
    from warmstart import MetaDataset

    return MetaDataset.default() if where == "default" else MetaDataset.load(where)


def _cmd_import_studies(args: argparse.Namespace) -> int:
    from rich.console import Console

    from warmstart.history import import_studies

    md = import_studies(args.storage)
    if len(md.tasks) == 0:
        Console().print(f"no finished learn2tune studies in {args.storage}")
        return 1
    md.save(args.out)
    Console().print(f"imported {len(md.tasks)} studies, {len(md.evaluations)} trials -> {args.out}")
    return 0


def _cmd_fit_kb(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console

    from warmstart import KnowledgeBase

    md = _load_md(args.metadata)
    if args.history:
        from warmstart.history import import_studies

        md = md.merge(import_studies(args.history))
    t0 = time.perf_counter()
    kb = KnowledgeBase.fit(
        md, args.space, random_state=args.seed,
        maml={"members": args.members, "meta_iterations": args.iterations},
    )
    kb.save(args.out)
    Console().print(
        f"{kb!r} fitted in {time.perf_counter() - t0:.1f} s "
        f"(MAML {kb.info['maml_seconds']:.1f} s) -> {args.out}"
    )
    return 0


def _print_table(df, title: str) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in df.columns:
        table.add_column(str(c), justify="right" if df[c].dtype.kind in "if" else "left")
    for _, row in df.iterrows():
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)


def _markdown(df) -> str:  # noqa: ANN001
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def _maml_overrides(args: argparse.Namespace) -> dict:
    """MAML settings of the per-fold knowledge bases: the shipped ones unless overridden."""
    out = {}
    if args.members is not None:
        out["members"] = args.members
    if args.iterations is not None:
        out["meta_iterations"] = args.iterations
    return out


def _cmd_bench(args: argparse.Namespace) -> int:
    import platform
    import time

    what = args.what
    md_parts: list[str] = []
    if what == "metafeatures":
        from .bench import metafeatures as bm

        sizes = ((1_000, 20), (20_000, 50), (100_000, 100))
        df = bm.run(sizes=sizes if not args.quick else ((1_000, 20),),
                    extra_ours=((1_000_000, 100),) if not args.quick else ())
        title = "meta-features: learn2tune vs pymfe (general+statistical+info-theory+model-based+landmarking)"
    elif what == "build":
        from .bench import build as bb

        df = bb.run(n_tasks=2 if args.quick else (args.max_tasks or 6),
                    n_configs=5 if args.quick else args.configs)
        title = "build throughput (same tasks and configs)"
    elif what == "maml":
        from .bench import knowledge as bk

        fit, kb = bk.fit_time(args.metadata, args.space, members=2 if args.quick else 5,
                              iterations=50 if args.quick else 300)
        _print_table(fit, "knowledge-base fit")
        df = bk.timings(kb)
        title = "knowledge-base query timings"
        md_parts.append(_markdown(fit))
    elif what == "overhead":
        from .bench import overhead as bo

        df = bo.run(trials=60 if args.quick else 200)
        title = "sampler overhead (ask + tell, trivial objective, same process)"
    elif what == "tuning":
        import shlex
        from pathlib import Path

        import optuna
        import pandas as pd
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from .bench import tuning as bt

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        out = Path(args.out or "bench-tuning")
        if args.methods:
            methods = args.methods.split(",")
        elif args.quick:
            methods = ["meta", "tpe", "random", "knn-tpe"]
        else:
            methods = list(bt.DEFAULT_METHODS)
        budgets = [int(b) for b in args.budgets.split(",")]
        kb_kwargs = ({"maml": {"members": 1, "meta_iterations": 30}, "n_xgb": 1} if args.quick else
                     {"maml": _maml_overrides(args)})
        with Progress(TextColumn("[bold]bench tuning"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[last]}"), TimeElapsedColumn()) as bar:
            handle = bar.add_task("tasks", total=None, last="fitting per-fold knowledge bases")

            def on_progress(done: int, total: int, last: str) -> None:
                bar.update(handle, completed=done, total=total, last=last)

            res = bt.run(
                out, metadata=args.metadata, space=args.space, methods=methods,
                trials=args.trials if not args.quick else 15, seeds=args.seeds if not args.quick else 1,
                folds=args.folds, max_tasks=args.max_tasks if not args.quick else 3,
                tasks=args.tasks or None, kb_kwargs=kb_kwargs, workers=args.workers,
                objective="real" if args.real else "surrogate", progress=on_progress,
                test_metadata=args.test_metadata,
            )
        budgets = [b for b in budgets if b <= int(res["t"].max())]
        info = pd.read_parquet(out / "tasks.parquet") if (out / "tasks.parquet").exists() else pd.DataFrame()
        command = "learn2tune " + " ".join(shlex.quote(a) for a in args._argv)
        text = bt.report(res, info, budgets, command)
        (out / "report.md").write_text(text)
        bt.plot(res, out / "regret.png")
        bt.plot_ranks(res, out / "rank.png")
        summ = bt.summarize(res, budgets)
        for name in ("median", "mean", "rank"):
            tab = summ[name].reset_index()
            tab.columns = [str(c) for c in tab.columns]
            _print_table(tab, f"{name} normalized regret by trials" if name != "rank" else "mean rank")
        print("headline:", summ["headline"])
        print(f"report: {out / 'report.md'}; plots: {out / 'regret.png'}, {out / 'rank.png'}; "
              f"raw results: {out / 'results.parquet'}")
        _emit_markdown(args, [text])
        return 0
    elif what == "knowledge":
        from warmstart.evaluation import evaluate_knowledge, summarize

        from ._cli_more import _load_md

        md = _load_md(args.metadata)
        res = evaluate_knowledge(md, args.space, n_folds=args.folds, repeats=2 if args.quick else 3,
                                 fit_kwargs={"maml": {"members": 2, "meta_iterations": 60} if args.quick
                                             else _maml_overrides(args)})
        df = summarize(res).reset_index().rename(columns={"index": "measure"})
        title = f"knowledge base, {args.folds}-fold leave-tasks-out on {res.shape[0]} tasks"
        if args.out:
            res.to_csv(args.out, index=False)
    else:  # pragma: no cover - argparse restricts choices
        raise ValueError(what)
    _print_table(df, title)
    import optuna
    import sklearn
    import torch

    md_parts.append(f"{title} ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
                    f"{__import__('os').cpu_count()} cores, optuna {optuna.__version__}, "
                    f"scikit-learn {sklearn.__version__}, torch {torch.__version__})")
    md_parts.append(_markdown(df))
    _emit_markdown(args, md_parts)
    return 0


def _emit_markdown(args: argparse.Namespace, parts: list[str]) -> None:
    """Print the markdown (``--markdown``) and/or write it to ``--md FILE`` atomically."""
    text = "\n\n".join(p.strip() for p in parts) + "\n"
    if args.markdown:
        print("\n" + text)
    if args.md:
        from pathlib import Path

        path = Path(args.md)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)


def register(sub: argparse._SubParsersAction) -> None:
    from . import tune

    tune.add_parser(sub)

    p = sub.add_parser("demo", help="the main job: warm-started tuning of XGBoost on a bundled "
                       "dataset, against XGBoost's defaults and TPE")
    p.add_argument("--dataset", default="sklearn:breast_cancer", help="a table with a 'target' column")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--cv", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="output folder (default: a temporary folder)")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("import-studies", help="turn finished learn2tune Optuna studies into meta-data")
    p.add_argument("--storage", required=True, help="Optuna storage URL (sqlite:///..., postgresql://...)")
    p.add_argument("--out", required=True, help="output meta-dataset folder")
    p.set_defaults(func=_cmd_import_studies)

    p = sub.add_parser("fit-kb", help="fit a knowledge base on a meta-dataset")
    p.add_argument("--metadata", default="default", help="meta-dataset folder or 'default'")
    p.add_argument("--space", default="xgboost-classifier")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--history", default=None, help="also learn from the studies of this Optuna storage")
    p.add_argument("--members", type=int, default=5, help="MAML ensemble members")
    p.add_argument("--iterations", type=int, default=300, help="MAML meta-iterations per member")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_fit_kb)

    p = sub.add_parser("bench", help="benchmarks that print tables")
    p.add_argument("what", nargs="?", default="tuning",
                   choices=["tuning", "overhead", "metafeatures", "build", "maml", "knowledge"],
                   help="which benchmark (default: tuning, the leave-one-task-out comparison)")
    p.add_argument("--metadata", default="default")
    p.add_argument("--space", default="xgboost-classifier")
    p.add_argument("--folds", type=int, default=5, help="task folds for 'knowledge'")
    p.add_argument("--quick", action="store_true", help="a small, fast variant")
    p.add_argument("--markdown", action="store_true", help="also print the results as markdown")
    p.add_argument("--md", default=None, help="write the markdown results to this file")
    p.add_argument("--out", default=None, help="output folder ('tuning') or CSV ('knowledge')")
    p.add_argument("--methods", default=None, help="comma-separated methods for 'tuning'")
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--configs", type=int, default=40, help="configs per task for 'build'")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budgets", default="1,5,10,20,30,50")
    p.add_argument("--max-tasks", type=int, default=None)
    p.add_argument("--tasks", nargs="*", default=None, help="only these held-out task ids ('tuning')")
    p.add_argument("--workers", type=int, default=1, help="worker processes ('tuning')")
    p.add_argument("--real", action="store_true",
                   help="'tuning': cross-validate on the tasks' data instead of a surrogate objective")
    p.add_argument("--test-metadata", default=None,
                   help="'tuning': hold out this meta-dataset's tasks (e.g. a build of the 'keel' "
                        "suite) and learn from all of --metadata, instead of leave-one-task-out")
    p.add_argument("--members", type=int, default=None,
                   help="MAML members of the per-fold knowledge bases (default: as shipped)")
    p.add_argument("--iterations", type=int, default=None,
                   help="MAML meta-iterations per member (default: as shipped)")
    p.set_defaults(func=_cmd_bench)
