"""Checks of what users pass, in one wording: the argument, the value, and what it must be."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np


def check_count(name: str, value: Any, minimum: int, *, optional: bool = False, what: str = "") -> None:
    """Refuse ``value`` unless it is an integer (numpy's too, not a bool) of at least
    ``minimum``, or None when ``optional``; ``what``: words after the bound, e.g.
    ``" (tasks to return)"``."""
    if value is None and optional:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be {'None or ' if optional else ''}an int >= {minimum}{what}, got {value!r}")


def check_finite(metafeatures: Mapping[str, float], argument: str = "metafeatures") -> None:
    """Refuse meta-features holding a missing or infinite value: every distance to a known
    task would be nan, and "the nearest task" the first one known."""
    bad = [k for k, v in metafeatures.items() if not np.isfinite(v)]
    if bad:
        raise ValueError(f"{argument} has {len(bad)} missing or infinite values (e.g. {bad[:3]}); "
                         "metafeatures.extract(X, y) gives finite values (0.0 where a feature is undefined): "
                         "pass its output.")
