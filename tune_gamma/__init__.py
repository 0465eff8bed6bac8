"""tune_gamma: per-epoch learning-rate search on Ray Tune with Gamma-precision BO.

``from tune_gamma import GammaSearcher, RoundScheduler``. The Ray-facing names load lazily, so
the pure math (``tune_gamma.bo``, ``tune_gamma.objective``) imports without Ray.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "GammaSearcher": "tune_gamma.tune.searchers",
    "GaussianSearcher": "tune_gamma.tune.searchers",
    "GridSearcher": "tune_gamma.tune.searchers",
    "RandomSearcher": "tune_gamma.tune.searchers",
    "RoundSearcher": "tune_gamma.tune.round_searcher",
    "RoundScheduler": "tune_gamma.tune.scheduler",
    "RoundFailedError": "tune_gamma.rounds",
    "kappa": "tune_gamma.objective",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tune_gamma' has no attribute {name!r}")
