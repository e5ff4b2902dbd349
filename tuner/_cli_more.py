"""Sub-commands added by later parts of the project (tune, bench, demo, import-studies)."""

from __future__ import annotations

import argparse


def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job (for now): meta-features of a dataset bundled with scikit-learn."""
    import warnings

    from rich.console import Console
    from rich.table import Table
    from sklearn.datasets import load_breast_cancer

    import metafeatures

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = metafeatures.extract(X, y)
    table = Table(title=f"breast_cancer ({X.shape[0]} x {X.shape[1]}): {len(mf)} meta-features")
    table.add_column("feature")
    table.add_column("value", justify="right")
    undefined = set(mf.attrs["undefined"])
    for k, v in mf.items():
        table.add_row(k, "undefined" if k in undefined else f"{v:.6g}")
    Console().print(table)
    return 0


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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: a short demonstration on bundled data")
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
