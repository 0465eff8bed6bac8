"""Strict JSON for run records: NaN and ±inf become null, numpy scalars plain numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, numpy scalars by Python ones,
    dict keys as strings and tuples as lists (recursively), so ``json.dumps(...,
    allow_nan=False)`` accepts it."""
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
