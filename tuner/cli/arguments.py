"""Argument types of the command line: a bad number is refused by argparse, naming the
option and the value, before any work."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def _integer(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        value = _integer(text, f"an integer >= {minimum}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


positive_int = int_at_least(1)


def n_jobs(text: str) -> int:
    """An argparse ``type`` for scikit-learn's ``n_jobs``: N workers, or -1 for every core
    (-2 every core but one...); 0 means nothing."""
    value = _integer(text, "an integer (N workers, -1 for every core)")
    if value == 0:
        raise argparse.ArgumentTypeError("0 workers means nothing: pass 1 (one), N, or -1 (every core)")
    return value
