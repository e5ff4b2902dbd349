"""``learn2tune demo``: the main job on a bundled dataset."""

from __future__ import annotations

import argparse

from .arguments import int_at_least, positive_int


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
    console = Console()
    md = MetaDataset.default()
    held = md.tasks.loc[md.tasks["source"] == args.dataset, "fingerprint"].tolist()
    console.print(f"refitting the bundled knowledge base without {args.dataset}, so that the demo "
                  "shows transfer to a dataset it never saw (about a minute)...")
    with warnings.catch_warnings(), console.status("meta-training the MAML surrogate"):
        warnings.simplefilter("ignore")
        kb = KnowledgeBase.fit(md, "xgboost-classifier", exclude_fingerprints=held,
                               maml={"members": 2, "meta_iterations": 150})
    console.print(
        f"knowledge base refit on {len(kb.task_ids)} tasks of the bundled meta-dataset "
        f"{'without ' + args.dataset + ' ' if held else ''}in {time.perf_counter() - t0:.1f} s"
    )
    out = args.out or tempfile.mkdtemp(prefix="learn2tune-demo-")
    ns = argparse.Namespace(knowledge=kb,
        file=args.dataset, target="target", model="xgboost", task="auto", trials=args.trials,
        metric=None, cv=args.cv, storage=None, study_name=None, out=out, no_warm_start=False,
        compare_tpe=True, timeout=None, jobs=1, seed=args.seed, quiet=False, drop=None, sep=None,
    )
    return tune.run(ns)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: warm-started tuning of XGBoost on a bundled "
                       "dataset, against XGBoost's defaults and TPE", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n  learn2tune demo\n  learn2tune demo --trials 30 --out demo-out")
    p.add_argument("--dataset", default="sklearn:breast_cancer", help="a table with a 'target' column")
    p.add_argument("--trials", type=positive_int, default=20, help="trials of each search (default 20)")
    p.add_argument("--cv", type=int_at_least(2), default=3, help="cross-validation folds (default 3)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the splits and samplers")
    p.add_argument("--out", default=None, help="output folder (default: a temporary folder)")
    p.set_defaults(func=_cmd_demo)
