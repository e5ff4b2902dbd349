"""``learn2tune fit-kb`` and ``import-studies``: knowledge bases and meta-data from studies."""

from __future__ import annotations

import argparse

from .arguments import int_at_least, positive_int


def load_metadata(where: str):  # noqa: ANN202
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
    from warmstart.kb_io import check_destination

    check_destination(args.out, "--out")  # before a fit of minutes, not after it
    if args.studies:  # the user's own studies, any search space
        t0 = time.perf_counter()
        kb = KnowledgeBase.from_studies(args.studies, pattern=args.study_name_pattern,
                                        maml={"members": 3 if args.members is None else args.members,
                                              "meta_iterations": 150 if args.iterations is None else args.iterations},
                                        random_state=args.seed)
        kb.save(args.out)
        Console().print(f"{kb!r} learned from {len(kb.task_ids)} studies in "
                        f"{time.perf_counter() - t0:.1f} s -> {args.out}")
        return 0
    md = load_metadata(args.metadata)
    if args.history:
        from warmstart.history import import_studies

        md = md.merge(import_studies(args.history))
    t0 = time.perf_counter()
    kb = KnowledgeBase.fit(
        md, args.space, random_state=args.seed,
        maml={"members": 5 if args.members is None else args.members,
              "meta_iterations": 300 if args.iterations is None else args.iterations},
    )
    kb.save(args.out)
    Console().print(
        f"{kb!r} fitted in {time.perf_counter() - t0:.1f} s "
        f"(MAML {kb.info['maml_seconds']:.1f} s) -> {args.out}"
    )
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-studies", help="turn finished learn2tune Optuna studies into meta-data",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  learn2tune import-studies --storage sqlite:///studies.db --out runs/mine")
    p.add_argument("--storage", required=True, help="Optuna storage URL (sqlite:///..., postgresql://...)")
    p.add_argument("--out", required=True, help="output meta-dataset folder")
    p.set_defaults(func=_cmd_import_studies)

    p = sub.add_parser("fit-kb", help="fit a knowledge base on a meta-dataset", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="examples:\n"
                              "  learn2tune fit-kb --metadata runs/xgb --space xgboost-classifier --out my-kb\n"
                              "  learn2tune fit-kb --metadata default --history sqlite:///studies.db --out my-kb\n"
                              "  learn2tune fit-kb --studies sqlite:///studies.db --study-name-pattern 'lgbm-.*' --out my-kb")
    p.add_argument("--metadata", default="default", help="meta-dataset folder or 'default'")
    p.add_argument("--space", default="xgboost-classifier", help="the space to learn about (default xgboost-classifier)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--history", default=None,
                   help="also learn from the learn2tune studies of this Optuna storage (built-in spaces)")
    p.add_argument("--studies", default=None, metavar="URL",
                   help="learn from the finished studies of this Optuna storage instead, on any search "
                        "space (parameters and ranges as the studies have them)")
    p.add_argument("--study-name-pattern", default=None, metavar="REGEX",
                   help="with --studies: only studies whose name matches this regular expression")
    p.add_argument("--members", type=positive_int, default=None,
                   help="MAML ensemble members (default 5; 3 with --studies)")
    p.add_argument("--iterations", type=positive_int, default=None,
                   help="MAML meta-iterations per member (default 300; 150 with --studies)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed of the fit")
    p.set_defaults(func=_cmd_fit_kb)
