"""What the command line prints: tables, markdown for BENCHMARKS.md, user text escaped."""

from __future__ import annotations

import argparse
from typing import Any


def console(**kwargs: Any) -> Any:
    """A rich console (soft-wrapped: long paths stay copyable)."""
    from rich.console import Console

    return Console(soft_wrap=True, **kwargs)


def print_table(df, title: str) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in df.columns:
        table.add_column(str(c), justify="right" if df[c].dtype.kind in "if" else "left")
    for _, row in df.iterrows():
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)


def markdown(df) -> str:  # noqa: ANN001
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)


def emit_markdown(args: argparse.Namespace, parts: list[str]) -> None:
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
