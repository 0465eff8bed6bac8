"""Ray Tune glue: the searchers and the round scheduler."""

from tune_gamma.tune.round_searcher import RoundSearcher
from tune_gamma.tune.scheduler import RoundScheduler
from tune_gamma.tune.searchers import GammaSearcher, GaussianSearcher, GridSearcher, RandomSearcher

__all__ = ["GammaSearcher", "GaussianSearcher", "GridSearcher", "RandomSearcher",
           "RoundScheduler", "RoundSearcher"]
