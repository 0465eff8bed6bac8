"""tune_gamma's Ray Tune searchers: Gamma and Gaussian Bayesian optimisation, grid, random.

Each is the shared :class:`RoundSearcher` plus the proposal strategy it builds for a round.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tune_gamma.bo.optimizer import BayesianOptimizer
from tune_gamma.bo.space import SearchSpace
from tune_gamma.proposers import GridProposer, Proposer, RandomProposer
from tune_gamma.tune.round_searcher import RoundSearcher


class _BayesianSearcher(RoundSearcher):
    """Bayesian optimisation per round; ``predictive`` picks the surrogate's predictive."""

    predictive = "gamma"

    def __init__(self, *args: Any, n_initial: int = 2, xi: float = 0.01,
                 kernel: str = "matern52", fantasy: str = "kriging_believer",
                 optimizer_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optimizer_options = dict(n_initial=n_initial, xi=xi, kernel=kernel,
                                      fantasy=fantasy, **(optimizer_options or {}))
        # Fail on a bad option now, not when the first trial is proposed.
        BayesianOptimizer(SearchSpace.from_bounds([(0.0, 1.0)]), self.predictive,
                          seed=0, **self.optimizer_options)

    def make_proposer(self, space: SearchSpace, seed: int,
                      initial_points: list[np.ndarray]) -> Proposer:
        return BayesianOptimizer(space, self.predictive, mode=self._mode or "max", seed=seed,
                                 initial_points=initial_points or None,
                                 **self.optimizer_options)


class GammaSearcher(_BayesianSearcher):
    """Bayesian optimisation whose GP has a Gamma prior on its precision: Student-t EI.

    The thesis's method (Kim & Chung 2019, eq. 13-15; reconstructed from its prose): with few
    observations the Student-t tails are heavy and the search explores; as they grow it tends
    to the Gaussian. Defaults follow the thesis: 12 samples per round, 2 of them random.
    """

    predictive = "gamma"


class GaussianSearcher(_BayesianSearcher):
    """The same search with the ordinary Gaussian predictive and Gaussian EI."""

    predictive = "gaussian"


class GridSearcher(RoundSearcher):
    """The thesis's baseline: the same grid of ``points`` learning rates every round."""

    def __init__(self, *args: Any, points: int = 100, **kwargs: Any) -> None:
        kwargs.setdefault("samples_per_round", points)
        super().__init__(*args, **kwargs)
        self.points = points

    def make_proposer(self, space: SearchSpace, seed: int,
                      initial_points: list[np.ndarray]) -> Proposer:
        return GridProposer(space, self.points)


class RandomSearcher(RoundSearcher):
    """Uniform random learning rates (log-uniform on ``loguniform`` dimensions) every round."""

    def make_proposer(self, space: SearchSpace, seed: int,
                      initial_points: list[np.ndarray]) -> Proposer:
        return RandomProposer(space, seed)
