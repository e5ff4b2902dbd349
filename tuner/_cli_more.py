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


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: a short demonstration on bundled data")
    p.set_defaults(func=_cmd_demo)
